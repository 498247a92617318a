package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// File parses message id and stores it as a report, with the researcher
// keys the message brought (attached, Autocrypt, or the stored key that
// made a good signature). Filing a message twice is an ECONFLICT error.
func (p *Processor) File(ctx context.Context, id int64) error {
	raw, err := p.Store.RawMessage(ctx, id)
	if err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	r, keys, err := p.report(ctx, raw)
	if err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	// Keys first: if filing then fails, the message is tried again and
	// storing the keys again only adds a sighting.
	if err := p.storeKeys(ctx, keys); err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	if err := p.Store.FileReport(ctx, r); err != nil {
		return fmt.Errorf("inbox: file message %d: %w", id, err)
	}
	p.Logger.Info("report filed", "message", id, "report", r.ID, "tracking_id", r.TrackingID,
		"status", r.Status, "encrypted", r.Encrypted, "decrypted", r.Decrypted,
		"signature", r.Signature.Status, "signatures", len(r.Signatures), "parts", len(r.Parts),
		"attachments", len(r.Attachments), "researcher_keys", len(keys))
	return nil
}

// report turns a raw message into a report and the researcher keys it
// brought. Whatever the message holds, a report comes out and the raw
// message stays available; it fails only when the stored keys cannot be
// read (the message is then tried again later).
func (p *Processor) report(ctx context.Context, raw *triage.RawMessage) (r *triage.Report, keys []triage.ResearcherKey, err error) {
	r = triage.NewReport(raw.ReceivedAt)
	r.MessageID = raw.ID
	r.ResearcherEmail = raw.MailFrom

	m, verifyKeys, parseErr, err := p.parseVerified(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	if parseErr != nil {
		p.Logger.Warn("intake: message not readable", "message", raw.ID, "err", parseErr)
		r.Title = "(unreadable message)"
		r.Body = "This message could not be parsed: " + parseErr.Error() + "\nDownload the raw message to read it."
		return r, nil, nil
	}
	r.Title = triage.CleanTitle(m.Title())
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
	return r, p.messageKeys(raw, r.ResearcherEmail, m, verifyKeys), nil
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
