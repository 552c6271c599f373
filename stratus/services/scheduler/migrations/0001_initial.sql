-- EventBridge Scheduler: schedule groups and schedules. A schedule's next invocation is
-- a durable timer (kind "scheduler.fire"), not a column: the timers table is the queue.

CREATE TABLE scheduler_groups (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,                -- ACTIVE | DELETING
    tags TEXT NOT NULL,                 -- JSON object
    client_token TEXT,
    created_ms {bigint} NOT NULL,
    modified_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, name)
);

CREATE TABLE scheduler_schedules (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,                -- ENABLED | DISABLED
    data TEXT NOT NULL,                 -- JSON: the schedule as GetSchedule describes it
    anchor_ms {bigint} NOT NULL,        -- where a rate() counts from: StartDate, else create/update time
    client_token TEXT,
    version {bigint} NOT NULL,          -- bumped by every update; stale timer firings check it
    created_ms {bigint} NOT NULL,
    modified_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, group_name, name)
);
