-- Each directory's indexed attribute paths get a number, and the value index's key is that
-- number and the folded value: (path_id, value_ci) instead of (directory_id, resource_type,
-- path, value_ci). Every key comparison of an insert walked the 36 equal bytes of the directory
-- id, the type and the path before it reached the value, and every row stored them; a POST
-- writes ten such rows. A path number belongs to one directory and one resource type, so a
-- lookup by it is scoped as before; the rows keep their tenant and directory.
CREATE TABLE attribute_paths (
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    path TEXT NOT NULL,
    UNIQUE (directory_id, resource_type, path)
);
INSERT INTO attribute_paths (tenant_id, directory_id, resource_type, path)
    SELECT DISTINCT tenant_id, directory_id, resource_type, path FROM attribute_values;

CREATE TABLE attribute_values_numbered (
    resource_id TEXT NOT NULL,
    path_id INTEGER NOT NULL,
    elem INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    value TEXT NOT NULL,
    value_ci TEXT NOT NULL,
    value_num DOUBLE PRECISION,
    PRIMARY KEY (resource_id, path_id, elem)
) WITHOUT ROWID;
INSERT INTO attribute_values_numbered
    (resource_id, path_id, elem, tenant_id, directory_id, value, value_ci, value_num)
    SELECT v.resource_id, p.id, v.elem, v.tenant_id, v.directory_id, v.value, v.value_ci, v.value_num
    FROM attribute_values v
    JOIN attribute_paths p
        ON p.directory_id = v.directory_id AND p.resource_type = v.resource_type AND p.path = v.path;
DROP TABLE attribute_values;
ALTER TABLE attribute_values_numbered RENAME TO attribute_values;
CREATE INDEX attribute_values_ci ON attribute_values (path_id, value_ci);

-- Fixed planner statistics, as in the init migration.
DELETE FROM sqlite_stat1 WHERE tbl IN ('attribute_values', 'attribute_paths');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('attribute_values', 'attribute_values', '1000000 10 1 1'),
    ('attribute_values', 'attribute_values_ci', '1000000 50000 2'),
    ('attribute_paths', 'sqlite_autoindex_attribute_paths_1', '1000 50 25 1');
