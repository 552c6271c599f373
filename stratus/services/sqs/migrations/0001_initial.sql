-- SQS: queues, their messages, and the short-lived state around them.
-- A queue is a table of messages: receive is one claim over (queue_id, visible_at, id).

CREATE TABLE sqs_queues (
    id {serial},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    fifo INTEGER NOT NULL,
    attributes TEXT NOT NULL,           -- JSON: the attributes clients set (defaults included)
    tags TEXT NOT NULL,                 -- JSON
    dlq_arn TEXT,                       -- RedrivePolicy's target, for ListDeadLetterSourceQueues
    created_ms {bigint} NOT NULL,
    modified_ms {bigint} NOT NULL,
    purged_ms {bigint} NOT NULL,
    seq {bigint} NOT NULL,              -- last FIFO SequenceNumber handed out
    UNIQUE (account, region, name)
);
CREATE INDEX sqs_queues_dlq ON sqs_queues (dlq_arn);

-- Names of queues deleted in the last 60 s (QueueDeletedRecently).
CREATE TABLE sqs_deleted_queues (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    deleted_ms {bigint} NOT NULL,
    PRIMARY KEY (account, region, name)
);

CREATE TABLE sqs_messages (
    id {serial},
    queue_id {bigint} NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT,                    -- JSON, binary values in base64
    system_attributes TEXT,             -- JSON (AWSTraceHeader)
    md5_body TEXT NOT NULL,
    md5_attributes TEXT,
    sent_ms {bigint} NOT NULL,
    visible_at {bigint} NOT NULL,       -- delayed or in flight until then
    receive_count INTEGER NOT NULL,
    first_receive_ms {bigint},
    receipt TEXT,                       -- nonce of the latest receive
    group_id TEXT,
    dedup_id TEXT,
    seq {bigint},
    sender_id TEXT,
    source_arn TEXT                     -- set when redriven to a dead-letter queue
);
CREATE INDEX sqs_messages_ready ON sqs_messages (queue_id, visible_at, id);
CREATE INDEX sqs_messages_groups ON sqs_messages (queue_id, group_id, visible_at) WHERE group_id IS NOT NULL;

-- FIFO deduplication ids seen in the last 5 minutes.
CREATE TABLE sqs_dedup (
    queue_id {bigint} NOT NULL,
    dedup_key TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq {bigint} NOT NULL,
    expires_ms {bigint} NOT NULL,
    PRIMARY KEY (queue_id, dedup_key)
);

-- FIFO ReceiveRequestAttemptId: what a receive returned, to return it again on a retry.
CREATE TABLE sqs_receive_attempts (
    queue_id {bigint} NOT NULL,
    attempt_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    message_rows TEXT NOT NULL,         -- JSON list of sqs_messages.id
    expires_ms {bigint} NOT NULL,
    PRIMARY KEY (queue_id, attempt_id)
);

CREATE TABLE sqs_move_tasks (
    id TEXT PRIMARY KEY,
    source_arn TEXT NOT NULL,
    source_queue_id {bigint} NOT NULL,
    destination_arn TEXT,
    rate INTEGER,
    status TEXT NOT NULL,
    moved {bigint} NOT NULL,
    to_move {bigint} NOT NULL,
    last_row {bigint} NOT NULL,         -- messages up to this row existed when the task started
    started_ms {bigint} NOT NULL,
    failure TEXT
);
CREATE INDEX sqs_move_tasks_source ON sqs_move_tasks (source_arn, started_ms);
