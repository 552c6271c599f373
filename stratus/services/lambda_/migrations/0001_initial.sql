-- Lambda: functions and their versions, aliases, per-qualifier settings, layers,
-- the async invocation queue and per-function counters.

CREATE TABLE lambda_functions (
    id {serial},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    tags TEXT NOT NULL,                 -- JSON
    policies TEXT NOT NULL,             -- JSON: qualifier ("" = the function) -> statements
    reserved INTEGER,                   -- reserved concurrency, NULL when unset
    last_version INTEGER NOT NULL,      -- last published version number (never reused)
    created_ms {bigint} NOT NULL,
    UNIQUE (account, region, name)
);

-- $LATEST (seq 0) and every published version: the configuration as AWS shows it, and the code.
CREATE TABLE lambda_versions (
    function_id {bigint} NOT NULL,
    version TEXT NOT NULL,
    seq INTEGER NOT NULL,
    config TEXT NOT NULL,               -- JSON FunctionConfiguration members
    code TEXT NOT NULL,                 -- JSON {"hex", "sha256", "size"}
    PRIMARY KEY (function_id, version)
);

CREATE TABLE lambda_aliases (
    function_id {bigint} NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (function_id, name)
);

-- EventInvokeConfig and provisioned concurrency, per qualifier ("$LATEST", a version or an alias).
CREATE TABLE lambda_qualifier_settings (
    function_id {bigint} NOT NULL,
    kind TEXT NOT NULL,                 -- "event-invoke" or "provisioned"
    qualifier TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (function_id, kind, qualifier)
);

CREATE TABLE lambda_layer_names (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    last_version INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
);

CREATE TABLE lambda_layer_versions (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,                 -- JSON: description, runtimes, architectures, license, code, created
    policy TEXT NOT NULL,               -- JSON list of statements
    revision TEXT NOT NULL,
    PRIMARY KEY (account, region, name, version)
);

-- Async invocations waiting to run (or to be retried); a durable timer per row drives each.
CREATE TABLE lambda_async_events (
    id TEXT PRIMARY KEY,                -- the request id
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    payload {blob} NOT NULL,
    created_ms {bigint} NOT NULL,
    invoke_count INTEGER NOT NULL,      -- times the function ran
    error_retries INTEGER NOT NULL,     -- retries spent on function errors
    trace_header TEXT
);
CREATE INDEX lambda_async_events_function ON lambda_async_events (account, region, function_name);

-- Per-function counters per minute, for CloudWatch metrics.
CREATE TABLE lambda_metrics (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function_name TEXT NOT NULL,
    minute {bigint} NOT NULL,
    invocations {bigint} NOT NULL,
    errors {bigint} NOT NULL,
    throttles {bigint} NOT NULL,
    duration_ms {float} NOT NULL,
    async_dropped {bigint} NOT NULL,
    PRIMARY KEY (account, region, function_name, minute)
);
