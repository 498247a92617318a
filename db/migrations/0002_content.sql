-- 0002: what a report's body is made of and who signed which part of it
-- (issue 3), and the researchers' public keys with their provenance.
-- The raw message stays the source of truth; these are derived from it.
-- They live in their own tables so that the board, which lists reports,
-- never reads them.

-- One row per OpenPGP signature found in the report's message, in message
-- order (idx 0, 1, ...): triage.Signature.
CREATE TABLE report_signatures (
	report_id      INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	idx            INTEGER NOT NULL,
	status         TEXT    NOT NULL, -- triage.SignatureStatus
	fingerprint    TEXT    NOT NULL, -- signer's primary key, upper hex; '' when unknown
	key_id         TEXT    NOT NULL, -- issuer key ID, 16 upper hex; '' when not named
	signer_user_id TEXT    NOT NULL,
	from_matches   INTEGER NOT NULL CHECK (from_matches IN (0, 1)),
	hash           TEXT    NOT NULL,
	signed_at      TEXT,             -- NULL: unknown
	reason         TEXT    NOT NULL,
	parts          TEXT    NOT NULL, -- JSON array of the part paths it covers
	PRIMARY KEY (report_id, idx)
);

-- One row per readable body part, in message order: triage.BodyPart.
CREATE TABLE report_parts (
	report_id    INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	idx          INTEGER NOT NULL,
	path         TEXT    NOT NULL,
	content_type TEXT    NOT NULL,
	text         TEXT    NOT NULL,
	from_html    INTEGER NOT NULL CHECK (from_html IN (0, 1)),
	encrypted    INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
	signature    INTEGER NOT NULL CHECK (signature >= 0), -- 1 + idx in report_signatures; 0: not signed
	PRIMARY KEY (report_id, idx)
);

-- A researcher's public key: one row per (address, key). A key seen again
-- from another source keeps one row: source is the strongest seen
-- (triage.KeySource.Rank), sources lists every one, first_seen and
-- last_seen span all sightings, and the key material is replaced by the
-- newest copy from a source at least as strong as the stored one.
CREATE TABLE researcher_keys (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	email       TEXT    NOT NULL, -- lower-cased
	fingerprint TEXT    NOT NULL, -- primary key, upper hex
	user_id     TEXT    NOT NULL,
	source      TEXT    NOT NULL, -- triage.KeySource, the strongest seen
	sources     TEXT    NOT NULL, -- JSON array of every triage.KeySource seen, strongest first
	public      BLOB    NOT NULL, -- binary transferable public key, never secret material
	expires_at  TEXT,             -- NULL: never
	first_seen  TEXT    NOT NULL,
	last_seen   TEXT    NOT NULL,
	UNIQUE (email, fingerprint)
);

-- Every key ID (primary and subkeys) of a stored key, so the issuer named
-- in a signature finds the key whoever the mail claims to be from.
CREATE TABLE researcher_key_ids (
	key_id            TEXT    NOT NULL, -- 16 upper hex
	researcher_key_id INTEGER NOT NULL REFERENCES researcher_keys (id) ON DELETE CASCADE,
	PRIMARY KEY (key_id, researcher_key_id)
) WITHOUT ROWID;
CREATE INDEX researcher_key_ids_key ON researcher_key_ids (researcher_key_id);
