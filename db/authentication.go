package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secinbox/secinbox/triage"
)

// insertAuthentication stores report id's sender checks, when there were
// any, in the transaction that files it.
func insertAuthentication(ctx context.Context, tx *sql.Tx, id int64, a triage.Authentication) error {
	if !a.Checked && a.ClaimsReplyTo == "" {
		return nil
	}
	domains := a.DKIMDomains
	if domains == nil {
		domains = []string{}
	}
	b, err := json.Marshal(domains)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO report_authentication
		(report_id, spf, spf_domain, dkim, dkim_domains, from_domain, dmarc_aligned, claims_reply_to)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, a.SPF, a.SPFDomain, a.DKIM, string(b), a.FromDomain, boolInt(a.DMARCAligned), a.ClaimsReplyTo)
	return err
}

// findAuthentication loads report id's sender checks (and a claimed
// tracking id); the zero value when it has none.
func findAuthentication(ctx context.Context, tx *sql.Tx, id int64) (triage.Authentication, error) {
	var a triage.Authentication
	var domains string
	err := tx.QueryRowContext(ctx, `SELECT spf, spf_domain, dkim, dkim_domains, from_domain, dmarc_aligned, claims_reply_to
		FROM report_authentication WHERE report_id = ?`, id).
		Scan(&a.SPF, &a.SPFDomain, &a.DKIM, &domains, &a.FromDomain, &a.DMARCAligned, &a.ClaimsReplyTo)
	if errors.Is(err, sql.ErrNoRows) {
		return triage.Authentication{}, nil
	} else if err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(domains), &a.DKIMDomains); err != nil {
		return a, fmt.Errorf("report %d: dkim domains: %w", id, err)
	}
	a.Checked = a.SPF != "" // a row for a claim alone has no verdicts
	return a, nil
}
