CREATE TABLE documents (
    bucket TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (bucket, fingerprint, kind, name)
);
CREATE TABLE scans (
    bucket TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    worst TEXT NOT NULL,
    counts TEXT NOT NULL,
    findings TEXT NOT NULL,
    PRIMARY KEY (bucket, fingerprint, seq)
)
