ALTER TABLE events DROP COLUMN redacted;
