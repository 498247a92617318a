package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/secinbox/secinbox/triage"
)

// MailboxMessageSeen tells whether the message uid of mailbox, under
// uidValidity, is already stored (mailbox intake, package mailbox): then
// it need not be fetched again, only moved out of the folder.
func (db *DB) MailboxMessageSeen(ctx context.Context, mailbox string, uidValidity, uid uint32) (bool, error) {
	var seen bool
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		_, seen, err = findMailboxUID(ctx, tx, mailbox, uidValidity, uid)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("db: mailbox message seen: %w", err)
	}
	return seen, nil
}

// AddMailboxMessage stores m, fetched from a mailbox as o says, like
// AddRawMessage, and records o in the same transaction. When the message
// is already stored (the same UID under the same UIDVALIDITY, or the
// same Message-ID and bytes from any mailbox) it stores nothing, sets
// m.ID to the stored message's id and returns dup true. It returns only
// once the commit is durable.
func (db *DB) AddMailboxMessage(ctx context.Context, m *triage.RawMessage, o triage.MailboxOrigin) (dup bool, err error) {
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = db.now()
	}
	m.ReceivedAt = m.ReceivedAt.UTC()
	sum := sha256.Sum256(m.Data)
	hash := hex.EncodeToString(sum[:])
	var id int64
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var found bool
		var err error
		if id, found, err = findMailboxUID(ctx, tx, o.Mailbox, o.UIDValidity, o.UID); err != nil || found {
			dup = found
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT raw_message_id FROM mailbox_messages
			WHERE header_message_id = ? AND sha256 = ? ORDER BY raw_message_id LIMIT 1`, o.MessageID, hash).Scan(&id)
		if err == nil {
			dup = true
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if id, err = insertRawMessage(ctx, tx, m); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mailbox_messages
			(raw_message_id, mailbox, uid_validity, uid, header_message_id, sha256)
			VALUES (?, ?, ?, ?, ?, ?)`, id, o.Mailbox, int64(o.UIDValidity), int64(o.UID), o.MessageID, hash)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("db: add mailbox message: %w", err)
	}
	m.ID = id
	return dup, nil
}

func findMailboxUID(ctx context.Context, tx *sql.Tx, mailbox string, uidValidity, uid uint32) (int64, bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT raw_message_id FROM mailbox_messages
		WHERE mailbox = ? AND uid_validity = ? AND uid = ?`, mailbox, int64(uidValidity), int64(uid)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	return id, true, nil
}
