package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/secinbox/secinbox/triage"
)

// AddWebSubmissionLink is AddWebSubmission for the status link as web
// makes it: its token is triage.LinkToken(key, triage.LinkStatus,
// raw.ID, nonce), so its hash depends on the id the insert assigns.
// tokenHash is called inside the transaction with that id. Everything
// else is as AddWebSubmission: the raw message, the status link and the
// audit record in one durable transaction; raw.ID is set on success.
func (db *DB) AddWebSubmissionLink(ctx context.Context, raw *triage.RawMessage, nonce string, tokenHash func(rawID int64) []byte) error {
	if nonce == "" || tokenHash == nil {
		return fmt.Errorf("db: add web submission: %w", triage.Errorf(triage.EINVALID, "a status link needs a nonce and a token"))
	}
	if raw.ReceivedAt.IsZero() {
		raw.ReceivedAt = db.now()
	}
	raw.ReceivedAt = raw.ReceivedAt.UTC()
	var id int64
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		if id, err = insertRawMessage(ctx, tx, raw); err != nil {
			return err
		}
		hash := tokenHash(id)
		if len(hash) == 0 {
			return triage.Errorf(triage.EINVALID, "a status link needs a token")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_links (raw_message_id, nonce, token_hash, created_at)
			VALUES (?, ?, ?, ?)`, id, nonce, blob(hash), formatTime(raw.ReceivedAt)); err != nil {
			if isUnique(err) {
				return triage.Errorf(triage.ECONFLICT, "that status link token is already in use")
			}
			return err
		}
		return db.addAudit(ctx, tx, &triage.AuditEvent{
			At: raw.ReceivedAt, ActorEmail: triage.ActorResearcher, Action: triage.AuditWebSubmission,
			Target: fmt.Sprintf("message:%d", id), RemoteAddr: raw.RemoteAddr,
		})
	})
	if err != nil {
		return fmt.Errorf("db: add web submission: %w", err)
	}
	raw.ID = id
	return nil
}
