DROP INDEX directory_groups_deleted;
DROP INDEX directory_users_deleted;
ALTER TABLE directories DROP COLUMN on_group_loss;
ALTER TABLE directories DROP COLUMN retention_seconds;
ALTER TABLE directories DROP COLUMN on_delete;
ALTER TABLE directories DROP COLUMN on_deactivate;
