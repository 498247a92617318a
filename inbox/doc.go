// Package inbox is secinbox's mail: intake and outbound.
//
// Intake (server.go, process.go) is the SMTP server (emersion/go-smtp,
// behind a connection guard, guard.go, that reads the socket itself):
// it accepts mail for the security addresses only, with explicit limits,
// commits the raw message durably before answering 250 (the store
// commits messages arriving together in one transaction), and wakes the
// processor. The processor (process.go, pipeline.go) reads what is
// pending in commit order, decrypts and verifies it with package pgp on
// every core, and files it in batches, one transaction each, as a new
// report, or as a reply in an existing report's conversation
// (thread.go). A new report's acknowledgement is queued in the same
// transaction, unless the mail is automatic or a limit is reached
// (ack.go).
//
// Outbound (outbox.go, compose.go, relay.go, maildir.go) drains the
// outbox the database keeps: each mail is rendered, signed with the team
// key and encrypted to the researcher's key when one is known, at send
// time, then handed to the relay (STARTTLS and AUTH) or written to a
// maildir, with retries and backoff. SLA notifications reach the team
// as a webhook (notify.go) and as mail (teammail.go); researchers' keys
// are looked up in WKD and keyservers (keylookup.go).
package inbox
