-- The deprovisioning policy of each directory (docs/deprovisioning.md). Existing directories
-- get the defaults of their kind.
ALTER TABLE directories ADD COLUMN on_deactivate TEXT NOT NULL DEFAULT 'deactivate';
ALTER TABLE directories ADD COLUMN on_delete TEXT NOT NULL DEFAULT 'soft';
ALTER TABLE directories ADD COLUMN retention_seconds BIGINT NOT NULL DEFAULT 2592000;
ALTER TABLE directories ADD COLUMN on_group_loss TEXT NOT NULL DEFAULT 'keep';
UPDATE directories SET on_delete = 'hard' WHERE kind = 'jumpcloud';

-- The purge finds soft-deleted rows past their retention without scanning live ones.
CREATE INDEX directory_users_deleted ON directory_users (directory_id, deleted_at)
    WHERE deleted_at IS NOT NULL;
CREATE INDEX directory_groups_deleted ON directory_groups (directory_id, deleted_at)
    WHERE deleted_at IS NOT NULL;
