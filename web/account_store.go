package web

import (
	"context"

	"github.com/secinbox/secinbox/triage"
)

// AccountStore is what the accounts side of the site (audit log, two-
// factor, sessions, users) needs from the database; Store embeds it.
type AccountStore interface {
	// AddAudit appends an event to the audit log and sets its ID.
	AddAudit(ctx context.Context, ev *triage.AuditEvent) error
	// AuditEvents returns the events the filter selects, newest first.
	AuditEvents(ctx context.Context, f triage.AuditFilter) ([]*triage.AuditEvent, error)
}
