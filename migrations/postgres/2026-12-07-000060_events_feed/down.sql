ALTER TABLE directories DROP COLUMN activated_at;
DROP TABLE app_keys;
DROP INDEX events_tenant;
ALTER TABLE events DROP COLUMN previous;
ALTER TABLE events DROP COLUMN changed;
