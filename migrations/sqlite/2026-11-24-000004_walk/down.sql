DELETE FROM sqlite_stat1 WHERE idx IN ('directory_users_walk', 'directory_groups_walk');
DROP INDEX directory_users_walk;
DROP INDEX directory_groups_walk;
