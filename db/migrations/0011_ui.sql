-- 0011: the triage UI (issue 14).

-- The verdict of each SLA clock that has stopped: its due time when it
-- stopped, under the policy in force then (triage.Timeline.Settled), as
-- JSON {"first_response": "2026-...Z", ...}. A later policy change moves
-- the clocks that still run, never these. Reports whose clocks stopped
-- before this migration get theirs in Go once it is applied (db.migrate,
-- settleAll), under the policy in force then.
ALTER TABLE reports ADD COLUMN settled TEXT NOT NULL DEFAULT '{}';
