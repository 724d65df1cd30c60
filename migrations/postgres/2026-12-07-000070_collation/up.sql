-- SCIM filters (gt, ge, lt, le, sw) and sortBy compare these columns. Under the database's own
-- collation (en_US, ICU, ...) PostgreSQL orders "é" before "z" and "a" before "B"; SQLite
-- compares bytes. "C" is byte order on both, and it lets `LIKE 'prefix%'` use the B-tree
-- indexes. Only the collation changes: no table is rewritten, the indexes on these columns are
-- rebuilt.
ALTER TABLE directory_users
    ALTER COLUMN user_name_ci TYPE TEXT COLLATE "C",
    ALTER COLUMN external_id TYPE TEXT COLLATE "C";
ALTER TABLE directory_groups
    ALTER COLUMN display_name_ci TYPE TEXT COLLATE "C",
    ALTER COLUMN external_id TYPE TEXT COLLATE "C";
ALTER TABLE attribute_values
    ALTER COLUMN value TYPE TEXT COLLATE "C",
    ALTER COLUMN value_ci TYPE TEXT COLLATE "C";
ALTER TABLE attribute_paths
    ALTER COLUMN path TYPE TEXT COLLATE "C";
