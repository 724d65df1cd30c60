ALTER TABLE attribute_paths
    ALTER COLUMN path TYPE TEXT COLLATE "default";
ALTER TABLE attribute_values
    ALTER COLUMN value TYPE TEXT COLLATE "default",
    ALTER COLUMN value_ci TYPE TEXT COLLATE "default";
ALTER TABLE directory_groups
    ALTER COLUMN display_name_ci TYPE TEXT COLLATE "default",
    ALTER COLUMN external_id TYPE TEXT COLLATE "default";
ALTER TABLE directory_users
    ALTER COLUMN user_name_ci TYPE TEXT COLLATE "default",
    ALTER COLUMN external_id TYPE TEXT COLLATE "default";
