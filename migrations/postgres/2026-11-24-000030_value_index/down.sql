CREATE INDEX attribute_values_exact ON attribute_values (directory_id, resource_type, path, value);
