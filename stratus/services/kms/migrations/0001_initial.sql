-- KMS: keys, their secret material (wrapped under the node master key), and aliases.

-- One row: the master key that wraps every key's material at rest. It lives in the
-- database, not in a node's data directory, because every node of a PostgreSQL
-- deployment must unwrap the same material (stratus is a local cloud, not an HSM).
CREATE TABLE kms_master (
    id INTEGER PRIMARY KEY,
    secret {blob} NOT NULL
);

CREATE TABLE kms_keys (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    key_id TEXT NOT NULL,
    state TEXT NOT NULL,                -- Enabled, Disabled, PendingDeletion
    created_ms {bigint} NOT NULL,
    data TEXT NOT NULL,                 -- JSON: spec, usage, description, policy, tags, rotation ...
    PRIMARY KEY (account, region, key_id)
);

-- Every material a key has had: rotation adds one and keeps the old ones for Decrypt.
CREATE TABLE kms_key_materials (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    key_id TEXT NOT NULL,
    material_id TEXT NOT NULL,
    wrapped {blob} NOT NULL,            -- AES-GCM under kms_master, bound to the key ARN and material id
    created_ms {bigint} NOT NULL,
    rotation_type TEXT,                 -- NULL for the first material, else AUTOMATIC or ON_DEMAND
    PRIMARY KEY (account, region, key_id, material_id)
);

CREATE TABLE kms_aliases (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,                 -- with its "alias/" prefix
    key_id TEXT NOT NULL,
    created_ms {bigint} NOT NULL,
    updated_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX kms_aliases_key ON kms_aliases (account, region, key_id);
