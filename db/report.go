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

// Limits on Reports.
const (
	DefaultReportLimit = 500
	MaxReportLimit     = 5000
)

// FileReport stores r with its attachments, signatures and body parts,
// filed from raw message r.MessageID, in one transaction that also
// allocates the tracking id (SEC-YYYY-NNNN, YYYY the UTC year of
// r.ReceivedAt) and marks the message processed. On success it sets
// r.ID, r.TrackingID and the attachment IDs. It returns ENOTFOUND if the
// message does not exist, ECONFLICT if it was already filed (nothing is
// changed then), EINVALID for a bad report.
func (db *DB) FileReport(ctx context.Context, r *triage.Report) error {
	if err := db.fileReport(ctx, r, nil); err != nil {
		return fmt.Errorf("db: file report: %w", err)
	}
	return nil
}

// fileReport is FileReport, also queueing ack (when not nil) in the same
// transaction once the report has its id and tracking id
// (FileReportAck). Its errors are not wrapped.
func (db *DB) fileReport(ctx context.Context, r *triage.Report, ack *triage.OutMail) error {
	if err := prepareReport(r, ack); err != nil {
		return err
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.fileReportTx(ctx, tx, r, ack, txNow(ctx))
	})
	if err != nil {
		unfileReport(r, ack)
		return err
	}
	return nil
}

// prepareReport checks r and ack (when not nil) before they are filed,
// and puts them in stored form. EINVALID.
func prepareReport(r *triage.Report, ack *triage.OutMail) error {
	if !r.Status.Valid() {
		return triage.Errorf(triage.EINVALID, "unknown status %q", r.Status)
	}
	if r.ReceivedAt.IsZero() {
		return triage.Errorf(triage.EINVALID, "report has no received time")
	}
	if err := checkContent(r); err != nil {
		return err
	}
	if ack != nil {
		if err := checkAck(ack); err != nil {
			return err
		}
	}
	if r.Signature.Status == "" {
		r.Signature.Status = triage.SignatureNone
	}
	if r.FirstResponseDue.IsZero() {
		r.FirstResponseDue = r.ReceivedAt.Add(triage.FirstResponseWindow)
	}
	r.ReceivedAt = r.ReceivedAt.UTC()
	r.FirstResponseDue = r.FirstResponseDue.UTC()
	return nil
}

// unfileReport clears what fileReportTx set on r and ack, when its
// transaction did not commit.
func unfileReport(r *triage.Report, ack *triage.OutMail) {
	r.ID, r.TrackingID = 0, ""
	for i := range r.Attachments {
		r.Attachments[i].ID = 0
	}
	if ack != nil {
		ack.ID, ack.ReportID, ack.TrackingID = 0, 0, ""
	}
}

// fileReportTx files r (prepared) and queues ack in tx at now; it sets
// r.ID, r.TrackingID and the attachment IDs, and ack's fields. Its
// errors are not wrapped.
func (db *DB) fileReportTx(ctx context.Context, tx *sql.Tx, r *triage.Report, ack *triage.OutMail, at time.Time) error {
	now := formatTime(at)
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM raw_messages WHERE id = ?`, r.MessageID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return triage.Errorf(triage.ENOTFOUND, "message %d not found", r.MessageID)
	} else if err != nil {
		return err
	}
	year := r.ReceivedAt.Year()
	seq, err := nextTrackingSeq(ctx, tx, year)
	if err != nil {
		return err
	}
	tracking := triage.TrackingID(year, seq)
	hold, err := db.fileHeld(ctx, tx, r) // the junk lane (quarantine.go)
	if err != nil {
		return err
	}
	// The report's row is written once, with its triage state and clocks
	// under the current policy: each index on reports is written once.
	p, err := findSLAPolicy(ctx, tx)
	if err != nil {
		return err
	}
	c := *r
	cols, err := triageColumns(&c, p, txNow(ctx))
	if err != nil {
		return err
	}
	r.FirstResponseDue = c.FirstResponseDue
	id, err := insertReport(ctx, tx, r, cols, year, seq, tracking, now)
	if err != nil {
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "message %d is already filed", r.MessageID)
		}
		return err
	}
	if err := insertLabels(ctx, tx, id, cols.labels); err != nil {
		return err
	}
	if hold != nil {
		hold.ReportID = id
		if err := db.recordEvents(ctx, tx, []triage.Event{*hold}, triage.Actor{Email: triage.ActorSystem}); err != nil {
			return err
		}
	}
	if err := insertAuthentication(ctx, tx, id, r.Authentication); err != nil {
		return err
	}
	attIDs := make([]int64, len(r.Attachments))
	for i := range r.Attachments {
		if attIDs[i], err = insertAttachment(ctx, tx, id, 0, &r.Attachments[i]); err != nil {
			return err
		}
	}
	if err := insertContent(ctx, tx, id, r, attIDs); err != nil {
		return err
	}
	if err := indexReport(ctx, tx, id); err != nil { // the search index, with the attachments' names
		return err
	}
	held := hold != nil
	if ack != nil {
		ack.ReportID, ack.TrackingID = id, tracking
		if ack.Subject == "" {
			ack.Subject = triage.AckSubject(tracking)
		}
		if held {
			// Its acknowledgement waits for the release.
			if err := holdAck(ctx, tx, ack); err != nil {
				return err
			}
		} else if err := db.queueMail(ctx, tx, ack); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE raw_messages SET processed_at = ? WHERE id = ?`, now, r.MessageID); err != nil {
		return err
	}
	r.ID, r.TrackingID = id, tracking
	for i, aid := range attIDs {
		r.Attachments[i].ID = aid
	}
	return nil
}

// nextTrackingSeq hands out the next sequence number of year. The counter
// row is only ever incremented, so numbers are not reused after a delete.
func nextTrackingSeq(ctx context.Context, tx *sql.Tx, year int) (int, error) {
	var seq int
	err := tx.QueryRowContext(ctx, `INSERT INTO tracking_counters (year, last) VALUES (?, 1)
		ON CONFLICT (year) DO UPDATE SET last = last + 1
		RETURNING last`, year).Scan(&seq)
	return seq, err
}

func insertReport(ctx context.Context, tx *sql.Tx, r *triage.Report, cols triageValues, year, seq int, tracking, now string) (int64, error) {
	args := append([]any{tracking, year, seq, r.Title, r.ResearcherEmail, r.ResearcherName,
		formatTime(r.ReceivedAt), boolInt(r.Encrypted), boolInt(r.Decrypted), r.DecryptError,
		string(r.Signature.Status), r.Signature.Fingerprint, r.Signature.KeyID,
		r.Body, r.MessageID, headerMessageID(r.HeaderMessageID), now}, cols.args...)
	res, err := tx.ExecContext(ctx, insertReportSQL, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// insertReportSQL inserts a report: what the message says, then
// triageNames.
var insertReportSQL = `INSERT INTO reports (
		tracking_id, year, seq, title, researcher_email, researcher_name,
		received_at, encrypted, decrypted, decrypt_error,
		sig_status, sig_fingerprint, sig_keyid, body, message_id, header_message_id, created_at, ` +
	strings.Join(triageNames, ", ") + `) VALUES (?` + strings.Repeat(", ?", 17+len(triageNames)-1) + `)`

// insertAttachment stores a file of report reportID and returns its id:
// one that came with conversation message messageID, or with the
// report's first message when messageID is 0.
func insertAttachment(ctx context.Context, tx *sql.Tx, reportID, messageID int64, a *triage.Attachment) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO attachments
		(report_id, conversation_message_id, name, content_type, size, sha256, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		reportID, nullID(messageID), a.Name, a.ContentType, a.Size, a.SHA256, blob(a.Data))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// reportColumns are the columns scanReport reads, body last.
const reportColumns = `id, tracking_id, title, researcher_email, researcher_name,
	received_at, first_response_due, status, encrypted, decrypted, decrypt_error,
	sig_status, sig_fingerprint, sig_keyid, message_id, header_message_id`

func scanReport(row interface{ Scan(...any) error }, withBody bool) (*triage.Report, error) {
	r := &triage.Report{}
	var status, sigStatus string
	dest := []any{&r.ID, &r.TrackingID, &r.Title, &r.ResearcherEmail, &r.ResearcherName,
		timeScanner{&r.ReceivedAt}, timeScanner{&r.FirstResponseDue}, &status,
		&r.Encrypted, &r.Decrypted, &r.DecryptError,
		&sigStatus, &r.Signature.Fingerprint, &r.Signature.KeyID, &r.MessageID, &r.HeaderMessageID}
	if withBody {
		dest = append(dest, &r.Body)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	r.Status = triage.Status(status)
	r.Signature.Status = triage.SignatureStatus(sigStatus)
	return r, nil
}

// Reports lists reports, newest received first, without body or
// attachments. f.Limit defaults to DefaultReportLimit and is capped at
// MaxReportLimit. An unknown f.Status or a negative offset is EINVALID.
func (db *DB) Reports(ctx context.Context, f triage.ReportFilter) ([]*triage.Report, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, fmt.Errorf("db: reports: %w", triage.Errorf(triage.EINVALID, "unknown status %q", f.Status))
	}
	if f.Offset < 0 {
		return nil, fmt.Errorf("db: reports: %w", triage.Errorf(triage.EINVALID, "negative offset"))
	}
	if f.Limit <= 0 {
		f.Limit = DefaultReportLimit
	} else if f.Limit > MaxReportLimit {
		f.Limit = MaxReportLimit
	}
	var reports []*triage.Report
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		reports, err = findReports(ctx, tx, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: reports: %w", err)
	}
	return reports, nil
}

func findReports(ctx context.Context, tx *sql.Tx, f triage.ReportFilter) ([]*triage.Report, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	q := `SELECT ` + reportColumns + `, ` + workflowColumns + ` FROM reports`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, f.Limit, f.Offset)

	return queryReports(ctx, tx, q, args...)
}

// queryReports runs q, a SELECT of reportColumns and workflowColumns, and
// reads every row before it returns, so that the caller may then write
// to the tables it read (SQLite would see those writes mid-scan).
func queryReports(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]*triage.Report, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var reports []*triage.Report
	for rows.Next() {
		r, err := scanFullReport(rows, false)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	return reports, rows.Err()
}

// Report returns one report with its body, signatures, body parts and
// attachment metadata (no data), or an ENOTFOUND error.
func (db *DB) Report(ctx context.Context, id int64) (*triage.Report, error) {
	var r *triage.Report
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		if r, err = findReport(ctx, tx, id); err != nil {
			return err
		}
		if r.Attachments, err = findAttachments(ctx, tx, id); err != nil {
			return err
		}
		if r.Authentication, err = findAuthentication(ctx, tx, id); err != nil {
			return err
		}
		return findContent(ctx, tx, r)
	})
	if err != nil {
		return nil, fmt.Errorf("db: report: %w", err)
	}
	return r, nil
}

// findReport loads report id with its body and triage fields, and the ids
// of the reports merged into it, or returns ENOTFOUND.
func findReport(ctx context.Context, tx *sql.Tx, id int64) (*triage.Report, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+reportColumns+`, body, `+workflowColumns+` FROM reports WHERE id = ?`, id)
	r, err := scanFullReport(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, triage.Errorf(triage.ENOTFOUND, "report %d not found", id)
	} else if err != nil {
		return nil, err
	}
	r.Duplicates, err = queryIDs(ctx, tx, `SELECT id FROM reports WHERE duplicate_of = ? ORDER BY id`, id)
	return r, err
}

// findAttachments returns the attachment metadata of a report, in the
// order they were filed.
func findAttachments(ctx context.Context, tx *sql.Tx, reportID int64) ([]triage.Attachment, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, name, content_type, size, sha256
		FROM attachments WHERE report_id = ? ORDER BY id`, reportID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var as []triage.Attachment
	for rows.Next() {
		var a triage.Attachment
		if err := rows.Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.SHA256); err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	return as, rows.Err()
}

// Attachment returns attachment attachmentID of report reportID with its
// data, or an ENOTFOUND error (also when it belongs to another report).
func (db *DB) Attachment(ctx context.Context, reportID, attachmentID int64) (*triage.Attachment, error) {
	var a *triage.Attachment
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		a, err = findAttachment(ctx, tx, reportID, attachmentID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: attachment: %w", err)
	}
	return a, nil
}

func findAttachment(ctx context.Context, tx *sql.Tx, reportID, attachmentID int64) (*triage.Attachment, error) {
	a := &triage.Attachment{}
	err := tx.QueryRowContext(ctx, `SELECT id, name, content_type, size, sha256, data
		FROM attachments WHERE id = ? AND report_id = ?`, attachmentID, reportID).
		Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, triage.Errorf(triage.ENOTFOUND, "attachment %d of report %d not found", attachmentID, reportID)
	} else if err != nil {
		return nil, err
	}
	if a.Data == nil {
		a.Data = []byte{}
	}
	return a, nil
}
