package db

// Credit with consent, the hall of fame, and the status links of web
// submissions (issue 5).

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// checkLink refuses a link without a nonce or whose token hash is not a
// SHA-256 (triage.TokenHash): an empty hash would match nothing useful
// and collide with the next empty one.
func checkLink(nonce string, tokenHash []byte) error {
	if nonce == "" || len(tokenHash) != sha256.Size {
		return triage.Errorf(triage.EINVALID, "a link needs a nonce and a %d-byte token hash", sha256.Size)
	}
	return nil
}

// OfferCredit offers credit for report c.ReportID, or offers it again: a
// new nonce and token hash replace the old link (which stops working),
// offered_at/by and expires_at are the new offer's, and the researcher's
// choice, display name, link and any revocation stay. The advisory title
// stays unless c.AdvisoryTitle is set. It queues mail as QueueMail does
// (kind credit_offer, for this report; an empty subject becomes
// triage.ReplySubject) and audits the offer, all in one transaction,
// then sets mail.ID and fills c with the credit as stored. A zero
// c.OfferedAt is db.Now(); a zero c.ExpiresAt is
// triage.CreditOfferLifetime after it. A missing report is ENOTFOUND;
// an invalid mail or link EINVALID; a token hash in use ECONFLICT.
func (db *DB) OfferCredit(ctx context.Context, c *triage.Credit, nonce string, tokenHash []byte, mail *triage.OutMail, by triage.Actor) error {
	if err := checkLink(nonce, tokenHash); err != nil {
		return fmt.Errorf("db: offer credit: %w", err)
	}
	if mail == nil {
		return fmt.Errorf("db: offer credit: %w", triage.Errorf(triage.EINVALID, "no offer mail"))
	}
	if c.OfferedAt.IsZero() {
		c.OfferedAt = db.now()
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.OfferedAt.Add(triage.CreditOfferLifetime)
	}
	title := triage.CleanTitle(c.AdvisoryTitle)
	mail.Kind = triage.MailCreditOffer
	mail.ReportID = c.ReportID
	if mail.CreatedAt.IsZero() {
		mail.CreatedAt = c.OfferedAt
	}
	if err := checkMail(mail, true); err != nil {
		return fmt.Errorf("db: offer credit: %w", err)
	}
	var stored *triage.Credit
	err := db.writeAt(ctx, c.OfferedAt, func(ctx context.Context, tx *sql.Tx) error {
		if err := reportExists(ctx, tx, c.ReportID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO credits
			(report_id, nonce, token_hash, offered_at, offered_by, expires_at, advisory_title)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (report_id) DO UPDATE SET
				nonce = excluded.nonce, token_hash = excluded.token_hash,
				offered_at = excluded.offered_at, offered_by = excluded.offered_by,
				expires_at = excluded.expires_at,
				advisory_title = CASE WHEN excluded.advisory_title <> '' THEN excluded.advisory_title ELSE advisory_title END`,
			c.ReportID, nonce, tokenHash, formatTime(c.OfferedAt), nullID(c.OfferedBy), formatTime(c.ExpiresAt), title)
		if err != nil {
			if isUnique(err) {
				return triage.Errorf(triage.ECONFLICT, "that credit link token is already in use")
			}
			return err
		}
		if stored, err = findCredit(ctx, tx, `c.report_id = ?`, c.ReportID); err != nil {
			return err
		}
		mail.TrackingID = stored.TrackingID
		if mail.Subject == "" {
			mail.Subject = triage.ReplySubject(stored.TrackingID)
		}
		if err := db.queueMail(ctx, tx, mail); err != nil {
			return err
		}
		detail, err := json.Marshal(map[string]any{"expires_at": formatTime(c.ExpiresAt), "mail": mail.ID})
		if err != nil {
			return err
		}
		return db.addAudit(ctx, tx, &triage.AuditEvent{
			At: c.OfferedAt, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditCreditOffer,
			Target: fmt.Sprintf("report:%d", c.ReportID), Detail: string(detail),
			RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
		})
	})
	if err != nil {
		mail.ID = 0
		return fmt.Errorf("db: offer credit: %w", err)
	}
	*c = *stored
	return nil
}

// creditColumns are the columns findCreditNonce scans, from credits c joined
// with reports r.
const creditColumns = `c.report_id, r.tracking_id, c.offered_at, COALESCE(c.offered_by, 0), c.expires_at,
	c.choice, c.display_name, c.link, c.chosen_at, c.revoked_at, c.advisory_title, c.nonce`

// findCreditNonce returns the one credit that where selects (over
// credits c joined with reports r), or ENOTFOUND, with its link's nonce.
func findCreditNonce(ctx context.Context, tx *sql.Tx, where string, arg any) (*triage.Credit, string, error) {
	c := &triage.Credit{}
	var choice, nonce string
	err := tx.QueryRowContext(ctx, `SELECT `+creditColumns+`
		FROM credits c JOIN reports r ON r.id = c.report_id WHERE `+where, arg).
		Scan(&c.ReportID, &c.TrackingID, timeScanner{&c.OfferedAt}, &c.OfferedBy, timeScanner{&c.ExpiresAt},
			&choice, &c.DisplayName, &c.Link, timeScanner{&c.ChosenAt}, timeScanner{&c.RevokedAt},
			&c.AdvisoryTitle, &nonce)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", triage.Errorf(triage.ENOTFOUND, "no credit offer found")
	} else if err != nil {
		return nil, "", err
	}
	c.Choice = triage.CreditChoice(choice)
	return c, nonce, nil
}

// findCredit is findCreditNonce without the nonce.
func findCredit(ctx context.Context, tx *sql.Tx, where string, arg any) (*triage.Credit, error) {
	c, _, err := findCreditNonce(ctx, tx, where, arg)
	return c, err
}

// Credit returns the credit offered for report reportID, or ENOTFOUND
// when none was offered (or there is no such report).
func (db *DB) Credit(ctx context.Context, reportID int64) (*triage.Credit, error) {
	var c *triage.Credit
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		c, err = findCredit(ctx, tx, `c.report_id = ?`, reportID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: credit: %w", err)
	}
	return c, nil
}

// CreditByTokenHash returns the credit whose current link has token
// hash hash, or ENOTFOUND (an old link, replaced by a new offer, finds
// nothing). It does not check expiry: the caller compares ExpiresAt.
func (db *DB) CreditByTokenHash(ctx context.Context, hash []byte) (*triage.Credit, error) {
	var c *triage.Credit
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		c, err = findCredit(ctx, tx, `c.token_hash = ?`, blob(hash))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: credit by token: %w", err)
	}
	return c, nil
}

// CreditLink returns the nonce of report reportID's credit link (the
// mail sender derives the token from it) and the credit, or ENOTFOUND.
func (db *DB) CreditLink(ctx context.Context, reportID int64) (string, *triage.Credit, error) {
	var (
		c     *triage.Credit
		nonce string
	)
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		c, nonce, err = findCreditNonce(ctx, tx, `c.report_id = ?`, reportID)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("db: credit link: %w", err)
	}
	return nonce, c, nil
}

// ChooseCredit records the researcher's choice for report reportID:
// choice must be name, handle, anonymous or none and name and link pass
// triage.CleanCredit (EINVALID otherwise). It refuses an expired link
// with EFORBIDDEN (the link no longer grants the right to choose), and
// ENOTFOUND without an offer. The link then works until
// triage.CreditLinkLifetime after now, and a revocation is cleared.
// Audited with the researcher as actor.
func (db *DB) ChooseCredit(ctx context.Context, reportID int64, choice triage.CreditChoice, name, link string, now time.Time) error {
	if err := db.chooseCredit(ctx, reportID, choice, name, link, nil, now); err != nil {
		return fmt.Errorf("db: choose credit: %w", err)
	}
	return nil
}

// RecordCredit records, on behalf of the researcher, the choice they
// made by mail: as ChooseCredit, but by a staff member (audited as
// them) and whether or not the link has expired. ENOTFOUND without an
// offer: credit is always offered first.
func (db *DB) RecordCredit(ctx context.Context, reportID int64, choice triage.CreditChoice, name, link string, by triage.Actor, now time.Time) error {
	if err := db.chooseCredit(ctx, reportID, choice, name, link, &by, now); err != nil {
		return fmt.Errorf("db: record credit: %w", err)
	}
	return nil
}

// chooseCredit is ChooseCredit (by nil: the researcher, through the
// link, which must not have expired) and RecordCredit (by: staff).
func (db *DB) chooseCredit(ctx context.Context, reportID int64, choice triage.CreditChoice, name, link string, by *triage.Actor, now time.Time) error {
	choice, err := triage.ParseCreditChoice(string(choice))
	if err != nil {
		return err
	}
	if name, link, err = triage.CleanCredit(choice, name, link); err != nil {
		return err
	}
	now = now.UTC()
	return db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		c, err := findCredit(ctx, tx, `c.report_id = ?`, reportID)
		if err != nil {
			return err
		}
		if by == nil && !now.Before(c.ExpiresAt) {
			return triage.Errorf(triage.EFORBIDDEN, "this credit link has expired")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credits SET choice = ?, display_name = ?, link = ?,
			chosen_at = ?, revoked_at = NULL, expires_at = ? WHERE report_id = ?`,
			string(choice), name, link, formatTime(now), formatTime(now.Add(triage.CreditLinkLifetime)), reportID); err != nil {
			return err
		}
		ev := &triage.AuditEvent{
			At: now, ActorEmail: triage.ActorResearcher, Action: triage.AuditCreditChoice,
			Target: fmt.Sprintf("report:%d", reportID), Detail: fmt.Sprintf(`{"choice":%q}`, string(choice)),
		}
		if by != nil {
			ev.ActorID, ev.ActorEmail, ev.RemoteAddr, ev.UserAgent = by.UserID, actorEmail(*by), by.RemoteAddr, by.UserAgent
			ev.Detail = fmt.Sprintf(`{"choice":%q,"on_behalf_of":"researcher"}`, string(choice))
		}
		return db.addAudit(ctx, tx, ev)
	})
}

// RevokeCredit records that the researcher withdrew consent for report
// reportID at now: nothing about it is published any more, until a new
// choice. It works even on an expired link (withdrawing consent is never
// refused); ENOTFOUND without an offer. Audited with the researcher as
// actor.
func (db *DB) RevokeCredit(ctx context.Context, reportID int64, now time.Time) error {
	now = now.UTC()
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		if err := updateCredit(ctx, tx, reportID, `revoked_at = ?`, formatTime(now)); err != nil {
			return err
		}
		return db.addAudit(ctx, tx, &triage.AuditEvent{
			At: now, ActorEmail: triage.ActorResearcher, Action: triage.AuditCreditRevoke,
			Target: fmt.Sprintf("report:%d", reportID),
		})
	})
	if err != nil {
		return fmt.Errorf("db: revoke credit: %w", err)
	}
	return nil
}

// updateCredit sets one column of report reportID's credit, or returns
// ENOTFOUND when none was offered.
func updateCredit(ctx context.Context, tx *sql.Tx, reportID int64, set string, value any) error {
	res, err := tx.ExecContext(ctx, `UPDATE credits SET `+set+` WHERE report_id = ?`, value, reportID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return triage.Errorf(triage.ENOTFOUND, "no credit offer for report %d", reportID)
	}
	return nil
}

// SetAdvisoryTitle sets the public title of report reportID's credit,
// cleaned by triage.CleanTitle ("": the hall of fame shows the tracking
// id once disclosed, never the report's title), audited with the new
// title. ENOTFOUND without an offer.
func (db *DB) SetAdvisoryTitle(ctx context.Context, reportID int64, title string, by triage.Actor) error {
	title = triage.CleanTitle(title)
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := updateCredit(ctx, tx, reportID, `advisory_title = ?`, title); err != nil {
			return err
		}
		detail, err := json.Marshal(map[string]string{"title": title})
		if err != nil {
			return err
		}
		return db.addAudit(ctx, tx, &triage.AuditEvent{
			ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditAdvisoryTitle,
			Target: fmt.Sprintf("report:%d", reportID), Detail: string(detail),
			RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
		})
	})
	if err != nil {
		return fmt.Errorf("db: set advisory title: %w", err)
	}
	return nil
}

// HallOfFame builds the public hall of fame in one query: published
// credits (a name, handle or anonymous choice, not revoked) of reports
// in triage.HallStatuses, grouped by the year the report was received.
// Named credits are grouped by researcher (address, case-insensitive),
// under the display name and link of their latest choice that year;
// anonymous ones are only counted. The query never returns a report's
// own title, which comes from what the researcher sent (often the
// encrypted, protected Subject): only disclosed reports yield an
// advisory, the title staff set for the public or, without one, the
// tracking id.
func (db *DB) HallOfFame(ctx context.Context) (*triage.HallOfFame, error) {
	args := []any{string(triage.StatusDisclosed)}
	marks := make([]string, len(triage.HallStatuses))
	for i, s := range triage.HallStatuses {
		args, marks[i] = append(args, string(s)), "?"
	}
	h := &triage.HallOfFame{}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Ordered by year, researcher, then choice time: the last named
		// row of a researcher's year carries the name to show. A report
		// without a sender address stands alone.
		rows, err := tx.QueryContext(ctx, `SELECT CAST(substr(r.received_at, 1, 4) AS INTEGER),
			CASE WHEN r.researcher_email = '' THEN 'report:' || r.id ELSE lower(r.researcher_email) END,
			c.choice, c.display_name, c.link, c.chosen_at, r.received_at,
			CASE WHEN r.status = ? THEN CASE WHEN c.advisory_title <> '' THEN c.advisory_title ELSE r.tracking_id END ELSE '' END,
			COALESCE((SELECT a.public_id FROM advisory_reports ar JOIN advisories a ON a.id = ar.advisory_id
				WHERE ar.report_id = r.id AND a.published_at IS NOT NULL ORDER BY a.published_at, a.id LIMIT 1), '')
			FROM credits c JOIN reports r ON r.id = c.report_id
			WHERE c.revoked_at IS NULL AND c.choice IN ('name', 'handle', 'anonymous')
				AND r.status IN (`+strings.Join(marks, ", ")+`)
			ORDER BY 1 DESC, 2, c.chosen_at, r.received_at, r.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			year       *triage.HallYear
			entry      *triage.HallEntry
			who        string
			advisories []advisory
		)
		endEntry := func() {
			if entry == nil {
				return
			}
			slices.SortStableFunc(advisories, func(a, b advisory) int { return a.received.Compare(b.received) })
			linked := false
			for _, a := range advisories {
				entry.Advisories = append(entry.Advisories, a.title)
				entry.AdvisoryIDs = append(entry.AdvisoryIDs, a.publicID)
				linked = linked || a.publicID != ""
			}
			if !linked {
				entry.AdvisoryIDs = nil
			}
			year.Entries = append(year.Entries, *entry)
			entry, advisories = nil, nil
		}
		endYear := func() {
			endEntry()
			if year != nil {
				sortHallEntries(year.Entries)
			}
		}
		for rows.Next() {
			var (
				y                                 int
				key, choice, name, link, advTitle string
				advID                             string
				chosen, received                  time.Time
			)
			if err := rows.Scan(&y, &key, &choice, &name, &link, timeScanner{&chosen}, timeScanner{&received}, &advTitle, &advID); err != nil {
				return err
			}
			if chosen.After(h.Updated) {
				h.Updated = chosen
			}
			if year == nil || year.Year != y {
				endYear()
				h.Years = append(h.Years, triage.HallYear{Year: y})
				year = &h.Years[len(h.Years)-1]
			}
			if !triage.CreditChoice(choice).Named() {
				year.Anonymous++
				continue
			}
			if entry == nil || who != key {
				endEntry()
				entry, who = &triage.HallEntry{}, key
			}
			entry.Name, entry.Link = name, link
			entry.Count++
			if advTitle != "" {
				advisories = append(advisories, advisory{advTitle, advID, received})
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		endYear()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: hall of fame: %w", err)
	}
	return h, nil
}

// advisory is a disclosed report's public title, the public id of the
// published advisory covering it ("" for none), and when it was received.
type advisory struct {
	title    string
	publicID string
	received time.Time
}

// sortHallEntries orders a year's entries by count, most first, then by
// name (case-insensitive, then exact, so the order is stable).
func sortHallEntries(es []triage.HallEntry) {
	slices.SortStableFunc(es, func(a, b triage.HallEntry) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// AddWebSubmission stores raw, a report from the web form already
// encrypted to the team key, with its status link and an audit record,
// in one durable transaction, and sets raw.ID. The link's token is
// triage.LinkToken(key, triage.LinkStatus, raw.ID, nonce), so its hash
// depends on the id the insert assigns: tokenHash is called inside the
// transaction with that id.
func (db *DB) AddWebSubmission(ctx context.Context, raw *triage.RawMessage, nonce string, tokenHash func(rawID int64) []byte) error {
	if nonce == "" || tokenHash == nil {
		return fmt.Errorf("db: add web submission: %w", triage.Errorf(triage.EINVALID, "a status link needs a nonce and a token"))
	}
	now := db.now()
	if raw.ReceivedAt.IsZero() {
		raw.ReceivedAt = now
	}
	raw.ReceivedAt = raw.ReceivedAt.UTC()
	var id int64
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) (err error) {
		raw.StoredAt = txNow(ctx)
		if id, err = insertRawMessage(ctx, tx, raw); err != nil {
			return err
		}
		hash := tokenHash(id)
		if err := checkLink(nonce, hash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_links (raw_message_id, nonce, token_hash, created_at)
			VALUES (?, ?, ?, ?)`, id, nonce, hash, formatTime(raw.ReceivedAt)); err != nil {
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

// StatusLink returns the raw message whose status link has token hash
// hash, and the report filed from it (0 while intake has not filed it
// yet), or ENOTFOUND.
func (db *DB) StatusLink(ctx context.Context, hash []byte) (rawID, reportID int64, err error) {
	err = db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT s.raw_message_id, COALESCE(r.id, 0)
			FROM status_links s LEFT JOIN reports r ON r.message_id = s.raw_message_id
			WHERE s.token_hash = ?`, blob(hash)).Scan(&rawID, &reportID)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "no such status link")
		}
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("db: status link: %w", err)
	}
	return rawID, reportID, nil
}

// StatusLinkNonce returns the nonce of the status link of the web
// submission stored as raw message rawID (the mail sender derives the
// link's token from it), or ENOTFOUND when the message did not come
// through the web form.
func (db *DB) StatusLinkNonce(ctx context.Context, rawID int64) (string, error) {
	var nonce string
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT nonce FROM status_links WHERE raw_message_id = ?`, rawID).Scan(&nonce)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "message %d has no status link", rawID)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("db: status link nonce: %w", err)
	}
	return nonce, nil
}
