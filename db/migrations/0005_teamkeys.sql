-- issue 3 — team keyring lifecycle (being written).
SELECT 1;
