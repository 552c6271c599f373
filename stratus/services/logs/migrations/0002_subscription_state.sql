-- Subscription filters: a delivery that fails for good (the function is gone, CloudWatch Logs
-- may no longer invoke it) disables the filter for a while; events ingested meanwhile are skipped.
ALTER TABLE logs_filters ADD COLUMN disabled_until_ms {bigint};
