-- Secrets Manager: secrets and their versions.
-- Secret values are stored only as ciphertext (AES-256-GCM under a KMS data key); the
-- data key is stored encrypted by KMS, as AWS's envelope encryption does.

CREATE TABLE secretsmanager_secrets (
    id {serial},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,                 -- JSON: description, kms key, tags, policy, rotation
    created_ms {bigint} NOT NULL,
    changed_ms {bigint} NOT NULL,
    accessed_ms {bigint},
    deleted_ms {bigint},                -- DeleteSecret called (scheduled for deletion)
    delete_at_ms {bigint},              -- end of the recovery window
    rotated_ms {bigint},
    next_rotation_ms {bigint},
    UNIQUE (account, region, name)
);

CREATE TABLE secretsmanager_versions (
    secret_id {bigint} NOT NULL,
    version_id TEXT NOT NULL,
    stages TEXT NOT NULL,               -- JSON list of staging labels
    created_ms {bigint} NOT NULL,
    accessed_ms {bigint},
    kind TEXT,                          -- 'string', 'binary', or NULL (no value yet)
    ciphertext {blob},                  -- nonce || AES-GCM ciphertext
    data_key {blob},                    -- the data key, as KMS encrypted it
    kms_key_arn TEXT,
    PRIMARY KEY (secret_id, version_id)
);
