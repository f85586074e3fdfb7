CREATE TABLE kiln_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO kiln_meta (key, value) VALUES ('schema_version', '0');
INSERT INTO kiln_meta (key, value) VALUES ('audit_head', '0:');
CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    description TEXT,
    labels TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE versions (
    bucket TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    number BIGINT,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    deprecate_at TEXT,
    revoked_at TEXT,
    revoke_reason TEXT,
    protected BIGINT NOT NULL,
    error TEXT,
    build_names TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    parent_bucket TEXT,
    parent_fingerprint TEXT,
    parent_channel TEXT,
    labels TEXT NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (bucket, fingerprint),
    UNIQUE (bucket, number)
);
CREATE INDEX versions_parent ON versions (parent_bucket, parent_fingerprint);
CREATE TABLE artifacts (
    bucket TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    idx BIGINT NOT NULL,
    build_name TEXT NOT NULL,
    builder_type TEXT NOT NULL,
    builder_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    regions TEXT NOT NULL,
    files TEXT NOT NULL,
    size BIGINT,
    checksum TEXT,
    state TEXT NOT NULL,
    PRIMARY KEY (bucket, fingerprint, idx)
);
CREATE TABLE channels (
    bucket TEXT NOT NULL,
    channel TEXT NOT NULL,
    seq BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (bucket, channel)
);
CREATE TABLE channel_history (
    bucket TEXT NOT NULL,
    channel TEXT NOT NULL,
    seq BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    previous_seq BIGINT,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (bucket, channel, seq)
);
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    host TEXT NOT NULL,
    action TEXT NOT NULL,
    bucket TEXT NOT NULL,
    version TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)
