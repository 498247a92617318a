-- Search moves from FTS5 to FTS4 (migration 0003 explains why). The work
-- is done in Go before this file runs (ftsToFTS4 in db/migrate.go): a
-- binary built without FTS5 cannot drop an FTS5 table with DROP TABLE.
-- A database created by the new 0003 already has the FTS4 table and
-- needs nothing.
SELECT 1;
