-- 0001: the first schema. Times are UTC text, "2006-01-02T15:04:05.000000000Z"
-- (fixed width, so text order is time order). Booleans are 0/1 integers.
-- AUTOINCREMENT everywhere ids appear in URLs or logs: an id is never reused
-- after a delete, so an old link never points at a newer record.

CREATE TABLE raw_messages (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	mail_from    TEXT    NOT NULL,
	recipients   TEXT    NOT NULL, -- JSON array of strings
	remote_addr  TEXT    NOT NULL,
	received_at  TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	sha256       TEXT    NOT NULL, -- hex of data
	data         BLOB    NOT NULL,
	processed_at TEXT              -- NULL until filed as a report
);
CREATE INDEX raw_messages_pending ON raw_messages (received_at, id) WHERE processed_at IS NULL;

-- One row per year; last is the highest sequence number handed out.
-- Rows are never decremented, so tracking ids are never reused.
CREATE TABLE tracking_counters (
	year INTEGER PRIMARY KEY,
	last INTEGER NOT NULL
);

CREATE TABLE reports (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	tracking_id        TEXT    NOT NULL UNIQUE,
	year               INTEGER NOT NULL,
	seq                INTEGER NOT NULL,
	title              TEXT    NOT NULL,
	researcher_email   TEXT    NOT NULL,
	researcher_name    TEXT    NOT NULL,
	received_at        TEXT    NOT NULL,
	first_response_due TEXT    NOT NULL,
	status             TEXT    NOT NULL, -- triage.Status; checked in Go so new statuses need no table rebuild
	encrypted          INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
	decrypted          INTEGER NOT NULL CHECK (decrypted IN (0, 1)),
	decrypt_error      TEXT    NOT NULL,
	sig_status         TEXT    NOT NULL,
	sig_fingerprint    TEXT    NOT NULL,
	sig_keyid          TEXT    NOT NULL,
	body               TEXT    NOT NULL,
	message_id         INTEGER NOT NULL UNIQUE REFERENCES raw_messages (id),
	created_at         TEXT    NOT NULL,
	UNIQUE (year, seq)
);
CREATE INDEX reports_received_at ON reports (received_at);
CREATE INDEX reports_status_received_at ON reports (status, received_at);

CREATE TABLE attachments (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	report_id    INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	content_type TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	sha256       TEXT    NOT NULL,
	data         BLOB    NOT NULL
);
CREATE INDEX attachments_report_id ON attachments (report_id);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	email         TEXT    NOT NULL UNIQUE, -- stored lower-cased
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'triager', 'viewer')),
	password_hash BLOB    NOT NULL,
	created_at    TEXT    NOT NULL
);

CREATE TABLE sessions (
	token_hash  BLOB    PRIMARY KEY, -- SHA-256 of the session id
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at  TEXT    NOT NULL,
	expires_at  TEXT    NOT NULL,
	remote_addr TEXT    NOT NULL,
	user_agent  TEXT    NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	token_hash   BLOB    NOT NULL UNIQUE, -- SHA-256 of the token
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	created_at   TEXT    NOT NULL,
	last_used_at TEXT
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE team_keys (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	fingerprint    TEXT    NOT NULL UNIQUE, -- upper-case hex
	user_id        TEXT    NOT NULL,        -- the key's primary OpenPGP user ID
	armored_secret BLOB    NOT NULL,        -- passphrase-protected
	armored_public BLOB    NOT NULL,
	created_at     TEXT    NOT NULL,
	expires_at     TEXT,                    -- NULL: never
	is_primary     INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1))
);
-- At most one primary key.
CREATE UNIQUE INDEX team_keys_one_primary ON team_keys (is_primary) WHERE is_primary = 1;
