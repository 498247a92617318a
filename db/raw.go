package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secinbox/secinbox/triage"
)

// AddRawMessage stores m exactly as received and sets m.ID and
// m.StoredAt (the clock of the transaction that commits it). A zero
// m.ReceivedAt is set to m.StoredAt. It returns nil only after the
// commit is durable, so the SMTP server may then answer 250.
//
// Messages stored at the same time are committed together (group
// commit, intake.go): one transaction and one disk sync for all of them,
// each caller answered once that commit is durable.
func (db *DB) AddRawMessage(ctx context.Context, m *triage.RawMessage) error {
	if err := db.intake.add(ctx, db, m); err != nil {
		return fmt.Errorf("db: add raw message: %w", err)
	}
	return nil
}

func insertRawMessage(ctx context.Context, tx *sql.Tx, m *triage.RawMessage) (int64, error) {
	rcpts := m.Recipients
	if rcpts == nil {
		rcpts = []string{}
	}
	rcptJSON, err := json.Marshal(rcpts)
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256(m.Data)
	res, err := tx.ExecContext(ctx, `INSERT INTO raw_messages
		(mail_from, recipients, remote_addr, received_at, stored_at, size, sha256, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		m.MailFrom, string(rcptJSON), m.RemoteAddr, formatTime(m.ReceivedAt), nullTime(m.StoredAt),
		len(m.Data), hex.EncodeToString(sum[:]), blob(m.Data))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// PendingRawMessages returns the ids of stored messages not yet filed as
// reports, in the order they were stored.
func (db *DB) PendingRawMessages(ctx context.Context) ([]int64, error) {
	return db.PendingRawMessagesAfter(ctx, 0, 0)
}

// PendingRawMessagesAfter returns the ids over after of stored messages
// not yet filed, in the order they were stored: at most limit of them
// (0: all).
func (db *DB) PendingRawMessagesAfter(ctx context.Context, after int64, limit int) ([]int64, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var ids []int64
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM raw_messages
			WHERE processed_at IS NULL AND id > ? ORDER BY id LIMIT ?`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: pending raw messages: %w", err)
	}
	return ids, nil
}

// RawMessage returns one stored message byte for byte, or an ENOTFOUND error.
func (db *DB) RawMessage(ctx context.Context, id int64) (*triage.RawMessage, error) {
	var m *triage.RawMessage
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		m, err = findRawMessage(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: raw message: %w", err)
	}
	return m, nil
}

func findRawMessage(ctx context.Context, tx *sql.Tx, id int64) (*triage.RawMessage, error) {
	m := &triage.RawMessage{}
	var rcpts string
	err := tx.QueryRowContext(ctx, `SELECT id, mail_from, recipients, remote_addr, received_at, stored_at, data
		FROM raw_messages WHERE id = ?`, id).
		Scan(&m.ID, &m.MailFrom, &rcpts, &m.RemoteAddr, timeScanner{&m.ReceivedAt}, timeScanner{&m.StoredAt}, &m.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, triage.Errorf(triage.ENOTFOUND, "message %d not found", id)
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rcpts), &m.Recipients); err != nil {
		return nil, fmt.Errorf("message %d: recipients: %w", id, err)
	}
	if m.Data == nil {
		m.Data = []byte{}
	}
	return m, nil
}
