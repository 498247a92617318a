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
func insertContent(ctx context.Context, tx *sql.Tx, reportID int64, r *triage.Report) error {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_parts
			(report_id, idx, path, content_type, text, from_html, encrypted, signature)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			reportID, i, p.Path, p.ContentType, p.Text, boolInt(p.FromHTML), boolInt(p.Encrypted), p.Signature); err != nil {
			return fmt.Errorf("body part %d: %w", i, err)
		}
	}
	return nil
}

// findContent loads r.Signatures and r.Parts, in message order.
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

	rows, err = tx.QueryContext(ctx, `SELECT path, content_type, text, from_html, encrypted, signature
		FROM report_parts WHERE report_id = ? ORDER BY idx`, r.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	r.Parts = nil
	for rows.Next() {
		var p triage.BodyPart
		if err := rows.Scan(&p.Path, &p.ContentType, &p.Text, &p.FromHTML, &p.Encrypted, &p.Signature); err != nil {
			return err
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
		return insertContent(ctx, tx, id, r)
	})
	if err != nil {
		return fmt.Errorf("db: update report signatures: %w", err)
	}
	return nil
}
