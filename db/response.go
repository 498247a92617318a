package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secinbox/secinbox/triage"
)

// Canned responses (triage.Response). Every change is audited in the same
// transaction.

const responseColumns = `id, name, body, default_for, updated_at, COALESCE(updated_by, 0)`

func scanResponse(row scanner) (*triage.Response, error) {
	r := &triage.Response{}
	var def string
	if err := row.Scan(&r.ID, &r.Name, &r.Body, &def, timeScanner{&r.UpdatedAt}, &r.UpdatedBy); err != nil {
		return nil, err
	}
	r.DefaultFor = triage.Status(def)
	return r, nil
}

// Responses returns every canned response, by name.
func (db *DB) Responses(ctx context.Context) ([]*triage.Response, error) {
	var out []*triage.Response
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+responseColumns+` FROM responses ORDER BY name COLLATE NOCASE, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanResponse(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: responses: %w", err)
	}
	return out, nil
}

// Response returns canned response id, or ENOTFOUND.
func (db *DB) Response(ctx context.Context, id int64) (*triage.Response, error) {
	var r *triage.Response
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		r, err = scanResponse(tx.QueryRowContext(ctx, `SELECT `+responseColumns+` FROM responses WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "no canned response %d", id)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: response: %w", err)
	}
	return r, nil
}

// DefaultResponse returns the canned response suggested when a report
// moves to st, or ENOTFOUND when there is none.
func (db *DB) DefaultResponse(ctx context.Context, st triage.Status) (*triage.Response, error) {
	var r *triage.Response
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		r, err = scanResponse(tx.QueryRowContext(ctx, `SELECT `+responseColumns+` FROM responses WHERE default_for = ? AND default_for <> ''`, string(st)))
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "no default response for %s", st)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: default response: %w", err)
	}
	return r, nil
}

// SaveResponse validates r and stores it: a new one when r.ID is 0 (its
// ID is set), else it replaces response r.ID (ENOTFOUND when gone). A
// name or default status another response has is ECONFLICT; more than
// triage.MaxResponses is EINVALID.
func (db *DB) SaveResponse(ctx context.Context, r *triage.Response, by triage.Actor) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("db: save response: %w", err)
	}
	r.UpdatedAt, r.UpdatedBy = db.now().UTC(), by.UserID
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var updatedBy any
		if by.UserID != 0 {
			updatedBy = by.UserID
		}
		action := triage.AuditResponseUpdate
		if r.ID == 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM responses`).Scan(&n); err != nil {
				return err
			}
			if n >= triage.MaxResponses {
				return triage.Errorf(triage.EINVALID, "at most %d canned responses", triage.MaxResponses)
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO responses (name, body, default_for, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)`,
				r.Name, r.Body, string(r.DefaultFor), formatTime(r.UpdatedAt), updatedBy)
			if err != nil {
				return err
			}
			if r.ID, err = res.LastInsertId(); err != nil {
				return err
			}
			action = triage.AuditResponseCreate
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE responses SET name = ?, body = ?, default_for = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
				r.Name, r.Body, string(r.DefaultFor), formatTime(r.UpdatedAt), updatedBy, r.ID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return triage.Errorf(triage.ENOTFOUND, "no canned response %d", r.ID)
			}
		}
		detail, _ := json.Marshal(map[string]string{"name": r.Name, "default_for": string(r.DefaultFor)})
		return db.addAudit(ctx, tx, &triage.AuditEvent{At: r.UpdatedAt, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: action,
			Target: fmt.Sprintf("response:%d", r.ID), Detail: string(detail), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent})
	})
	if isUnique(err) {
		err = triage.Errorf(triage.ECONFLICT, "another canned response has the name %q or is already the default for %s", r.Name, orNone(string(r.DefaultFor)))
	}
	if err != nil {
		return fmt.Errorf("db: save response: %w", err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// DeleteResponse removes canned response id, or ENOTFOUND.
func (db *DB) DeleteResponse(ctx context.Context, id int64, by triage.Actor) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var name string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM responses WHERE id = ?`, id).Scan(&name); errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "no canned response %d", id)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM responses WHERE id = ?`, id); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"name": name})
		return db.addAudit(ctx, tx, &triage.AuditEvent{ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditResponseDelete,
			Target: fmt.Sprintf("response:%d", id), Detail: string(detail), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent})
	})
	if err != nil {
		return fmt.Errorf("db: delete response: %w", err)
	}
	return nil
}
