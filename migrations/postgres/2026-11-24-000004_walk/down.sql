DROP INDEX directory_users_walk;
DROP INDEX directory_groups_walk;
