package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// The conversation with researchers (issue 5): messages after the one a
// report was filed from, threading replies into reports, and staff
// replies. The outbox that delivers mail is outbox.go.

// Bounds on the conversation.
const (
	// maxThreadIDs bounds the Message-IDs ReportByMessageIDs looks up:
	// In-Reply-To and References of a hostile mail can be long.
	maxThreadIDs = 100
	// maxConversation bounds Messages: the newest ones are listed.
	maxConversation = 1000
	// maxMessageAttachments backstops the files of one message; pgp
	// bounds a message's parts far lower.
	maxMessageAttachments = 1000
)

// FileReportAck is FileReport, also queueing ack (when not nil) in the
// same transaction once the report has its id and tracking id: it sets
// ack.ID, ack.ReportID and ack.TrackingID, and ack.Subject to
// triage.AckSubject when empty. The ack is queued with its next try at
// ack.CreatedAt (db.Now() when zero). An invalid ack is EINVALID and
// nothing is stored; filing a message twice is ECONFLICT and queues no
// second ack.
func (db *DB) FileReportAck(ctx context.Context, r *triage.Report, ack *triage.OutMail) error {
	if err := db.fileReport(ctx, r, ack); err != nil {
		return fmt.Errorf("db: file report: %w", err)
	}
	return nil
}

// ReportByMessageIDs returns the id of the report whose first message,
// conversation (either direction) or outgoing mail has one of ids (with
// angle brackets) as Message-ID, or ENOTFOUND. The earliest id in ids
// that matches decides, so pass In-Reply-To before References. Only the
// first maxThreadIDs plausible ids are looked up.
func (db *DB) ReportByMessageIDs(ctx context.Context, ids []string) (int64, error) {
	var look []string
	for _, id := range ids {
		if len(look) == maxThreadIDs {
			break
		}
		if validHeaderID(id) && !slices.Contains(look, id) {
			look = append(look, id)
		}
	}
	if len(look) == 0 {
		return 0, fmt.Errorf("db: report by message ids: %w", triage.Errorf(triage.ENOTFOUND, "no report for these Message-IDs"))
	}
	args := make([]any, 0, 3*len(look))
	for range 3 {
		for _, id := range look {
			args = append(args, id)
		}
	}
	found := make(map[string]int64, len(look))
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, threadQuery(len(look)), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id     string
				report int64
			)
			if err := rows.Scan(&id, &report); err != nil {
				return err
			}
			// Should one id name several reports, the oldest wins, whatever
			// order the rows come in.
			if old, ok := found[id]; !ok || report < old {
				found[id] = report
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("db: report by message ids: %w", err)
	}
	for _, id := range look {
		if report, ok := found[id]; ok {
			return report, nil
		}
	}
	return 0, fmt.Errorf("db: report by message ids: %w", triage.Errorf(triage.ENOTFOUND, "no report for these Message-IDs"))
}

// threadQuery is ReportByMessageIDs' query for n Message-IDs, given
// three times. Mail to the team (SLA notifications) is left out: a team
// member's answer to it is not the researcher's. The Message-ID indexes of reports and messages are
// partial (on a non-empty header_message_id): SQLite uses one only when
// the query repeats that condition, and would otherwise read every
// report and message (TestThreadQuery_Plan).
func threadQuery(n int) string {
	in := strings.TrimSuffix(strings.Repeat("?,", n), ",")
	return `SELECT header_message_id, id FROM reports WHERE header_message_id <> '' AND header_message_id IN (` + in + `)
		UNION ALL SELECT header_message_id, report_id FROM messages WHERE header_message_id <> '' AND header_message_id IN (` + in + `)
		UNION ALL SELECT header_message_id, report_id FROM outbox WHERE report_id IS NOT NULL AND kind <> 'notification' AND header_message_id IN (` + in + `)`
}

// ReportByTrackingID returns the id of the report with that tracking id,
// or ENOTFOUND.
func (db *DB) ReportByTrackingID(ctx context.Context, trackingID string) (int64, error) {
	var id int64
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM reports WHERE tracking_id = ?`, cut(trackingID, 64)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "no report %s", cut(trackingID, 64))
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: report by tracking id: %w", err)
	}
	return id, nil
}

// AddIncomingMessage stores m, a researcher's message filed from raw
// message m.RawMessageID, with its attachments, on report m.ReportID;
// marks the raw message processed; unless m.Automated, resumes a report
// waiting in needs-info (to triaging, actor system, so its SLA clocks run again at
// m.At, which must be when the mail was received); and audits it: one
// transaction. It sets m.ID, m.Direction, m.Via and the attachment IDs.
// Filing a raw message twice (as a report or a message) is ECONFLICT; an
// unknown report or raw message ENOTFOUND; bad content EINVALID.
func (db *DB) AddIncomingMessage(ctx context.Context, m *triage.Message) error {
	if m.RawMessageID == 0 {
		return fmt.Errorf("db: add incoming message: %w", triage.Errorf(triage.EINVALID, "message has no raw message"))
	}
	m.Direction, m.Via = triage.DirectionIn, triage.ViaMail
	if err := db.addIncoming(ctx, m, triage.Actor{Email: triage.ActorSystem}); err != nil {
		return fmt.Errorf("db: add incoming message: %w", err)
	}
	return nil
}

// AddWebReply stores a researcher's reply written on the status page
// (direction in, via web; its body checked by triage.CleanMessageBody)
// and resumes a report in needs-info, as AddIncomingMessage does, in one
// transaction, audited (triage.AuditResearcherReply) as the researcher
// from client's address and browser. It sets m.ID; m.From defaults to
// the report's researcher. EINVALID for a bad body, ENOTFOUND for an
// unknown report.
func (db *DB) AddWebReply(ctx context.Context, m *triage.Message, client triage.Actor) error {
	body, err := triage.CleanMessageBody(m.Body)
	if err != nil {
		return fmt.Errorf("db: add web reply: %w", err)
	}
	m.Body, m.RawMessageID = body, 0
	m.Direction, m.Via = triage.DirectionIn, triage.ViaWeb
	client.UserID, client.Email = 0, triage.ActorResearcher
	if err := db.addIncoming(ctx, m, client); err != nil {
		return fmt.Errorf("db: add web reply: %w", err)
	}
	return nil
}

// addIncoming stores incoming message m (AddIncomingMessage,
// AddWebReply), audited as by's doing.
func (db *DB) addIncoming(ctx context.Context, m *triage.Message, by triage.Actor) error {
	if err := prepareIncoming(m); err != nil {
		return err
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.addIncomingTx(ctx, tx, m, by, txNow(ctx))
	})
	if err != nil {
		unaddIncoming(m)
		return err
	}
	return nil
}

// prepareIncoming checks incoming message m and puts it in stored form.
// EINVALID.
func prepareIncoming(m *triage.Message) error {
	if m.ReportID == 0 {
		return triage.Errorf(triage.EINVALID, "message has no report")
	}
	if m.At.IsZero() {
		return triage.Errorf(triage.EINVALID, "message has no time")
	}
	m.At = m.At.UTC()
	if m.Signature.Status == "" {
		m.Signature.Status = triage.SignatureNone
	}
	if err := checkMessageContent(m); err != nil {
		return err
	}
	m.HeaderMessageID = headerMessageID(m.HeaderMessageID)
	return nil
}

// unaddIncoming clears what addIncomingTx set on m, when its transaction
// did not commit.
func unaddIncoming(m *triage.Message) {
	m.ID = 0
	for i := range m.Attachments {
		m.Attachments[i].ID = 0
	}
}

// addIncomingTx stores incoming message m (prepared) in tx, audited as
// by's doing, the raw message marked processed at now. It sets m.ID and
// the attachment IDs. Its errors are not wrapped.
func (db *DB) addIncomingTx(ctx context.Context, tx *sql.Tx, m *triage.Message, by triage.Actor, now time.Time) error {
	attIDs := make([]int64, len(m.Attachments))
	r, err := findReport(ctx, tx, m.ReportID)
	if err != nil {
		return err
	}
	if m.From == "" {
		m.From = r.ResearcherEmail
	}
	if m.RawMessageID != 0 {
		var processed sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT processed_at FROM raw_messages WHERE id = ?`, m.RawMessageID).Scan(&processed)
		if errors.Is(err, sql.ErrNoRows) {
			return triage.Errorf(triage.ENOTFOUND, "message %d not found", m.RawMessageID)
		} else if err != nil {
			return err
		}
		if processed.Valid {
			return triage.Errorf(triage.ECONFLICT, "message %d is already filed", m.RawMessageID)
		}
	}
	// The report leaves the search index while the message and its
	// files go in, and is indexed once after: with it indexed, the
	// triggers would index the report and its whole conversation
	// again for every file (FileReport files a report the same way).
	if _, err := tx.ExecContext(ctx, `DELETE FROM reports_fts WHERE rowid = ?`, m.ReportID); err != nil {
		return err
	}
	if m.ID, err = insertMessage(ctx, tx, m); err != nil {
		if isUnique(err) {
			return triage.Errorf(triage.ECONFLICT, "message %d is already filed", m.RawMessageID)
		}
		return err
	}
	for i := range m.Attachments {
		if attIDs[i], err = insertAttachment(ctx, tx, m.ReportID, m.ID, &m.Attachments[i]); err != nil {
			return fmt.Errorf("attachment %d: %w", i, err)
		}
	}
	if err := indexReport(ctx, tx, m.ReportID); err != nil {
		return err
	}
	if m.RawMessageID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE raw_messages SET processed_at = ? WHERE id = ?`,
			formatTime(now), m.RawMessageID); err != nil {
			return err
		}
	}
	if r.Status == triage.StatusNeedsInfo && !m.Automated {
		// The researcher answered: the report is back with the team and
		// the clocks paused in needs-info run again.
		to := triage.StatusTriaging
		evs, err := r.Apply(triage.Change{Status: &to}, nil, 0, m.At)
		if err != nil {
			return err
		}
		p, err := findSLAPolicy(ctx, tx)
		if err != nil {
			return err
		}
		if err := saveTriage(ctx, tx, r, p, m.At); err != nil {
			return err
		}
		if err := db.recordEvents(ctx, tx, evs, triage.Actor{}); err != nil {
			return err
		}
	}
	if err := db.addAudit(ctx, tx, &triage.AuditEvent{
		At: m.At, ActorEmail: by.Email, RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent, Action: triage.AuditResearcherReply,
		Target: fmt.Sprintf("report:%d", m.ReportID), Detail: fmt.Sprintf(`{"message":%d,"via":%q}`, m.ID, m.Via),
	}); err != nil {
		return err
	}
	for i, id := range attIDs {
		m.Attachments[i].ID = id
	}
	return nil
}

// checkMessageContent validates the signatures, parts and attachments of
// an incoming message as checkContent does a report's. EINVALID.
func checkMessageContent(m *triage.Message) error {
	if err := checkContent(&triage.Report{Signatures: m.Signatures, Parts: m.Parts}); err != nil {
		return err
	}
	if len(m.Attachments) > maxMessageAttachments {
		return triage.Errorf(triage.EINVALID, "%d attachments, at most %d", len(m.Attachments), maxMessageAttachments)
	}
	for i, p := range m.Parts {
		if p.Source < 0 || p.Source > len(m.Attachments) {
			return triage.Errorf(triage.EINVALID, "body part %d points at attachment %d of %d", i, p.Source, len(m.Attachments))
		}
	}
	return nil
}

// insertMessage inserts conversation message m and returns its id. The
// signatures column holds the summary first, then every signature.
func insertMessage(ctx context.Context, tx *sql.Tx, m *triage.Message) (int64, error) {
	sigs, err := json.Marshal(append([]triage.Signature{m.Signature}, m.Signatures...))
	if err != nil {
		return 0, err
	}
	parts := m.Parts
	if parts == nil {
		parts = []triage.BodyPart{}
	}
	pj, err := json.Marshal(parts)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO messages (report_id, direction, via, at, from_addr, subject, body,
		encrypted, decrypted, decrypt_error, sig_status, signatures, parts, header_message_id, raw_message_id, author_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ReportID, string(m.Direction), m.Via, formatTime(m.At), m.From, m.Subject, m.Body,
		boolInt(m.Encrypted), boolInt(m.Decrypted), m.DecryptError, string(m.Signature.Status), string(sigs), string(pj),
		m.HeaderMessageID, nullID(m.RawMessageID), nullID(m.AuthorID))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// AddReply stores staff reply m (its body checked by
// triage.CleanMessageBody) and queues mail, its delivery (kind reply), in
// one transaction that also records the response as RecordResponse does
// (the first one stops the first-response clock) and audits it. m is
// outgoing by mail from m.From (the team address), written by by at m.At;
// its Message-ID is mail's. It sets m.ID, m.OutboxID, m.Delivery,
// mail.ID and mail.MessageID. EINVALID for a bad body or mail, ENOTFOUND
// for an unknown report.
func (db *DB) AddReply(ctx context.Context, m *triage.Message, mail *triage.OutMail, by triage.Actor) error {
	if err := prepareReply(m, mail, by); err != nil {
		return fmt.Errorf("db: add reply: %w", err)
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.recordResponse(ctx, tx, m.ReportID, by, m.At); err != nil {
			return err
		}
		var err error
		if m.ID, err = insertMessage(ctx, tx, m); err != nil {
			return err
		}
		mail.MessageID = m.ID
		if err := db.queueMail(ctx, tx, mail); err != nil {
			return err
		}
		return db.addAudit(ctx, tx, &triage.AuditEvent{
			At: m.At, ActorID: by.UserID, ActorEmail: actorEmail(by), Action: triage.AuditReply,
			Target: fmt.Sprintf("report:%d", m.ReportID), Detail: fmt.Sprintf(`{"message":%d,"mail":%d}`, m.ID, mail.ID),
			RemoteAddr: by.RemoteAddr, UserAgent: by.UserAgent,
		})
	})
	if err != nil {
		m.ID, mail.ID, mail.MessageID = 0, 0, 0
		return fmt.Errorf("db: add reply: %w", err)
	}
	m.OutboxID, m.Delivery, m.AuthorEmail = mail.ID, triage.DeliveryQueued, by.Email
	return nil
}

// prepareReply checks a staff reply and its mail and fills in what
// follows from each other. EINVALID.
func prepareReply(m *triage.Message, mail *triage.OutMail, by triage.Actor) error {
	body, err := triage.CleanMessageBody(m.Body)
	if err != nil {
		return err
	}
	m.Body = body
	if m.ReportID == 0 {
		return triage.Errorf(triage.EINVALID, "reply has no report")
	}
	if m.At.IsZero() {
		return triage.Errorf(triage.EINVALID, "reply has no time")
	}
	m.At = m.At.UTC()
	m.Direction, m.Via, m.RawMessageID = triage.DirectionOut, triage.ViaMail, 0
	m.Signature = triage.Signature{Status: triage.SignatureNone}
	m.Signatures, m.Parts, m.Attachments = nil, nil, nil
	if m.AuthorID == 0 {
		m.AuthorID = by.UserID
	}
	if mail.Kind == "" {
		mail.Kind = triage.MailReply
	}
	if mail.Kind != triage.MailReply {
		return triage.Errorf(triage.EINVALID, "a reply's mail must be of kind %s, not %s", triage.MailReply, mail.Kind)
	}
	if mail.ReportID == 0 {
		mail.ReportID = m.ReportID
	} else if mail.ReportID != m.ReportID {
		return triage.Errorf(triage.EINVALID, "reply to report %d mailed about report %d", m.ReportID, mail.ReportID)
	}
	if mail.Body == "" {
		mail.Body = m.Body
	}
	if mail.CreatedAt.IsZero() {
		mail.CreatedAt = m.At
	}
	if mail.AuthorID == 0 {
		mail.AuthorID = m.AuthorID
	}
	if err := checkMail(mail, false); err != nil {
		return err
	}
	if m.HeaderMessageID == "" {
		m.HeaderMessageID = mail.HeaderMessageID
	}
	if m.Subject == "" {
		m.Subject = mail.Subject
	}
	return nil
}

// Messages returns a report's conversation after its first message,
// oldest first: at most the newest maxConversation messages, each with
// the metadata of its attachments; outgoing ones carry their delivery
// state from the outbox. ENOTFOUND for an unknown report.
func (db *DB) Messages(ctx context.Context, reportID int64) ([]*triage.Message, error) {
	var msgs []*triage.Message
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := reportExists(ctx, tx, reportID); err != nil {
			return err
		}
		var err error
		if msgs, err = findMessages(ctx, tx, reportID); err != nil {
			return err
		}
		return findMessageAttachments(ctx, tx, reportID, msgs)
	})
	if err != nil {
		return nil, fmt.Errorf("db: messages: %w", err)
	}
	return msgs, nil
}

func findMessages(ctx context.Context, tx *sql.Tx, reportID int64) ([]*triage.Message, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.id, m.report_id, m.direction, m.via, m.at, m.from_addr, m.subject, m.body,
		m.encrypted, m.decrypted, m.decrypt_error, m.sig_status, m.signatures, m.parts, m.header_message_id,
		COALESCE(m.raw_message_id, 0), COALESCE(m.author_id, 0), COALESCE(u.email, ''),
		COALESCE(o.id, 0), COALESCE(o.state, ''), COALESCE(o.attempts, 0), COALESCE(o.last_error, ''), o.sent_at, COALESCE(o.encrypted, 0)
		FROM messages m LEFT JOIN users u ON u.id = m.author_id LEFT JOIN outbox o ON o.message_id = m.id
		WHERE m.report_id = ? ORDER BY m.at DESC, m.id DESC LIMIT ?`, reportID, maxConversation)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var msgs []*triage.Message
	for rows.Next() {
		var (
			m                         = &triage.Message{}
			direction, sigStatus, via string
			sigs, parts, state        string
			sentEncrypted             bool
		)
		if err := rows.Scan(&m.ID, &m.ReportID, &direction, &via, timeScanner{&m.At}, &m.From, &m.Subject, &m.Body,
			&m.Encrypted, &m.Decrypted, &m.DecryptError, &sigStatus, &sigs, &parts, &m.HeaderMessageID,
			&m.RawMessageID, &m.AuthorID, &m.AuthorEmail,
			&m.OutboxID, &state, &m.Attempts, &m.LastError, timeScanner{&m.SentAt}, &sentEncrypted); err != nil {
			return nil, err
		}
		m.Direction, m.Via, m.Delivery = triage.Direction(direction), via, triage.Delivery(state)
		var all []triage.Signature
		if err := json.Unmarshal([]byte(sigs), &all); err != nil {
			return nil, fmt.Errorf("message %d: signatures: %w", m.ID, err)
		}
		m.Signature = triage.Signature{Status: triage.SignatureStatus(sigStatus)}
		if len(all) > 0 {
			m.Signature, m.Signatures = all[0], all[1:]
		}
		if len(m.Signatures) == 0 {
			m.Signatures = nil
		}
		if err := json.Unmarshal([]byte(parts), &m.Parts); err != nil {
			return nil, fmt.Errorf("message %d: parts: %w", m.ID, err)
		}
		if len(m.Parts) == 0 {
			m.Parts = nil
		}
		if m.Delivery == triage.DeliverySent {
			// What went out, not what was expected when it was queued.
			m.Encrypted = sentEncrypted
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Reverse(msgs)
	return msgs, nil
}

// findMessageAttachments fills in the attachment metadata of msgs, all
// of report reportID, in the order they were filed.
func findMessageAttachments(ctx context.Context, tx *sql.Tx, reportID int64, msgs []*triage.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	byID := make(map[int64]*triage.Message, len(msgs))
	for _, m := range msgs {
		byID[m.ID] = m
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, conversation_message_id, name, content_type, size, sha256
		FROM attachments WHERE report_id = ? AND conversation_message_id IS NOT NULL ORDER BY id`, reportID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a   triage.Attachment
			mid int64
		)
		if err := rows.Scan(&a.ID, &mid, &a.Name, &a.ContentType, &a.Size, &a.SHA256); err != nil {
			return err
		}
		if m := byID[mid]; m != nil {
			m.Attachments = append(m.Attachments, a)
		}
	}
	return rows.Err()
}
