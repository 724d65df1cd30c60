ALTER TABLE directories DROP COLUMN deleting_at;
