DROP TABLE custom_attribute_rederive;
DROP INDEX custom_attribute_values_lookup;
DROP TABLE custom_attribute_values;
ALTER TABLE directory_users DROP COLUMN custom_attributes;
DROP TABLE custom_attributes;
