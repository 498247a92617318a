-- 0016: mailbox intake (IMAP).

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
