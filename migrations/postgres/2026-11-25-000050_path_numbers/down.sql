CREATE TABLE attribute_values_named (
    resource_id TEXT NOT NULL,
    path TEXT NOT NULL,
    elem INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    value TEXT NOT NULL,
    value_ci TEXT NOT NULL,
    value_num DOUBLE PRECISION,
    PRIMARY KEY (directory_id, resource_id, path, elem)
);
INSERT INTO attribute_values_named
    (resource_id, path, elem, tenant_id, directory_id, resource_type, value, value_ci, value_num)
    SELECT v.resource_id, p.path, v.elem, v.tenant_id, v.directory_id, p.resource_type, v.value, v.value_ci, v.value_num
    FROM attribute_values v JOIN attribute_paths p ON p.id = v.path_id;
DROP TABLE attribute_values;
DROP TABLE attribute_paths;
ALTER TABLE attribute_values_named RENAME TO attribute_values;
ALTER INDEX attribute_values_named_pkey RENAME TO attribute_values_pkey;
CREATE INDEX attribute_values_ci ON attribute_values (directory_id, resource_type, path, value_ci);
