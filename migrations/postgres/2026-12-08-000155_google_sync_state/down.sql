ALTER TABLE google_directories DROP COLUMN watch_renew_at;
DROP TABLE google_external_members;
DROP TABLE google_seen;
