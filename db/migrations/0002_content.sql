-- issue 3 — body parts, signatures and researcher keys (being written).
SELECT 1;
