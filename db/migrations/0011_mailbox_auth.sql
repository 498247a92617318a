-- 0016: mailbox intake (IMAP) and sender authentication (SPF, DKIM).

-- Where a raw message fetched from a mailbox came from, written in the
-- same transaction as the raw message: after a crash between that commit
-- and the move out of the mailbox, the poller recognises the message by
-- its UID (while the folder keeps its UIDVALIDITY), or else by its
-- Message-ID and the SHA-256 of its bytes, and files it only once.
CREATE TABLE mailbox_messages (
	raw_message_id    INTEGER PRIMARY KEY REFERENCES raw_messages (id),
	mailbox           TEXT    NOT NULL, -- URL without secrets: imaps://user@host:993/INBOX
	uid_validity      INTEGER NOT NULL,
	uid               INTEGER NOT NULL,
	header_message_id TEXT    NOT NULL, -- "" when the message had none
	sha256            TEXT    NOT NULL, -- hex of the raw message's data
	UNIQUE (mailbox, uid_validity, uid)
);
CREATE INDEX mailbox_messages_content ON mailbox_messages (header_message_id, sha256);

-- Who really sent a report's message (SPF, DKIM, DMARC alignment of the
-- From domain), checked while filing (triage.Authentication). No row: not
-- checked (a web submission, or filed before this migration).
CREATE TABLE report_authentication (
	report_id       INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
	spf             TEXT    NOT NULL,
	spf_domain      TEXT    NOT NULL,
	dkim            TEXT    NOT NULL,
	dkim_domains    TEXT    NOT NULL, -- JSON array of the d= domains that verified
	from_domain     TEXT    NOT NULL,
	dmarc_aligned   INTEGER NOT NULL CHECK (dmarc_aligned IN (0, 1)),
	claims_reply_to TEXT    NOT NULL  -- a tracking id the subject named without proof; "" when none
);
