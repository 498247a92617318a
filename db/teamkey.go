package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// AddTeamKey stores k (fingerprint upper-cased) and sets k.ID. A zero
// k.CreatedAt is set to db.Now(). If k.Primary, the other keys lose their
// primary flag in the same transaction. The audit events, if any, are
// written in that transaction too. A known fingerprint is ECONFLICT; a
// key without fingerprint or secret key EINVALID.
func (db *DB) AddTeamKey(ctx context.Context, k *triage.TeamKey, audit ...*triage.AuditEvent) error {
	fpr := strings.ToUpper(strings.TrimSpace(k.Fingerprint))
	if fpr == "" {
		return fmt.Errorf("db: add team key: %w", triage.Errorf(triage.EINVALID, "key has no fingerprint"))
	}
	if len(k.ArmoredSecret) == 0 {
		return fmt.Errorf("db: add team key: %w", triage.Errorf(triage.EINVALID, "key %s has no secret key", fpr))
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.now()
	}
	k.CreatedAt = k.CreatedAt.UTC()
	var id int64
	err := db.writeAt(ctx, k.CreatedAt, func(ctx context.Context, tx *sql.Tx) error {
		if k.Primary {
			if _, err := tx.ExecContext(ctx, `UPDATE team_keys SET is_primary = 0 WHERE is_primary = 1`); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO team_keys
			(fingerprint, user_id, armored_secret, armored_public, created_at, expires_at, is_primary)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			fpr, k.UserID, k.ArmoredSecret, blob(k.ArmoredPublic), formatTime(k.CreatedAt),
			nullTime(k.ExpiresAt), boolInt(k.Primary))
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "team key %s already exists", fpr)
		} else if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return db.addAudits(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("db: add team key: %w", err)
	}
	k.ID, k.Fingerprint = id, fpr
	return nil
}

// TeamKeys returns all team keys: the primary first, then the keys in use
// newest first, then the retired ones newest first.
func (db *DB) TeamKeys(ctx context.Context) ([]*triage.TeamKey, error) {
	var keys []*triage.TeamKey
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, fingerprint, user_id, armored_secret, armored_public,
			created_at, expires_at, is_primary, retired_at
			FROM team_keys ORDER BY is_primary DESC, retired_at IS NOT NULL, created_at DESC, id DESC`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k := &triage.TeamKey{}
			if err := rows.Scan(&k.ID, &k.Fingerprint, &k.UserID, &k.ArmoredSecret, &k.ArmoredPublic,
				timeScanner{&k.CreatedAt}, timeScanner{&k.ExpiresAt}, &k.Primary, timeScanner{&k.RetiredAt}); err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: team keys: %w", err)
	}
	return keys, nil
}

// TeamKeyringGeneration is a number that changes whenever a team key is
// added, changed or removed (triggers bump it; see migration 0005). A
// running server compares it with the one its keys were loaded at: one
// primary-key read, cheap enough to do before every use.
func (db *DB) TeamKeyringGeneration(ctx context.Context) (int64, error) {
	var gen int64
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT generation FROM team_keyring WHERE id = 1`).Scan(&gen)
	})
	if err != nil {
		return 0, fmt.Errorf("db: team keyring generation: %w", err)
	}
	return gen, nil
}

// SetPrimaryTeamKey makes the key with fingerprint fpr (any case) the
// primary one, and no other, writing the audit events in the same
// transaction. An unknown key is ENOTFOUND; a retired key ECONFLICT.
func (db *DB) SetPrimaryTeamKey(ctx context.Context, fpr string, audit ...*triage.AuditEvent) error {
	fpr = strings.ToUpper(strings.TrimSpace(fpr))
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		k, err := teamKeyState(ctx, tx, fpr)
		if err != nil {
			return err
		}
		if k.retired {
			return triage.Errorf(triage.ECONFLICT, "team key %s is retired: it cannot be the primary key", fpr)
		}
		if k.primary {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE team_keys SET is_primary = 0 WHERE is_primary = 1`); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE team_keys SET is_primary = 1 WHERE id = ?`, k.id); err != nil {
			return err
		}
		return db.addAudits(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("db: set primary team key: %w", err)
	}
	return nil
}

// RetireTeamKey marks the key with fingerprint fpr (any case) retired at
// at: it stays stored, but no longer decrypts. The audit events are
// written in the same transaction. An unknown key is ENOTFOUND; the
// primary key, or one retired already, ECONFLICT.
func (db *DB) RetireTeamKey(ctx context.Context, fpr string, at time.Time, audit ...*triage.AuditEvent) error {
	fpr = strings.ToUpper(strings.TrimSpace(fpr))
	err := db.writeAt(ctx, at, func(ctx context.Context, tx *sql.Tx) error {
		k, err := teamKeyState(ctx, tx, fpr)
		if err != nil {
			return err
		}
		switch {
		case k.primary:
			return triage.Errorf(triage.ECONFLICT, "team key %s is the primary key: rotate or make another key primary first", fpr)
		case k.retired:
			return triage.Errorf(triage.ECONFLICT, "team key %s is retired already", fpr)
		}
		if _, err = tx.ExecContext(ctx, `UPDATE team_keys SET retired_at = ? WHERE id = ?`, formatTime(at), k.id); err != nil {
			return err
		}
		return db.addAudits(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("db: retire team key: %w", err)
	}
	return nil
}

// addAudits writes each non-nil event inside tx.
func (db *DB) addAudits(ctx context.Context, tx *sql.Tx, evs []*triage.AuditEvent) error {
	for _, ev := range evs {
		if ev == nil {
			continue
		}
		if err := db.addAudit(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

type keyState struct {
	id               int64
	primary, retired bool
}

// teamKeyState looks up the key with fingerprint fpr inside tx.
func teamKeyState(ctx context.Context, tx *sql.Tx, fpr string) (keyState, error) {
	var k keyState
	err := tx.QueryRowContext(ctx, `SELECT id, is_primary, retired_at IS NOT NULL FROM team_keys WHERE fingerprint = ?`,
		fpr).Scan(&k.id, &k.primary, &k.retired)
	if errors.Is(err, sql.ErrNoRows) {
		return k, triage.Errorf(triage.ENOTFOUND, "no team key %s", fpr)
	}
	return k, err
}
