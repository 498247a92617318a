package triage

import "time"

// MailboxOrigin says where a raw message fetched from a mailbox (IMAP)
// came from. The store records it in the same transaction as the raw
// message, so that after a crash between that commit and the move out of
// the mailbox the message is recognised instead of filed twice: by its
// UID (while the mailbox keeps its UIDVALIDITY), else by its Message-ID
// and the SHA-256 of its bytes.
type MailboxOrigin struct {
	Mailbox     string // the mailbox, without secrets: imaps://user@host:993/INBOX
	UIDValidity uint32
	UID         uint32
	MessageID   string // the Message-ID field ("<...>"), "" when none
}

// MailboxState is what a mailbox poller is doing.
type MailboxState string

const (
	MailboxConnecting MailboxState = "connecting" // signing in; no check has succeeded yet
	MailboxOK         MailboxState = "ok"         // connected; the last check succeeded
	MailboxFailing    MailboxState = "failing"    // the last attempt failed; retrying after a backoff
)

// MailboxStatus is the state of one configured mailbox, for the admin's
// settings page and /metrics.
type MailboxStatus struct {
	Mailbox   string // as in MailboxOrigin
	State     MailboxState
	LastError string    // why the last attempt failed; "" once one succeeds
	LastCheck time.Time // the last time the folder was read through; zero: never
	RetryAt   time.Time // when failing: the next attempt
	Idle      bool      // the server announces IDLE: new mail is filed at once
	Fetched   int64     // messages committed since this process started
	Errors    int64     // failed attempts since this process started
	TooLarge  int       // messages left in the folder for being over the size limit
}
