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

// A report's disclosure deadline, embargo and CRA clocks live in
// report_deadlines (migration 0012), beside the report: UpdateReport
// keeps them in step with status changes and applies a
// triage.DeadlineChange in the same transaction.

const deadlineColumns = `report_id, disclosure_due_at, disclosure_extended, embargo_until, actively_exploited, aware_at,
	ew_sent_at, ew_reference, notification_sent_at, notification_reference, final_sent_at, final_reference`

func scanDeadlines(row scanner) (*triage.Deadlines, error) {
	d := &triage.Deadlines{}
	err := row.Scan(&d.ReportID, timeScanner{&d.DisclosureDue}, &d.Extended, timeScanner{&d.EmbargoUntil},
		&d.ActivelyExploited, timeScanner{&d.AwareAt},
		timeScanner{&d.EarlyWarning.SentAt}, &d.EarlyWarning.Reference,
		timeScanner{&d.Notification.SentAt}, &d.Notification.Reference,
		timeScanner{&d.FinalReport.SentAt}, &d.FinalReport.Reference)
	return d, err
}

// findDeadlines returns report id's deadlines, with its CVE IDs; the
// zero value (with the id) when it has none yet.
func findDeadlines(ctx context.Context, tx *sql.Tx, id int64) (*triage.Deadlines, error) {
	d, err := scanDeadlines(tx.QueryRowContext(ctx, `SELECT `+deadlineColumns+` FROM report_deadlines WHERE report_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		d, err = &triage.Deadlines{ReportID: id}, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT cve_id FROM report_cves WHERE report_id = ? ORDER BY added_at, rowid`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		d.CVEIDs = append(d.CVEIDs, c)
	}
	return d, rows.Err()
}

// saveDeadlines stores d, the deadlines of r, with the due times of the
// deadlines counting down at now.
func saveDeadlines(ctx context.Context, tx *sql.Tx, r *triage.Report, d *triage.Deadlines, now time.Time) error {
	counting := func(c *triage.DeadlineClock) any {
		if !c.Counting() {
			return nil
		}
		return formatTime(c.DueAt)
	}
	var cra [3]any
	for i, c := range d.CRA(r, now) {
		cra[i] = counting(c)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO report_deadlines (`+deadlineColumns+`,
			disclosure_counting, ew_counting, notification_counting, final_counting)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (report_id) DO UPDATE SET
			disclosure_due_at = excluded.disclosure_due_at, disclosure_extended = excluded.disclosure_extended,
			embargo_until = excluded.embargo_until, actively_exploited = excluded.actively_exploited,
			aware_at = excluded.aware_at,
			ew_sent_at = excluded.ew_sent_at, ew_reference = excluded.ew_reference,
			notification_sent_at = excluded.notification_sent_at, notification_reference = excluded.notification_reference,
			final_sent_at = excluded.final_sent_at, final_reference = excluded.final_reference,
			disclosure_counting = excluded.disclosure_counting, ew_counting = excluded.ew_counting,
			notification_counting = excluded.notification_counting, final_counting = excluded.final_counting`,
		r.ID, nullTime(d.DisclosureDue), d.Extended, nullTime(d.EmbargoUntil), d.ActivelyExploited, nullTime(d.AwareAt),
		nullTime(d.EarlyWarning.SentAt), d.EarlyWarning.Reference,
		nullTime(d.Notification.SentAt), d.Notification.Reference,
		nullTime(d.FinalReport.SentAt), d.FinalReport.Reference,
		counting(d.Disclosure(r, now)), cra[0], cra[1], cra[2])
	return err
}

// updateDeadlines is UpdateReport's part for the deadlines: r has just
// moved from status prev (evs are its events); c, when not empty,
// changes the deadlines too. It records the deadline events with their
// audit records (a moved disclosure deadline with its reason), and
// stores the deadlines when anything changed. An embargo holding back a
// move to disclosed is ECONFLICT.
func (db *DB) updateDeadlines(ctx context.Context, tx *sql.Tx, r *triage.Report, prev triage.Status, c *triage.DeadlineChange, evs []triage.Event, by triage.Actor, now time.Time) error {
	if len(evs) == 0 && c.Empty() {
		return nil
	}
	d, err := findDeadlines(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	p, err := findSLAPolicy(ctx, tx)
	if err != nil {
		return err
	}
	devs, err := d.SyncDeadlines(r, prev, p, by.UserID, now)
	if err != nil {
		return err
	}
	if !c.Empty() {
		more, err := d.Apply(*c, r, by.UserID, now)
		if err != nil {
			return err
		}
		devs = append(devs, more...)
	}
	if d.DisclosureDue.IsZero() && !d.ActivelyExploited && d.EmbargoUntil.IsZero() && len(devs) == 0 {
		return nil // nothing to keep: a report not accepted
	}
	if err := saveDeadlines(ctx, tx, r, d, now); err != nil {
		return err
	}
	reason := ""
	if c != nil {
		reason = strings.TrimSpace(c.Reason)
	}
	for i := range devs {
		ev := &devs[i]
		extra := map[string]string{}
		if ev.Kind == triage.EventDisclosureDue && ev.From != "" {
			extra["reason"] = reason
			if err := supersedeReminders(ctx, tx, r.ID); err != nil {
				return err
			}
		}
		if err := db.recordEvent(ctx, tx, ev, by, extra); err != nil {
			return err
		}
	}
	return nil
}

// recordEvent appends one history event with an audit record
// "report.<kind>" carrying from, to and extra as detail.
func (db *DB) recordEvent(ctx context.Context, tx *sql.Tx, ev *triage.Event, by triage.Actor, extra map[string]string) error {
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
	detail := map[string]string{"from": ev.From, "to": ev.To}
	for k, v := range extra {
		detail[k] = v
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return db.addAudit(ctx, tx, &triage.AuditEvent{
		At: ev.At, ActorID: by.UserID, ActorEmail: actorEmail(by),
		Action: "report." + string(ev.Kind), Target: fmt.Sprintf("report:%d", ev.ReportID),
		Detail: string(b), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
	})
}

// Deadlines returns report id's disclosure deadline, embargo and CRA
// clocks (the zero value when it has none yet), or ENOTFOUND.
func (db *DB) Deadlines(ctx context.Context, id int64) (*triage.Deadlines, error) {
	var d *triage.Deadlines
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := reportExists(ctx, tx, id); err != nil {
			return err
		}
		var err error
		d, err = findDeadlines(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: deadlines: %w", err)
	}
	return d, nil
}

// DeadlinesOf returns the deadlines of the reports ids that have any, by
// report id, for lists.
func (db *DB) DeadlinesOf(ctx context.Context, ids []int64) (map[int64]*triage.Deadlines, error) {
	out := make(map[int64]*triage.Deadlines, len(ids))
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for len(ids) > 0 {
			batch := ids[:min(len(ids), 500)]
			ids = ids[len(batch):]
			args := make([]any, len(batch))
			for i, id := range batch {
				args[i] = id
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+deadlineColumns+` FROM report_deadlines
				WHERE report_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(batch)), ", ")+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				d, err := scanDeadlines(rows)
				if err != nil {
					rows.Close()
					return err
				}
				out[d.ReportID] = d
			}
			if err := rows.Close(); err != nil {
				return err
			}
			rows, err = tx.QueryContext(ctx, `SELECT report_id, cve_id FROM report_cves
				WHERE report_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(batch)), ", ")+`) ORDER BY added_at, rowid`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				var c string
				if err := rows.Scan(&id, &c); err != nil {
					rows.Close()
					return err
				}
				if out[id] == nil {
					out[id] = &triage.Deadlines{ReportID: id}
				}
				out[id].CVEIDs = append(out[id].CVEIDs, c)
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: deadlines: %w", err)
	}
	return out, nil
}

// deadlineCounting are the counting columns and their clocks.
var deadlineCounting = []struct {
	name   triage.ClockName
	column string
}{
	{triage.ClockDisclosure, "disclosure_counting"},
	{triage.ClockCRAEarlyWarning, "ew_counting"},
	{triage.ClockCRANotification, "notification_counting"},
	{triage.ClockCRAFinalReport, "final_counting"},
}

// DueDeadlines returns the deadlines counting down that are due before
// now + within (breached ones included), soonest first, at most limit.
// The CRA clocks are always listed while they count: they are days, not
// months.
func (db *DB) DueDeadlines(ctx context.Context, now time.Time, within time.Duration, limit int) ([]triage.DueDeadline, error) {
	var out []triage.DueDeadline
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var parts []string
		var args []any
		for _, c := range deadlineCounting {
			// The column names come from deadlineCounting, not input.
			q := `SELECT r.id, r.tracking_id, r.title, r.status, ?, d.` + c.column + `
				FROM report_deadlines d JOIN reports r ON r.id = d.report_id WHERE d.` + c.column + ` IS NOT NULL`
			args = append(args, string(c.name))
			if c.name == triage.ClockDisclosure {
				q += ` AND d.` + c.column + ` <= ?`
				args = append(args, formatTime(now.Add(within)))
			}
			parts = append(parts, q)
		}
		rows, err := tx.QueryContext(ctx, strings.Join(parts, " UNION ALL ")+` ORDER BY 6, 1 LIMIT ?`, append(args, limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var dd triage.DueDeadline
			var status, clock string
			if err := rows.Scan(&dd.ReportID, &dd.TrackingID, &dd.Title, &status, &clock, timeScanner{&dd.DueAt}); err != nil {
				return err
			}
			dd.Status, dd.Clock = triage.Status(status), triage.ClockName(clock)
			out = append(out, dd)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: due deadlines: %w", err)
	}
	return out, nil
}

// decideDeadlineNotifications is DecideNotifications for the deadlines
// on channel ch: the disclosure deadline notifies 14 days and 1 day
// before and when breached; the CRA clocks, like the SLA clocks, when due
// within triage.DueSoon and when breached. A deadline first seen later
// than a reminder's moment gets only the latest one that applies.
func decideDeadlineNotifications(ctx context.Context, tx *sql.Tx, now time.Time, ch string) (int, error) {
	nowS, lo := formatTime(now), formatTime(now.Add(-NotifyLookback))
	type window struct {
		event     string
		from, to  string // the due time is in (from, to]
		clockName triage.ClockName
		column    string
	}
	var ws []window
	for _, c := range deadlineCounting {
		if c.name == triage.ClockDisclosure {
			ws = append(ws,
				window{triage.NotifyBreached, lo, nowS, c.name, c.column},
				window{triage.NotifyDueIn1Day, nowS, formatTime(now.Add(triage.DisclosureRemindLate)), c.name, c.column},
				window{triage.NotifyDueIn14Days, formatTime(now.Add(triage.DisclosureRemindLate)), formatTime(now.Add(triage.DisclosureRemindEarly)), c.name, c.column})
			continue
		}
		ws = append(ws,
			window{triage.NotifyBreached, lo, nowS, c.name, c.column},
			window{triage.NotifyDueSoon, nowS, formatTime(now.Add(triage.DueSoon)), c.name, c.column})
	}
	n := 0
	for _, w := range ws {
		// The column names come from deadlineCounting, not input. A
		// report already notified of a later stage (breached after due
		// soon) is not notified of an earlier one it skipped.
		res, err := tx.ExecContext(ctx, `INSERT INTO notifications
			(report_id, clock, event, channel, due_at, created_at, state, attempts, next_attempt_at)
			SELECT report_id, ?, ?, ?, `+w.column+`, ?, 'pending', 0, ?
			FROM report_deadlines WHERE `+w.column+` > ? AND `+w.column+` <= ?
			ON CONFLICT DO NOTHING`,
			string(w.clockName), w.event, ch, nowS, nowS, w.from, w.to)
		if err != nil {
			return 0, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += int(k)
	}
	return n, nil
}

// followDisclosurePolicy moves the disclosure deadlines staff have not
// moved, of open reports, to policy p (SetSLAPolicy). It returns how
// many moved.
func followDisclosurePolicy(ctx context.Context, tx *sql.Tx, p *triage.SLAPolicy, now time.Time) (int, error) {
	ids, err := queryIDs(ctx, tx, `SELECT report_id FROM report_deadlines WHERE disclosure_extended = 0 AND disclosure_counting IS NOT NULL`)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		r, err := findReport(ctx, tx, id)
		if err != nil {
			return 0, err
		}
		d, err := findDeadlines(ctx, tx, id)
		if err != nil {
			return 0, err
		}
		if !d.FollowPolicy(r, p) {
			continue
		}
		if err := supersedeReminders(ctx, tx, id); err != nil {
			return 0, err
		}
		if err := saveDeadlines(ctx, tx, r, d, now); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// supersedeReminders makes way for the reminders of a disclosure
// deadline that moved: those not sent yet are dropped (with any mail
// they queued), those sent are kept, their event marked with the
// deadline they were for, so that the new deadline notifies again.
func supersedeReminders(ctx context.Context, tx *sql.Tx, reportID int64) error {
	clock := string(triage.ClockDisclosure)
	if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE report_id = ? AND clock = ? AND state = 'pending'`,
		reportID, clock); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE notifications SET event = event || '@' || due_at
		WHERE report_id = ? AND clock = ? AND instr(event, '@') = 0`, reportID, clock)
	return err
}

// DeadlineCounts counts, per deadline clock, the deadlines counting down
// at now: running (not yet due) and breached; and the open reports
// marked actively exploited.
func (db *DB) DeadlineCounts(ctx context.Context, now time.Time) (map[triage.ClockName][2]int64, int64, error) {
	out := map[triage.ClockName][2]int64{}
	var exploited int64
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		nowS := formatTime(now)
		for _, c := range deadlineCounting {
			var running, breached int64
			// The column names come from deadlineCounting, not input.
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(`+c.column+` > ?), 0), COALESCE(SUM(`+c.column+` <= ?), 0)
				FROM report_deadlines WHERE `+c.column+` IS NOT NULL`, nowS, nowS).Scan(&running, &breached); err != nil {
				return err
			}
			out[c.name] = [2]int64{running, breached}
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM report_deadlines d JOIN reports r ON r.id = d.report_id
			WHERE d.actively_exploited AND r.status NOT IN ('disclosed', 'duplicate', 'not-applicable', 'informative', 'spam')`).Scan(&exploited)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("db: deadline counts: %w", err)
	}
	return out, exploited, nil
}

// AddCVEID records CVE ID id for report reportID at now, from source
// (triage.CVESourceServices or CVESourceManual), with a history event
// and an audit record. An ID already recorded (for any report) is
// ECONFLICT; a missing report ENOTFOUND.
func (db *DB) AddCVEID(ctx context.Context, reportID int64, id, source string, by triage.Actor, now time.Time) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := reportExists(ctx, tx, reportID); err != nil {
			return err
		}
		var addedBy any
		if by.UserID != 0 {
			addedBy = by.UserID
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO report_cves (cve_id, report_id, source, added_at, added_by) VALUES (?, ?, ?, ?, ?)`,
			id, reportID, source, formatTime(now), addedBy)
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "%s is already recorded", id)
		} else if err != nil {
			return err
		}
		return db.recordEvent(ctx, tx, &triage.Event{ReportID: reportID, At: now.UTC(), ActorID: by.UserID, Kind: triage.EventCVEID, From: source, To: id}, by, nil)
	})
	if err != nil {
		return fmt.Errorf("db: add cve id: %w", err)
	}
	return nil
}

// CVERecords returns the CVE IDs of the reports ids, oldest first.
func (db *DB) CVERecords(ctx context.Context, ids []int64) ([]triage.CVERecord, error) {
	var out []triage.CVERecord
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, id := range ids {
			rows, err := tx.QueryContext(ctx, `SELECT cve_id, report_id, source, added_at, published_at, publish_error
				FROM report_cves WHERE report_id = ? ORDER BY added_at, rowid`, id)
			if err != nil {
				return err
			}
			for rows.Next() {
				var c triage.CVERecord
				if err := rows.Scan(&c.ID, &c.ReportID, &c.Source, timeScanner{&c.AddedAt}, timeScanner{&c.PublishedAt}, &c.PublishError); err != nil {
					rows.Close()
					return err
				}
				out = append(out, c)
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: cve records: %w", err)
	}
	return out, nil
}

// MarkCVEPublished records an attempt at now to publish CVE ID id's
// record: published when pubErr is nil, else its error is kept.
func (db *DB) MarkCVEPublished(ctx context.Context, id string, pubErr error, now time.Time) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if pubErr == nil {
			_, err = tx.ExecContext(ctx, `UPDATE report_cves SET published_at = ?, publish_error = '' WHERE cve_id = ?`, formatTime(now), id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE report_cves SET publish_error = ? WHERE cve_id = ?`, cut(pubErr.Error(), 500), id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("db: mark cve published: %w", err)
	}
	return nil
}
