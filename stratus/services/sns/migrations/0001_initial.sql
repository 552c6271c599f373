-- SNS: topics, subscriptions, FIFO bookkeeping, captured email/SMS and the signing key.
-- Deliveries in flight are durable timers (stratus_timers); FIFO subscriptions keep an
-- ordered backlog here so one drain delivers a group's messages in order.

CREATE TABLE sns_topics (
    arn TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    fifo INTEGER NOT NULL,
    attributes TEXT NOT NULL,            -- JSON: what clients set, plus Policy
    tags TEXT NOT NULL,                  -- JSON object
    seq {bigint} NOT NULL,               -- last FIFO sequence number handed out
    subscriptions_deleted {bigint} NOT NULL,
    created_ms {bigint} NOT NULL
);
CREATE INDEX sns_topics_home ON sns_topics (account, region, arn);

CREATE TABLE sns_subscriptions (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL,
    account TEXT NOT NULL,               -- the subscription's owner
    region TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    attributes TEXT NOT NULL,            -- JSON: the attributes clients set
    confirmed INTEGER NOT NULL,
    token TEXT,                          -- confirmation token while pending
    created_ms {bigint} NOT NULL
);
CREATE INDEX sns_subscriptions_topic ON sns_subscriptions (topic_arn, arn);
CREATE INDEX sns_subscriptions_home ON sns_subscriptions (account, region, arn);
CREATE INDEX sns_subscriptions_token ON sns_subscriptions (token);

-- FIFO deduplication ids seen in the last 5 minutes, per topic.
CREATE TABLE sns_dedup (
    topic_arn TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT NOT NULL,
    expires_ms {bigint} NOT NULL,
    PRIMARY KEY (topic_arn, dedup_id)
);

-- Messages of FIFO topics waiting for delivery, per subscription, in publish order.
CREATE TABLE sns_fifo_backlog (
    id {serial},
    subscription_arn TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX sns_fifo_backlog_sub ON sns_fifo_backlog (subscription_arn, id);

-- What email and SMS endpoints would have received (nothing is sent), for tests to read.
CREATE TABLE sns_captured (
    id {serial},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    topic_arn TEXT,
    subscription_arn TEXT,
    message_type TEXT NOT NULL,          -- Notification | SubscriptionConfirmation
    subject TEXT,
    body TEXT NOT NULL,
    created_ms {bigint} NOT NULL
);
CREATE INDEX sns_captured_endpoint ON sns_captured (endpoint, id);

CREATE TABLE sns_signing (
    name TEXT PRIMARY KEY,
    cert_id TEXT NOT NULL,
    key_pem TEXT NOT NULL,
    cert_pem TEXT NOT NULL
);
