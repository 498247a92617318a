package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/secinbox/secinbox/triage"
)

// AddTeamKey stores k (fingerprint upper-cased) and sets k.ID. A zero
// k.CreatedAt is set to db.Now(). If k.Primary, the other keys lose their
// primary flag in the same transaction. A known fingerprint is ECONFLICT;
// a key without fingerprint or secret key EINVALID.
func (db *DB) AddTeamKey(ctx context.Context, k *triage.TeamKey) error {
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
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return fmt.Errorf("db: add team key: %w", err)
	}
	k.ID, k.Fingerprint = id, fpr
	return nil
}

// TeamKeys returns all team keys, the primary first, then newest first.
func (db *DB) TeamKeys(ctx context.Context) ([]*triage.TeamKey, error) {
	var keys []*triage.TeamKey
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, fingerprint, user_id, armored_secret, armored_public,
			created_at, expires_at, is_primary
			FROM team_keys ORDER BY is_primary DESC, created_at DESC, id DESC`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k := &triage.TeamKey{}
			if err := rows.Scan(&k.ID, &k.Fingerprint, &k.UserID, &k.ArmoredSecret, &k.ArmoredPublic,
				timeScanner{&k.CreatedAt}, timeScanner{&k.ExpiresAt}, &k.Primary); err != nil {
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
