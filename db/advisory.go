package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// Advisories (migration 0012): drafted and edited by triagers, published
// with the documents made from them, which are kept byte for byte so
// that what was signed is what is served.

const advisoryColumns = `a.id, a.public_id, a.title, a.summary, a.products, a.cwe, a.refs, a.created_at,
	COALESCE(a.created_by, 0), a.updated_at, a.published_at, a.revisions,
	(SELECT COALESCE(json_group_array(report_id), '[]') FROM (SELECT report_id FROM advisory_reports WHERE advisory_id = a.id ORDER BY report_id))`

func scanAdvisory(row scanner) (*triage.Advisory, error) {
	a := &triage.Advisory{}
	var products, refs, revisions, reports string
	if err := row.Scan(&a.ID, &a.PublicID, &a.Title, &a.Summary, &products, &a.CWE, &refs, timeScanner{&a.CreatedAt},
		&a.CreatedBy, timeScanner{&a.UpdatedAt}, timeScanner{&a.PublishedAt}, &revisions, &reports); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		doc string
		v   any
	}{{products, &a.Products}, {refs, &a.Refs}, {revisions, &a.Revisions}, {reports, &a.ReportIDs}} {
		if err := json.Unmarshal([]byte(f.doc), f.v); err != nil {
			return nil, fmt.Errorf("advisory %d: %w", a.ID, err)
		}
	}
	for i := range a.Revisions {
		a.Revisions[i].Date = a.Revisions[i].Date.UTC()
	}
	return a, nil
}

func findAdvisory(ctx context.Context, tx *sql.Tx, where string, arg any) (*triage.Advisory, error) {
	a, err := scanAdvisory(tx.QueryRowContext(ctx, `SELECT `+advisoryColumns+` FROM advisories a WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, triage.Errorf(triage.ENOTFOUND, "advisory not found")
	}
	return a, err
}

// saveAdvisory writes a's fields and its reports.
func saveAdvisory(ctx context.Context, tx *sql.Tx, a *triage.Advisory) error {
	js := func(v any) string {
		b, _ := json.Marshal(v) // slices of plain values: cannot fail
		return string(b)
	}
	products, refs, revisions := a.Products, a.Refs, a.Revisions
	if products == nil {
		products = []triage.AdvisoryProduct{}
	}
	if refs == nil {
		refs = []string{}
	}
	if revisions == nil {
		revisions = []triage.AdvisoryRevision{}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE advisories SET title = ?, summary = ?, products = ?, cwe = ?, refs = ?,
		updated_at = ?, published_at = ?, revisions = ? WHERE id = ?`,
		a.Title, a.Summary, js(products), a.CWE, js(refs), formatTime(a.UpdatedAt), nullTime(a.PublishedAt), js(revisions), a.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM advisory_reports WHERE advisory_id = ?`, a.ID); err != nil {
		return err
	}
	for _, id := range a.ReportIDs {
		if err := reportExists(ctx, tx, id); triage.ErrorCode(err) == triage.ENOTFOUND {
			return triage.Errorf(triage.EINVALID, "report_ids: no report %d", id)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO advisory_reports (advisory_id, report_id) VALUES (?, ?)`, a.ID, id); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) auditAdvisory(ctx context.Context, tx *sql.Tx, a *triage.Advisory, action string, by triage.Actor, at time.Time, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["public_id"] = a.PublicID
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return db.addAudit(ctx, tx, &triage.AuditEvent{
		At: at, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: action,
		Target: fmt.Sprintf("advisory:%d", a.ID), Detail: string(b), RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
	})
}

// CreateAdvisory stores a new draft made of change c at now, giving it
// the next public id of now's year, and sets a's fields. Title and
// report_ids are required (EINVALID); an unknown report is EINVALID.
func (db *DB) CreateAdvisory(ctx context.Context, c triage.AdvisoryChange, by triage.Actor, now time.Time) (*triage.Advisory, error) {
	now = now.UTC()
	a := &triage.Advisory{CreatedAt: now, CreatedBy: by.UserID}
	if c.Title == nil || c.ReportIDs == nil {
		return nil, triage.Errorf(triage.EINVALID, "title and report_ids are required")
	}
	if err := a.Apply(c, now); err != nil {
		return nil, err
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		prefix := fmt.Sprintf("SA-%04d-", now.Year())
		var last sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT max(public_id) FROM advisories WHERE public_id LIKE ? || '%'`, prefix).Scan(&last); err != nil {
			return err
		}
		seq := 1
		if last.Valid {
			if _, err := fmt.Sscanf(strings.TrimPrefix(last.String, prefix), "%d", &seq); err != nil {
				return fmt.Errorf("advisory id %q: %w", last.String, err)
			}
			seq++
		}
		a.PublicID = triage.AdvisoryPublicID(now.Year(), seq)
		var createdBy any
		if by.UserID != 0 {
			createdBy = by.UserID
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO advisories (public_id, title, created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?)`,
			a.PublicID, a.Title, formatTime(now), createdBy, formatTime(now))
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := saveAdvisory(ctx, tx, a); err != nil {
			return err
		}
		return db.auditAdvisory(ctx, tx, a, "advisory.create", by, now, map[string]any{"reports": a.ReportIDs})
	})
	if err != nil {
		return nil, fmt.Errorf("db: create advisory: %w", err)
	}
	return a, nil
}

// Advisory returns advisory id, or ENOTFOUND.
func (db *DB) Advisory(ctx context.Context, id int64) (*triage.Advisory, error) {
	var a *triage.Advisory
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		a, err = findAdvisory(ctx, tx, `a.id = ?`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: advisory: %w", err)
	}
	return a, nil
}

// PublishedAdvisory returns the published advisory of public id pid, or
// ENOTFOUND (a draft is not found either).
func (db *DB) PublishedAdvisory(ctx context.Context, pid string) (*triage.Advisory, error) {
	var a *triage.Advisory
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		a, err = findAdvisory(ctx, tx, `a.public_id = ? AND a.published_at IS NOT NULL`, pid)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: advisory: %w", err)
	}
	return a, nil
}

// Advisories lists advisories, newest first: only the published ones
// when published is true, and only those covering report reportID when
// it is not 0.
func (db *DB) Advisories(ctx context.Context, published bool, reportID int64) ([]*triage.Advisory, error) {
	var out []*triage.Advisory
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q := `SELECT ` + advisoryColumns + ` FROM advisories a WHERE 1`
		var args []any
		if published {
			q += ` AND a.published_at IS NOT NULL`
		}
		if reportID != 0 {
			q += ` AND a.id IN (SELECT advisory_id FROM advisory_reports WHERE report_id = ?)`
			args = append(args, reportID)
		}
		rows, err := tx.QueryContext(ctx, q+` ORDER BY COALESCE(a.published_at, a.created_at) DESC, a.id DESC LIMIT 1000`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAdvisory(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: advisories: %w", err)
	}
	return out, nil
}

// UpdateAdvisory applies change c to advisory id at now (triage
// Advisory.Apply), audited, and returns it as stored. An edit of a
// published advisory is published again as its next version.
func (db *DB) UpdateAdvisory(ctx context.Context, id int64, c triage.AdvisoryChange, by triage.Actor, now time.Time) (*triage.Advisory, error) {
	var a *triage.Advisory
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if a, err = findAdvisory(ctx, tx, `a.id = ?`, id); err != nil {
			return err
		}
		if err := a.Apply(c, now); err != nil {
			return err
		}
		if err := saveAdvisory(ctx, tx, a); err != nil {
			return err
		}
		return db.auditAdvisory(ctx, tx, a, "advisory.update", by, now, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("db: update advisory: %w", err)
	}
	return a, nil
}

// PublishAdvisory stores the publication of a (its Revisions and
// PublishedAt already advanced by triage.Advisory.Publish) with its
// documents by kind, replacing the previous version's. In the same
// transaction it checks again that a was not edited meanwhile (updated
// at before, ECONFLICT otherwise) and that its reports may be published
// at now (triage.Advisory.CanPublish).
func (db *DB) PublishAdvisory(ctx context.Context, a *triage.Advisory, before time.Time, docs map[string][]byte, by triage.Actor, now time.Time) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := findAdvisory(ctx, tx, `a.id = ?`, a.ID)
		if err != nil {
			return err
		}
		if !cur.UpdatedAt.Equal(before) || cur.Version() != a.Version()-1 {
			return triage.Errorf(triage.ECONFLICT, "%s changed while it was being published: publish it again", a.PublicID)
		}
		var reports []*triage.Report
		deadlines := map[int64]*triage.Deadlines{}
		for _, id := range cur.ReportIDs {
			r, err := findReport(ctx, tx, id)
			if err != nil {
				return err
			}
			reports = append(reports, r)
			if deadlines[id], err = findDeadlines(ctx, tx, id); err != nil {
				return err
			}
		}
		if err := cur.CanPublish(reports, deadlines, now); err != nil {
			return err
		}
		if err := saveAdvisory(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM advisory_documents WHERE advisory_id = ?`, a.ID); err != nil {
			return err
		}
		for kind, body := range docs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO advisory_documents (advisory_id, kind, body) VALUES (?, ?, ?)`, a.ID, kind, body); err != nil {
				return err
			}
		}
		return db.auditAdvisory(ctx, tx, a, "advisory.publish", by, now, map[string]any{"version": a.Version()})
	})
	if err != nil {
		return fmt.Errorf("db: publish advisory: %w", err)
	}
	return nil
}

// AdvisoryDocument returns a published advisory's document of kind
// (csaf, csaf.asc, osv, cve:CVE-…), or ENOTFOUND.
func (db *DB) AdvisoryDocument(ctx context.Context, advisoryID int64, kind string) ([]byte, error) {
	var body []byte
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT d.body FROM advisory_documents d JOIN advisories a ON a.id = d.advisory_id
			WHERE d.advisory_id = ? AND d.kind = ? AND a.published_at IS NOT NULL`, advisoryID, kind).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "no such document")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: advisory document: %w", err)
	}
	return body, nil
}

// AdvisoryDocumentKinds lists the kinds of documents advisory id has.
func (db *DB) AdvisoryDocumentKinds(ctx context.Context, advisoryID int64) ([]string, error) {
	var kinds []string
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT kind FROM advisory_documents WHERE advisory_id = ? ORDER BY kind`, advisoryID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			kinds = append(kinds, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: advisory documents: %w", err)
	}
	return kinds, nil
}
