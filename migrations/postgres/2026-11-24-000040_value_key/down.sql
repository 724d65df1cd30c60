ALTER TABLE attribute_values DROP CONSTRAINT attribute_values_pkey;
ALTER TABLE attribute_values ADD PRIMARY KEY (directory_id, resource_id, path, elem);
