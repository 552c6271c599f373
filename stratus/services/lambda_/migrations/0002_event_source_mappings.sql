-- Lambda event source mappings (Amazon SQS sources) and the lease that gives each one's poller
-- to exactly one node at a time.

CREATE TABLE lambda_event_source_mappings (
    uuid TEXT PRIMARY KEY,
    account TEXT NOT NULL,              -- the function's home
    region TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier TEXT,                     -- NULL when the mapping names the unqualified function
    function_arn TEXT NOT NULL,         -- as AWS shows it (qualified when a qualifier was given)
    source_arn TEXT NOT NULL,
    config TEXT NOT NULL,               -- JSON: BatchSize, MaximumBatchingWindowInSeconds, FilterCriteria, ...
    enabled INTEGER NOT NULL,           -- what the user asked for: 1 Enabled, 0 Disabled
    state TEXT NOT NULL,                -- Creating, Enabling, Enabled, Updating, Disabling, Disabled, Deleting
    state_reason TEXT NOT NULL,         -- StateTransitionReason
    last_result TEXT,                   -- LastProcessingResult, once a batch was processed
    modified_ms {bigint} NOT NULL,      -- LastModified
    generation INTEGER NOT NULL,        -- bumped by every API change, guards the pollers' state steps
    lease_owner TEXT,                   -- the node running this mapping's poller
    lease_until {bigint},               -- real time (ms), like the timers' leases
    UNIQUE (function_arn, source_arn)
);
CREATE INDEX lambda_esm_home ON lambda_event_source_mappings (account, region);
CREATE INDEX lambda_esm_lease ON lambda_event_source_mappings (lease_owner);
