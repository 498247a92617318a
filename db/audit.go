package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/secinbox/secinbox/triage"
)

// Limits on AuditEvents.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AddAudit appends ev to the audit log and sets ev.ID, and ev.At when it
// is zero (to db.Now()). An invalid action is EINVALID; over-long fields
// are cut to the triage.MaxAudit* bounds.
func (db *DB) AddAudit(ctx context.Context, ev *triage.AuditEvent) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.addAudit(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("db: add audit: %w", err)
	}
	return nil
}

// addAudit is AddAudit inside a write transaction, for methods that log
// what they change in the same commit.
func (db *DB) addAudit(ctx context.Context, tx *sql.Tx, ev *triage.AuditEvent) error {
	if !triage.ValidAuditAction(ev.Action) {
		return triage.Errorf(triage.EINVALID, "invalid audit action %q", ev.Action)
	}
	if ev.At.IsZero() {
		ev.At = txNow(ctx)
	}
	ev.At = ev.At.UTC()
	ev.ActorEmail = cut(normalizeEmail(ev.ActorEmail), triage.MaxAuditField)
	ev.Target = cut(ev.Target, triage.MaxAuditTarget)
	ev.Detail = cut(ev.Detail, triage.MaxAuditDetail)
	ev.RemoteAddr = cut(ev.RemoteAddr, triage.MaxAuditField)
	ev.UserAgent = cut(ev.UserAgent, triage.MaxAuditField)
	var actor any
	if ev.ActorID != 0 {
		actor = ev.ActorID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_log
		(at, actor_id, actor_email, action, target, detail, remote_addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		formatTime(ev.At), actor, ev.ActorEmail, ev.Action, ev.Target, ev.Detail, ev.RemoteAddr, ev.UserAgent)
	if err != nil {
		return err
	}
	ev.ID, err = res.LastInsertId()
	return err
}

// AuditEvents returns the events f selects, newest first (by ID, which
// is the order they were written in). Limit 0 means DefaultAuditLimit;
// more than MaxAuditLimit is EINVALID.
func (db *DB) AuditEvents(ctx context.Context, f triage.AuditFilter) ([]*triage.AuditEvent, error) {
	if f.Limit == 0 {
		f.Limit = DefaultAuditLimit
	}
	if f.Limit < 0 || f.Limit > MaxAuditLimit {
		return nil, fmt.Errorf("db: audit events: %w", triage.Errorf(triage.EINVALID, "limit must be between 1 and %d", MaxAuditLimit))
	}
	var (
		where []string
		args  []any
	)
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, formatTime(f.Until))
	}
	if f.Actor != "" {
		where, args = append(where, "actor_email = ?"), append(args, normalizeEmail(f.Actor))
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			// A prefix: compare a range rather than LIKE, whose '_' is a wildcard.
			where, args = append(where, "action >= ? AND action < ?"), append(args, f.Action, f.Action[:len(f.Action)-1]+"/")
		} else {
			where, args = append(where, "action = ?"), append(args, f.Action)
		}
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	q := `SELECT id, at, actor_id, actor_email, action, target, detail, remote_addr, user_agent FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)

	var out []*triage.AuditEvent
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			ev := &triage.AuditEvent{}
			var actor sql.NullInt64
			if err := rows.Scan(&ev.ID, timeScanner{&ev.At}, &actor, &ev.ActorEmail, &ev.Action, &ev.Target,
				&ev.Detail, &ev.RemoteAddr, &ev.UserAgent); err != nil {
				return err
			}
			ev.ActorID = actor.Int64
			out = append(out, ev)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: audit events: %w", err)
	}
	return out, nil
}

// cut returns s cut to at most n bytes, on a UTF-8 boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
