-- The application's read API (docs/api.md).
--
-- An application links its accounts to directory users by email, across a tenant's
-- directories, in one indexed lookup. Emails compare case-insensitively, as SCIM's
-- `emails.value` does: Roster folds the primary email in Rust on every write (as it does
-- `user_name_ci`). Rows written before this migration are folded here by lower() under the
-- "C" collation, which lowers ASCII letters only, as SQLite's does; such a row with a
-- non-ASCII email is found by its folded form once it is next written. "C": byte order, as
-- on SQLite (migration 000070).
ALTER TABLE directory_users ADD COLUMN primary_email_ci TEXT COLLATE "C";
UPDATE directory_users SET primary_email_ci = lower(primary_email COLLATE "C")
    WHERE primary_email IS NOT NULL;
CREATE INDEX directory_users_email ON directory_users (primary_email_ci, tenant_id, id);

-- A user's groups, paged in group id order: the key had the member only, so every page
-- read and sorted all of a user's memberships.
DROP INDEX memberships_member;
CREATE INDEX memberships_member ON memberships (member_id, group_id);
