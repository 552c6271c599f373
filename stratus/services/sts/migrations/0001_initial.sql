-- STS: temporary credentials, looked up by access key id on every node until they expire.

CREATE TABLE sts_sessions (
    access_key_id TEXT PRIMARY KEY,     -- ASIA...
    secret TEXT NOT NULL,
    session_token TEXT NOT NULL,
    account TEXT NOT NULL,              -- the account the credentials act in (the role's)
    principal_arn TEXT NOT NULL,        -- arn:aws:sts::<account>:assumed-role/<role>/<session>, ...
    user_id TEXT NOT NULL,              -- GetCallerIdentity's UserId
    created_ms {bigint} NOT NULL,
    expires_ms {bigint} NOT NULL,
    data TEXT NOT NULL                  -- JSON: role ARN, session tags, source identity, external id, ...
);
