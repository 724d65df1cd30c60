DROP INDEX memberships_member;
CREATE INDEX memberships_member ON memberships (member_id);
DROP INDEX directory_users_email;
ALTER TABLE directory_users DROP COLUMN primary_email_ci;
