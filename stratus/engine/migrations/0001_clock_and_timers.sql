-- The stratus clock: real time plus this offset, shared by every node.
CREATE TABLE stratus_clock (
    id INTEGER PRIMARY KEY,
    offset_ms {bigint} NOT NULL
);
INSERT INTO stratus_clock (id, offset_ms) VALUES (1, 0);

-- Durable timers. due_ms is on the stratus clock; lease_until is in real time (see timers.py).
-- version grows on every schedule, so a handler finishing an older firing leaves a newer one alone.
CREATE TABLE stratus_timers (
    id {serial},
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    due_ms {bigint} NOT NULL,
    payload TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    version {bigint} NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until {bigint},
    UNIQUE (kind, key)
);
CREATE INDEX stratus_timers_due ON stratus_timers (due_ms);
