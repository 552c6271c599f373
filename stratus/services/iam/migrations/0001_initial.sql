-- IAM: global (no region), partitioned by account only.
-- Users, roles, groups, managed policies and instance profiles share one table: they have
-- the same skeleton (name, unique id, path, ARN) and differ only in the JSON `data`.
-- Everything that hangs off an entity refers to its unique id, so a rename moves nothing.

CREATE TABLE iam_entities (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,                 -- user | role | group | policy | instance-profile
    name_key TEXT NOT NULL,             -- lower-cased name: IAM names are unique ignoring case
    name TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,            -- AIDA... / AROA... / AGPA... / ANPA... / AIPA...
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_ms {bigint} NOT NULL,
    data TEXT NOT NULL,                 -- JSON: tags, trust policy, description, versions counter, ...
    PRIMARY KEY (account, kind, name_key)
);

CREATE TABLE iam_policy_versions (
    policy_id TEXT NOT NULL,
    version INTEGER NOT NULL,           -- "v<version>" on the wire
    document TEXT NOT NULL,             -- as the client sent it; URL-encoded on the way out
    created_ms {bigint} NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- Managed policies attached to users, roles and groups (customer or AWS-managed ARNs).
CREATE TABLE iam_attachments (
    account TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    PRIMARY KEY (entity_id, policy_arn)
);
CREATE INDEX iam_attachments_policy ON iam_attachments (account, policy_arn);

CREATE TABLE iam_inline_policies (
    entity_id TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (entity_id, name)
);

CREATE TABLE iam_group_members (
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX iam_group_members_user ON iam_group_members (user_id);

CREATE TABLE iam_access_keys (
    key_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,               -- Active | Inactive
    created_ms {bigint} NOT NULL
);
CREATE INDEX iam_access_keys_user ON iam_access_keys (user_id);
