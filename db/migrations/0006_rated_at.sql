-- 0006: the remediation clock starts at the later of acceptance and the
-- first time the report got a severity from low to critical
-- (triage.Timeline.RatedAt). It used to start at severity_set_at, the
-- first severity of any kind: a report rated none, accepted, and raised
-- to critical weeks later was breached the moment it was raised.
ALTER TABLE reports ADD COLUMN rated_at TEXT;

-- Backfill. Every severity change made through the workflow is in
-- report_events (kind 'severity', from_value → to_value), so where the
-- history holds the first assessment (a severity event from '', the
-- unscored state) it is complete: rated_at is the first event to a rated
-- severity, or NULL if there was none. Where it does not (reports whose
-- first assessment was not recorded, such as seeded demo data), the
-- earliest severity we know of — the from_value of the first recorded
-- event, else the current severity — stands for the first assessment:
-- if it is rated, rated_at is severity_set_at (the start the clock had
-- until now), otherwise the first recorded event to a rated severity.
-- Times are fixed-width UTC text, so MIN is the earliest.
UPDATE reports SET rated_at = CASE
	WHEN EXISTS (SELECT 1 FROM report_events e WHERE e.report_id = reports.id AND e.kind = 'severity' AND e.from_value = '')
	THEN (SELECT MIN(e.at) FROM report_events e WHERE e.report_id = reports.id AND e.kind = 'severity'
		AND e.to_value IN ('low', 'medium', 'high', 'critical'))
	WHEN COALESCE((SELECT e.from_value FROM report_events e WHERE e.report_id = reports.id AND e.kind = 'severity'
		ORDER BY e.id LIMIT 1), severity) IN ('low', 'medium', 'high', 'critical')
	THEN severity_set_at
	ELSE (SELECT MIN(e.at) FROM report_events e WHERE e.report_id = reports.id AND e.kind = 'severity'
		AND e.to_value IN ('low', 'medium', 'high', 'critical'))
	END
WHERE severity_set_at IS NOT NULL;

-- The stored due times (remediation_due_at, next_due_at, which order the
-- board) of the reports whose start moved are recomputed in Go once the
-- migrations are applied (db.migrate): the calendar is not SQL.
