package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// workflowColumns are the triage columns of reports that scanWorkflow
// reads, in its order.
const workflowColumns = `assignee_id, (SELECT email FROM users WHERE users.id = reports.assignee_id),
	labels, duplicate_of, cvss_version, cvss_vector, cvss_score, severity,
	responded_at, severity_set_at, rated_at, accepted_at, resolved_at, closed_at, pauses, settled,
	COALESCE(quarantine_id, 0), held_at`

// workflowScan holds the scan targets of workflowColumns until fill
// copies them into a report.
type workflowScan struct {
	assignee      sql.NullInt64
	assigneeEmail sql.NullString
	labels        string
	duplicateOf   sql.NullInt64
	cvssVersion   string
	cvssVector    string
	cvssScore     sql.NullFloat64
	severity      string
	tl            triage.Timeline
	pauses        string
	settled       string
	quarantine    int64
}

func (w *workflowScan) dest() []any {
	return []any{&w.assignee, &w.assigneeEmail, &w.labels, &w.duplicateOf,
		&w.cvssVersion, &w.cvssVector, &w.cvssScore, &w.severity,
		timeScanner{&w.tl.RespondedAt}, timeScanner{&w.tl.SeveritySetAt}, timeScanner{&w.tl.RatedAt}, timeScanner{&w.tl.AcceptedAt},
		timeScanner{&w.tl.ResolvedAt}, timeScanner{&w.tl.ClosedAt}, &w.pauses, &w.settled,
		&w.quarantine, timeScanner{&w.tl.HeldAt}}
}

func (w *workflowScan) fill(r *triage.Report) error {
	r.Assignee, r.AssigneeEmail = w.assignee.Int64, w.assigneeEmail.String
	r.DuplicateOf = w.duplicateOf.Int64
	r.CVSS = triage.CVSS{Version: w.cvssVersion, Vector: w.cvssVector, Score: w.cvssScore.Float64}
	r.Severity = triage.Severity(w.severity)
	r.Timeline = w.tl
	r.Quarantine = w.quarantine
	r.Labels = nil
	if err := json.Unmarshal([]byte(w.labels), &r.Labels); err != nil {
		return fmt.Errorf("report %d: labels: %w", r.ID, err)
	}
	var ps []pauseJSON
	if err := json.Unmarshal([]byte(w.pauses), &ps); err != nil {
		return fmt.Errorf("report %d: pauses: %w", r.ID, err)
	}
	r.Timeline.Pauses = nil
	for _, p := range ps {
		r.Timeline.Pauses = append(r.Timeline.Pauses, triage.Pause{Start: p.Start.UTC(), End: p.End.UTC()})
	}
	var err error
	if r.Timeline.Settled, err = parseSettled(w.settled); err != nil {
		return fmt.Errorf("report %d: %w", r.ID, err)
	}
	return nil
}

// parseSettled reads reports.settled.
func parseSettled(s string) (map[triage.ClockName]time.Time, error) {
	var m map[triage.ClockName]time.Time
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("settled: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	for k, t := range m {
		m[k] = t.UTC()
	}
	return m, nil
}

// settledJSON is t's Settled as reports.settled holds it.
func settledJSON(t *triage.Timeline) string {
	if len(t.Settled) == 0 {
		return "{}"
	}
	b, err := json.Marshal(t.Settled)
	if err != nil {
		return "{}" // a map of times always marshals
	}
	return string(b)
}

// pauseJSON is one element of reports.pauses; End is the zero time while
// the pause lasts.
type pauseJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// withWorkflow scans a row of reportColumns[, body], workflowColumns:
// scanReport's columns, then ours after them.
type withWorkflow struct {
	row scanner
	w   *workflowScan
}

func (s withWorkflow) Scan(dest ...any) error { return s.row.Scan(append(dest, s.w.dest()...)...) }

// scanFullReport scans reportColumns[, body], workflowColumns.
func scanFullReport(row scanner, withBody bool) (*triage.Report, error) {
	var w workflowScan
	r, err := scanReport(withWorkflow{row, &w}, withBody)
	if err != nil {
		return nil, err
	}
	return r, w.fill(r)
}

// saveTriage writes r's triage state and its clocks under p, computed at
// now. Labels go to both the JSON column and report_labels.
func saveTriage(ctx context.Context, tx *sql.Tx, r *triage.Report, p *triage.SLAPolicy, now time.Time) error {
	cols, err := triageColumns(r, p, now)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, updateTriage, append(cols.args, r.ID)...)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM report_labels WHERE report_id = ?`, r.ID); err != nil {
		return err
	}
	return insertLabels(ctx, tx, r.ID, cols.labels)
}

// insertLabels adds report id's labels to report_labels.
func insertLabels(ctx context.Context, tx *sql.Tx, id int64, labels []string) error {
	for _, l := range labels {
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_labels (report_id, label) VALUES (?, ?)`, id, l); err != nil {
			return err
		}
	}
	return nil
}

// triageNames are the columns of a report's triage state and clocks, in
// the order of triageValues.args: saveTriage updates them, and a report
// is filed with them (insertReport), so that its row and every index on
// it are written once.
var triageNames = []string{
	"status", "assignee_id", "labels", "duplicate_of",
	"cvss_version", "cvss_vector", "cvss_score", "severity", "severity_points",
	"responded_at", "severity_set_at", "rated_at", "accepted_at", "resolved_at", "closed_at", "pauses",
	"quarantine_id", "held_at",
	"first_response_due", "fr_due_at", "triage_due_at", "remediation_due_at", "next_due_at", "settled",
}

// updateTriage sets triageNames of the report whose id is the last
// argument.
var updateTriage = "UPDATE reports SET " + strings.Join(triageNames, " = ?, ") + " = ? WHERE id = ?"

// triageValues are the values of triageNames for a report, and its
// labels.
type triageValues struct {
	args   []any
	labels []string
}

// triageColumns computes r's triage columns, with its clocks under p at
// now (saveClocks: r's stopped clocks are settled and
// r.FirstResponseDue set).
func triageColumns(r *triage.Report, p *triage.SLAPolicy, now time.Time) (triageValues, error) {
	labels := r.Labels
	if labels == nil {
		labels = []string{}
	}
	lb, err := json.Marshal(labels)
	if err != nil {
		return triageValues{}, err
	}
	ps := make([]pauseJSON, 0, len(r.Timeline.Pauses))
	for _, p := range r.Timeline.Pauses {
		ps = append(ps, pauseJSON{p.Start.UTC(), p.End.UTC()})
	}
	pb, err := json.Marshal(ps)
	if err != nil {
		return triageValues{}, err
	}
	var assignee, dup, score any
	if r.Assignee != 0 {
		assignee = r.Assignee
	}
	if r.DuplicateOf != 0 {
		dup = r.DuplicateOf
	}
	if r.CVSS.Vector != "" {
		score = r.CVSS.Score
	}
	t := &r.Timeline
	args := []any{string(r.Status), assignee, string(lb), dup,
		r.CVSS.Version, r.CVSS.Vector, score, string(r.Severity), r.SeverityPoints(),
		nullTime(t.RespondedAt), nullTime(t.SeveritySetAt), nullTime(t.RatedAt), nullTime(t.AcceptedAt), nullTime(t.ResolvedAt), nullTime(t.ClosedAt), string(pb),
		nullID(r.Quarantine), nullTime(t.HeldAt)}
	return triageValues{args: append(args, clockValues(r, p, now)...), labels: labels}, nil
}

// saveClocks stores the due times of r's clocks under p at now: they do
// not move until r or p changes. first_response_due follows the
// first-response clock, for the callers that read only that. The
// verdicts of the clocks that have stopped are kept (triage.Report.Settle):
// p judges only the clocks that run or are paused.
func saveClocks(ctx context.Context, tx *sql.Tx, r *triage.Report, p *triage.SLAPolicy, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE reports SET
		first_response_due = ?, fr_due_at = ?, triage_due_at = ?, remediation_due_at = ?, next_due_at = ?, settled = ?
		WHERE id = ?`, append(clockValues(r, p, now), r.ID)...)
	return err
}

// clockValues settles r's stopped clocks under p at now, sets
// r.FirstResponseDue, and returns the values of the clock columns, in
// the order of the last six triageNames.
func clockValues(r *triage.Report, p *triage.SLAPolicy, now time.Time) []any {
	r.Settle(p, now)
	sla := r.Clocks(p, now)
	if c := sla.FirstResponse; c != nil && !c.DueAt.IsZero() {
		r.FirstResponseDue = c.DueAt.UTC()
	}
	return []any{formatTime(r.FirstResponseDue), countingDue(sla.FirstResponse), countingDue(sla.Triage), countingDue(sla.Remediation),
		nullTime(sla.NextDue()), settledJSON(&r.Timeline)}
}

// countingDue is the stored due time of a clock: its due time while it
// counts down, NULL otherwise.
func countingDue(c *triage.Clock) any {
	if c == nil || !c.Counting() {
		return nil
	}
	return nullTime(c.DueAt)
}

// UpdateReport applies change c to report id on behalf of by at now (see
// triage.Report.Apply), in one transaction with its history events and
// audit records, and returns the report as stored. The assignee must be
// a triager or admin (EINVALID otherwise, ENOTFOUND if no such user); a
// merge needs the original to exist (ENOTFOUND). An illegal move is
// ECONFLICT.
func (db *DB) UpdateReport(ctx context.Context, id int64, c triage.Change, by triage.Actor, now time.Time) (*triage.Report, error) {
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		r, err := findReport(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Assignee != nil && *c.Assignee != 0 {
			u, err := findUser(ctx, tx, *c.Assignee)
			if err != nil {
				return err
			}
			if err := triage.CanAssign(u); err != nil {
				return err
			}
		}
		var original *triage.Report
		if c.DuplicateOf != nil {
			if original, err = findReport(ctx, tx, *c.DuplicateOf); err != nil {
				return err
			}
		}
		prev := r.Status
		evs, err := r.Apply(c, original, by.UserID, now)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			p, err := findSLAPolicy(ctx, tx)
			if err != nil {
				return err
			}
			if err := saveTriage(ctx, tx, r, p, now); err != nil {
				return err
			}
			if err := db.recordEvents(ctx, tx, evs, by); err != nil {
				return err
			}
		}
		// The deadlines follow the move, and c.Deadlines changes them
		// (deadlines.go), even when nothing else changed.
		return db.updateDeadlines(ctx, tx, r, prev, c.Deadlines, evs, by, now)
	})
	if err != nil {
		return nil, fmt.Errorf("db: update report: %w", err)
	}
	return db.Report(ctx, id)
}

// RecordResponse records that a reply went to the researcher of report
// id (triage.Report.Responded): the first one stops the first-response
// clock. AddReply records it with the reply, when the reply is queued;
// this is that step alone.
func (db *DB) RecordResponse(ctx context.Context, id int64, by triage.Actor, now time.Time) error {
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		return db.recordResponse(ctx, tx, id, by, now)
	})
	if err != nil {
		return fmt.Errorf("db: record response: %w", err)
	}
	return nil
}

// recordResponse is RecordResponse inside a write transaction, for
// AddReply, which records the response with the reply itself.
func (db *DB) recordResponse(ctx context.Context, tx *sql.Tx, id int64, by triage.Actor, now time.Time) error {
	r, err := findReport(ctx, tx, id)
	if err != nil {
		return err
	}
	ev := r.Responded(by.UserID, now)
	p, err := findSLAPolicy(ctx, tx)
	if err != nil {
		return err
	}
	if err := saveTriage(ctx, tx, r, p, now); err != nil {
		return err
	}
	return db.recordEvents(ctx, tx, []triage.Event{ev}, by)
}

// recordEvents appends history events, and for each an audit record
// "report.<kind>" with from and to as detail.
func (db *DB) recordEvents(ctx context.Context, tx *sql.Tx, evs []triage.Event, by triage.Actor) error {
	for i := range evs {
		ev := &evs[i]
		var actor any
		if ev.ActorID != 0 {
			actor = ev.ActorID
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO report_events (report_id, at, actor_id, kind, from_value, to_value)
			VALUES (?, ?, ?, ?, ?, ?)`, ev.ReportID, formatTime(ev.At), actor, string(ev.Kind), ev.From, ev.To)
		if err != nil {
			return err
		}
		if ev.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		detail, err := json.Marshal(map[string]string{"from": ev.From, "to": ev.To})
		if err != nil {
			return err
		}
		if err := db.addAudit(ctx, tx, &triage.AuditEvent{
			At: ev.At, ActorID: by.UserID, ActorEmail: actorEmail(by),
			Action: "report." + string(ev.Kind), Target: fmt.Sprintf("report:%d", ev.ReportID),
			Detail: string(detail), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
		}); err != nil {
			return err
		}
	}
	return nil
}

func actorEmail(by triage.Actor) string {
	if by.UserID == 0 && by.Email == "" {
		return triage.ActorSystem
	}
	return by.Email
}

// ReportEvents returns the history of report id, oldest first, or
// ENOTFOUND.
func (db *DB) ReportEvents(ctx context.Context, id int64) ([]triage.Event, error) {
	var evs []triage.Event
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := reportExists(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT e.id, e.report_id, e.at, COALESCE(e.actor_id, 0), COALESCE(u.email, ''),
			e.kind, e.from_value, e.to_value
			FROM report_events e LEFT JOIN users u ON u.id = e.actor_id
			WHERE e.report_id = ? ORDER BY e.id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev triage.Event
			var kind string
			if err := rows.Scan(&ev.ID, &ev.ReportID, timeScanner{&ev.At}, &ev.ActorID, &ev.ActorEmail, &kind, &ev.From, &ev.To); err != nil {
				return err
			}
			ev.Kind = triage.EventKind(kind)
			evs = append(evs, ev)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: report events: %w", err)
	}
	return evs, nil
}

func reportExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM reports WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return triage.Errorf(triage.ENOTFOUND, "report %d not found", id)
	}
	return err
}

// AddNote stores internal note n (made with triage.NewNote) and sets its
// ID, with an audit record that names the note but not its text. A
// missing report is ENOTFOUND.
func (db *DB) AddNote(ctx context.Context, n *triage.Note, by triage.Actor) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := reportExists(ctx, tx, n.ReportID); err != nil {
			return err
		}
		var author any
		if n.AuthorID != 0 {
			author = n.AuthorID
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO notes (report_id, author_id, at, body) VALUES (?, ?, ?, ?)`,
			n.ReportID, author, formatTime(n.At), n.Body)
		if err != nil {
			return err
		}
		if n.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return db.addAudit(ctx, tx, &triage.AuditEvent{
			At: n.At, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: "report.note",
			Target: fmt.Sprintf("report:%d", n.ReportID), Detail: fmt.Sprintf(`{"note":%d}`, n.ID),
			RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
		})
	})
	if err != nil {
		return fmt.Errorf("db: add note: %w", err)
	}
	n.AuthorEmail = by.Email
	return nil
}

// Notes returns the internal notes of report id, oldest first, or
// ENOTFOUND.
func (db *DB) Notes(ctx context.Context, id int64) ([]*triage.Note, error) {
	var notes []*triage.Note
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := reportExists(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT n.id, n.report_id, COALESCE(n.author_id, 0), COALESCE(u.email, ''), n.at, n.body
			FROM notes n LEFT JOIN users u ON u.id = n.author_id
			WHERE n.report_id = ? ORDER BY n.id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n := &triage.Note{}
			if err := rows.Scan(&n.ID, &n.ReportID, &n.AuthorID, &n.AuthorEmail, timeScanner{&n.At}, &n.Body); err != nil {
				return err
			}
			notes = append(notes, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: notes: %w", err)
	}
	return notes, nil
}

// indexReport (re)indexes report id for full-text search: title, body
// with the conversation's messages, and attachment names (the view
// reports_fts_source, migration 0008). Triggers keep it in sync afterwards.
func indexReport(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM reports_fts WHERE rowid = ?`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO reports_fts (rowid, title, body, attachments)
		SELECT * FROM reports_fts_source WHERE id = ?`, id)
	return err
}
