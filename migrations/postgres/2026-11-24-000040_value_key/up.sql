-- A value's key starts at its resource, as on SQLite (see its migration of the same name):
-- resource ids are unique across directories, and every query still names the directory.
ALTER TABLE attribute_values DROP CONSTRAINT attribute_values_pkey;
ALTER TABLE attribute_values ADD PRIMARY KEY (resource_id, path, elem);
