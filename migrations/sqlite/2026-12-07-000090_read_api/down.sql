DELETE FROM sqlite_stat1 WHERE idx IN ('memberships_member', 'directory_users_email');
DROP INDEX memberships_member;
CREATE INDEX memberships_member ON memberships (member_id);
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('memberships', 'memberships_member', '1000000 10');
DROP INDEX directory_users_email;
ALTER TABLE directory_users DROP COLUMN primary_email_ci;
