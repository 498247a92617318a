package web

import (
	"context"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// Store is what the web UI and API need from the database. db.DB implements
// it. Lookups of something that does not exist return an ENOTFOUND error.
type Store interface {
	AccountStore
	TriageStore
	ConversationStore
	DeadlineStore
	AdvisoryStore
	CVEStore
	ResponseStore
	QuarantineStore
	SiteStore

	// Reports lists reports, newest first, without body or attachment data.
	Reports(ctx context.Context, f triage.ReportFilter) ([]*triage.Report, error)
	// Report returns one report with its body and attachment metadata.
	Report(ctx context.Context, id int64) (*triage.Report, error)
	// Attachment returns one attachment of a report, with its bytes.
	Attachment(ctx context.Context, reportID, attachmentID int64) (*triage.Attachment, error)
	// RawMessage returns the message a report was filed from, byte for byte.
	RawMessage(ctx context.Context, id int64) (*triage.RawMessage, error)
	// ResearcherKeys returns the keys held for an address, best first.
	ResearcherKeys(ctx context.Context, email string) ([]triage.ResearcherKey, error)
	// AddResearcherKeys stores keys found by a lookup, merging their
	// provenance into keys already held.
	AddResearcherKeys(ctx context.Context, keys []triage.ResearcherKey) error

	UserByEmail(ctx context.Context, email string) (*triage.User, error)
	UserByID(ctx context.Context, id int64) (*triage.User, error)

	CreateSession(ctx context.Context, s *triage.Session) error
	// SessionByTokenHash returns the session unless it is missing or
	// expired at now (both ENOTFOUND).
	SessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (*triage.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error

	// APITokenByHash returns a bearer token and the user it acts for,
	// unless it is unknown, revoked or expired at now (all ENOTFOUND).
	// It must not write: the use is recorded by the UseRecorder.
	APITokenByHash(ctx context.Context, hash []byte, now time.Time) (*triage.APIToken, *triage.User, error)
}
