-- One value index: a case-exact `eq` finds its rows by the folded value (equal values fold
-- equally) and then compares the exact value, so the exact-value index only cost every write
-- a B-tree insert per value (see the SQLite migration of the same name).
DROP INDEX attribute_values_exact;
