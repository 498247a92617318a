package inbox

import (
	"context"

	"github.com/secinbox/secinbox/triage"
)

// Store is what intake needs from the database. db.DB implements it.
type Store interface {
	// AddRawMessage stores m and sets m.ID. When it returns nil the message
	// is durably committed: only then may the server answer 250.
	AddRawMessage(ctx context.Context, m *triage.RawMessage) error
	// PendingRawMessages returns the ids of stored messages not yet filed
	// as reports, oldest first: what a restart must pick up again.
	PendingRawMessages(ctx context.Context) ([]int64, error)
	// RawMessage returns one stored message, or an ENOTFOUND error.
	RawMessage(ctx context.Context, id int64) (*triage.RawMessage, error)
	// FileReport stores r (with its attachments) filed from raw message
	// r.MessageID, assigns r.ID and r.TrackingID, and marks the message
	// processed, in one transaction. Filing a message twice is an
	// ECONFLICT error.
	FileReport(ctx context.Context, r *triage.Report) error

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
