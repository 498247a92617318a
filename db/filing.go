package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// MaxFilingBatch bounds the filings of one FileMessages call.
const MaxFilingBatch = 256

// FileMessages files fs in order in one transaction: one disk sync for
// all (group commit). Each filing is a new report with its
// acknowledgement, as FileReportAck files it, or a researcher's message
// on a report, as AddIncomingMessage adds it; its researcher keys are
// stored first, as AddResearcherKeys stores them. Each runs in a
// savepoint of its own: a filing the store refuses (f.Err: ECONFLICT
// when its raw message was filed already, EINVALID, ENOTFOUND) changes
// nothing and leaves the others filed; keys it refuses as invalid are
// dropped (f.KeysErr) and the message is filed without them. Tracking
// ids are handed out in the order of fs. Any other failure fails the
// whole transaction: the error is returned, nothing is filed, and every
// f.Err is that error too. At most MaxFilingBatch filings (EINVALID).
func (db *DB) FileMessages(ctx context.Context, fs []*triage.Filing) error {
	if len(fs) > MaxFilingBatch {
		return fmt.Errorf("db: file messages: %w", triage.Errorf(triage.EINVALID, "%d filings, at most %d", len(fs), MaxFilingBatch))
	}
	keyIDs := make([][]int64, len(fs))
	for i, f := range fs {
		f.KeysErr = nil
		f.Err = prepareFiling(f)
		keyIDs[i] = make([]int64, len(f.Keys))
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := txNow(ctx)
		for i, f := range fs {
			if f.Err != nil {
				continue
			}
			if err := savepoint(ctx, tx, "filing", func() error {
				if f.KeysErr == nil && len(f.Keys) > 0 {
					err := savepoint(ctx, tx, "filing_keys", func() error { return addResearcherKeysTx(ctx, tx, f.Keys, keyIDs[i]) })
					if triage.ErrorCode(err) != triage.EINVALID {
						if err != nil {
							return err
						}
					} else {
						f.KeysErr = err
					}
				}
				if f.Report != nil {
					return db.fileReportTx(ctx, tx, f.Report, f.Ack, now)
				}
				return db.addIncomingTx(ctx, tx, f.Reply, triage.Actor{Email: triage.ActorSystem}, now)
			}); err != nil {
				if !refusal(err) {
					return err
				}
				f.Err = err
				clearFiling(f)
			}
		}
		return nil
	})
	for _, f := range fs {
		if len(f.Keys) > 0 {
			db.keyIDs.forget() // whether it committed or not
			break
		}
	}
	if err != nil {
		for _, f := range fs {
			f.Err = err
			clearFiling(f)
		}
		return fmt.Errorf("db: file messages: %w", err)
	}
	for i, f := range fs {
		if f.Err == nil && f.KeysErr == nil {
			for j, id := range keyIDs[i] {
				f.Keys[j].ID = id
			}
		}
	}
	return nil
}

// prepareFiling checks f before its transaction. EINVALID.
func prepareFiling(f *triage.Filing) error {
	switch {
	case f.Report != nil && f.Reply != nil:
		return triage.Errorf(triage.EINVALID, "a filing is a report or a reply, not both")
	case f.Report != nil:
		if err := prepareReport(f.Report, f.Ack); err != nil {
			return err
		}
	case f.Reply != nil:
		if f.Reply.RawMessageID == 0 {
			return triage.Errorf(triage.EINVALID, "message has no raw message")
		}
		f.Reply.Direction, f.Reply.Via = triage.DirectionIn, triage.ViaMail
		if err := prepareIncoming(f.Reply); err != nil {
			return err
		}
	default:
		return triage.Errorf(triage.EINVALID, "a filing holds no report and no reply")
	}
	for i := range f.Keys { // a key's sightings default to the message's receipt
		if err := normalizeResearcherKey(&f.Keys[i], filingTime(f)); err != nil {
			f.KeysErr = err
			break
		}
	}
	return nil
}

// filingTime is when f's message was received.
func filingTime(f *triage.Filing) time.Time {
	if f.Report != nil {
		return f.Report.ReceivedAt
	}
	return f.Reply.At
}

// clearFiling clears what a transaction that did not commit set on f.
func clearFiling(f *triage.Filing) {
	if f.Report != nil {
		unfileReport(f.Report, f.Ack)
	}
	if f.Reply != nil {
		unaddIncoming(f.Reply)
	}
}

// refusal reports whether err is the store refusing one filing (it
// changes nothing), as opposed to a failure of the database.
func refusal(err error) bool {
	switch triage.ErrorCode(err) {
	case triage.ECONFLICT, triage.EINVALID, triage.ENOTFOUND:
		return true
	}
	return false
}

// savepoint runs fn inside SAVEPOINT name: when fn fails, what it did is
// rolled back and the transaction goes on.
func savepoint(ctx context.Context, tx *sql.Tx, name string, fn func() error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO "+name); rerr != nil {
			return rerr
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE "+name); rerr != nil {
			return rerr
		}
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE "+name)
	return err
}
