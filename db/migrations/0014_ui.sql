-- 0014: the triage UI (issue 14).

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

-- The junk lane (triage.QuarantineRule): an admin quarantines a sender
-- (an address, a domain, a key by fingerprint); their new reports are
-- filed held: reports.quarantine_id names the rule, held_at when. A held
-- report is off the board (the board's indexes below leave it out), has
-- no clock, and its acknowledgement waits in held_acks until the rule is
-- released (released_at), which moves the rule's reports to the board
-- and queues those acknowledgements.
CREATE TABLE quarantine (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	kind        TEXT    NOT NULL CHECK (kind IN ('address', 'domain', 'fingerprint')),
	value       TEXT    NOT NULL,
	note        TEXT    NOT NULL DEFAULT '',
	created_at  TEXT    NOT NULL,
	created_by  TEXT    NOT NULL, -- the admin's email
	released_at TEXT,
	released_by TEXT
);
CREATE UNIQUE INDEX quarantine_active ON quarantine (kind, value) WHERE released_at IS NULL;
ALTER TABLE reports ADD COLUMN quarantine_id INTEGER REFERENCES quarantine (id);
ALTER TABLE reports ADD COLUMN held_at TEXT;
CREATE INDEX reports_held ON reports (quarantine_id, id) WHERE quarantine_id IS NOT NULL;
CREATE TABLE held_acks (
	report_id INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
	mail      TEXT    NOT NULL -- the acknowledgement as JSON (db.heldAck)
);
-- quarantine_id is a column of these too, though always NULL there: so
-- that they cover the query's test of it (SQLite does not drop a term for
-- being the index's own condition).
DROP INDEX reports_board;
CREATE INDEX reports_board ON reports (status, next_due_at, severity_points, severity, assignee_id, quarantine_id) WHERE quarantine_id IS NULL;
DROP INDEX reports_rank;
CREATE INDEX reports_rank ON reports (id, status, next_due_at, severity_points, severity, assignee_id, quarantine_id) WHERE quarantine_id IS NULL;

-- A sender's history on the report page: their other reports, by address
-- and by the key that signed them.
-- status too, so that counting their outcomes reads no report row.
CREATE INDEX reports_researcher ON reports (researcher_email COLLATE NOCASE, id, status);
CREATE INDEX reports_sig_fingerprint ON reports (sig_fingerprint, id, status) WHERE sig_fingerprint <> '';

-- The board's ranked walk (db/boardwalk.go): the reports in the board's
-- order within each tier, so that a page is read, not a million reports
-- sorted. Their WHERE is spelled as the queries spell it (the closed
-- statuses in triage's order), or SQLite would not use them.
CREATE INDEX reports_open_rank ON reports
	(severity_points DESC, (next_due_at IS NULL), next_due_at, id DESC, status, severity, assignee_id, quarantine_id)
	WHERE quarantine_id IS NULL AND status NOT IN ('disclosed', 'duplicate', 'not-applicable', 'informative', 'spam');
CREATE INDEX reports_open_due ON reports
	(next_due_at, severity_points, id, status, severity, assignee_id, quarantine_id)
	WHERE quarantine_id IS NULL AND status NOT IN ('disclosed', 'duplicate', 'not-applicable', 'informative', 'spam');
CREATE INDEX reports_closed_rank ON reports
	(severity_points DESC, id DESC, status, severity, assignee_id, quarantine_id)
	WHERE quarantine_id IS NULL AND status IN ('disclosed', 'duplicate', 'not-applicable', 'informative', 'spam');
-- One person's reports, for the board of a person with few: read in
-- their own range, not found among everyone's.
CREATE INDEX reports_assignee_board ON reports (assignee_id, status, next_due_at, severity_points, severity, quarantine_id)
	WHERE quarantine_id IS NULL;
