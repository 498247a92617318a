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
//
// Run is a pipeline (pipeline.go): the pending messages are read from
// the store in the order they were committed; Workers goroutines read
// (decrypt, verify) them in parallel; one filer puts them back in order,
// decides for each whether it answers a report and whether an
// acknowledgement is due, and files them in batches, one transaction
// (one disk sync) per batch. Nothing waits for a timer while messages
// are pending: Wake (or Enqueue) starts the next pass at once.
type Processor struct {
	cfg  ProcessorConfig
	wake chan struct{} // a message was committed: the next pass is due
}

// ProcessorConfig is a Processor's configuration, complete at
// NewProcessor.
type ProcessorConfig struct {
	// Store and Conversation are the database (db.DB is both): the raw
	// messages and reports, and the conversations replies are threaded
	// into (thread.go) and acknowledgements queued in (ack.go).
	// Required.
	Store        Store
	Conversation ConversationStore
	// Keys returns the team's keys, asked before each message so that a
	// key rotation takes effect without a restart (teamkey.Ring.
	// Decryption; FixedKeys for keys that never change). Nil: no keys,
	// encrypted mail is filed undecryptable.
	Keys   func() *pgp.TeamKeys
	Limits pgp.Limits // zero fields: pgp's defaults
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
	// RetryInterval is how often messages whose filing failed are tried
	// again (default 30 s).
	RetryInterval time.Duration
	// Workers is how many messages are read at once (default: one per
	// CPU, GOMAXPROCS).
	Workers int
	// Latency, when set, records each filed message's time from its 250
	// (the commit) to its filing, for /metrics.
	Latency *triage.Histogram
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
	// Outbox, when set, is woken after acknowledgements are queued, so
	// the mail sender tries at once instead of at its next poll.
	Outbox triage.Waker
	// Authenticate, when set, checks the sender (authenticate.go); nil
	// checks nothing, and then no mail threads by tracking id alone.
	Authenticate Authenticator
}

// NewProcessor returns a processor for cfg; it fails when the store is
// missing.
func NewProcessor(cfg ProcessorConfig) (*Processor, error) {
	if cfg.Store == nil || cfg.Conversation == nil {
		return nil, errors.New("inbox: processor: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 30 * time.Second
	}
	if cfg.Keys == nil {
		cfg.Keys = func() *pgp.TeamKeys { return nil }
	}
	return &Processor{cfg: cfg, wake: make(chan struct{}, 1)}, nil
}

// FixedKeys is a ProcessorConfig.Keys for keys that never change (tests,
// tools): el as pgp.NewTeamKeys makes them, once.
func FixedKeys(el openpgp.EntityList) func() *pgp.TeamKeys {
	keys := pgp.NewTeamKeys(el)
	return func() *pgp.TeamKeys { return keys }
}

// Wake tells the processor that messages were committed: the pass that
// files them starts as soon as the one running (if any) has read what
// was pending when it began. It never blocks.
func (p *Processor) Wake() {
	select {
	case p.wake <- struct{}{}:
	default: // a pass is due already
	}
}

// File parses message id and stores it, as Run does for every pending
// message: as a message of the report it answers when it is a reply (see
// thread.go), else as a new report, with its
// acknowledgement queued in the same transaction when one is due
// (ack.go). Either way the researcher keys the message brought are
// stored (attached, Autocrypt, or the stored key that made a good
// signature). Filing a message twice is an ECONFLICT error.
func (p *Processor) File(ctx context.Context, id int64) error {
	in := p.read(ctx, id)
	if in.err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, in.err)
	}
	p.checkSender(ctx, in)
	var b batch
	f, err := p.decide(ctx, in, &b)
	if err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	b.add(in, f)
	if err := p.commit(ctx, &b); err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	if f.Err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, f.Err)
	}
	return nil
}

// read is a worker's part of filing message id: it reads the message
// from the store and parses it into the report it would be (with the
// researcher keys it brought).
func (p *Processor) read(ctx context.Context, id int64) *incoming {
	in := &incoming{id: id}
	raw, err := p.cfg.Store.RawMessage(ctx, id)
	if err != nil {
		in.err = err
		return in
	}
	in.raw = raw
	in.report, in.msg, in.keys, in.err = p.report(ctx, raw)
	return in
}

// checkSender runs the sender checks (SPF, DKIM, DMARC) of a message read
// without error. They wait on DNS, not on a core: Run runs them outside
// the workers, so that many messages wait for their lookups at once.
func (p *Processor) checkSender(ctx context.Context, in *incoming) {
	if in.err == nil && in.report != nil {
		in.report.Authentication = p.authenticate(ctx, in.raw, in.msg)
	}
}

// incoming is one raw message read by a worker, waiting for the filer.
type incoming struct {
	seq    uint64 // the order it was handed out in
	id     int64
	raw    *triage.RawMessage
	report *triage.Report
	msg    *pgp.Message // nil when unreadable
	keys   []triage.ResearcherKey
	err    error // it could not be read (a store failure): tried again later

	how   string // a reply: how its report was found (decide)
	noAck string // a new report without acknowledgement: why (decide)
}

// decide is the filer's part, in commit order: whether the message
// answers a report (thread.go) and whether an acknowledgement is due
// (ack.go), counting the acknowledgements of b, not yet committed.
func (p *Processor) decide(ctx context.Context, in *incoming, b *batch) (*triage.Filing, error) {
	f := &triage.Filing{Keys: in.keys}
	var replyTo int64
	if in.msg != nil {
		var err error
		if replyTo, in.how, err = p.threadReport(ctx, in.msg, in.report); err != nil {
			return nil, err
		}
	}
	if replyTo != 0 {
		msg := incomingMessage(replyTo, in.raw, in.report)
		msg.Automated = in.msg.Automated || in.msg.ListID != ""
		if n := len(in.report.Attachments) - len(msg.Attachments); n > 0 {
			p.cfg.Logger.Warn("intake: reply has too many attachments; the rest stay in the raw message",
				"message", in.id, "report", replyTo, "left_out", n)
		}
		f.Reply = msg
		return f, nil
	}
	f.Report = in.report
	// The junk lane: a quarantined sender's report is filed held, its
	// acknowledgement kept back until the release (db.fileHeld).
	q, err := p.cfg.Conversation.QuarantineFor(ctx, in.report)
	if err != nil {
		return nil, err
	}
	in.report.Quarantine = q
	ack, reason, err := p.ack(ctx, in.raw, in.msg, b)
	if err != nil {
		return nil, err
	}
	f.Ack, in.noAck = ack, reason
	return f, nil
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
// nil and the reason none is due. The limits count the acknowledgements
// queued in the last hour and those of b, still to be committed: the
// store is asked once per batch (and recipient), b counting its own. The
// report's id, tracking id and the subject are filled in by the store
// when it files the report.
func (p *Processor) ack(ctx context.Context, raw *triage.RawMessage, m *pgp.Message, b *batch) (*triage.OutMail, string, error) {
	if m == nil {
		return nil, "message unreadable", nil
	}
	to, ok, reason := ackRecipient(raw.MailFrom, m.FromEmail, m.Automated, m.ListID != "", p.cfg.OwnAddresses)
	if !ok {
		return nil, reason, nil
	}
	now := p.cfg.Now().UTC()
	toRecipient, total, err := b.ackCounts(ctx, p.cfg.Conversation, to, now.Add(-time.Hour))
	if err != nil {
		return nil, "", fmt.Errorf("count acknowledgements: %w", err)
	}
	if ok, reason := ackWithinLimits(toRecipient, total, p.cfg.AckPerSender, p.cfg.AckPerHour); !ok {
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
	if d := strings.ToLower(strings.TrimSpace(p.cfg.Domain)); d != "" {
		return d
	}
	for _, a := range p.cfg.OwnAddresses {
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
		p.cfg.Logger.Warn("intake: message not readable", "message", raw.ID, "err", parseErr)
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
		p.cfg.Logger.Warn("intake: message not decrypted", "message", raw.ID, "err", m.DecryptError)
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

// parse runs pgp.ParseMessage on raw with the team's keys, then the
// researcher keys researchers resolves, and turns a panic that escaped it
// into an error so one hostile message cannot stop intake. Signatures
// are judged at the time the message was received, not now: filing after
// downtime, or checking again days later, must not turn a signature that
// was valid on arrival into an expired one.
func (p *Processor) parse(raw *triage.RawMessage, researchers openpgp.KeyRing) (m *pgp.Message, err error) {
	defer func() {
		if v := recover(); v != nil {
			m, err = nil, fmt.Errorf("inbox: parse: panic: %v", v)
		}
	}()
	keys := p.cfg.Keys()
	at := raw.ReceivedAt
	if at.IsZero() {
		at = p.cfg.Now()
	}
	return pgp.ParseMessage(raw.Data, pgp.KeyChain{keys, researchers}, p.cfg.Limits, at)
}
