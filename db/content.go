package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/secinbox/secinbox/triage"
)

// Bounds on what one report may carry, so a hostile message cannot make a
// report page (which loads all of it) arbitrarily expensive. pgp caps a
// message at 1000 parts and 16 signatures; these are a backstop.
const (
	maxReportParts      = 2000
	maxReportSignatures = 100
)

// checkContent validates r.Signatures and r.Parts before they are stored:
// a part may only point at a signature that exists. It returns EINVALID.
func checkContent(r *triage.Report) error {
	if len(r.Parts) > maxReportParts {
		return triage.Errorf(triage.EINVALID, "%d body parts, at most %d", len(r.Parts), maxReportParts)
	}
	if len(r.Signatures) > maxReportSignatures {
		return triage.Errorf(triage.EINVALID, "%d signatures, at most %d", len(r.Signatures), maxReportSignatures)
	}
	for i, s := range r.Signatures {
		if s.Status == "" {
			return triage.Errorf(triage.EINVALID, "signature %d has no status", i)
		}
	}
	for i, p := range r.Parts {
		if p.Signature < 0 || p.Signature > len(r.Signatures) {
			return triage.Errorf(triage.EINVALID, "body part %d points at signature %d of %d", i, p.Signature, len(r.Signatures))
		}
	}
	return nil
}

// insertContent stores the signatures and body parts of report reportID.
// attIDs are the ids of the report's attachments in filing order: a
// part's Source (1 + index) is stored as the id it maps to, so the link
// names one file whatever else the report carries. A Source past them is
// EINVALID.
func insertContent(ctx context.Context, tx *sql.Tx, reportID int64, r *triage.Report, attIDs []int64) error {
	for i, s := range r.Signatures {
		parts := s.Parts
		if parts == nil {
			parts = []string{}
		}
		pj, err := json.Marshal(parts)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_signatures
			(report_id, idx, status, fingerprint, key_id, signer_user_id, from_matches, hash, signed_at, reason, parts)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			reportID, i, string(s.Status), s.Fingerprint, s.KeyID, s.SignerUserID, boolInt(s.FromMatches),
			s.Hash, nullTime(s.SignedAt), s.Reason, string(pj)); err != nil {
			return fmt.Errorf("signature %d: %w", i, err)
		}
	}
	for i, p := range r.Parts {
		if p.Source < 0 || p.Source > len(attIDs) {
			return triage.Errorf(triage.EINVALID, "body part %d points at attachment %d of %d", i, p.Source, len(attIDs))
		}
		var source sql.NullInt64
		if p.Source > 0 {
			source = sql.NullInt64{Int64: attIDs[p.Source-1], Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_parts
			(report_id, idx, path, content_type, text, from_html, encrypted, signature, source_attachment)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			reportID, i, p.Path, p.ContentType, p.Text, boolInt(p.FromHTML), boolInt(p.Encrypted), p.Signature, source); err != nil {
			return fmt.Errorf("body part %d: %w", i, err)
		}
	}
	return nil
}

// findContent loads r.Signatures and r.Parts, in message order; load
// r.Attachments first: a part's Source is found among them by id.
func findContent(ctx context.Context, tx *sql.Tx, r *triage.Report) error {
	rows, err := tx.QueryContext(ctx, `SELECT status, fingerprint, key_id, signer_user_id, from_matches,
		hash, signed_at, reason, parts FROM report_signatures WHERE report_id = ? ORDER BY idx`, r.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	r.Signatures = nil
	for rows.Next() {
		var (
			s      triage.Signature
			status string
			parts  string
		)
		if err := rows.Scan(&status, &s.Fingerprint, &s.KeyID, &s.SignerUserID, &s.FromMatches,
			&s.Hash, timeScanner{&s.SignedAt}, &s.Reason, &parts); err != nil {
			return err
		}
		s.Status = triage.SignatureStatus(status)
		if err := json.Unmarshal([]byte(parts), &s.Parts); err != nil {
			return fmt.Errorf("report %d: signature parts: %w", r.ID, err)
		}
		if len(s.Parts) == 0 {
			s.Parts = nil
		}
		r.Signatures = append(r.Signatures, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()

	rows, err = tx.QueryContext(ctx, `SELECT path, content_type, text, from_html, encrypted, signature, source_attachment
		FROM report_parts WHERE report_id = ? ORDER BY idx`, r.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	index := make(map[int64]int, len(r.Attachments))
	for i, a := range r.Attachments {
		index[a.ID] = i + 1
	}
	r.Parts = nil
	for rows.Next() {
		var (
			p      triage.BodyPart
			source sql.NullInt64
		)
		if err := rows.Scan(&p.Path, &p.ContentType, &p.Text, &p.FromHTML, &p.Encrypted, &p.Signature, &source); err != nil {
			return err
		}
		if source.Valid {
			p.Source = index[source.Int64] // 0 when that file is gone
		}
		r.Parts = append(r.Parts, p)
	}
	return rows.Err()
}

// UpdateReportSignatures replaces the signature results of report id
// (summary, Signatures and the parts they cover) after the message was
// verified again, for instance once the signer's key was found. The body
// text and everything else stay as filed. It returns ENOTFOUND for an
// unknown report and EINVALID for inconsistent content.
func (db *DB) UpdateReportSignatures(ctx context.Context, id int64, summary triage.Signature, sigs []triage.Signature, parts []triage.BodyPart) error {
	r := &triage.Report{ID: id, Signature: summary, Signatures: sigs, Parts: parts}
	if r.Signature.Status == "" {
		r.Signature.Status = triage.SignatureNone
	}
	if err := checkContent(r); err != nil {
		return fmt.Errorf("db: update report signatures: %w", err)
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reports SET sig_status = ?, sig_fingerprint = ?, sig_keyid = ?
			WHERE id = ?`, string(r.Signature.Status), r.Signature.Fingerprint, r.Signature.KeyID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return triage.Errorf(triage.ENOTFOUND, "report %d not found", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM report_signatures WHERE report_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM report_parts WHERE report_id = ?`, id); err != nil {
			return err
		}
		attIDs, err := queryIDs(ctx, tx, `SELECT id FROM attachments WHERE report_id = ? ORDER BY id`, id)
		if err != nil {
			return err
		}
		return insertContent(ctx, tx, id, r, attIDs)
	})
	if err != nil {
		return fmt.Errorf("db: update report signatures: %w", err)
	}
	return nil
}
