-- issue 4 — workflow, SLA clocks, CVSS, labels, notes, search (being written).
SELECT 1;
