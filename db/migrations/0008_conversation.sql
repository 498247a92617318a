-- 0008: the conversation with researchers (issue 5): messages after the
-- first, the outbox that delivers mail, credit with consent, and the
-- status links of web submissions.

-- The Message-ID of the mail a report was filed from, for threading
-- replies; '' when unknown (reports filed before this migration: the
-- raw message still has it).
ALTER TABLE reports ADD COLUMN header_message_id TEXT NOT NULL DEFAULT '';
CREATE INDEX reports_header_message_id ON reports (header_message_id) WHERE header_message_id <> '';

-- Every conversation message after the one a report was filed from.
CREATE TABLE messages (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	report_id         INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	direction         TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
	via               TEXT    NOT NULL CHECK (via IN ('mail', 'web')),
	at                TEXT    NOT NULL,
	from_addr         TEXT    NOT NULL,
	subject           TEXT    NOT NULL,
	body              TEXT    NOT NULL,
	encrypted         INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
	decrypted         INTEGER NOT NULL CHECK (decrypted IN (0, 1)),
	decrypt_error     TEXT    NOT NULL DEFAULT '',
	sig_status        TEXT    NOT NULL DEFAULT 'none',
	signatures        TEXT    NOT NULL DEFAULT '[]', -- JSON: the summary first, then every signature
	parts             TEXT    NOT NULL DEFAULT '[]', -- JSON: []triage.BodyPart
	header_message_id TEXT    NOT NULL DEFAULT '',
	raw_message_id    INTEGER UNIQUE REFERENCES raw_messages (id), -- incoming by mail
	author_id         INTEGER REFERENCES users (id)                 -- outgoing: the staff member
);
CREATE INDEX messages_report_id ON messages (report_id, at, id);
CREATE INDEX messages_header_message_id ON messages (header_message_id) WHERE header_message_id <> '';

-- Files that came with a researcher's reply belong to the report, and
-- name the message they came with.
ALTER TABLE attachments ADD COLUMN conversation_message_id INTEGER REFERENCES messages (id) ON DELETE CASCADE;

-- Mail to send. Composed, signed and encrypted at send time; body is
-- what the team wrote ('' for the acknowledgement and the credit offer,
-- whose text and links are rendered at send time).
CREATE TABLE outbox (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	kind              TEXT    NOT NULL CHECK (kind IN ('ack', 'reply', 'credit_offer', 'notification')),
	report_id         INTEGER REFERENCES reports (id) ON DELETE CASCADE,
	message_id        INTEGER UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
	notification_id   INTEGER REFERENCES notifications (id) ON DELETE CASCADE, -- one mail per team address
	mail_to           TEXT    NOT NULL,
	subject           TEXT    NOT NULL,
	body              TEXT    NOT NULL,
	header_message_id TEXT    NOT NULL UNIQUE,
	in_reply_to       TEXT    NOT NULL DEFAULT '',
	refs              TEXT    NOT NULL DEFAULT '', -- space-separated Message-IDs
	author_id         INTEGER REFERENCES users (id),
	created_at        TEXT    NOT NULL,
	state             TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
	attempts          INTEGER NOT NULL DEFAULT 0,
	next_attempt_at   TEXT    NOT NULL,
	last_error        TEXT    NOT NULL DEFAULT '',
	sent_at           TEXT,
	encrypted         INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
	via               TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE state = 'queued';
-- The outbox page, newest first: all of it, or in one state.
CREATE INDEX outbox_created ON outbox (created_at);
CREATE INDEX outbox_state_created ON outbox (state, created_at);
CREATE INDEX outbox_to_created ON outbox (mail_to, created_at);
CREATE INDEX outbox_kind_created ON outbox (kind, created_at);
CREATE INDEX outbox_report_id ON outbox (report_id);
CREATE UNIQUE INDEX outbox_one_ack ON outbox (report_id) WHERE kind = 'ack';
CREATE UNIQUE INDEX outbox_notification_to ON outbox (notification_id, mail_to) WHERE notification_id IS NOT NULL;

-- Credit offered for a report and the researcher's answer. The link's
-- token is derived from nonce (triage.LinkToken); only its hash is kept.
CREATE TABLE credits (
	report_id      INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
	nonce          TEXT    NOT NULL,
	token_hash     BLOB    NOT NULL UNIQUE,
	offered_at     TEXT    NOT NULL,
	offered_by     INTEGER REFERENCES users (id),
	expires_at     TEXT    NOT NULL,
	choice         TEXT    NOT NULL DEFAULT '' CHECK (choice IN ('', 'name', 'handle', 'anonymous', 'none')),
	display_name   TEXT    NOT NULL DEFAULT '',
	link           TEXT    NOT NULL DEFAULT '',
	chosen_at      TEXT,
	revoked_at     TEXT,
	advisory_title TEXT    NOT NULL DEFAULT ''
);

-- The status link of a report sent through the web form, by the raw
-- message the form produced (the report is filed from it shortly after).
CREATE TABLE status_links (
	raw_message_id INTEGER PRIMARY KEY REFERENCES raw_messages (id),
	nonce          TEXT    NOT NULL,
	token_hash     BLOB    NOT NULL UNIQUE,
	created_at     TEXT    NOT NULL
);

-- Search covers the conversation too: a report's indexed body is its own
-- followed by every message's (a researcher's reply often carries the
-- detail staff look for). reports_fts_source is what a report's row in
-- reports_fts holds, so db.indexReport and every trigger agree.
CREATE VIEW reports_fts_source (id, title, body, attachments) AS
	SELECT id, title,
		body || COALESCE(char(10) || (SELECT group_concat(body, char(10)) FROM
			(SELECT body FROM messages WHERE report_id = reports.id ORDER BY id)), ''),
		(SELECT group_concat(name, ' ') FROM attachments WHERE report_id = reports.id)
	FROM reports;

DROP TRIGGER reports_fts_update;
CREATE TRIGGER reports_fts_update AFTER UPDATE OF title, body ON reports
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid = new.id)
BEGIN
	DELETE FROM reports_fts WHERE rowid = new.id;
	INSERT INTO reports_fts (rowid, title, body, attachments) SELECT * FROM reports_fts_source WHERE id = new.id;
END;
DROP TRIGGER attachments_fts_insert;
CREATE TRIGGER attachments_fts_insert AFTER INSERT ON attachments
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid = new.report_id)
BEGIN
	DELETE FROM reports_fts WHERE rowid = new.report_id;
	INSERT INTO reports_fts (rowid, title, body, attachments) SELECT * FROM reports_fts_source WHERE id = new.report_id;
END;
DROP TRIGGER attachments_fts_update;
CREATE TRIGGER attachments_fts_update AFTER UPDATE OF name, report_id ON attachments
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid IN (old.report_id, new.report_id))
BEGIN
	DELETE FROM reports_fts WHERE rowid IN (old.report_id, new.report_id);
	INSERT INTO reports_fts (rowid, title, body, attachments)
		SELECT * FROM reports_fts_source WHERE id IN (old.report_id, new.report_id);
END;
DROP TRIGGER attachments_fts_delete;
CREATE TRIGGER attachments_fts_delete AFTER DELETE ON attachments
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid = old.report_id)
BEGIN
	DELETE FROM reports_fts WHERE rowid = old.report_id;
	INSERT INTO reports_fts (rowid, title, body, attachments) SELECT * FROM reports_fts_source WHERE id = old.report_id;
END;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid = new.report_id)
BEGIN
	DELETE FROM reports_fts WHERE rowid = new.report_id;
	INSERT INTO reports_fts (rowid, title, body, attachments) SELECT * FROM reports_fts_source WHERE id = new.report_id;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
	WHEN EXISTS (SELECT 1 FROM reports_fts WHERE rowid = old.report_id)
BEGIN
	DELETE FROM reports_fts WHERE rowid = old.report_id;
	INSERT INTO reports_fts (rowid, title, body, attachments) SELECT * FROM reports_fts_source WHERE id = old.report_id;
END;
