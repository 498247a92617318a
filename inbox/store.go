package inbox

import (
	"context"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// Store is what intake needs from the database. db.DB implements it.
type Store interface {
	// AddRawMessage stores m and sets m.ID. When it returns nil the message
	// is durably committed: only then may the server answer 250.
	AddRawMessage(ctx context.Context, m *triage.RawMessage) error
	// PendingRawMessagesAfter returns the ids over after of stored
	// messages not yet filed, in the order they were stored (committed):
	// at most limit of them.
	PendingRawMessagesAfter(ctx context.Context, after int64, limit int) ([]int64, error)
	// RawMessage returns one stored message, or an ENOTFOUND error.
	RawMessage(ctx context.Context, id int64) (*triage.RawMessage, error)
	// FileMessages files fs in order in one transaction (one disk sync):
	// each a new report (with its acknowledgement) or a reply, with the
	// researcher keys its message brought, and its raw message marked
	// processed; each on its own (f.Err: ECONFLICT when filed already).
	// The error is the transaction's: then nothing is filed.
	FileMessages(ctx context.Context, fs []*triage.Filing) error

	// ResearcherKeys returns the keys held for an address, best first.
	ResearcherKeys(ctx context.Context, email string) ([]triage.ResearcherKey, error)
	// ResearcherKeysByKeyID returns the stored keys having a primary key
	// or subkey with one of keyIDs, whatever address they are held for.
	ResearcherKeysByKeyID(ctx context.Context, keyIDs []string) ([]triage.ResearcherKey, error)
	// AddResearcherKeys stores keys; a key already held for the address
	// gains a sighting and keeps its strongest provenance. EINVALID for a
	// malformed key.
	AddResearcherKeys(ctx context.Context, keys []triage.ResearcherKey) error
	// Report returns one report with its content, or ENOTFOUND.
	Report(ctx context.Context, id int64) (*triage.Report, error)
	// UpdateReportSignatures replaces a report's signature results and
	// body parts after its message was verified again.
	UpdateReportSignatures(ctx context.Context, id int64, summary triage.Signature, sigs []triage.Signature, parts []triage.BodyPart) error
}

// ConversationStore is what threading replies into reports and queueing
// acknowledgements need. db.DB implements it.
type ConversationStore interface {
	// FileReportAck is FileReport, also queueing ack (when not nil) in the
	// same transaction, once the report has its id and tracking id (which
	// it fills in ack). So an acknowledgement is never lost nor doubled.
	FileReportAck(ctx context.Context, r *triage.Report, ack *triage.OutMail) error
	// QuarantineFor returns the quarantine rule that holds new mail like
	// r (its sender, its signatures), or 0. A report filed with
	// r.Quarantine set is held off the board, its ack kept back.
	QuarantineFor(ctx context.Context, r *triage.Report) (int64, error)
	// ReportByMessageIDs returns the id of the report whose first message
	// or conversation (either direction) has one of ids (with angle
	// brackets) as Message-ID, or ENOTFOUND.
	ReportByMessageIDs(ctx context.Context, ids []string) (int64, error)
	// ReportByTrackingID returns the id of the report with that tracking
	// id, or ENOTFOUND.
	ReportByTrackingID(ctx context.Context, trackingID string) (int64, error)
	// AddIncomingMessage stores m, a researcher's message filed from raw
	// message m.RawMessageID, with its attachments, on report m.ReportID;
	// marks the raw message processed; and resumes a report waiting in
	// needs-info (to triaging, actor system): one transaction. It sets
	// m.ID. Filing a raw message twice is ECONFLICT.
	AddIncomingMessage(ctx context.Context, m *triage.Message) error
	// QueueMail stores m in the outbox (queued, next try at m.CreatedAt)
	// and sets m.ID. A second acknowledgement of a report is ECONFLICT.
	QueueMail(ctx context.Context, m *triage.OutMail) error
	// CountMail counts outbox mail of kind created at or after since, to
	// the address to ("" for any address).
	CountMail(ctx context.Context, kind triage.MailKind, to string, since time.Time) (int, error)
}

// OutboxStore is what the mail sender needs. db.DB implements it.
type OutboxStore interface {
	// PendingMail returns up to limit queued mails due for a try at now,
	// oldest first.
	PendingMail(ctx context.Context, now time.Time, limit int) ([]*triage.OutMail, error)
	// ClaimMail records, before the relay is contacted, that a try of a
	// queued mail due at now begins: the mail is not due again before
	// until, and its last error says the try's outcome was not recorded,
	// until MarkMail replaces both. ECONFLICT when the mail is not queued
	// or not due (another try has it), ENOTFOUND when it is gone.
	ClaimMail(ctx context.Context, id int64, now, until time.Time) error
	// MarkMail records a try: sent; failed when permanent or after
	// triage.MaxMailAttempts; else queued again after
	// triage.MailBackoff(attempts).
	MarkMail(ctx context.Context, id int64, a triage.MailAttempt, now time.Time) error
	// Report returns one report with its content, or ENOTFOUND.
	Report(ctx context.Context, id int64) (*triage.Report, error)
	// ResearcherKeys returns the keys held for an address, best first.
	ResearcherKeys(ctx context.Context, email string) ([]triage.ResearcherKey, error)
	// CreditLink returns the nonce of report's credit offer (for the link
	// token) and the offer, or ENOTFOUND.
	CreditLink(ctx context.Context, reportID int64) (nonce string, c *triage.Credit, err error)
	// StatusLinkNonce returns the nonce of the status link of the web
	// submission stored as raw message rawID, or ENOTFOUND when the
	// report did not come through the web form.
	StatusLinkNonce(ctx context.Context, rawID int64) (string, error)
	// QueueMail stores m in the outbox; see ConversationStore.
	QueueMail(ctx context.Context, m *triage.OutMail) error
	// SLAPolicy returns the SLA policy in force: the acknowledgement
	// promises its first-response window.
	SLAPolicy(ctx context.Context) (*triage.SLAPolicy, error)
}
