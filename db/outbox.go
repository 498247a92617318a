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

// Limits on the outbox.
const (
	// DefaultMailLimit and MaxMailLimit bound PendingMail and Outbox.
	DefaultMailLimit = 100
	MaxMailLimit     = 1000
	// maxMailBody backstops the body of a queued mail: a staff reply is
	// at most triage.MaxMessageBytes, a notification far less.
	maxMailBody = 1 << 20
	// maxHeaderID is the longest Message-ID stored: RFC 5322's line limit.
	maxHeaderID = 998
	// maxMailError bounds the last error kept for a mail.
	maxMailError = 1000
)

// validMailKind reports whether k is one of the outbox kinds.
func validMailKind(k triage.MailKind) bool {
	switch k {
	case triage.MailAck, triage.MailReply, triage.MailCreditOffer, triage.MailNotification:
		return true
	}
	return false
}

// validHeaderID reports whether id is a Message-ID fit for a header we
// write: "<...>", no white space or control characters (so no header
// injection), at most maxHeaderID bytes.
func validHeaderID(id string) bool {
	return len(id) > 2 && len(id) <= maxHeaderID && id[0] == '<' && id[len(id)-1] == '>' &&
		!strings.ContainsFunc(id[1:len(id)-1], func(r rune) bool { return r <= 0x20 || r == 0x7f || r == '<' || r == '>' })
}

// headerMessageID is the Message-ID of an incoming mail as stored for
// threading: "" when it is not a plausible one. Only threading needs it,
// and the raw message keeps the original.
func headerMessageID(id string) string {
	if !validHeaderID(id) {
		return ""
	}
	return id
}

// checkMail validates m before it is queued and normalizes its address.
// It returns EINVALID. An empty subject is allowed only when allowNoSubject
// (the acknowledgement's is set once the tracking id exists).
func checkMail(m *triage.OutMail, allowNoSubject bool) error {
	if !validMailKind(m.Kind) {
		return triage.Errorf(triage.EINVALID, "unknown mail kind %q", m.Kind)
	}
	to, err := triage.ValidAddress(m.To)
	if err != nil {
		return err
	}
	m.To = to
	if m.Subject != "" || !allowNoSubject {
		if m.Subject == "" {
			return triage.Errorf(triage.EINVALID, "mail has no subject")
		}
		if err := triage.ValidSubject(m.Subject); err != nil {
			return err
		}
	}
	if len(m.Body) > maxMailBody {
		return triage.Errorf(triage.EINVALID, "mail body longer than %d KiB", maxMailBody>>10)
	}
	if !validHeaderID(m.HeaderMessageID) {
		return triage.Errorf(triage.EINVALID, "invalid Message-ID %q", cut(m.HeaderMessageID, 80))
	}
	if m.InReplyTo != "" && !validHeaderID(m.InReplyTo) {
		return triage.Errorf(triage.EINVALID, "invalid In-Reply-To %q", cut(m.InReplyTo, 80))
	}
	if len(m.References) > triage.MaxReferences {
		return triage.Errorf(triage.EINVALID, "%d references, at most %d", len(m.References), triage.MaxReferences)
	}
	for _, ref := range m.References {
		if !validHeaderID(ref) {
			return triage.Errorf(triage.EINVALID, "invalid reference %q", cut(ref, 80))
		}
	}
	return nil
}

// checkAck validates an acknowledgement before FileReportAck files the
// report, so an unusable ack is refused before anything is stored.
func checkAck(m *triage.OutMail) error {
	if m.Kind == "" {
		m.Kind = triage.MailAck
	}
	if m.Kind != triage.MailAck {
		return triage.Errorf(triage.EINVALID, "an acknowledgement must be of kind %s, not %s", triage.MailAck, m.Kind)
	}
	return checkMail(m, true)
}

// QueueMail stores m in the outbox, queued with its next try at
// m.CreatedAt (db.Now() when zero), and sets m.ID and m.State. An invalid
// mail (address, subject, header ids, kind) is EINVALID; a second
// acknowledgement of a report, or a Message-ID already used, ECONFLICT;
// an unknown report ENOTFOUND.
func (db *DB) QueueMail(ctx context.Context, m *triage.OutMail) error {
	if err := checkMail(m, false); err != nil {
		return fmt.Errorf("db: queue mail: %w", err)
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if m.ReportID != 0 {
			if err := reportExists(ctx, tx, m.ReportID); err != nil {
				return err
			}
		}
		return db.queueMail(ctx, tx, m)
	})
	if err != nil {
		m.ID = 0
		return fmt.Errorf("db: queue mail: %w", err)
	}
	return nil
}

// queueMail is QueueMail inside a write transaction, for the methods that
// queue mail with what it is about (a reply, a credit offer): m must have
// passed checkMail. A unique violation is ECONFLICT.
func (db *DB) queueMail(ctx context.Context, tx *sql.Tx, m *triage.OutMail) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = txNow(ctx)
	}
	err := insertMail(ctx, tx, m)
	if isUnique(err) {
		if m.Kind == triage.MailAck {
			return triage.Errorf(triage.ECONFLICT, "report %d is already acknowledged", m.ReportID)
		}
		return triage.Errorf(triage.ECONFLICT, "mail %s is already queued", m.HeaderMessageID)
	}
	return err
}

// insertMail inserts m, already validated, as queued and sets m.ID.
func insertMail(ctx context.Context, tx *sql.Tx, m *triage.OutMail) error {
	m.CreatedAt = m.CreatedAt.UTC()
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (kind, report_id, message_id, notification_id,
		mail_to, subject, body, header_message_id, in_reply_to, refs, author_id, created_at,
		state, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?)`,
		string(m.Kind), nullID(m.ReportID), nullID(m.MessageID), nullID(m.NotificationID),
		m.To, m.Subject, m.Body, m.HeaderMessageID, m.InReplyTo, strings.Join(m.References, " "), nullID(m.AuthorID),
		formatTime(m.CreatedAt), formatTime(m.CreatedAt))
	if err != nil {
		return err
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	m.State, m.Attempts, m.NextAttempt = triage.DeliveryQueued, 0, m.CreatedAt
	m.LastError, m.SentAt, m.Encrypted, m.Via = "", time.Time{}, false, ""
	return nil
}

// nullID is id, or NULL for 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// mailColumns are the columns scanMail reads, from outbox o LEFT JOIN
// reports r.
const mailColumns = `o.id, o.kind, COALESCE(o.report_id, 0), COALESCE(r.tracking_id, ''),
	COALESCE(o.message_id, 0), COALESCE(o.notification_id, 0), o.mail_to, o.subject, o.body,
	o.header_message_id, o.in_reply_to, o.refs, COALESCE(o.author_id, 0), o.created_at,
	o.state, o.attempts, o.next_attempt_at, o.last_error, o.sent_at, o.encrypted, o.via`

const mailFrom = ` FROM outbox o LEFT JOIN reports r ON r.id = o.report_id`

func scanMail(row scanner) (*triage.OutMail, error) {
	m := &triage.OutMail{}
	var kind, state, refs string
	if err := row.Scan(&m.ID, &kind, &m.ReportID, &m.TrackingID, &m.MessageID, &m.NotificationID,
		&m.To, &m.Subject, &m.Body, &m.HeaderMessageID, &m.InReplyTo, &refs, &m.AuthorID,
		timeScanner{&m.CreatedAt}, &state, &m.Attempts, timeScanner{&m.NextAttempt}, &m.LastError,
		timeScanner{&m.SentAt}, &m.Encrypted, &m.Via); err != nil {
		return nil, err
	}
	m.Kind, m.State = triage.MailKind(kind), triage.Delivery(state)
	m.References = strings.Fields(refs)
	return m, nil
}

func queryMail(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]*triage.OutMail, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []*triage.OutMail
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// mailLimit applies the default and the cap to a list limit.
func mailLimit(limit int) int {
	if limit <= 0 {
		return DefaultMailLimit
	}
	return min(limit, MaxMailLimit)
}

// CountMail counts outbox mail of kind created at or after since, to the
// address to ("" for any address). It counts every state: a refused mail
// was still an attempt to write to someone.
func (db *DB) CountMail(ctx context.Context, kind triage.MailKind, to string, since time.Time) (int, error) {
	q := `SELECT count(*) FROM outbox WHERE kind = ? AND created_at >= ?`
	args := []any{string(kind), formatTime(since)}
	if to != "" {
		if a, err := triage.ValidAddress(to); err == nil {
			to = a // stored addresses are normalized the same way
		}
		q += ` AND mail_to = ?`
		args = append(args, to)
	}
	var n int
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, q, args...).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("db: count mail: %w", err)
	}
	return n, nil
}

// PendingMail returns up to limit (DefaultMailLimit when 0, at most
// MaxMailLimit) queued mails due for a try at now, the longest due first.
func (db *DB) PendingMail(ctx context.Context, now time.Time, limit int) ([]*triage.OutMail, error) {
	var ms []*triage.OutMail
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		ms, err = queryMail(ctx, tx, `SELECT `+mailColumns+mailFrom+`
			WHERE o.state = 'queued' AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?`,
			formatTime(now), mailLimit(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: pending mail: %w", err)
	}
	return ms, nil
}

// ClaimMail records, before mail id is handed to the relay (or the
// maildir), that a try begins at now: the mail stays queued but is not
// due again before until, and its last error says that the outcome of a
// try begun at now was not recorded. MarkMail replaces both. So when the
// sender stops (a crash, or its store failing until it does) between the
// relay's answer and MarkMail, the mail is not sent again at the next
// start but only once until has passed, and staff see why it waits.
// ENOTFOUND for an unknown mail; ECONFLICT for one that is not queued or
// not due at now (another try claimed it).
func (db *DB) ClaimMail(ctx context.Context, id int64, now, until time.Time) error {
	now = now.UTC()
	note := fmt.Sprintf("a try began at %s and its outcome was not recorded: the relay may have taken it; tried again from %s",
		now.Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?, last_error = ?
			WHERE id = ? AND state = 'queued' AND next_attempt_at <= ?`, formatTime(until), note, id, formatTime(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var state string
		err = tx.QueryRowContext(ctx, `SELECT state FROM outbox WHERE id = ?`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "mail %d not found", id)
		} else if err != nil {
			return err
		}
		return triage.Errorf(triage.ECONFLICT, "mail %d is %s and not due: another try has it", id, state)
	})
	if err != nil {
		return fmt.Errorf("db: claim mail: %w", err)
	}
	return nil
}

// MarkMail records a try at sending mail id at now: sent (with how and
// whether encrypted); failed when a.Permanent or after
// triage.MaxMailAttempts tries; else queued again after
// triage.MailBackoff(attempts). ENOTFOUND for an unknown mail, ECONFLICT
// for one that is not queued (a try raced with another).
func (db *DB) MarkMail(ctx context.Context, id int64, a triage.MailAttempt, now time.Time) error {
	now = now.UTC()
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		var state string
		var attempts int
		err := tx.QueryRowContext(ctx, `SELECT state, attempts FROM outbox WHERE id = ?`, id).Scan(&state, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "mail %d not found", id)
		} else if err != nil {
			return err
		}
		if triage.Delivery(state) != triage.DeliveryQueued {
			return triage.Errorf(triage.ECONFLICT, "mail %d is %s, not queued", id, state)
		}
		attempts++
		via := cut(a.Via, triage.MaxAuditField)
		if a.Err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'sent', attempts = ?, sent_at = ?,
				last_error = '', encrypted = ?, via = ? WHERE id = ?`,
				attempts, formatTime(now), boolInt(a.Encrypted), via, id)
			return err
		}
		msg := cut(a.Err.Error(), maxMailError)
		if a.Permanent || attempts >= triage.MaxMailAttempts {
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'failed', attempts = ?, last_error = ?,
				encrypted = ?, via = ? WHERE id = ?`, attempts, msg, boolInt(a.Encrypted), via, id)
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?,
			encrypted = ?, via = ? WHERE id = ?`,
			attempts, formatTime(now.Add(triage.MailBackoff(attempts))), msg, boolInt(a.Encrypted), via, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: mark mail: %w", err)
	}
	return nil
}

// Outbox lists outgoing mail, newest first, with f.Limit defaulting to
// DefaultMailLimit and capped at MaxMailLimit. An unknown f.State is
// EINVALID.
func (db *DB) Outbox(ctx context.Context, f triage.OutboxFilter) ([]*triage.OutMail, error) {
	q, args, err := outboxQuery(f)
	if err != nil {
		return nil, fmt.Errorf("db: outbox: %w", err)
	}
	var ms []*triage.OutMail
	err = db.read(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		ms, err = queryMail(ctx, tx, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: outbox: %w", err)
	}
	return ms, nil
}

// outboxQuery is Outbox's query for f. The indexes outbox_created and
// outbox_state_created give its order without sorting the whole outbox
// (TestOutbox_QueryPlans).
func outboxQuery(f triage.OutboxFilter) (string, []any, error) {
	var (
		where []string
		args  []any
	)
	switch f.State {
	case "":
	case triage.DeliveryQueued, triage.DeliverySent, triage.DeliveryFailed:
		where = append(where, `o.state = ?`)
		args = append(args, string(f.State))
	default:
		return "", nil, triage.Errorf(triage.EINVALID, "unknown delivery state %q", f.State)
	}
	if f.ReportID != 0 {
		where = append(where, `o.report_id = ?`)
		args = append(args, f.ReportID)
	}
	if f.Kind != "" {
		where = append(where, `o.kind = ?`)
		args = append(args, string(f.Kind))
	}
	q := `SELECT ` + mailColumns + mailFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.Offset < 0 || f.Offset > triage.MaxOutboxOffset {
		return "", nil, triage.Errorf(triage.EINVALID, "offset must be between 0 and %d", triage.MaxOutboxOffset)
	}
	q += ` ORDER BY o.created_at DESC, o.id DESC LIMIT ? OFFSET ?`
	return q, append(args, mailLimit(f.Limit), f.Offset), nil
}

// RetryMail puts failed mail id back in the queue, due at now with its
// attempts reset, and audits it. ENOTFOUND for an unknown mail, ECONFLICT
// unless it failed.
func (db *DB) RetryMail(ctx context.Context, id int64, by triage.Actor, now time.Time) error {
	now = now.UTC()
	err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		var state string
		var reportID int64
		err := tx.QueryRowContext(ctx, `SELECT state, COALESCE(report_id, 0) FROM outbox WHERE id = ?`, id).Scan(&state, &reportID)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "mail %d not found", id)
		} else if err != nil {
			return err
		}
		if triage.Delivery(state) != triage.DeliveryFailed {
			return triage.Errorf(triage.ECONFLICT, "mail %d is %s: only failed mail can be retried", id, state)
		}
		// The last error stays until the next try replaces it: staff see
		// why the mail failed while it waits.
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?
			WHERE id = ?`, formatTime(now), id); err != nil {
			return err
		}
		target := fmt.Sprintf("mail:%d", id)
		if reportID != 0 {
			target = fmt.Sprintf("report:%d", reportID)
		}
		return db.addAudit(ctx, tx, &triage.AuditEvent{
			At: now, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditMailRetry,
			Target: target, Detail: fmt.Sprintf(`{"mail":%d}`, id),
			RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
		})
	})
	if err != nil {
		return fmt.Errorf("db: retry mail: %w", err)
	}
	return nil
}
