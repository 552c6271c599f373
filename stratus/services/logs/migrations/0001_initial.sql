-- CloudWatch Logs: log groups, their streams and events, metric and subscription filters.
-- Events are ordered by (ts, id); id is a serial, so eventIds and paging tokens are stable.

CREATE TABLE logs_groups (
    id {serial},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms {bigint} NOT NULL,
    retention_days INTEGER,
    kms_key_id TEXT,
    log_group_class TEXT NOT NULL,
    deletion_protection INTEGER NOT NULL,
    tags TEXT NOT NULL,                 -- JSON
    UNIQUE (account, region, name)
);

CREATE TABLE logs_streams (
    id {serial},
    group_id {bigint} NOT NULL,
    name TEXT NOT NULL,
    created_ms {bigint} NOT NULL,
    first_event_ms {bigint},
    last_event_ms {bigint},
    last_ingestion_ms {bigint},
    upload_seq {bigint} NOT NULL,       -- PutLogEvents calls so far: the (ignored) sequence token
    stored_bytes {bigint} NOT NULL,
    UNIQUE (group_id, name)
);

CREATE TABLE logs_events (
    id {serial},
    group_id {bigint} NOT NULL,
    stream_id {bigint} NOT NULL,
    ts {bigint} NOT NULL,
    ingestion_ms {bigint} NOT NULL,
    bytes INTEGER NOT NULL,             -- UTF-8 size of the message
    message TEXT NOT NULL
);
CREATE INDEX logs_events_stream ON logs_events (stream_id, ts, id);
CREATE INDEX logs_events_group ON logs_events (group_id, ts, id);

-- Metric and subscription filters: kind is 'metric' or 'subscription'.
CREATE TABLE logs_filters (
    group_id {bigint} NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    created_ms {bigint} NOT NULL,
    data TEXT NOT NULL,                 -- JSON: the rest of the filter as the API spells it
    PRIMARY KEY (group_id, kind, name)
);
