CREATE TABLE publications (
    bucket TEXT NOT NULL,
    channel TEXT NOT NULL,
    parameter TEXT NOT NULL,
    regions TEXT NOT NULL,
    actor TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (bucket, channel, parameter)
)
