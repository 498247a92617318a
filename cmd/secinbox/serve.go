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
	if err := cfg.check(); err != nil {
		return err
	}
	if err := cfg.checkReplica(); err != nil {
		return err
	}
	team, err := cfg.teamAddresses()
	if err != nil {
		return err
	}

	d, err := openData(ctx, &cfg)
	if err != nil {
		return err
	}
	var replica *db.Replica
	defer func() {
		if err := d.Close(); err != nil {
			log.Error("close database", "err", err)
		}
		log.Info("database closed")
		// After the database: Litestream's connection is the last, so it
		// ships everything and the WAL stays as it left it.
		if replica != nil {
			if err := replica.Close(); err != nil {
				log.Error("close replica", "err", err)
			}
			log.Info("replica closed")
		}
	}()
	removeStaleSnapshots(cfg.Data, log)
	if cfg.ReplicaURL != "" {
		if replica, err = db.Replicate(cfg.dbPath(), cfg.ReplicaURL, cfg.ReplicaSyncInterval, log); err != nil {
			return err
		}
		log.Info("replicating the database", "replica", replica.Dir, "sync_interval", cfg.ReplicaSyncInterval.String())
	}

	pass, err := cfg.passphrase(ctx, log, d)
	if err != nil {
		return err
	}
	if replica != nil && cfg.devPassphrase() {
		log.Warn("the key passphrase is the development one in the data directory, which is not replicated: "+
			"a database restored from the replica cannot unlock the team keys without that file; "+
			"set SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE", "file", filepath.Join(cfg.Data, devPassphraseFile))
	}
	// Seals staff two-factor secrets in the database.
	salt, err := d.InstallSalt(ctx)
	if err != nil {
		return err
	}
	secretKey := webSecretKey(pass, salt)
	keys, err := teamkey.Open(ctx, teamkey.Config{Store: d, Passphrase: pass, // kept, to unlock keys added later
		Domain: cfg.Domain, Lifetime: cfg.KeyLifetime, Logger: log})
	if err != nil {
		return err
	}

	tlsc, err := cfg.setupTLS(log) // certificate files or ACME (tls.go)
	if err != nil {
		return err
	}
	tlsConfig := tlsc.https

	addresses := inbox.AcceptedAddresses(cfg.Domain, cfg.aliases())
	links := linkKey(secretKey)
	sender, err := cfg.sender(d, keys, links, log)
	if err != nil {
		return err
	}
	proc := inbox.NewProcessor(d, nil, log)
	proc.KeySource = keys.Decryption
	proc.Conversation = d
	proc.Domain = cfg.Domain
	proc.OwnAddresses = addresses
	proc.AckPerSender = int(cfg.AckPerSender)
	proc.AckPerHour = int(cfg.AckPerHour)
	proc.OnQueued = sender.Kick
	proc.Latency = &triage.Histogram{}
	keyLookup, err := inbox.NewKeyLookup(inbox.KeyLookupConfig{
		WKDAdvancedURL: cfg.WKDAdvancedURL,
		WKDDirectURL:   cfg.WKDDirectURL,
		VKSURL:         cfg.VKSURL,
		Logger:         log,
	})
	if err != nil {
		return err
	}
	smtpSrv, err := inbox.NewServer(inbox.Config{
		Domain:          cfg.Domain,
		Addresses:       addresses,
		MaxMessageBytes: cfg.MaxMessageBytes,
		MaxConns:        int(cfg.SMTPMaxConns),
		MaxConnsPerIP:   int(cfg.SMTPMaxConnsPerIP),
		TLSConfig:       tlsc.smtp,
		Hostname:        cfg.mxHost(),
		Logger:          log,
	}, d, proc.Enqueue)
	if err != nil {
		return err
	}
	proxies, _ := cfg.trustedProxies() // checked by cfg.check
	uses := web.NewUseRecorder(d, log)
	handler, err := web.New(web.Config{
		Store:     d,
		Logger:    log,
		Domain:    cfg.Domain,
		Addresses: addresses,
		PublicURL: cfg.publicURL(),
		TeamKey:   publishedKey(keys),
		// Behind a proxy that terminates TLS the site is still HTTPS.
		SecureCookies:  tlsConfig != nil || (len(proxies) > 0 && strings.HasPrefix(cfg.publicURL(), "https://")),
		TrustedProxies: proxies,
		SecretKey:      secretKey,
		KeyFinder:      keyLookup,
		Reverifier:     proc,

		LinkKey:           links,
		Intake:            proc.Enqueue,
		ClearSign:         keys.ClearSign,
		SecurityTxtHiring: cfg.SecurityTxtHiring,
		SecurityTxtCSAF:   cfg.SecurityTxtCSAF,
		OutboundMail:      sender.Describe(),
		MailQueued:        sender.Kick,
		Uses:              uses,
		MTASTSPolicy:      tlsc.policy(),
		FilingLatency:     proc.Latency,
	})
	if err != nil {
		return err
	}
	notifier, err := cfg.notifier(d, log)
	if err != nil {
		return err
	}
	if len(team) > 0 {
		notifier.Mailer = &inbox.TeamMail{Store: d, To: team, Domain: cfg.Domain, Kick: sender.Kick}
	}
	httpSrv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	smtpLn, err := net.Listen("tcp", cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		smtpLn.Close()
		return fmt.Errorf("http: %w", err)
	}
	if tlsConfig != nil {
		httpLn = tls.NewListener(httpLn, tlsConfig)
	}
	if err := tlsc.listen(); err != nil {
		smtpLn.Close()
		httpLn.Close()
		return err
	}

	procCtx, stopProc := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Go(func() { proc.Run(procCtx) })
	wg.Go(func() {
		if err := smtpSrv.Serve(smtpLn); err != nil {
			errc <- fmt.Errorf("smtp: %w", err)
		}
	})
	wg.Go(func() {
		if err := httpSrv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	})
	wg.Go(func() {
		if err := tlsc.serveRedirect(); err != nil {
			errc <- fmt.Errorf("http redirect: %w", err)
		}
	})
	wg.Go(func() { tlsc.runACME(procCtx) })
	wg.Go(func() { expireSessions(procCtx, d, log) })
	wg.Go(func() { notifier.Run(procCtx) })
	wg.Go(func() { keys.WatchExpiry(procCtx) })
	wg.Go(func() { sender.Run(procCtx) })
	wg.Go(func() { uses.Run(procCtx) }) // last uses of sessions and API tokens
	log.Info("secinbox started", "smtp", smtpLn.Addr().String(), "http", httpLn.Addr().String(),
		"domain", cfg.Domain, "addresses", strings.Join(addresses, ","), "public_url", cfg.publicURL(),
		"key", keys.Published(ctx).Fingerprint, "data", cfg.Data, "outbound_mail", sender.Describe())
	nextSteps(ctx, log, d, &cfg)

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
		if err := smtpSrv.Shutdown(sctx); err != nil {
			log.Warn("smtp shutdown", "err", err)
		}
	})
	sw.Go(func() {
		if err := httpSrv.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
			httpSrv.Close()
		}
	})
	sw.Go(func() { tlsc.shutdown(sctx) })
	sw.Wait()
	stopProc()
	wg.Wait()
	return runErr
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
	_ teamkey.Store           = (*db.DB)(nil)
	_ inbox.MailSigner        = (*teamkey.Ring)(nil)
)
