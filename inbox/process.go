package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// Processor files committed raw messages as reports: it parses, decrypts
// and verifies them with package pgp, and stores the result. It runs
// after the 250 reply, so a crash in between is harmless: at start it
// picks up every message that is stored but not yet filed.
type Processor struct {
	Store  Store
	Keys   openpgp.EntityList // the team's unlocked secret keys
	Limits pgp.Limits
	Logger *slog.Logger
	Now    func() time.Time
	// RetryInterval is how often messages whose filing failed are tried
	// again (default 30 s).
	RetryInterval time.Duration
	// KeySource, when set, is asked for the team's keys before each
	// message instead of Keys, so that a key rotation takes effect
	// without a restart.
	KeySource func() openpgp.EntityList

	// Conversation, when set, threads replies into the reports they
	// answer (thread.go) and queues the automatic acknowledgement of a
	// new report with it (ack.go). Nil files every message as a new
	// report and acknowledges none.
	Conversation ConversationStore
	// Domain names our Message-IDs (triage.NewMessageID); empty: the
	// domain of the first of OwnAddresses.
	Domain string
	// OwnAddresses are our addresses (inbox.AcceptedAddresses): mail
	// claiming to come from one of them is never acknowledged.
	OwnAddresses []string
	// AckPerSender and AckPerHour limit acknowledgements in any hour, to
	// one address and in all (zero: DefaultAckPerSender,
	// DefaultAckPerHour).
	AckPerSender int
	AckPerHour   int
	// OnQueued, when set, is called after an acknowledgement is queued,
	// so the mail sender can try at once instead of at its next poll.
	OnQueued func()

	queue chan int64
}

// NewProcessor returns a processor with default limits and a queue.
func NewProcessor(store Store, keys openpgp.EntityList, logger *slog.Logger) *Processor {
	if logger == nil {
		logger = slog.Default()
	}
	return &Processor{Store: store, Keys: keys, Limits: pgp.DefaultLimits(), Logger: logger,
		Now: time.Now, RetryInterval: 30 * time.Second, queue: make(chan int64, 1024)}
}

// Enqueue asks for message id to be filed soon. It never blocks: when the
// queue is full the message waits for the next catch-up pass.
func (p *Processor) Enqueue(id int64) {
	select {
	case p.queue <- id:
	default:
	}
}

// Run files pending messages, then queued ones, until ctx ends. The
// message being filed when ctx ends is finished first.
func (p *Processor) Run(ctx context.Context) {
	p.catchUp(ctx)
	retry := time.NewTicker(p.RetryInterval)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-p.queue:
			p.file(id)
		case <-retry.C:
			p.catchUp(ctx)
		}
	}
}

// catchUp files every stored message that has no report yet.
func (p *Processor) catchUp(ctx context.Context) {
	ids, err := p.Store.PendingRawMessages(ctx)
	if err != nil {
		p.Logger.Error("intake: list pending messages", "err", err)
		return
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		p.file(id)
	}
}

// file files one message. Failures are logged; the message stays pending
// and is tried again on the next catch-up.
func (p *Processor) file(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.File(ctx, id); err != nil {
		if triage.ErrorCode(err) == triage.ECONFLICT {
			return // already filed (queued and caught up at once)
		}
		p.Logger.Error("intake: file message", "message", id, "err", err)
	}
}

// File parses message id and stores it: as a message of the report it
// answers when it is a reply (see thread.go, with Conversation set), else
// as a new report, with its acknowledgement queued in the same
// transaction when one is due (ack.go). Either way the researcher keys
// the message brought are stored (attached, Autocrypt, or the stored key
// that made a good signature). Filing a message twice is an ECONFLICT
// error.
func (p *Processor) File(ctx context.Context, id int64) error {
	raw, err := p.Store.RawMessage(ctx, id)
	if err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	r, m, keys, err := p.report(ctx, raw)
	if err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	var replyTo int64
	var how string
	if p.Conversation != nil && m != nil {
		if replyTo, how, err = p.threadReport(ctx, m); err != nil {
			return fmt.Errorf("inbox: file message %d: %w", id, err)
		}
	}
	// Keys first: if filing then fails, the message is tried again and
	// storing the keys again only adds a sighting.
	if err := p.storeKeys(ctx, keys); err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	if replyTo != 0 {
		msg := incomingMessage(replyTo, raw, r)
		msg.Automated = m.Automated || m.ListID != ""
		if n := len(r.Attachments) - len(msg.Attachments); n > 0 {
			p.Logger.Warn("intake: reply has too many attachments; the rest stay in the raw message",
				"message", id, "report", replyTo, "left_out", n)
		}
		if err := p.Conversation.AddIncomingMessage(ctx, msg); err != nil {
			return fmt.Errorf("inbox: file message %d: %w", id, err)
		}
		p.Logger.Info("reply filed", "message", id, "report", replyTo, "conversation_message", msg.ID,
			"matched_by", how, "encrypted", msg.Encrypted, "decrypted", msg.Decrypted,
			"signature", msg.Signature.Status, "attachments", len(msg.Attachments), "researcher_keys", len(keys))
		return nil
	}
	if p.Conversation == nil {
		if err := p.Store.FileReport(ctx, r); err != nil {
			return fmt.Errorf("inbox: file message %d: %w", id, err)
		}
	} else {
		// The junk lane: a quarantined sender's report is filed held.
		if r.Quarantine, err = p.Conversation.QuarantineFor(ctx, r); err != nil {
			return fmt.Errorf("inbox: file message %d: %w", id, err)
		}
		ack, reason, err := p.ack(ctx, raw, m)
		if err != nil {
			return fmt.Errorf("inbox: file message %d: %w", id, err)
		}
		if err := p.Conversation.FileReportAck(ctx, r, ack); err != nil {
			return fmt.Errorf("inbox: file message %d: %w", id, err)
		}
		if ack == nil || r.Quarantine != 0 {
			p.Logger.Info("no acknowledgement", "message", id, "report", r.ID, "reason", reason, "quarantine", r.Quarantine)
		} else {
			p.Logger.Info("acknowledgement queued", "message", id, "report", r.ID, "outbox", ack.ID)
			if p.OnQueued != nil {
				p.OnQueued()
			}
		}
	}
	p.Logger.Info("report filed", "message", id, "report", r.ID, "tracking_id", r.TrackingID,
		"status", r.Status, "encrypted", r.Encrypted, "decrypted", r.Decrypted,
		"signature", r.Signature.Status, "signatures", len(r.Signatures), "parts", len(r.Parts),
		"attachments", len(r.Attachments), "researcher_keys", len(keys))
	return nil
}

// maxReplyAttachments is the most attachments the store keeps with one
// conversation message (db checks it too). A reply with more keeps the
// first ones; the raw message holds them all.
const maxReplyAttachments = 1000

// incomingMessage is the researcher's reply read from raw, as r (the
// report it would have been on its own) holds it, for report reportID.
func incomingMessage(reportID int64, raw *triage.RawMessage, r *triage.Report) *triage.Message {
	atts, parts := r.Attachments, r.Parts
	if len(atts) > maxReplyAttachments {
		atts = atts[:maxReplyAttachments]
		parts = append([]triage.BodyPart(nil), parts...)
		for i := range parts {
			if parts[i].Source > maxReplyAttachments {
				parts[i].Source = 0 // its source file was left out
			}
		}
	}
	return &triage.Message{
		ReportID:        reportID,
		Direction:       triage.DirectionIn,
		Via:             triage.ViaMail,
		At:              r.ReceivedAt,
		From:            r.ResearcherEmail,
		Subject:         r.Title,
		Body:            r.Body,
		Encrypted:       r.Encrypted,
		Decrypted:       r.Decrypted,
		DecryptError:    r.DecryptError,
		Signature:       r.Signature,
		Signatures:      r.Signatures,
		Parts:           parts,
		HeaderMessageID: r.HeaderMessageID,
		RawMessageID:    raw.ID,
		Attachments:     atts,
	}
}

// ack returns the acknowledgement of the new report filed from raw, or
// nil and the reason none is due. The report's id, tracking id and the
// subject are filled in by the store when it files the report.
func (p *Processor) ack(ctx context.Context, raw *triage.RawMessage, m *pgp.Message) (*triage.OutMail, string, error) {
	if m == nil {
		return nil, "message unreadable", nil
	}
	to, ok, reason := ackRecipient(raw.MailFrom, m.FromEmail, m.Automated, m.ListID != "", p.OwnAddresses)
	if !ok {
		return nil, reason, nil
	}
	now := p.Now().UTC()
	since := now.Add(-time.Hour)
	toRecipient, err := p.Conversation.CountMail(ctx, triage.MailAck, to, since)
	if err != nil {
		return nil, "", fmt.Errorf("count acknowledgements: %w", err)
	}
	total, err := p.Conversation.CountMail(ctx, triage.MailAck, "", since)
	if err != nil {
		return nil, "", fmt.Errorf("count acknowledgements: %w", err)
	}
	if ok, reason := ackWithinLimits(toRecipient, total, p.AckPerSender, p.AckPerHour); !ok {
		return nil, reason, nil
	}
	ack := &triage.OutMail{
		Kind:            triage.MailAck,
		To:              to,
		HeaderMessageID: triage.NewMessageID(p.messageIDDomain()),
		CreatedAt:       now,
	}
	if validMessageID(m.MessageID) {
		ack.InReplyTo = m.MessageID
		ack.References = []string{m.MessageID}
	}
	return ack, "", nil
}

// messageIDDomain is the domain of the Message-IDs we make.
func (p *Processor) messageIDDomain() string {
	if d := strings.ToLower(strings.TrimSpace(p.Domain)); d != "" {
		return d
	}
	for _, a := range p.OwnAddresses {
		if i := strings.LastIndexByte(a, '@'); i >= 0 && i < len(a)-1 {
			return strings.ToLower(strings.TrimSpace(a[i+1:]))
		}
	}
	return "localhost"
}

// report turns a raw message into a report and the researcher keys it
// brought, with the parsed message (nil when it could not be parsed).
// Whatever the message holds, a report comes out and the raw message
// stays available; it fails only when the stored keys cannot be read (the
// message is then tried again later).
func (p *Processor) report(ctx context.Context, raw *triage.RawMessage) (r *triage.Report, m *pgp.Message, keys []triage.ResearcherKey, err error) {
	r = triage.NewReport(raw.ReceivedAt)
	r.MessageID = raw.ID
	r.ResearcherEmail = raw.MailFrom

	m, verifyKeys, parseErr, err := p.parseVerified(ctx, raw)
	if err != nil {
		return nil, nil, nil, err
	}
	if parseErr != nil {
		p.Logger.Warn("intake: message not readable", "message", raw.ID, "err", parseErr)
		r.Title = "(unreadable message)"
		r.Body = "This message could not be parsed: " + parseErr.Error() + "\nDownload the raw message to read it."
		return r, nil, nil, nil
	}
	r.Title = triage.CleanTitle(m.Title())
	if validMessageID(m.MessageID) {
		r.HeaderMessageID = m.MessageID
	}
	if m.FromEmail != "" {
		r.ResearcherEmail = m.FromEmail
	}
	r.ResearcherName = triage.CleanTitle(m.FromName)
	r.Encrypted = m.Encrypted
	r.Decrypted = m.Decrypted
	r.Signature = m.Signature
	r.Signatures, r.Parts = cleanContent(m.Signatures, m.Parts)
	r.Body = m.Text
	r.Attachments = m.Attachments
	if m.Encrypted && !m.Decrypted {
		r.Status = triage.StatusUndecryptable
		r.DecryptError = decryptReason(m.DecryptError)
		p.Logger.Warn("intake: message not decrypted", "message", raw.ID, "err", m.DecryptError)
	}
	return r, m, p.messageKeys(raw, r.ResearcherEmail, m, verifyKeys), nil
}

// decryptReason tells staff, in words they can act on, why a message
// could not be decrypted. The library's detail goes to the log.
func decryptReason(err error) string {
	switch {
	case errors.Is(err, pgp.ErrNoKey):
		return "Encrypted to a key the team does not hold: ask the researcher to encrypt to the key published at /pgp-key.asc."
	case errors.Is(err, pgp.ErrIntegrity):
		return "The ciphertext failed its integrity check (altered, corrupted, or without integrity protection); no plaintext was kept."
	case errors.Is(err, pgp.ErrTooLarge):
		return "The decrypted content exceeds the size limit (a compression bomb, or an attachment too large); nothing was kept."
	case errors.Is(err, pgp.ErrPanic):
		return "Internal error while decrypting; the raw message is kept."
	}
	return "Malformed OpenPGP data; the raw message is kept."
}

// parse runs pgp.ParseMessage on raw, verifying signatures against
// verifyKeys too, and turns a panic that escaped it into an error so one
// hostile message cannot stop intake. Signatures are judged at the time
// the message was received, not now: filing after downtime, or checking
// again days later, must not turn a signature that was valid on arrival
// into an expired one.
func (p *Processor) parse(raw *triage.RawMessage, verifyKeys openpgp.EntityList) (m *pgp.Message, err error) {
	defer func() {
		if v := recover(); v != nil {
			m, err = nil, fmt.Errorf("inbox: parse: panic: %v", v)
		}
	}()
	keys := p.Keys
	if p.KeySource != nil {
		keys = p.KeySource()
	}
	at := raw.ReceivedAt
	if at.IsZero() {
		at = p.Now()
	}
	return pgp.ParseMessage(raw.Data, keys, verifyKeys, p.Limits, at)
}
