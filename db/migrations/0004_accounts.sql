-- issue 4 — two-factor, login limits, audit log (being written).
SELECT 1;
