package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// MaxMetricsReports bounds how many reports FirstResponses loads: a
// metrics page over a flood of junk must stay cheap. Past it the oldest
// reports of the window are left out.
const MaxMetricsReports = 200_000

// FirstResponses returns the reports received at or after since (those
// held in quarantine left out), newest first, with only what their first-response clock needs (ID, ReceivedAt,
// Status and the Timeline): no content, no other triage fields. The team
// metrics (triage.ComputeTeamMetrics) are computed from them.
func (db *DB) FirstResponses(ctx context.Context, since time.Time) ([]*triage.Report, error) {
	var out []*triage.Report
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, received_at, status, responded_at, severity_set_at,
			rated_at, accepted_at, resolved_at, closed_at, pauses, settled
			FROM reports WHERE received_at >= ? AND quarantine_id IS NULL ORDER BY received_at DESC LIMIT ?`, formatTime(since), MaxMetricsReports)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := &triage.Report{}
			var (
				status, pauses, settled string
				t                       = &r.Timeline
			)
			if err := rows.Scan(&r.ID, timeScanner{&r.ReceivedAt}, &status, timeScanner{&t.RespondedAt}, timeScanner{&t.SeveritySetAt},
				timeScanner{&t.RatedAt}, timeScanner{&t.AcceptedAt}, timeScanner{&t.ResolvedAt}, timeScanner{&t.ClosedAt}, &pauses, &settled); err != nil {
				return err
			}
			var err error
			if t.Settled, err = parseSettled(settled); err != nil {
				return fmt.Errorf("report %d: %w", r.ID, err)
			}
			r.Status = triage.Status(status)
			var ps []pauseJSON
			if err := json.Unmarshal([]byte(pauses), &ps); err != nil {
				return fmt.Errorf("report %d: pauses: %w", r.ID, err)
			}
			for _, p := range ps {
				t.Pauses = append(t.Pauses, triage.Pause{Start: p.Start.UTC(), End: p.End.UTC()})
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: first responses: %w", err)
	}
	return out, nil
}

// OpenBySeverity counts the reports that are not closed nor held in
// quarantine, per severity
// (triage.SeverityUnscored for those not assessed yet).
func (db *DB) OpenBySeverity(ctx context.Context) (map[triage.Severity]int, error) {
	out := map[triage.Severity]int{}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT severity, count(*) FROM reports
			WHERE status NOT IN (`+closedStatusList()+`) AND quarantine_id IS NULL GROUP BY severity`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				sev string
				n   int
			)
			if err := rows.Scan(&sev, &n); err != nil {
				return err
			}
			out[triage.Severity(sev)] += n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: open by severity: %w", err)
	}
	return out, nil
}
