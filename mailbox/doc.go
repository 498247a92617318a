// Package mailbox is secinbox's mailbox intake: it fetches mail from IMAP
// folders (a Google Workspace group's mailbox, a Microsoft 365 shared
// mailbox, a Dovecot account) for teams that cannot point their MX at
// secinbox.
//
// Each message takes the SMTP path: its raw bytes are committed durably
// first, with where they came from (UIDVALIDITY and UID, Message-ID and
// SHA-256) in the same transaction; then the processor is woken to file,
// decrypt and acknowledge it; only then is the message moved to the done
// folder (MOVE, or COPY, \Deleted and UID EXPUNGE). A crash between the
// commit and the move is harmless: the next pass finds the message
// recorded and only moves it.
//
// A Poller keeps one connection per mailbox, waits with IDLE (polling
// when the server has none, and as a backstop), and bounds everything it
// reads: a message over the size limit stays in the folder, every
// literal the server announces is checked against the limit before it
// is read, every command has a deadline. A dead server or refused
// credentials give a clear log line, a status (Poller.Status) and a
// retry after a growing backoff, never a crash loop.
package mailbox
