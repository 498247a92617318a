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

// The junk lane (triage.QuarantineRule): rules, filing held, release.

// maxHoldAtOnce bounds how many open reports quarantining a sender holds
// at once, and maxReleaseAcksPerAddress how many acknowledgements one
// release sends to one address (the rest are released without one: a
// flood let through is not answered mail for mail).
const (
	maxHoldAtOnce            = 1000
	maxReleaseAcksPerAddress = 3
)

// activeRules are the rules that hold new mail now.
func activeRules(ctx context.Context, tx *sql.Tx) ([]triage.QuarantineRule, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, kind, value, note, created_at, created_by FROM quarantine
		WHERE released_at IS NULL ORDER BY id LIMIT ?`, triage.MaxQuarantineRules)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []triage.QuarantineRule
	for rows.Next() {
		var q triage.QuarantineRule
		var kind string
		if err := rows.Scan(&q.ID, &kind, &q.Value, &q.Note, timeScanner{&q.CreatedAt}, &q.CreatedBy); err != nil {
			return nil, err
		}
		q.Kind = triage.QuarantineKind(kind)
		out = append(out, q)
	}
	return out, rows.Err()
}

// QuarantineFor returns the id of the active rule that holds r (a report
// about to be filed: its sender and signatures are read), or 0 when none
// does. Intake asks it before filing a new report, and files the report
// with Report.Quarantine set to it: FileReportAck then files it held,
// with its acknowledgement kept back until the release.
func (db *DB) QuarantineFor(ctx context.Context, r *triage.Report) (int64, error) {
	var id int64
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rules, err := activeRules(ctx, tx)
		if err != nil {
			return err
		}
		if q := triage.MatchQuarantine(rules, r); q != nil {
			id = q.ID
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("db: quarantine for: %w", err)
	}
	return id, nil
}

// fileHeld decides, in the filing transaction of report r, before its
// row is written, whether it is filed held: r.Quarantine names a rule
// (QuarantineFor) that is still active. It then holds r from its receipt
// and returns the event to record once r has its id.
func (db *DB) fileHeld(ctx context.Context, tx *sql.Tx, r *triage.Report) (*triage.Event, error) {
	if r.Quarantine == 0 {
		return nil, nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM quarantine WHERE id = ? AND released_at IS NULL`, r.Quarantine).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		r.Quarantine = 0 // released meanwhile: filed on the board
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	ev := r.Hold(r.Quarantine, 0, r.ReceivedAt)
	ev.At = db.now().UTC()
	return &ev, nil
}

// heldAck is an acknowledgement kept back while its report is held.
type heldAck struct {
	To              string   `json:"to"`
	Subject         string   `json:"subject"`
	HeaderMessageID string   `json:"message_id"`
	InReplyTo       string   `json:"in_reply_to"`
	References      []string `json:"references"`
}

// holdAck keeps ack (validated) back until its report is released.
func holdAck(ctx context.Context, tx *sql.Tx, ack *triage.OutMail) error {
	b, err := json.Marshal(heldAck{To: ack.To, Subject: ack.Subject, HeaderMessageID: ack.HeaderMessageID, InReplyTo: ack.InReplyTo, References: ack.References})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO held_acks (report_id, mail) VALUES (?, ?)`, ack.ReportID, string(b))
	ack.ID = 0
	return err
}

// QuarantineRules returns the active rules, newest first, each with the
// number of reports it holds.
func (db *DB) QuarantineRules(ctx context.Context) ([]triage.QuarantineRule, error) {
	var out []triage.QuarantineRule
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rules, err := activeRules(ctx, tx)
		if err != nil {
			return err
		}
		for i := len(rules) - 1; i >= 0; i-- {
			q := rules[i]
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reports WHERE quarantine_id = ?`, q.ID).Scan(&q.Held); err != nil {
				return err
			}
			out = append(out, q)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: quarantine rules: %w", err)
	}
	return out, nil
}

// AddQuarantine stores rule q (made with triage.ParseQuarantineRule) as
// active, sets its ID, and holds the sender's open reports nobody has
// answered yet (at most maxHoldAtOnce): off the board, clocks stopped.
// It returns how many it held. The same sender quarantined twice is
// ECONFLICT; more than triage.MaxQuarantineRules active rules EINVALID.
func (db *DB) AddQuarantine(ctx context.Context, q *triage.QuarantineRule, by triage.Actor, now time.Time) (int, error) {
	held := 0
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM quarantine WHERE released_at IS NULL`).Scan(&n); err != nil {
			return err
		}
		if n >= triage.MaxQuarantineRules {
			return triage.Errorf(triage.EINVALID, "at most %d senders in quarantine at once", triage.MaxQuarantineRules)
		}
		q.CreatedAt, q.CreatedBy = now.UTC(), actorEmail(by)
		res, err := tx.ExecContext(ctx, `INSERT INTO quarantine (kind, value, note, created_at, created_by) VALUES (?, ?, ?, ?, ?)`,
			string(q.Kind), q.Value, q.Note, formatTime(q.CreatedAt), q.CreatedBy)
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "%s %s is already in quarantine", q.Kind, q.Value)
		} else if err != nil {
			return err
		}
		if q.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if held, err = db.holdOpen(ctx, tx, q, by, now); err != nil {
			return err
		}
		q.Held = held
		detail, _ := json.Marshal(map[string]any{"kind": q.Kind, "value": q.Value, "note": q.Note, "held": held})
		return db.addAudit(ctx, tx, &triage.AuditEvent{At: now, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditQuarantineAdd,
			Target: fmt.Sprintf("quarantine:%d", q.ID), Detail: string(detail), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent})
	})
	if err != nil {
		return 0, fmt.Errorf("db: add quarantine: %w", err)
	}
	return held, nil
}

// holdOpen holds the open, unanswered reports of q's sender.
func (db *DB) holdOpen(ctx context.Context, tx *sql.Tx, q *triage.QuarantineRule, by triage.Actor, now time.Time) (int, error) {
	var cond string
	var arg any
	switch q.Kind {
	case triage.QuarantineAddress:
		cond, arg = `researcher_email = ? COLLATE NOCASE`, q.Value
	case triage.QuarantineDomain:
		// The domain or a subdomain; the LIKE narrows, Matches decides.
		cond, arg = `researcher_email LIKE ? ESCAPE '\'`, "%"+likeEscape(q.Value)
	case triage.QuarantineFingerprint:
		cond, arg = `sig_fingerprint = ?`, q.Value
	}
	found, err := queryReports(ctx, tx, `SELECT `+reportColumns+`, `+workflowColumns+` FROM reports
		WHERE `+cond+` AND quarantine_id IS NULL AND responded_at IS NULL AND status NOT IN (`+closedStatusList()+`)
		ORDER BY id LIMIT ?`, arg, maxHoldAtOnce)
	if err != nil {
		return 0, err
	}
	var reports []*triage.Report
	for _, r := range found {
		if q.Matches(r) {
			reports = append(reports, r)
		}
	}
	p, err := findSLAPolicy(ctx, tx)
	if err != nil {
		return 0, err
	}
	for _, r := range reports {
		ev := r.Hold(q.ID, by.UserID, now)
		if err := saveTriage(ctx, tx, r, p, now); err != nil {
			return 0, err
		}
		if err := db.recordEvents(ctx, tx, []triage.Event{ev}, by); err != nil {
			return 0, err
		}
	}
	return len(reports), nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ReleaseQuarantine releases rule id: its sender's new mail goes to the
// board again, and every report it holds moves to the board now — its
// clocks start (the time held counts as a pause) and the acknowledgement
// it was held with is queued (at most maxReleaseAcksPerAddress to one
// address). It returns how many reports were released and how many
// acknowledgements queued. A rule not active is ENOTFOUND.
func (db *DB) ReleaseQuarantine(ctx context.Context, id int64, by triage.Actor, now time.Time) (released, acked int, err error) {
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE quarantine SET released_at = ?, released_by = ? WHERE id = ? AND released_at IS NULL`,
			formatTime(now), actorEmail(by), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return triage.Errorf(triage.ENOTFOUND, "no sender in quarantine under rule %d", id)
		}
		reports, err := queryReports(ctx, tx, `SELECT `+reportColumns+`, `+workflowColumns+` FROM reports WHERE quarantine_id = ? ORDER BY id`, id)
		if err != nil {
			return err
		}
		p, err := findSLAPolicy(ctx, tx)
		if err != nil {
			return err
		}
		perAddress := map[string]int{}
		for _, r := range reports {
			ev := r.Release(by.UserID, now)
			if err := saveTriage(ctx, tx, r, p, now); err != nil {
				return err
			}
			if err := db.recordEvents(ctx, tx, []triage.Event{ev}, by); err != nil {
				return err
			}
			ack, err := takeHeldAck(ctx, tx, r.ID)
			if err != nil {
				return err
			}
			if ack == nil {
				continue
			}
			if perAddress[strings.ToLower(ack.To)]++; perAddress[strings.ToLower(ack.To)] > maxReleaseAcksPerAddress {
				continue
			}
			ack.ReportID, ack.TrackingID, ack.CreatedAt = r.ID, r.TrackingID, now
			if err := db.queueMail(ctx, tx, ack); err != nil && triage.ErrorCode(err) != triage.ECONFLICT {
				return err
			} else if err == nil {
				acked++
			}
		}
		released = len(reports)
		detail, _ := json.Marshal(map[string]int{"released": released, "acknowledged": acked})
		return db.addAudit(ctx, tx, &triage.AuditEvent{At: now, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditQuarantineRelease,
			Target: fmt.Sprintf("quarantine:%d", id), Detail: string(detail), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("db: release quarantine: %w", err)
	}
	return released, acked, nil
}

// takeHeldAck returns (and forgets) the acknowledgement report id was
// held with, or nil.
func takeHeldAck(ctx context.Context, tx *sql.Tx, id int64) (*triage.OutMail, error) {
	var raw string
	err := tx.QueryRowContext(ctx, `DELETE FROM held_acks WHERE report_id = ? RETURNING mail`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var h heldAck
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		return nil, fmt.Errorf("held acknowledgement of report %d: %w", id, err)
	}
	return &triage.OutMail{Kind: triage.MailAck, To: h.To, Subject: h.Subject, HeaderMessageID: h.HeaderMessageID,
		InReplyTo: h.InReplyTo, References: h.References}, nil
}

// SenderHistory returns the other reports of the sender of a report
// (email, and the fingerprint of the key that signed it, "" for none),
// leaving out report except, up to limit of each kind, with the number
// of each by status.
func (db *DB) SenderHistory(ctx context.Context, email, fingerprint string, except int64, limit int) (*triage.SenderHistory, error) {
	h := &triage.SenderHistory{AddressOutcomes: map[triage.Status]int{}, KeyOutcomes: map[triage.Status]int{}}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if email != "" {
			var err error
			if h.ByAddress, err = senderReports(ctx, tx, `researcher_email = ? COLLATE NOCASE`, email, except, limit); err != nil {
				return err
			}
			if h.AddressTotal, err = senderOutcomes(ctx, tx, `researcher_email = ? COLLATE NOCASE`, email, except, h.AddressOutcomes); err != nil {
				return err
			}
		}
		if fingerprint != "" {
			var err error
			if h.ByKey, err = senderReports(ctx, tx, `sig_fingerprint = ?`, fingerprint, except, limit); err != nil {
				return err
			}
			if h.KeyTotal, err = senderOutcomes(ctx, tx, `sig_fingerprint = ?`, fingerprint, except, h.KeyOutcomes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: sender history: %w", err)
	}
	return h, nil
}

func senderReports(ctx context.Context, tx *sql.Tx, cond string, arg any, except int64, limit int) ([]*triage.Report, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, tracking_id, title, status, received_at, COALESCE(quarantine_id, 0) FROM reports
		WHERE `+cond+` AND id <> ? ORDER BY id DESC LIMIT ?`, arg, except, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*triage.Report
	for rows.Next() {
		r := &triage.Report{}
		var st string
		if err := rows.Scan(&r.ID, &r.TrackingID, &r.Title, &st, timeScanner{&r.ReceivedAt}, &r.Quarantine); err != nil {
			return nil, err
		}
		r.Status = triage.Status(st)
		out = append(out, r)
	}
	return out, rows.Err()
}

// senderOutcomes counts a sender's reports by status (at most the last
// 10 000: a flood is counted as one, not read to its end).
func senderOutcomes(ctx context.Context, tx *sql.Tx, cond string, arg any, except int64, into map[triage.Status]int) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT status, count(*) FROM (SELECT status FROM reports WHERE `+cond+` AND id <> ?
		ORDER BY id DESC LIMIT 10000) GROUP BY status`, arg, except)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	total := 0
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return 0, err
		}
		into[triage.Status(st)] = n
		total += n
	}
	return total, rows.Err()
}
