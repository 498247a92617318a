package web

import (
	"context"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TriageStore is what the board, the report page's actions, the settings
// and the team metrics pages need from the database; Store embeds it.
type TriageStore interface {
	// Board lists reports in the risk order (triage.Rank) at now,
	// narrowed by the filter, without bodies.
	Board(ctx context.Context, f triage.ReportFilter, now time.Time) ([]*triage.Report, error)
	// UpdateReport applies a change on behalf of an actor (triage.Report.Apply)
	// and returns the report as stored; an illegal move is ECONFLICT.
	UpdateReport(ctx context.Context, id int64, c triage.Change, by triage.Actor, now time.Time) (*triage.Report, error)
	// ReportEvents returns a report's history, oldest first.
	ReportEvents(ctx context.Context, id int64) ([]triage.Event, error)
	// AddNote stores an internal note and sets its ID.
	AddNote(ctx context.Context, n *triage.Note, by triage.Actor) error
	// Notes returns a report's internal notes, oldest first.
	Notes(ctx context.Context, id int64) ([]*triage.Note, error)
	// SLAPolicy returns the team's SLA policy (never to be modified).
	SLAPolicy(ctx context.Context) (*triage.SLAPolicy, error)
	// SetSLAPolicy stores a policy and recomputes the open reports' clocks.
	SetSLAPolicy(ctx context.Context, p *triage.SLAPolicy, by triage.Actor, now time.Time) (int, error)
	// FirstResponses returns the reports received since a time with only
	// what their first-response clock needs, for the team metrics.
	FirstResponses(ctx context.Context, since time.Time) ([]*triage.Report, error)
	// OpenBySeverity counts the open reports per severity.
	OpenBySeverity(ctx context.Context) (map[triage.Severity]int, error)
	// TrackingIDs returns the tracking ids of reports by ID, in one read
	// and without their content; IDs with no report are left out.
	TrackingIDs(ctx context.Context, ids []int64) (map[int64]string, error)
}
