-- When the latest receive handed the message out: a message's total visibility timeout
-- (ChangeMessageVisibility) counts from there and may not pass 12 hours.
ALTER TABLE sqs_messages ADD COLUMN received_ms {bigint};
