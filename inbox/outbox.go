package inbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// MailSigner signs a mail with the team's primary key, and encrypts it
// to recipients when there are any (pgp.ComposeMail). teamkey.Ring
// implements it.
type MailSigner interface {
	ComposeMail(m pgp.OutgoingMail, recipients openpgp.EntityList, now time.Time) ([]byte, error)
}

// Sender delivers the outbox: every mail secinbox sends (acknowledgements,
// staff replies, credit offers, SLA notifications to the team) is queued
// in the database first (OutboxStore.QueueMail, in the transaction that
// decided it), and Sender takes it from there.
//
// Each tick it takes the mail due (PendingMail), composes each one
// (compose.go: the text by kind, then signed with the team's primary key
// and, when the researcher's best key can encrypt, encrypted to it, as
// RFC 3156 PGP/MIME), hands it to the relay (relay.go) or, with no relay,
// writes it into a maildir (maildir.go), and records the try (MarkMail):
// sent; failed for good on a 5xx answer or a mail that cannot be composed
// (an invalid address); otherwise queued again with backoff
// (triage.MailBackoff), at most triage.MaxMailAttempts times.
//
// Before the relay is contacted the try is claimed in the store
// (ClaimMail): the mail is not due again for claimHold. A try that cannot
// be claimed is not made. A try whose record fails (a full disk, a lock
// held past the busy timeout) is kept in memory with the relay's answer:
// only its record is tried again, and nothing else is sent, until the
// store works again; the sender backs off the store meanwhile
// (storeBackoffMin to storeBackoffMax).
//
// Composition happens at send time, never at queueing time: a retry picks
// up the researcher's newest key and the team's current primary key, and
// the links of acknowledgements and credit offers (capabilities derived
// from LinkKey) are never stored.
//
// With neither a relay nor a maildir, the sender does not run: mail stays
// queued, visible in the outbox, until one is configured.
//
// Delivery is at least once: when the process stops between the relay's
// 250 and a record that lands, the claim keeps the mail from going out
// again at the next start, but it is sent again (same Message-ID) once
// claimHold has passed. The same holds for a final dot that got no
// answer (relay.go): a failed try, retried after its backoff.
type Sender struct {
	cfg  SenderConfig
	wake chan struct{} // Wake: look at the outbox now

	// mu runs one Tick at a time and guards what follows.
	mu sync.Mutex
	// unrecorded is a try the relay (or the maildir) answered but whose
	// record failed: it is recorded before anything else is tried.
	unrecorded *heldTry
	// storeFailures counts the store's failures in a row; no Tick asks
	// the store before storeRetryAt.
	storeFailures int
	storeRetryAt  time.Time
}

// SenderConfig is a Sender's configuration, complete at NewSender:
// nothing of it changes afterwards.
type SenderConfig struct {
	// Store is the outbox (db.DB). Required.
	Store OutboxStore

	// Relay is the submission relay, "host:port"; "" for none.
	Relay string
	// RelayUser and RelayPassword authenticate to the relay (AUTH PLAIN,
	// or LOGIN when PLAIN is not offered); no AUTH when RelayUser is "".
	// The password is never logged nor stored in the outbox.
	RelayUser     string
	RelayPassword string
	// RelayTLS is RelayStartTLS (the default: STARTTLS is required, and
	// nothing, not even AUTH, is sent when the relay does not offer it),
	// RelayImplicitTLS (port 465) or RelayNoTLS (only for a relay on a
	// loopback address: tests and a local MTA).
	RelayTLS string
	// TLSConfig, when set, is used for the relay's TLS (tests: a
	// self-signed certificate); RootCAs, when set, replaces the system
	// roots. The relay's certificate is always verified against its host
	// name.
	TLSConfig *tls.Config
	RootCAs   *x509.CertPool

	// Deadlines of the relay client (relay.go), so that a relay that
	// stops answering holds the outbox up for one of them only.
	// RelayConnectTimeout bounds connecting as a whole: TCP, TLS, the
	// greeting, EHLO, STARTTLS and AUTH; default 30 s.
	// RelayCommandTimeout bounds the answer to each command of a mail
	// (RSET, MAIL, RCPT, DATA); default 30 s. RelayMailTimeout bounds one
	// mail from RSET or MAIL FROM to the answer to its final dot; default
	// 1 minute.
	RelayConnectTimeout time.Duration
	RelayCommandTimeout time.Duration
	RelayMailTimeout    time.Duration

	// Maildir, used only when Relay is "", is a directory where each mail
	// is written (tmp/ then new/, mode 0600) and counts as sent.
	Maildir string

	// Domain is the mail domain: the EHLO name and Message-IDs' right side.
	Domain string
	// TeamAddress is From and the envelope sender: security@Domain.
	// Required.
	TeamAddress string
	// FromName is From's display name; default "Security Team".
	FromName string
	// PublicURL is the base of the links in the mail (policy, status and
	// credit pages), without a trailing slash.
	PublicURL string
	// LinkKey derives the status and credit link tokens
	// (triage.LinkToken). Without it an acknowledgement has no status link
	// and a credit offer cannot be sent.
	LinkKey []byte
	// Signer signs every mail with the team's primary key of the moment
	// (teamkey.Ring: the keyring changes with rotations). Required.
	Signer MailSigner

	Logger   *slog.Logger     // nil: nothing is logged
	Now      func() time.Time // nil: time.Now
	Interval time.Duration    // between ticks when not woken; default 5 s
	Batch    int              // mails per tick; default 20
}

// heldTry is a try waiting to be recorded: the mail, the outcome and
// when it happened.
type heldTry struct {
	m  *triage.OutMail
	a  triage.MailAttempt
	at time.Time
}

// Relay TLS modes (SenderConfig.RelayTLS).
const (
	RelayStartTLS    = "starttls"
	RelayImplicitTLS = "tls"
	RelayNoTLS       = "none"
)

// Defaults of the sender.
const (
	defaultSendInterval = 5 * time.Second
	defaultSendBatch    = 20
	// maxTickRounds bounds how many full batches one tick sends before it
	// lets the timer (and shutdown) in.
	maxTickRounds = 10
	// claimHold is how long a claimed try keeps its mail from being due
	// (ClaimMail): far longer than a try and its record take, so that
	// only a send whose record was lost (the process stopped) is made
	// again, that much later.
	claimHold = time.Hour
	// storeBackoffMin and storeBackoffMax bound the wait after the store
	// failed before it is asked again: doubling at each failure in a row.
	storeBackoffMin = 5 * time.Second
	storeBackoffMax = 5 * time.Minute
	// recordTimeout bounds one try at recording a try.
	recordTimeout = 10 * time.Second
)

// NewSender returns the sender of cfg. It fails when the store or the
// signer is missing, the team address is not a valid address, or a relay
// is set but is not host:port, asks for a TLS mode that is not known (or
// no TLS on a relay that is not on loopback), or has a user without a
// password or a password without a user. A sender with neither relay nor
// maildir is valid: it does not run (Enabled).
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("inbox: sender: no store")
	}
	if _, err := triage.ValidAddress(cfg.TeamAddress); err != nil {
		return nil, fmt.Errorf("inbox: sender: team address %q is not a valid address", cfg.TeamAddress)
	}
	if cfg.Signer == nil {
		return nil, fmt.Errorf("inbox: sender: no signing key")
	}
	if cfg.Relay != "" {
		host, port, err := net.SplitHostPort(cfg.Relay)
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("inbox: sender: relay %q must be host:port", cfg.Relay)
		}
		if err := checkTLS(cfg.RelayTLS, host); err != nil {
			return nil, fmt.Errorf("inbox: sender: %w", err)
		}
		if (cfg.RelayUser == "") != (cfg.RelayPassword == "") {
			return nil, fmt.Errorf("inbox: sender: relay user and password go together")
		}
	}
	cfg.LinkKey = bytes.Clone(cfg.LinkKey)
	if cfg.TLSConfig != nil {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
	}
	if cfg.RelayConnectTimeout <= 0 {
		cfg.RelayConnectTimeout = defaultRelayConnectTimeout
	}
	if cfg.RelayCommandTimeout <= 0 {
		cfg.RelayCommandTimeout = defaultRelayCommandTimeout
	}
	if cfg.RelayMailTimeout <= 0 {
		cfg.RelayMailTimeout = defaultRelayMailTimeout
	}
	if cfg.FromName == "" {
		cfg.FromName = "Security Team"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = defaultSendInterval
	}
	if cfg.Batch <= 0 {
		cfg.Batch = defaultSendBatch
	}
	return &Sender{cfg: cfg, wake: make(chan struct{}, 1)}, nil
}

// checkTLS checks TLS mode mode (SenderConfig.RelayTLS) for a relay on
// host: a known mode, and no TLS only on loopback. NewSender asks it,
// and dialRelay again before every connection, so that no configuration
// falls back to sending AUTH and mail in the clear.
func checkTLS(mode, host string) error {
	switch tlsMode(mode) {
	case RelayStartTLS, RelayImplicitTLS:
	case RelayNoTLS:
		if !isLoopbackHost(host) {
			return fmt.Errorf("relay TLS %q is allowed only for a loopback relay, not %q", RelayNoTLS, host)
		}
	default:
		return fmt.Errorf("relay TLS %q: want %s, %s or %s", mode, RelayStartTLS, RelayImplicitTLS, RelayNoTLS)
	}
	return nil
}

// tlsMode is mode (SenderConfig.RelayTLS) in lower case, RelayStartTLS
// when empty.
func tlsMode(mode string) string {
	if mode == "" {
		return RelayStartTLS
	}
	return strings.ToLower(mode)
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP
// literal. Names are not resolved: a name that resolves to loopback today
// may not tomorrow.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Enabled reports whether mail has a way out: a relay or a maildir.
func (s *Sender) Enabled() bool { return s.cfg.Relay != "" || s.cfg.Maildir != "" }

// Describe says how mail leaves, for the outbox page (web's
// Config.OutboundMail): "relay HOST:PORT", "maildir DIR", or "".
func (s *Sender) Describe() string {
	switch {
	case s.cfg.Relay != "":
		return "relay " + s.cfg.Relay
	case s.cfg.Maildir != "":
		return "maildir " + s.cfg.Maildir
	}
	return ""
}

// Wake asks the sender to look at the outbox now rather than at the next
// tick: call it after queueing a mail (an acknowledgement, a reply). It
// never blocks, and wakes while a tick runs collapse into one.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends queued mail until ctx is done: a tick at start, then every
// Interval or at each Wake. Without a relay or maildir it returns at once
// (mail stays queued).
func (s *Sender) Run(ctx context.Context) {
	if !s.Enabled() {
		s.log().Warn("no relay and no maildir: outgoing mail stays queued in the outbox")
		return
	}
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			s.recordBeforeStop(ctx)
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// recordBeforeStop tries once more to record a try held unrecorded,
// when Run stops.
func (s *Sender) recordBeforeStop(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.unrecorded
	if h == nil {
		return
	}
	if err := s.recordHeld(ctx); err != nil {
		s.log().Error("stopping with a try not recorded: the mail waits for its claim to end, then is sent again",
			"outbox", h.m.ID, "kind", h.m.Kind, "report", h.m.TrackingID, "sent", h.a.Err == nil, "err", err)
	}
}

// Tick tries every mail due now once (in batches of Batch, a bounded
// number of them) and returns how many were sent. Its error is a failure
// of the store, after which the store is left alone for a backoff (Tick
// returns 0, nil until then); failures of single mails are recorded on
// them. A try held unrecorded is recorded first, and until that succeeds
// nothing is sent.
func (s *Sender) Tick(ctx context.Context) (int, error) {
	if !s.Enabled() {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.now().Before(s.storeRetryAt) {
		return 0, nil
	}
	if err := s.recordHeld(ctx); err != nil {
		return 0, s.storeFailed(err)
	}
	sent, err := s.sendDue(ctx)
	if err != nil && ctx.Err() == nil {
		return sent, s.storeFailed(err)
	}
	s.storeFailures, s.storeRetryAt = 0, time.Time{}
	return sent, err
}

// sendDue is Tick once the store is known to work. Its error is the
// store's, or ctx's.
func (s *Sender) sendDue(ctx context.Context) (int, error) {
	batch := s.cfg.Batch
	t := &transport{s: s}
	defer t.close()
	sent := 0
	for range maxTickRounds {
		mails, err := s.cfg.Store.PendingMail(ctx, s.now(), batch)
		if err != nil {
			return sent, fmt.Errorf("inbox: outbox: pending mail: %w", err)
		}
		for _, m := range mails {
			if ctx.Err() != nil {
				return sent, ctx.Err()
			}
			if ok, err := s.claim(ctx, m); err != nil || !ok {
				if err != nil {
					return sent, err
				}
				continue
			}
			a, abort := s.attempt(ctx, t, m)
			if a.Err == nil {
				sent++
			}
			// Recorded even when shutdown began during the try: a mail the
			// relay took must not go out again after a restart.
			h := &heldTry{m: m, a: a, at: s.now()}
			if err := s.record(ctx, h); err != nil {
				s.unrecorded = h
				s.log().Error("mail tried but the try could not be recorded: it is not tried again, its record is",
					"outbox", m.ID, "kind", m.Kind, "report", m.TrackingID, "sent", a.Err == nil, "err", err)
				return sent, err
			}
			if abort {
				// The relay itself is unreachable or refused the session:
				// the other mails were not tried and stay due.
				return sent, nil
			}
		}
		if len(mails) < batch {
			break
		}
	}
	return sent, nil
}

// claim claims the try of m in the store (ClaimMail) before the relay is
// contacted. false, nil: the mail is no longer to be tried (another try
// has it, or it is gone). An error is the store's: nothing is sent.
func (s *Sender) claim(ctx context.Context, m *triage.OutMail) (bool, error) {
	now := s.now()
	err := s.cfg.Store.ClaimMail(ctx, m.ID, now, now.Add(claimHold))
	switch triage.ErrorCode(err) {
	case "":
		return true, nil
	case triage.ECONFLICT, triage.ENOTFOUND:
		s.log().Info("mail not tried: no longer due", "outbox", m.ID, "err", err)
		return false, nil
	}
	return false, fmt.Errorf("inbox: outbox: claim mail %d: %w", m.ID, err)
}

// record records try h (MarkMail, at the time it was made), and logs it.
// Its error is the store's: the try must be recorded later, and never be
// made again meanwhile. A record the store refuses for good (the mail is
// gone, or is not queued any more) is dropped, logged.
func (s *Sender) record(ctx context.Context, h *heldTry) error {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	err := s.cfg.Store.MarkMail(mctx, h.m.ID, h.a, h.at)
	cancel()
	switch triage.ErrorCode(err) {
	case "":
		s.logAttempt(h.m, h.a)
	case triage.ECONFLICT, triage.ENOTFOUND:
		s.log().Error("mail tried but its try cannot be recorded", "outbox", h.m.ID, "sent", h.a.Err == nil, "err", err)
	default:
		return fmt.Errorf("inbox: outbox: record mail %d: %w", h.m.ID, err)
	}
	return nil
}

// recordHeld records the try held unrecorded, if any.
func (s *Sender) recordHeld(ctx context.Context) error {
	if s.unrecorded == nil {
		return nil
	}
	if err := s.record(ctx, s.unrecorded); err != nil {
		return err
	}
	s.unrecorded = nil
	return nil
}

// storeFailed starts or lengthens the store's backoff after err.
func (s *Sender) storeFailed(err error) error {
	s.storeFailures++
	wait := storeBackoff(s.storeFailures)
	s.storeRetryAt = s.now().Add(wait)
	return fmt.Errorf("%w (the outbox waits %s)", err, wait)
}

// storeBackoff is the wait after the failures-th store failure in a row:
// storeBackoffMin, doubling, at most storeBackoffMax.
func storeBackoff(failures int) time.Duration {
	d := storeBackoffMin
	for i := 1; i < failures && d < storeBackoffMax; i++ {
		d *= 2
	}
	return min(d, storeBackoffMax)
}

// attempt composes and delivers one mail. abort is true when the way out
// failed as a whole (no connection, no TLS, AUTH refused), so trying the
// next mails now is pointless.
func (s *Sender) attempt(ctx context.Context, t *transport, m *triage.OutMail) (a triage.MailAttempt, abort bool) {
	a.Via = s.via()
	msg, to, encrypted, err := s.compose(ctx, m, s.now())
	a.Encrypted = encrypted
	if err != nil {
		a.Err, a.Permanent = err, isPermanent(err)
		return a, false
	}
	err = t.deliver(ctx, to, msg)
	a.Err, a.Permanent = err, isPermanent(err)
	var se *sessionError
	return a, errors.As(err, &se)
}

func (s *Sender) via() string {
	if s.cfg.Relay != "" {
		return "relay " + s.cfg.Relay
	}
	return "maildir"
}

func (s *Sender) logAttempt(m *triage.OutMail, a triage.MailAttempt) {
	log := s.log().With("outbox", m.ID, "kind", m.Kind, "report", m.TrackingID, "via", a.Via)
	switch {
	case a.Err == nil:
		log.Info("mail sent", "encrypted", a.Encrypted)
	case a.Permanent || m.Attempts+1 >= triage.MaxMailAttempts:
		log.Error("mail failed, not retrying", "attempts", m.Attempts+1, "err", a.Err)
	default:
		log.Warn("mail not sent, will retry", "attempts", m.Attempts+1, "err", a.Err)
	}
}

// permanentError marks a failure that no retry can fix: the relay's 5xx,
// an address or subject that is not valid.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

func isPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

// sessionError marks a failure of the way out rather than of one mail:
// connecting, TLS, AUTH, a connection lost.
type sessionError struct{ err error }

func (e *sessionError) Error() string { return e.err.Error() }
func (e *sessionError) Unwrap() error { return e.err }

// transport is the way out for one tick: a relay session opened at the
// first mail and reused (RSET between mails), or the maildir.
type transport struct {
	s    *Sender
	sess *relaySession
}

func (t *transport) deliver(ctx context.Context, to string, msg []byte) error {
	if t.s.cfg.Relay == "" {
		return writeMaildir(t.s.cfg.Maildir, msg, t.s.now())
	}
	if t.sess != nil && time.Since(t.sess.started) > relaySessionMaxAge {
		t.sess.quit()
		t.sess = nil
	}
	if t.sess == nil {
		sess, err := t.s.dialRelay(ctx)
		if err != nil {
			return &sessionError{err}
		}
		t.sess = sess
	}
	err := t.sess.send(t.s.cfg.TeamAddress, to, msg)
	if t.sess.broken {
		t.sess.close()
		t.sess = nil
	}
	return err
}

func (t *transport) close() {
	if t.sess != nil {
		t.sess.quit()
		t.sess = nil
	}
}

func (s *Sender) now() time.Time { return s.cfg.Now() }

func (s *Sender) log() *slog.Logger { return s.cfg.Logger }
