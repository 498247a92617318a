-- 0011: the triage UI (issue 14).

-- The verdict of each SLA clock that has stopped: its due time when it
-- stopped, under the policy in force then (triage.Timeline.Settled), as
-- JSON {"first_response": "2026-...Z", ...}. A later policy change moves
-- the clocks that still run, never these. Reports whose clocks stopped
-- before this migration get theirs in Go once it is applied (db.migrate,
-- settleAll), under the policy in force then.
ALTER TABLE reports ADD COLUMN settled TEXT NOT NULL DEFAULT '{}';

-- Canned responses (triage.Response): named reply texts with variables,
-- at most one the default for each status a report moves to.
CREATE TABLE responses (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	body        TEXT    NOT NULL,
	default_for TEXT    NOT NULL DEFAULT '', -- triage.Status; '' for none
	updated_at  TEXT    NOT NULL,
	updated_by  INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX responses_default_for ON responses (default_for) WHERE default_for <> '';
