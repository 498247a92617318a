-- 0004: accounts — the audit log, two-factor sign-in, disabled users, and
-- sessions that can be listed and revoked one by one.

-- Append-only: the triggers below refuse every UPDATE and DELETE, so not
-- even a bug (or an SQL injection) in secinbox can rewrite history.
-- actor_id has no foreign key on purpose: users are disabled, never
-- deleted, and a cascade would have to delete audit rows.
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          TEXT    NOT NULL,
	actor_id    INTEGER,          -- NULL: no signed-in user (failed sign-in, CLI, system)
	actor_email TEXT    NOT NULL, -- lower-cased
	action      TEXT    NOT NULL, -- dotted verb: login.success, report.view, ...
	target      TEXT    NOT NULL, -- report:12, user:3, ... or ''
	detail      TEXT    NOT NULL, -- small JSON or text, never secrets
	remote_addr TEXT    NOT NULL,
	user_agent  TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_email, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

ALTER TABLE users ADD COLUMN disabled_at TEXT;         -- NULL: may sign in
ALTER TABLE users ADD COLUMN password_changed_at TEXT; -- NULL: never changed since created
-- TOTP: the secret sealed with AES-256-GCM under a key derived from the
-- server secret (web.Config.SecretKey), never in the clear. Set while
-- enrolling; totp_enabled_at is set once a code confirmed it.
ALTER TABLE users ADD COLUMN totp_secret BLOB;
ALTER TABLE users ADD COLUMN totp_enabled_at TEXT;
-- The last time step whose code was accepted: a code is good once.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- One-time recovery codes. They are 80 random bits each, so a plain
-- SHA-256 is as good as a slow hash here.
CREATE TABLE recovery_codes (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash BLOB    NOT NULL,
	used_at   TEXT,
	UNIQUE (user_id, code_hash)
);

-- A password that was right, waiting for its second factor. The token is
-- not a session: no route but the 2FA step accepts it.
CREATE TABLE login_challenges (
	token_hash  BLOB    PRIMARY KEY, -- SHA-256 of the token in the pending cookie
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at  TEXT    NOT NULL,
	expires_at  TEXT    NOT NULL,
	failures    INTEGER NOT NULL DEFAULT 0,
	remote_addr TEXT    NOT NULL,
	user_agent  TEXT    NOT NULL
);
CREATE INDEX login_challenges_user_id ON login_challenges (user_id);
CREATE INDEX login_challenges_expires_at ON login_challenges (expires_at);

-- Sessions get an id (shown to their owner, who may revoke them one by
-- one) and remember where they were last used.
CREATE TABLE sessions_new (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	token_hash   BLOB    NOT NULL UNIQUE, -- SHA-256 of the session id in the cookie
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   TEXT    NOT NULL,
	expires_at   TEXT    NOT NULL,
	remote_addr  TEXT    NOT NULL, -- where it signed in
	user_agent   TEXT    NOT NULL,
	last_seen_at TEXT    NOT NULL,
	last_addr    TEXT    NOT NULL
);
INSERT INTO sessions_new (token_hash, user_id, created_at, expires_at, remote_addr, user_agent, last_seen_at, last_addr)
	SELECT token_hash, user_id, created_at, expires_at, remote_addr, user_agent, created_at, remote_addr FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
