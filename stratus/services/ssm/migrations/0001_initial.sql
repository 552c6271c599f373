-- SSM Parameter Store: parameters, every kept version, labels, and the account's settings.

-- One row per parameter: its current version's filterable fields and its tags.
CREATE TABLE ssm_parameters (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    version {bigint} NOT NULL,          -- the current (latest) version
    type TEXT NOT NULL,
    tier TEXT NOT NULL,
    data_type TEXT NOT NULL,
    key_id TEXT,
    expires_ms {bigint},                -- an Expiration policy's time on the stratus clock
    tags TEXT NOT NULL,                 -- JSON object
    PRIMARY KEY (account, region, name)
);

-- Up to 100 versions per parameter, oldest deleted first.
CREATE TABLE ssm_parameter_versions (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    version {bigint} NOT NULL,
    value TEXT NOT NULL,                -- SecureString: the KMS ciphertext in base64, never the plaintext
    data TEXT NOT NULL,                 -- JSON: type, key id, tier, data type, description, pattern, policies, user
    modified_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, name, version)
);

-- A label names one version of one parameter at a time.
CREATE TABLE ssm_labels (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    version {bigint} NOT NULL,
    PRIMARY KEY (account, region, name, label)
);
CREATE INDEX ssm_labels_version ON ssm_labels (account, region, name, version);

-- Service settings changed from their defaults (UpdateServiceSetting).
CREATE TABLE ssm_service_settings (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    setting_id TEXT NOT NULL,
    value TEXT NOT NULL,
    modified_ms {bigint} NOT NULL,
    modified_user TEXT NOT NULL,
    PRIMARY KEY (account, region, setting_id)
);
