package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
)

// settingInstallSalt is the settings key of this installation's salt.
const settingInstallSalt = "install_salt"

// InstallSalt returns this installation's random 16-byte salt, made on
// first use and never changed. It is not a secret: it makes a passphrase
// guess checked against one installation's database useless against
// another's, so a stolen database cannot be attacked with a dictionary
// precomputed for every secinbox.
func (db *DB) InstallSalt(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, 16)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("db: install salt: %w", err)
	}
	var stored string
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO NOTHING`, settingInstallSalt, hex.EncodeToString(fresh), formatTime(db.now())); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingInstallSalt).Scan(&stored)
	})
	if err != nil {
		return nil, fmt.Errorf("db: install salt: %w", err)
	}
	salt, err := hex.DecodeString(stored)
	if err != nil || len(salt) != 16 {
		return nil, fmt.Errorf("db: install salt: stored value is not 16 bytes of hex")
	}
	return salt, nil
}
