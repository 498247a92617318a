package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/mailauth"
	"github.com/secinbox/secinbox/mailbox"
	"github.com/secinbox/secinbox/teamkey"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// shutdownGrace is how long in-flight SMTP transfers and HTTP requests
// get after SIGTERM; the process exits within 10 s.
const shutdownGrace = 8 * time.Second

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// nextSteps ends the start-up log with what to do next: where to sign
// in, and how to make the first staff account while there is none.
func nextSteps(ctx context.Context, log *slog.Logger, d *db.DB, cfg *Config) {
	log.Info("sign in at " + cfg.publicURL() + "/login")
	users, err := d.Users(ctx)
	if err == nil && len(users) == 0 {
		dataFlag := ""
		if cfg.Data != "./data" {
			dataFlag = " -data " + cfg.Data
		}
		log.Warn("no staff account yet: run `secinbox user add" + dataFlag + " --email you@example.com --role admin` (it prints a password)")
	}
}

func cmdServe(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	if err := e.parse(fs); err != nil {
		return err
	}
	log := newLogger(&cfg, e.stderr)
	a, err := newApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

// app is the server `secinbox serve` runs: every part built from the
// settings by newApp, serving in Run, released by Close.
type app struct {
	cfg *Config
	log *slog.Logger

	db        *db.DB
	replica   *db.Replica // nil: not replicating
	keys      *teamkey.Ring
	tls       *tlsSetup
	addresses []string
	sender    *inbox.Sender
	proc      *inbox.Processor
	notifier  *inbox.Notifier
	uses      *web.UseRecorder
	mailboxes []*mailbox.Poller
	sso       *web.OIDCConfig // nil: no single sign-on
	smtp      *inbox.Server
	http      *http.Server
	smtpLn    net.Listener
	httpLn    net.Listener
}

// newApp checks cfg, opens the database and the team keyring, builds the
// SMTP and HTTP servers and the workers, and listens. On error what was
// opened is closed again.
func newApp(ctx context.Context, cfg *Config, log *slog.Logger) (a *app, err error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := cfg.checkReplica(); err != nil {
		return nil, err
	}
	team, err := cfg.teamAddresses()
	if err != nil {
		return nil, err
	}
	a = &app{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.Close()
			a = nil
		}
	}()
	if a.db, err = openData(ctx, cfg); err != nil {
		return a, err
	}
	removeStaleSnapshots(cfg.Data, log)
	if cfg.ReplicaURL != "" {
		target, err := cfg.replicaTarget(cfg.ReplicaURL)
		if err != nil {
			return a, fmt.Errorf("-replica-url: %w", err)
		}
		if a.replica, err = db.Replicate(cfg.dbPath(), target, cfg.ReplicaSyncInterval, log); err != nil {
			return a, err
		}
		log.Info("replicating the database", "replica", a.replica.Target.String(), "sync_interval", cfg.ReplicaSyncInterval.String())
	}
	d := a.db

	pass, err := cfg.passphrase(ctx, log, d)
	if err != nil {
		return a, err
	}
	if a.replica != nil && cfg.devPassphrase() {
		log.Warn("the key passphrase is the development one in the data directory, which is not replicated: "+
			"a database restored from the replica cannot unlock the team keys without that file; "+
			"set SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE", "file", filepath.Join(cfg.Data, devPassphraseFile))
	}
	// Seals staff two-factor secrets in the database.
	salt, err := d.InstallSalt(ctx)
	if err != nil {
		return a, err
	}
	secretKey := webSecretKey(pass, salt)
	a.keys, err = teamkey.Open(ctx, teamkey.Config{Store: d, Passphrase: pass, // kept, to unlock keys added later
		Domain: cfg.Domain, Lifetime: cfg.KeyLifetime, Logger: log})
	if err != nil {
		return a, err
	}

	if a.tls, err = cfg.setupTLS(log); err != nil { // certificate files or ACME (tls.go)
		return a, err
	}
	tlsConfig := a.tls.https

	a.addresses = inbox.AcceptedAddresses(cfg.Domain, cfg.aliases())
	links := linkKey(secretKey)
	if a.sender, err = cfg.sender(d, a.keys, links, log); err != nil {
		return a, err
	}
	latency := &triage.Histogram{}
	a.proc, err = inbox.NewProcessor(inbox.ProcessorConfig{
		Store:        d,
		Conversation: d,
		Keys:         a.keys.Decryption,
		Logger:       log,
		Latency:      latency,
		Domain:       cfg.Domain,
		OwnAddresses: a.addresses,
		AckPerSender: int(cfg.AckPerSender),
		AckPerHour:   int(cfg.AckPerHour),
		Outbox:       a.sender,
		// SPF and DKIM of each message while it is filed, not before the 250,
		// through a cache: a burst from one domain asks for its records once.
		Authenticate: (&mailauth.Checker{MailboxRemoteAddr: mailbox.RemoteAddr,
			Resolver: mailauth.NewCache(net.DefaultResolver, time.Minute, 10*time.Second, nil)}).Check,
	})
	if err != nil {
		return a, err
	}
	keyLookup, err := inbox.NewKeyLookup(inbox.KeyLookupConfig{
		WKDAdvancedURL: cfg.WKDAdvancedURL,
		WKDDirectURL:   cfg.WKDDirectURL,
		VKSURL:         cfg.VKSURL,
		Logger:         log,
	})
	if err != nil {
		return a, err
	}
	a.smtp, err = inbox.NewServer(inbox.Config{
		Domain:          cfg.Domain,
		Addresses:       a.addresses,
		MaxMessageBytes: cfg.MaxMessageBytes,
		MaxConns:        int(cfg.SMTPMaxConns),
		MaxConnsPerIP:   int(cfg.SMTPMaxConnsPerIP),
		TLSConfig:       a.tls.smtp,
		Hostname:        cfg.mxHost(),
		Logger:          log,
	}, d, a.proc)
	if err != nil {
		return a, err
	}
	// Mailbox intake: the SMTP path, over IMAP.
	if a.mailboxes, err = cfg.mailboxPollers(d, a.proc, log); err != nil {
		return a, err
	}
	proxies, _ := cfg.trustedProxies() // checked by cfg.check
	sso, err := cfg.oidc()
	if err != nil {
		return a, err
	}
	a.sso = sso
	cveServices, err := cfg.cveServices()
	if err != nil {
		return a, err
	}
	a.uses = web.NewUseRecorder(d, log)
	handler, err := web.New(web.Config{
		Store:     d,
		Logger:    log,
		Domain:    cfg.Domain,
		Addresses: a.addresses,
		PublicURL: cfg.publicURL(),
		TeamKey:   publishedKey(a.keys),
		// Behind a proxy that terminates TLS the site is still HTTPS.
		SecureCookies:  tlsConfig != nil || (len(proxies) > 0 && strings.HasPrefix(cfg.publicURL(), "https://")),
		TrustedProxies: proxies,
		SecretKey:      secretKey,
		KeyFinder:      keyLookup,
		Reverifier:     a.proc,

		LinkKey:           links,
		Intake:            a.proc,
		ClearSign:         a.keys.ClearSign,
		DetachSign:        a.keys.DetachSign,
		AdvisoryPublisher: cfg.AdvisoryPublisher,
		CVEServices:       cveServices,
		SecurityTxtHiring: cfg.SecurityTxtHiring,
		SecurityTxtCSAF:   cfg.SecurityTxtCSAF,
		OutboundMail:      a.sender.Describe(),
		Outbox:            a.sender,
		Uses:              a.uses,
		MTASTSPolicy:      a.tls.policy(),
		Mailboxes:         mailboxStatus(a.mailboxes),
		OIDC:              sso,
		FilingLatency:     latency,
	})
	if err != nil {
		return a, err
	}
	var mailer inbox.TeamMailer // nil without team addresses (never a nil *inbox.TeamMail)
	if len(team) > 0 {
		tm, err := inbox.NewTeamMail(inbox.TeamMailConfig{Store: d, To: team, Domain: cfg.Domain, Outbox: a.sender})
		if err != nil {
			return a, fmt.Errorf("-notify-email: %w", err)
		}
		mailer = tm
	}
	if a.notifier, err = cfg.notifier(d, mailer, log); err != nil {
		return a, err
	}
	a.http = &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	if a.smtpLn, err = net.Listen("tcp", cfg.SMTPAddr); err != nil {
		return a, fmt.Errorf("smtp: %w", err)
	}
	if a.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return a, fmt.Errorf("http: %w", err)
	}
	if tlsConfig != nil {
		a.httpLn = tls.NewListener(a.httpLn, tlsConfig)
	}
	if err := a.tls.listen(); err != nil {
		return a, err
	}
	return a, nil
}

// Run serves until ctx ends or a server fails, then shuts down: the SMTP
// and HTTP servers get shutdownGrace to finish what is in flight, then
// the workers stop.
func (a *app) Run(ctx context.Context) error {
	log, cfg, d := a.log, a.cfg, a.db
	procCtx, stopProc := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	smtpLn, httpLn := a.smtpLn, a.httpLn
	a.smtpLn, a.httpLn = nil, nil // the servers own them now
	wg.Go(func() { a.proc.Run(procCtx) })
	wg.Go(func() {
		if err := a.smtp.Serve(smtpLn); err != nil {
			errc <- fmt.Errorf("smtp: %w", err)
		}
	})
	wg.Go(func() {
		if err := a.http.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	})
	wg.Go(func() {
		if err := a.tls.serveRedirect(); err != nil {
			errc <- fmt.Errorf("http redirect: %w", err)
		}
	})
	wg.Go(func() { a.tls.runACME(procCtx) })
	wg.Go(func() { expireSessions(procCtx, d, log) })
	wg.Go(func() { a.notifier.Run(procCtx) })
	wg.Go(func() { a.keys.WatchExpiry(procCtx) })
	wg.Go(func() { a.sender.Run(procCtx) })
	wg.Go(func() { a.uses.Run(procCtx) }) // last uses of sessions and API tokens
	for _, p := range a.mailboxes {
		wg.Go(func() { p.Run(procCtx) })
	}
	log.Info("secinbox started", "smtp", smtpLn.Addr().String(), "http", httpLn.Addr().String(),
		"domain", cfg.Domain, "addresses", strings.Join(a.addresses, ","), "public_url", cfg.publicURL(),
		"key", a.keys.Published(ctx).Fingerprint, "data", cfg.Data, "outbound_mail", a.sender.Describe())
	if a.sso != nil {
		log.Info("single sign-on is on: password sign-in is for admins only", "issuer", a.sso.Issuer,
			"redirect_url", cfg.publicURL()+"/login/oidc/callback")
	}
	nextSteps(ctx, log, d, cfg)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-errc:
		log.Error("server failed, shutting down", "err", runErr)
	}

	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var sw sync.WaitGroup
	sw.Go(func() {
		if err := a.smtp.Shutdown(sctx); err != nil {
			log.Warn("smtp shutdown", "err", err)
		}
	})
	sw.Go(func() {
		if err := a.http.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
			a.http.Close()
		}
	})
	sw.Go(func() { a.tls.shutdown(sctx) })
	sw.Wait()
	stopProc()
	wg.Wait()
	return runErr
}

// Close releases what newApp opened: listeners Run did not take, the
// database, then the replica. It may be called after a failed newApp.
func (a *app) Close() {
	for _, ln := range []net.Listener{a.smtpLn, a.httpLn} {
		if ln != nil {
			ln.Close()
		}
	}
	if a.db != nil {
		if err := a.db.Close(); err != nil {
			a.log.Error("close database", "err", err)
		}
		a.log.Info("database closed")
	}
	// After the database: Litestream's connection is the last, so it
	// ships everything and the WAL stays as it left it.
	if a.replica != nil {
		if err := a.replica.Close(); err != nil {
			a.log.Error("close replica", "err", err)
		}
		a.log.Info("replica closed")
	}
}

// publishedKey is web's TeamKey: the keyring's primary public key.
func publishedKey(r *teamkey.Ring) func(context.Context) web.PublishedKey {
	return func(ctx context.Context) web.PublishedKey {
		k := r.Published(ctx)
		return web.PublishedKey{Armored: k.Armored, Binary: k.Binary, Fingerprint: k.Fingerprint, Expires: k.Expires}
	}
}

// expireSessions deletes expired staff sessions every hour.
func expireSessions(ctx context.Context, d interface {
	DeleteExpiredSessions(context.Context, time.Time) (int64, error)
}, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := d.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("delete expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// The database implements what every other package declares it needs.
var (
	_ inbox.Store             = (*db.DB)(nil)
	_ inbox.ConversationStore = (*db.DB)(nil)
	_ inbox.OutboxStore       = (*db.DB)(nil)
	_ inbox.NotifyStore       = (*db.DB)(nil)
	_ web.Store               = (*db.DB)(nil)
	_ mailbox.Store           = (*db.DB)(nil)
	_ teamkey.Store           = (*db.DB)(nil)
	_ inbox.MailSigner        = (*teamkey.Ring)(nil)
)
