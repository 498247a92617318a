package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// NotifyLookback bounds how old a breach may be when it is first seen
// and still notify: after a long downtime, or right after the upgrade
// that added notifications, old breaches are on the board but not sent.
const NotifyLookback = 7 * 24 * time.Hour

// clockColumns are the stored due times of the clocks that count down.
var clockColumns = []struct {
	name   triage.ClockName
	column string
}{
	{triage.ClockFirstResponse, "fr_due_at"},
	{triage.ClockTriage, "triage_due_at"},
	{triage.ClockRemediation, "remediation_due_at"},
}

// DecideNotifications records, in one transaction, a pending
// notification on each channel for every clock that counts down and is
// breached at now (due within the last NotifyLookback) or due within
// triage.DueSoon. The unique key (report, clock, event, channel) makes
// each decision once, whatever restarts happen; a clock already breached
// when first seen gets no due_soon. It returns how many it recorded.
func (db *DB) DecideNotifications(ctx context.Context, now time.Time, channels []string) (int, error) {
	for _, ch := range channels {
		if ch != triage.ChannelWebhook && ch != triage.ChannelEmail {
			return 0, fmt.Errorf("db: decide notifications: unknown channel %q", ch)
		}
	}
	var n int
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		nowS, soon, lo := formatTime(now), formatTime(now.Add(triage.DueSoon)), formatTime(now.Add(-NotifyLookback))
		for _, ch := range channels {
			for _, c := range clockColumns {
				// The column names come from clockColumns, not input.
				res, err := tx.ExecContext(ctx, `INSERT INTO notifications
					(report_id, clock, event, channel, due_at, created_at, state, attempts, next_attempt_at)
					SELECT id, ?, CASE WHEN `+c.column+` <= ? THEN 'breached' ELSE 'due_soon' END, ?, `+c.column+`, ?, 'pending', 0, ?
					FROM reports WHERE `+c.column+` > ? AND `+c.column+` <= ?
					ON CONFLICT DO NOTHING`,
					string(c.name), nowS, ch, nowS, nowS, lo, soon)
				if err != nil {
					return err
				}
				k, err := res.RowsAffected()
				if err != nil {
					return err
				}
				n += int(k)
			}
			k, err := decideDeadlineNotifications(ctx, tx, now, ch)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("db: decide notifications: %w", err)
	}
	return n, nil
}

// PendingNotifications returns up to limit notifications of channel that
// are pending and due for a try at now, oldest first, with their
// report's tracking id, status and severity.
func (db *DB) PendingNotifications(ctx context.Context, channel string, now time.Time, limit int) ([]*triage.Notification, error) {
	var out []*triage.Notification
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT n.id, n.report_id, r.tracking_id, r.status, r.severity, n.clock, n.event,
			n.channel, n.due_at, n.created_at, n.state, n.attempts, n.next_attempt_at, n.last_error, n.sent_at
			FROM notifications n JOIN reports r ON r.id = n.report_id
			WHERE n.state = 'pending' AND n.channel = ? AND n.next_attempt_at <= ?
			ORDER BY n.next_attempt_at, n.id LIMIT ?`, channel, formatTime(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n := &triage.Notification{}
			var status, sev, clock string
			if err := rows.Scan(&n.ID, &n.ReportID, &n.TrackingID, &status, &sev, &clock, &n.Event, &n.Channel,
				timeScanner{&n.DueAt}, timeScanner{&n.CreatedAt}, &n.State, &n.Attempts, timeScanner{&n.NextTry},
				&n.LastError, timeScanner{&n.SentAt}); err != nil {
				return err
			}
			n.Status, n.Severity, n.Clock = triage.Status(status), triage.Severity(sev), triage.ClockName(clock)
			out = append(out, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: pending notifications: %w", err)
	}
	return out, nil
}

// MarkNotification records a delivery attempt of notification id at
// now: sent when sendErr is nil; otherwise the error is kept and the next
// try is scheduled after triage.NotifyBackoff, or, after
// triage.MaxNotifyAttempts, the notification is failed. It returns the
// state it left.
func (db *DB) MarkNotification(ctx context.Context, id int64, sendErr error, now time.Time) (string, error) {
	var state string
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		var attempts int
		if err := tx.QueryRowContext(ctx, `SELECT attempts FROM notifications WHERE id = ?`, id).Scan(&attempts); err != nil {
			if err == sql.ErrNoRows {
				return triage.Errorf(triage.ENOTFOUND, "notification %d not found", id)
			}
			return err
		}
		attempts++
		if sendErr == nil {
			state = triage.NotificationSent
			_, err := tx.ExecContext(ctx, `UPDATE notifications SET state = ?, attempts = ?, sent_at = ?, last_error = '' WHERE id = ?`,
				state, attempts, formatTime(now), id)
			return err
		}
		state = triage.NotificationPending
		if attempts >= triage.MaxNotifyAttempts {
			state = triage.NotificationFailed
		}
		_, err := tx.ExecContext(ctx, `UPDATE notifications SET state = ?, attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?`,
			state, attempts, cut(sendErr.Error(), 500), formatTime(now.Add(triage.NotifyBackoff(attempts))), id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("db: mark notification: %w", err)
	}
	return state, nil
}
