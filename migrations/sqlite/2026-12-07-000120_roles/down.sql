DROP TABLE role_recomputes;
ALTER TABLE directory_users DROP COLUMN roles;
DROP TABLE role_rules;
DROP TABLE roles;
