package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/secinbox/secinbox/advisory"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

//go:embed static
var staticFS embed.FS

// Config is what New needs. Store, Domain and PublicURL are required.
type Config struct {
	Store  Store
	Logger *slog.Logger // nil: discard

	// Domain is the mail domain: "example.com" publishes security@example.com.
	Domain string
	// Addresses are all accepted addresses. WKD serves the team key for
	// the local parts of those whose domain is Domain.
	Addresses []string
	// PublicURL is the site's base URL without a trailing slash, e.g.
	// "https://security.example.com". Used in security.txt and links.
	PublicURL string

	PublicKeyArmored []byte    // the team's primary public key, armored: /pgp-key.asc
	PublicKeyBinary  []byte    // the same key, binary: WKD
	KeyFingerprint   string    // hex, shown on the policy page; may be empty
	KeyExpires       time.Time // zero: the key does not expire
	// TeamKey, when set, is asked for the key to publish on every request
	// that shows it, instead of the four fixed fields above, so that a key
	// rotation takes effect without a restart. It must be cheap.
	TeamKey func(context.Context) PublishedKey

	// SecureCookies is true when the site is served over HTTPS (itself,
	// or behind a proxy that terminates TLS): the session cookie is then
	// __Host- prefixed and Secure, and HSTS is sent on HTTPS requests.
	SecureCookies bool
	// TrustedProxies are the reverse proxies in front of the site. Only a
	// request from one of them has its client address taken from
	// Forwarded / X-Forwarded-For and its scheme from X-Forwarded-Proto
	// (proxy.go); empty: those headers are ignored.
	TrustedProxies []netip.Prefix
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// KeyFinder, when set, backs the report page's "Look up key" button
	// (Web Key Directory and keyserver); Reverifier, when set, checks a
	// report's signatures again once the lookup found keys.
	KeyFinder  KeyFinder
	Reverifier Reverifier

	// SecretKey (32 bytes) seals two-factor secrets in the database; cmd
	// derives it from the team key's passphrase. Without it two-factor
	// enrolment is refused (sign-in with an enrolled code still fails
	// closed).
	SecretKey []byte

	// PasswordCost is the bcrypt cost of passwords set through the site
	// (password changes, new users), and of the hash a sign-in with an
	// unknown email is compared against so that it takes as long; 0
	// means triage.PasswordCost. Tests lower it: cost 12 takes seconds
	// under the race detector.
	PasswordCost int

	// The conversation with researchers (issue 5).

	// LinkKey derives the status and credit link tokens
	// (triage.LinkToken); without it those links cannot be made.
	LinkKey []byte
	// Intake, when set, asks intake to file a web submission just stored
	// as raw message id; otherwise the next catch-up files it.
	Intake triage.Waker
	// ClearSign, when set, signs security.txt with the team key (an
	// OpenPGP cleartext signature); nil serves it unsigned.
	ClearSign func(ctx context.Context, text []byte) ([]byte, error)
	// DetachSign, when set, makes a detached, armored OpenPGP signature
	// with the team key: the published CSAF documents' .asc. Nil
	// publishes them unsigned.
	DetachSign func(ctx context.Context, data []byte) ([]byte, error)
	// AdvisoryPublisher names the publisher (and vendor) in published
	// advisories; "" means Domain.
	AdvisoryPublisher string
	// CVEServices, when set, reserves CVE IDs and publishes their
	// records (cve.go); nil: CVE IDs are recorded by hand.
	CVEServices CVEServices
	// SecurityTxtHiring and SecurityTxtCSAF are the URLs security.txt
	// gives as Hiring and CSAF; "" leaves Hiring out, and gives as CSAF
	// the site's own provider-metadata.json when PublicURL is https.
	SecurityTxtHiring string
	SecurityTxtCSAF   string
	// OutboundMail says how mail leaves, for the outbox page: "relay
	// smtp.example.com:587", "maildir data/maildir", or "" when no relay
	// is configured and mail stays queued.
	OutboundMail string
	// Outbox, when set, is woken after a mail is queued in the outbox (a
	// staff reply, a credit offer, a retry), so the sender tries it now
	// instead of at its next poll.
	Outbox triage.Waker

	// Uses records the last use of sessions and API tokens; the caller
	// runs it (UseRecorder.Run). Nil: a recorder on Store that nobody
	// runs, so uses are only kept in memory (and shown) — fine for tests.
	Uses *UseRecorder

	// MTASTSPolicy, when set, returns the MTA-STS policy file to serve at
	// /.well-known/mta-sts.txt (nil: none, 404); cmd sets it under TLS.
	MTASTSPolicy func() []byte

	// Mailboxes, when set, returns the state of each mailbox fetched
	// over IMAP (package mailbox), for the settings page and /metrics.
	Mailboxes func() []triage.MailboxStatus

	// OIDC, when set, turns on single sign-on with an OpenID Connect
	// provider (oidc.go); password sign-in is then for admins only.
	OIDC *OIDCConfig

	// FilingLatency, when set, is intake's record of the time from each
	// message's 250 to its filing, shown on /metrics.
	FilingLatency *triage.Histogram
}

// server holds what every handler needs.
type server struct {
	store      Store
	log        *slog.Logger
	now        func() time.Time
	domain     string
	contact    string // security@domain
	publicURL  string
	keyArmored []byte
	keyBinary  []byte
	keyFpr     string
	keyExpires time.Time
	teamKeyFn  func(context.Context) PublishedKey
	secure     bool
	// trustedProxies are Config.TrustedProxies (proxy.go).
	trustedProxies []netip.Prefix
	cookieName     string
	wkd            map[string]bool // z-base-32 hashes of the local parts WKD serves
	keyFinder      KeyFinder       // nil: no key lookups
	reverifier     Reverifier      // nil: lookups do not verify again
	filingLatency  *triage.Histogram
	acct           *accounts // sign-in limits, two-factor sealing (account.go)
	sso            *sso      // single sign-on (oidc.go); nil: off

	linkKey    []byte
	intake     triage.Waker
	clearSign  func(ctx context.Context, text []byte) ([]byte, error)
	detachSign func(ctx context.Context, data []byte) ([]byte, error)
	// advisoryPublisher is Config.AdvisoryPublisher (advisory.go).
	advisoryPublisher string
	cve               CVEServices // nil: not configured (cve.go)
	stxtHiring        string
	stxtCSAF          string
	outboundMail      string
	// submitLimits are the per-IP limits of the web form and status pages.
	submitLimits *submitLimiters
	mailOutbox   triage.Waker // nil: the sender finds new mail at its next poll
	uses         *UseRecorder
	mailboxes    func() []triage.MailboxStatus // nil: no mailbox intake

	mtaSTSPolicy func() []byte // nil: no MTA-STS policy (mtasts.go)

	hall *hallCache // the rendered hall of fame (halloffame.go)
	stxt stxtCache  // the signed security.txt (public.go)
}

// New returns the handler for the whole site: public pages, staff UI and
// JSON API, wrapped in the security headers and cross-origin (CSRF)
// protection. It returns an error when cfg misses a required field.
func New(cfg Config) (http.Handler, error) {
	return newHandler(cfg, routes)
}

// newHandler is New with the route table as a parameter, so that tests
// can add routes that need more than the viewer role.
func newHandler(cfg Config, table []Route) (http.Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: Config.Store is required")
	}
	domain := strings.ToLower(strings.TrimSpace(cfg.Domain))
	if domain == "" || strings.ContainsAny(domain, "@/ ") {
		return nil, fmt.Errorf("web: invalid Config.Domain %q", cfg.Domain)
	}
	publicURL := strings.TrimRight(cfg.PublicURL, "/")
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("web: Config.PublicURL must be an absolute http(s) URL, got %q", cfg.PublicURL)
	}
	s := &server{
		store:             cfg.Store,
		log:               cfg.Logger,
		now:               cfg.Now,
		domain:            domain,
		contact:           "security@" + domain,
		publicURL:         publicURL,
		keyArmored:        cfg.PublicKeyArmored,
		keyBinary:         cfg.PublicKeyBinary,
		keyFpr:            cfg.KeyFingerprint,
		keyExpires:        cfg.KeyExpires,
		teamKeyFn:         cfg.TeamKey,
		secure:            cfg.SecureCookies,
		trustedProxies:    cfg.TrustedProxies,
		cookieName:        "secinbox_session",
		wkd:               make(map[string]bool),
		keyFinder:         cfg.KeyFinder,
		reverifier:        cfg.Reverifier,
		acct:              newAccounts(cfg.SecretKey, cfg.SecureCookies, cfg.PasswordCost),
		linkKey:           cfg.LinkKey,
		intake:            cfg.Intake,
		clearSign:         cfg.ClearSign,
		stxtHiring:        cfg.SecurityTxtHiring,
		stxtCSAF:          cfg.SecurityTxtCSAF,
		outboundMail:      cfg.OutboundMail,
		submitLimits:      newSubmitLimiters(),
		uses:              cfg.Uses,
		mtaSTSPolicy:      cfg.MTASTSPolicy,
		mailboxes:         cfg.Mailboxes,
		detachSign:        cfg.DetachSign,
		advisoryPublisher: strings.TrimSpace(cfg.AdvisoryPublisher),
		cve:               cfg.CVEServices,
		filingLatency:     cfg.FilingLatency,
		mailOutbox:        cfg.Outbox,
	}
	if s.uses == nil {
		s.uses = NewUseRecorder(cfg.Store, cfg.Logger)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.hall = newHallCache(s.now())
	if s.sso, err = newSSO(cfg.OIDC, publicURL, cfg.SecretKey, s.secure, s.now); err != nil {
		return nil, err
	}
	if err := checkSecurityTxtURL("SecurityTxtHiring", s.stxtHiring); err != nil {
		return nil, err
	}
	if err := checkSecurityTxtURL("SecurityTxtCSAF", s.stxtCSAF); err != nil {
		return nil, err
	}
	if s.stxtCSAF == "" && strings.HasPrefix(publicURL, "https://") {
		s.stxtCSAF = publicURL + advisory.ProviderMetadataPath // advisory.go serves it
	}
	if s.secure {
		s.cookieName = "__Host-secinbox_session"
	}
	for _, a := range append([]string{s.contact}, cfg.Addresses...) {
		i := strings.LastIndexByte(a, '@')
		if i <= 0 || !strings.EqualFold(a[i+1:], domain) {
			continue
		}
		s.wkd[pgp.WKDHash(a[:i])] = true
	}

	go dummyHash(s.acct.passwordCost) // compute the timing-equalizer hash before the first failed login needs it

	mux := http.NewServeMux()
	for _, rt := range table {
		mux.Handle(rt.Method+" "+rt.Pattern, s.authorize(rt, s.bind(rt.handle)))
	}
	// Everything else (unknown paths, wrong methods) still goes through
	// the mux, and the security headers below; an unknown path gets our
	// own 404 page (or JSON on the API) instead of Go's plain text.

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, triage.Errorf(triage.EFORBIDDEN, "cross-origin request refused"))
	}))
	return s.realClient(s.securityHeaders(cop.Handler(s.notFound(mux)))), nil
}

// notFound serves mux, answering the requests no route matches with the
// site's error page: Go's mux would answer them in plain text.
func (s *server) notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// 404, or 405 for a path served with another method: only the
		// first is ours to word; the second keeps Go's answer (and Allow).
		rec := &fallbackAnswer{header: http.Header{}, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		if rec.status == http.StatusNotFound {
			s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "There is no page at this address."))
			return
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// fallbackAnswer keeps the small answer Go's mux gives to a request no
// route matches.
type fallbackAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (f *fallbackAnswer) Header() http.Header { return f.header }
func (f *fallbackAnswer) WriteHeader(status int) {
	f.status = status
}
func (f *fallbackAnswer) Write(b []byte) (int, error) {
	if f.body.Len() < 4096 {
		f.body.Write(b[:min(len(b), 4096-f.body.Len())])
	}
	return len(b), nil
}

// bind turns a handler method expression into an http.Handler on s.
func (s *server) bind(h func(*server, http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(s, w, r) })
}
