-- EventBridge: buses, rules, targets, tags, archives (with their events) and replays.
-- A bus's version moves whenever its rules, targets or archives change, so every node's
-- compiled matcher for that bus knows, inside the PutEvents transaction, when to rebuild.

CREATE TABLE events_buses (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,                 -- JSON: Description, KmsKeyIdentifier, DeadLetterConfig, Policy
    version {bigint} NOT NULL,
    created_ms {bigint} NOT NULL,
    modified_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, name)
);

CREATE TABLE events_rules (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    bus TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,                 -- JSON: EventPattern, ScheduleExpression, State, Description, RoleArn ...
    created_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, bus, name)
);

CREATE TABLE events_targets (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    target_id TEXT NOT NULL,
    arn TEXT NOT NULL,
    data TEXT NOT NULL,                 -- JSON: the Target as PutTargets took it
    PRIMARY KEY (account, region, bus, rule, target_id)
);
CREATE INDEX events_targets_arn ON events_targets (account, region, arn);

CREATE TABLE events_tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);

CREATE TABLE events_archives (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    bus TEXT NOT NULL,
    data TEXT NOT NULL,                 -- JSON: EventSourceArn, EventPattern, Description, RetentionDays, State
    created_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, name)
);

CREATE TABLE events_archived (
    id {serial},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    archive TEXT NOT NULL,
    time_ms {bigint} NOT NULL,          -- the event's ingestion time: what replays select on
    size {bigint} NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX events_archived_time ON events_archived (account, region, archive, time_ms);

CREATE TABLE events_replays (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,                 -- JSON: the StartReplay request, times, reason
    created_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, name)
);
