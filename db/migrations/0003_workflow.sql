-- 0003: the triage workflow (issue 4) — assignee, labels, duplicates,
-- CVSS, the SLA timeline and clocks, report history, internal notes,
-- settings, notifications, and full-text search.

-- The triage state of a report (triage.Report). The timeline columns are
-- what the SLA clocks are computed from; the *_due_at columns are the due
-- times of the clocks that count down (NULL when a clock is paused, met or
-- not started), recomputed whenever the report or the SLA policy changes,
-- so that the board can be ordered and filtered in SQL with now as a
-- parameter (triage.Rank): a due time never moves while nothing changes.
ALTER TABLE reports ADD COLUMN assignee_id        INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE reports ADD COLUMN labels             TEXT    NOT NULL DEFAULT '[]'; -- JSON array, sorted; report_labels mirrors it for filtering
ALTER TABLE reports ADD COLUMN duplicate_of       INTEGER REFERENCES reports (id) ON DELETE SET NULL;
ALTER TABLE reports ADD COLUMN cvss_version       TEXT    NOT NULL DEFAULT '';   -- '', '3.1', '4.0'
ALTER TABLE reports ADD COLUMN cvss_vector        TEXT    NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN cvss_score         REAL;                          -- NULL without a vector
ALTER TABLE reports ADD COLUMN severity           TEXT    NOT NULL DEFAULT '';   -- triage.Severity; '' unscored
ALTER TABLE reports ADD COLUMN severity_points    INTEGER NOT NULL DEFAULT 40;   -- triage.Report.SeverityPoints
ALTER TABLE reports ADD COLUMN responded_at       TEXT;
ALTER TABLE reports ADD COLUMN severity_set_at    TEXT;
ALTER TABLE reports ADD COLUMN accepted_at        TEXT;
ALTER TABLE reports ADD COLUMN resolved_at        TEXT;
ALTER TABLE reports ADD COLUMN closed_at          TEXT;
ALTER TABLE reports ADD COLUMN pauses             TEXT    NOT NULL DEFAULT '[]'; -- JSON [{"start","end"}], end zero while paused
ALTER TABLE reports ADD COLUMN fr_due_at          TEXT;
ALTER TABLE reports ADD COLUMN triage_due_at      TEXT;
ALTER TABLE reports ADD COLUMN remediation_due_at TEXT;
ALTER TABLE reports ADD COLUMN next_due_at        TEXT;                          -- the earliest of the three

-- Reports filed before this migration, under the default policy: the
-- first-response clock as filed, the triage clock 72 h after receipt
-- (fixed width: SQLite's %f gives milliseconds, the rest is padding).
UPDATE reports SET
	fr_due_at     = first_response_due,
	triage_due_at = strftime('%Y-%m-%dT%H:%M:%f', received_at, '+72 hours') || '000000Z',
	next_due_at   = first_response_due;

-- The board (db.Board): ordered by tier (status and next due), severity
-- points and next due, filtered by status, severity and assignee. It
-- covers that query, so ordering every report reads no table rows (they
-- hold the body).
CREATE INDEX reports_board ON reports (status, next_due_at, severity_points, severity, assignee_id);
-- The same columns keyed by id, for the board of a search or a label: the
-- matching ids are looked up here instead of in the rows.
CREATE INDEX reports_rank ON reports (id, status, next_due_at, severity_points, severity, assignee_id);
CREATE INDEX reports_duplicate_of ON reports (duplicate_of) WHERE duplicate_of IS NOT NULL;
-- The notifier looks for clocks due soon or just breached.
CREATE INDEX reports_fr_due ON reports (fr_due_at) WHERE fr_due_at IS NOT NULL;
CREATE INDEX reports_triage_due ON reports (triage_due_at) WHERE triage_due_at IS NOT NULL;
CREATE INDEX reports_remediation_due ON reports (remediation_due_at) WHERE remediation_due_at IS NOT NULL;

CREATE TABLE report_labels (
	report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	label     TEXT    NOT NULL,
	PRIMARY KEY (report_id, label)
) WITHOUT ROWID;
CREATE INDEX report_labels_label ON report_labels (label, report_id);

-- A report's history: every change, who made it and when (triage.Event).
CREATE TABLE report_events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	at         TEXT    NOT NULL,
	actor_id   INTEGER REFERENCES users (id) ON DELETE SET NULL, -- NULL: the system
	kind       TEXT    NOT NULL, -- triage.EventKind
	from_value TEXT    NOT NULL,
	to_value   TEXT    NOT NULL
);
CREATE INDEX report_events_report ON report_events (report_id, id);

-- Internal notes: staff only, never sent to the researcher.
CREATE TABLE notes (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
	at        TEXT    NOT NULL,
	body      TEXT    NOT NULL
);
CREATE INDEX notes_report ON notes (report_id, id);

-- Settings an admin changes at run time, one JSON document per key
-- ('sla_policy': triage.ParseSLAPolicy). Never secrets.
CREATE TABLE settings (
	key        TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL,
	updated_at TEXT    NOT NULL,
	updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);

-- SLA notifications. The unique key makes each (report, clock, event) be
-- decided once per channel, in the transaction that decides it, whatever
-- restarts happen; delivery is then retried from here with backoff.
CREATE TABLE notifications (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	report_id       INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	clock           TEXT    NOT NULL, -- triage.ClockName
	event           TEXT    NOT NULL, -- due_soon, breached
	channel         TEXT    NOT NULL, -- webhook, email
	due_at          TEXT    NOT NULL, -- the clock's due time when decided
	created_at      TEXT    NOT NULL,
	state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT    NOT NULL,
	last_error      TEXT    NOT NULL DEFAULT '',
	sent_at         TEXT,
	UNIQUE (report_id, clock, event, channel)
);
CREATE INDEX notifications_pending ON notifications (channel, next_attempt_at) WHERE state = 'pending';

-- Full-text search over title, body and attachment names, one row per
-- report (rowid = report id), so that the full-text index itself
-- intersects the words of a query wherever each occurs. A report is
-- indexed once it is filed with all its attachments (db.FileReport), not
-- by an insert trigger: a trigger per attachment would index a large body
-- once per attachment. The triggers below keep indexed reports in sync
-- with later changes.
--
-- FTS4, which go-sqlite3 compiles in by default, so that a plain
-- `go build` or `go install` makes a binary that opens the database. This
-- migration created an FTS5 table until 0009_fts4 replaced it; databases made
-- then are converted by 0009_fts4 (see db/migrate.go).
CREATE VIRTUAL TABLE reports_fts USING fts4 (
	title, body, attachments,
	tokenize=unicode61 "remove_diacritics=2"
);
INSERT INTO reports_fts (rowid, title, body, attachments)
	SELECT id, title, body, (SELECT group_concat(name, ' ') FROM attachments WHERE report_id = reports.id) FROM reports;

CREATE TRIGGER reports_fts_update AFTER UPDATE OF title, body ON reports
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid = new.id)
BEGIN
	DELETE FROM reports_fts WHERE rowid = new.id;
	INSERT INTO reports_fts (rowid, title, body, attachments) VALUES (new.id, new.title, new.body,
		(SELECT group_concat(name, ' ') FROM attachments WHERE report_id = new.id));
END;
CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports
BEGIN
	DELETE FROM reports_fts WHERE rowid = old.id;
END;
CREATE TRIGGER attachments_fts_insert AFTER INSERT ON attachments
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid = new.report_id)
BEGIN
	DELETE FROM reports_fts WHERE rowid = new.report_id;
	INSERT INTO reports_fts (rowid, title, body, attachments)
		SELECT id, title, body, (SELECT group_concat(name, ' ') FROM attachments WHERE report_id = new.report_id)
		FROM reports WHERE id = new.report_id;
END;
CREATE TRIGGER attachments_fts_update AFTER UPDATE OF name, report_id ON attachments
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid IN (old.report_id, new.report_id))
BEGIN
	DELETE FROM reports_fts WHERE rowid IN (old.report_id, new.report_id);
	INSERT INTO reports_fts (rowid, title, body, attachments)
		SELECT id, title, body, (SELECT group_concat(name, ' ') FROM attachments WHERE report_id = reports.id)
		FROM reports WHERE id IN (old.report_id, new.report_id);
END;
CREATE TRIGGER attachments_fts_delete AFTER DELETE ON attachments
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid = old.report_id)
BEGIN
	DELETE FROM reports_fts WHERE rowid = old.report_id;
	INSERT INTO reports_fts (rowid, title, body, attachments)
		SELECT id, title, body, (SELECT group_concat(name, ' ') FROM attachments WHERE report_id = old.report_id)
		FROM reports WHERE id = old.report_id;
END;
