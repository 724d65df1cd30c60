-- The application's read API (docs/api.md).
--
-- An application links its accounts to directory users by email, across a tenant's
-- directories, in one indexed lookup. Emails compare case-insensitively, as SCIM's
-- `emails.value` does: Roster folds the primary email in Rust on every write (as it does
-- `user_name_ci`). Rows written before this migration are folded here by SQL's lower(), which
-- on both backends lowers ASCII letters only; such a row with a non-ASCII email is found by
-- its folded form once it is next written.
ALTER TABLE directory_users ADD COLUMN primary_email_ci TEXT;
UPDATE directory_users SET primary_email_ci = lower(primary_email) WHERE primary_email IS NOT NULL;
CREATE INDEX directory_users_email ON directory_users (primary_email_ci, tenant_id, id);

-- A user's groups, paged in group id order: the key had the member only, so every page
-- read and sorted all of a user's memberships.
DROP INDEX memberships_member;
CREATE INDEX memberships_member ON memberships (member_id, group_id);

-- Fixed planner statistics, as in the init migration.
DELETE FROM sqlite_stat1 WHERE idx = 'memberships_member';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('memberships', 'memberships_member', '1000000 10 1'),
    ('directory_users', 'directory_users_email', '100000 1 1 1');
