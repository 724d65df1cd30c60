CREATE TABLE attribute_values_keyed (
    resource_id TEXT NOT NULL,
    path TEXT NOT NULL,
    elem INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    value TEXT NOT NULL,
    value_ci TEXT NOT NULL,
    value_num DOUBLE PRECISION,
    PRIMARY KEY (resource_id, path, elem)
) WITHOUT ROWID;
INSERT INTO attribute_values_keyed
    (resource_id, path, elem, tenant_id, directory_id, resource_type, value, value_ci, value_num)
    SELECT v.resource_id, p.path, v.elem, v.tenant_id, v.directory_id, p.resource_type, v.value, v.value_ci, v.value_num
    FROM attribute_values v JOIN attribute_paths p ON p.id = v.path_id;
DROP TABLE attribute_values;
DROP TABLE attribute_paths;
ALTER TABLE attribute_values_keyed RENAME TO attribute_values;
CREATE INDEX attribute_values_ci ON attribute_values (directory_id, resource_type, path, value_ci);

DELETE FROM sqlite_stat1 WHERE tbl IN ('attribute_values', 'attribute_paths');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('attribute_values', 'attribute_values', '1000000 10 1 1'),
    ('attribute_values', 'attribute_values_ci', '1000000 100000 50000 10000 2');
