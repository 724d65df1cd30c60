-- A value's key starts at its resource: resource ids are unique across directories, and every
-- query still names the directory. The directory id in front was 36 equal bytes that every
-- key comparison of an insert walked through, and a tenth of a POST's throughput.
-- PostgreSQL keeps its key: without fresh statistics its planner ANDed a key on the resource id
-- alone with the value index's directory prefix, reading every value of the directory.
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
    SELECT resource_id, path, elem, tenant_id, directory_id, resource_type, value, value_ci, value_num
    FROM attribute_values;
DROP TABLE attribute_values;
ALTER TABLE attribute_values_keyed RENAME TO attribute_values;
CREATE INDEX attribute_values_ci ON attribute_values (directory_id, resource_type, path, value_ci);

-- Fixed planner statistics, as in the init migration.
DELETE FROM sqlite_stat1 WHERE tbl = 'attribute_values';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('attribute_values', 'attribute_values', '1000000 10 1 1'),
    ('attribute_values', 'attribute_values_ci', '1000000 100000 50000 10000 2');
