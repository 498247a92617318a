package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// settingSLAPolicy is the settings key of the SLA policy document.
const settingSLAPolicy = "sla_policy"

// policyCache maps a stored policy document to its parsed form, so that
// reads do not parse JSON and load time zones each time. Parsed policies
// are never modified.
var policyCache sync.Map // string → *triage.SLAPolicy

// SLAPolicy returns the team's SLA policy: the one an admin set, or
// triage.DefaultSLAPolicy. Callers must not modify it.
func (db *DB) SLAPolicy(ctx context.Context) (*triage.SLAPolicy, error) {
	var p *triage.SLAPolicy
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		p, err = findSLAPolicy(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: sla policy: %w", err)
	}
	return p, nil
}

var defaultPolicy = triage.DefaultSLAPolicy()

func findSLAPolicy(ctx context.Context, tx *sql.Tx) (*triage.SLAPolicy, error) {
	var doc string
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingSLAPolicy).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return defaultPolicy, nil
	} else if err != nil {
		return nil, err
	}
	if p, ok := policyCache.Load(doc); ok {
		return p.(*triage.SLAPolicy), nil
	}
	p, err := triage.ParseSLAPolicy([]byte(doc))
	if err != nil {
		// Validated when stored: a bad row is corruption, not user error.
		return nil, fmt.Errorf("stored sla_policy: %s", triage.ErrorMessage(err))
	}
	policyCache.Store(doc, p)
	return p, nil
}

// SetSLAPolicy stores p (validated again here) as the team's policy, and
// in the same transaction recomputes the clocks of every open report
// under it as stored (windows in whole minutes: what SLAPolicy returns
// later) and writes a settings.change audit record with the new document.
// It returns the number of reports whose clocks were recomputed. An
// invalid policy is EINVALID.
//
// Recomputing holds the write lock for the whole batch: with 100 000
// open reports that is seconds, during which intake waits.
func (db *DB) SetSLAPolicy(ctx context.Context, p *triage.SLAPolicy, by triage.Actor, now time.Time) (int, error) {
	doc, err := json.Marshal(p)
	if err != nil {
		return 0, fmt.Errorf("db: set sla policy: %w", err)
	}
	// Compute under the stored form, so that the clocks agree with what
	// every later read of the policy says.
	if p, err = triage.ParseSLAPolicy(doc); err != nil {
		return 0, fmt.Errorf("db: set sla policy: %w", err)
	}
	var n int
	err = db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		var updatedBy any
		if by.UserID != 0 {
			updatedBy = by.UserID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			settingSLAPolicy, string(doc), formatTime(now), updatedBy); err != nil {
			return err
		}
		var err error
		if n, err = recomputeClocks(ctx, tx, p, now); err != nil {
			return err
		}
		if _, err := followDisclosurePolicy(ctx, tx, p, now); err != nil {
			return err
		}
		return db.addAudit(ctx, tx, &triage.AuditEvent{
			At: now, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditSettingsChange,
			Target: "settings:" + settingSLAPolicy, Detail: string(doc), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
		})
	})
	if err != nil {
		return 0, fmt.Errorf("db: set sla policy: %w", err)
	}
	return n, nil
}

// movesClocks are the migrations that change how clocks are computed
// from what is stored, each with the SQL condition on reports that
// selects those whose clocks may have moved: once one is applied,
// db.migrate recomputes their stored clocks, so that the board's order
// (SQL over next_due_at) agrees with the clocks the report page computes.
var movesClocks = map[int]string{
	// 0006_rated_at: remediation starts at the first rated severity,
	// no longer at the first severity of any kind.
	6: `rated_at IS NOT severity_set_at`,
}

// recomputeClocks stores the clocks of every open report under p.
func recomputeClocks(ctx context.Context, tx *sql.Tx, p *triage.SLAPolicy, now time.Time) (int, error) {
	return recomputeClocksWhere(ctx, tx, p, now, "1")
}

// recomputeClocksWhere stores the clocks under p of the open reports
// that match the SQL condition where (our own constant, never input).
func recomputeClocksWhere(ctx context.Context, tx *sql.Tx, p *triage.SLAPolicy, now time.Time, where string) (int, error) {
	// Read them all first: SQLite would see our own updates mid-scan.
	reports, err := queryReports(ctx, tx, `SELECT `+reportColumns+`, `+workflowColumns+` FROM reports
		WHERE status NOT IN (`+closedStatusList()+`) AND (`+where+`)`)
	if err != nil {
		return 0, err
	}
	for _, r := range reports {
		if err := saveClocks(ctx, tx, r, p, now); err != nil {
			return 0, err
		}
	}
	return len(reports), nil
}

// closedStatusList is the SQL list of the statuses that close a report,
// from triage (the statuses are fixed identifiers, not user input).
func closedStatusList() string {
	var qs []string
	for _, s := range triage.Statuses() {
		if s.Closed() {
			qs = append(qs, "'"+string(s)+"'")
		}
	}
	return strings.Join(qs, ", ")
}

// settleAll records the verdicts of the clocks that have stopped in every
// report (migration 0014, reports.settled) under the policy in force, in
// batches so that intake is not held up for long.
func settleAll(ctx context.Context, db *DB) error {
	const batch = 2000
	var last int64
	for {
		n := 0
		err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			p, err := findSLAPolicy(ctx, tx)
			if err != nil {
				return err
			}
			reports, err := queryReports(ctx, tx, `SELECT `+reportColumns+`, `+workflowColumns+` FROM reports
				WHERE id > ? AND (responded_at IS NOT NULL OR severity_set_at IS NOT NULL OR resolved_at IS NOT NULL OR closed_at IS NOT NULL)
				ORDER BY id LIMIT ?`, last, batch)
			if err != nil {
				return err
			}
			now := db.now()
			for _, r := range reports {
				r.Settle(p, now)
				if _, err := tx.ExecContext(ctx, `UPDATE reports SET settled = ? WHERE id = ?`, settledJSON(&r.Timeline), r.ID); err != nil {
					return err
				}
				last = r.ID
			}
			n = len(reports)
			return nil
		})
		if err != nil {
			return fmt.Errorf("settle clocks: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}
