package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/secinbox/secinbox/certs"
	"github.com/secinbox/secinbox/mtasts"
	"github.com/secinbox/secinbox/triage"
)

// acme reports whether -acme is on.
func (c *Config) acme() bool { return c.ACME == "on" }

// mxHost is the SMTP server's host name: -smtp-hostname, or -domain.
func (c *Config) mxHost() string {
	if h := strings.TrimSpace(c.SMTPHostname); h != "" {
		return strings.ToLower(strings.TrimSuffix(h, "."))
	}
	return strings.ToLower(strings.TrimSpace(c.Domain))
}

// webHost is the public URL's host name, without a port.
func (c *Config) webHost() string {
	u, err := url.Parse(c.publicURL())
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// httpsPort is the public URL's port; "" when it has none (443).
func (c *Config) httpsPort() string {
	u, err := url.Parse(c.publicURL())
	if err != nil {
		return ""
	}
	return u.Port()
}

// tlsHosts are the names the server needs certificates for: the public
// URL's host, the MX host, the host senders fetch the MTA-STS policy
// from and the Web Key Directory's (advanced method) host.
func (c *Config) tlsHosts() []string {
	var out []string
	domain := strings.ToLower(strings.TrimSpace(c.Domain))
	for _, h := range []string{c.webHost(), c.mxHost(), "mta-sts." + domain, "openpgpkey." + domain} {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// redirectAddr is where plain HTTP is answered: -http-redirect-addr,
// :80 by default with -acme on, "" for none.
func (c *Config) redirectAddr() string {
	switch c.HTTPRedirectAddr {
	case "off":
		return ""
	case "":
		if c.acme() {
			return ":80"
		}
		return ""
	}
	return c.HTTPRedirectAddr
}

// checkTLS refuses TLS settings that cannot work.
func (c *Config) checkTLS() error {
	if h := c.SMTPHostname; h != "" && (strings.ContainsAny(h, "@/: \t") || !strings.Contains(strings.Trim(h, "."), ".") && h != "localhost") {
		return fmt.Errorf("-smtp-hostname must be a host name like mx.example.com, not %q", h)
	}
	if !c.acme() {
		if c.redirectAddr() != "" && c.TLSCert == "" {
			return errors.New("-http-redirect-addr redirects to HTTPS, which needs TLS: set -acme on, or -tls-cert and -tls-key")
		}
		return nil
	}
	if c.TLSCert != "" {
		return errors.New("set -acme on, or -tls-cert and -tls-key, not both")
	}
	if err := certs.PublicName(strings.ToLower(c.Domain)); err != nil {
		return fmt.Errorf("-acme on needs a public mail domain (-domain example.com), not %q", c.Domain)
	}
	if err := certs.PublicName(c.webHost()); err != nil {
		return fmt.Errorf("-acme on needs a public host name in -public-url (https://security.example.com), not %q", c.webHost())
	}
	if err := certs.PublicName(c.mxHost()); err != nil {
		return fmt.Errorf("-acme on needs a public MX host name in -smtp-hostname (mx.example.com), not %q", c.mxHost())
	}
	if c.ACMEEmail != "" {
		if _, err := triage.ValidAddress(c.ACMEEmail); err != nil {
			return fmt.Errorf("-acme-email: %q is not one plain email address", c.ACMEEmail)
		}
	}
	if u, err := url.Parse(c.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("-acme-directory must be an https URL, not %q", c.ACMEDirectory)
	}
	return nil
}

// stsPolicy is the MTA-STS policy: enforce once a certificate for the MX
// host is held, testing before.
func (c *Config) stsPolicy(held bool) mtasts.Policy {
	mode := mtasts.Testing
	if held {
		mode = mtasts.Enforce
	}
	return mtasts.Policy{Mode: mode, MX: []string{c.mxHost()}, MaxAge: mtasts.DefaultMaxAge}
}

// tlsSetup is the server's TLS: certificates from files or from ACME,
// the same for HTTPS and SMTP STARTTLS, and the plain HTTP server that
// redirects to HTTPS and answers the ACME HTTP-01 challenges.
type tlsSetup struct {
	cfg        *Config
	log        *slog.Logger
	https      *tls.Config    // nil: no TLS
	smtp       *tls.Config    // nil: no STARTTLS
	acme       *certs.Manager // nil unless -acme on
	holdsMX    func() bool
	redirect   *http.Server // nil: no plain HTTP listener
	redirectLn net.Listener
}

// setupTLS loads the certificate files, or prepares ACME (cache in
// DATA/acme), as the settings say; with neither it returns a setup with
// no TLS.
func (c *Config) setupTLS(log *slog.Logger) (*tlsSetup, error) {
	t := &tlsSetup{cfg: c, log: log}
	mx := c.mxHost()
	switch {
	case c.acme():
		hosts := c.tlsHosts()
		dir := filepath.Join(c.Data, "acme")
		var enforced atomic.Bool // the policy is enforce: the MX host's certificate is held
		enforced.Store(certs.Held(dir, mx, time.Now()) != nil)
		m, err := certs.New(certs.Config{
			Dir:          dir,
			DirectoryURL: c.ACMEDirectory,
			Email:        c.ACMEEmail,
			HTTPSHost:    c.webHost(),
			MXHost:       mx,
			Hosts:        hosts,
			Logger:       log,
			OnCertificate: func(host string, _ *x509.Certificate) {
				if host == mx && !enforced.Swap(true) {
					log.Info("MTA-STS policy is enforce now that the MX host has a certificate: publish its id (secinbox dns)",
						"record", "_mta-sts."+c.Domain+". IN TXT \""+c.stsPolicy(true).TXT()+"\"")
				}
			},
		})
		if err != nil {
			return nil, fmt.Errorf("-acme: %w", err)
		}
		t.acme = m
		t.https, t.smtp = m.HTTPSConfig(), m.SMTPConfig()
		t.holdsMX = func() bool { return m.Holds(mx) }
	case c.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		t.https, t.smtp = conf, conf
		leaf := cert.Leaf
		t.holdsMX = func() bool {
			return leaf != nil && leaf.VerifyHostname(mx) == nil && time.Now().Before(leaf.NotAfter)
		}
	default:
		return t, nil
	}
	if addr := c.redirectAddr(); addr != "" {
		var h http.Handler
		if t.acme != nil {
			h = t.acme.HTTPHandler(c.httpsPort())
		} else {
			hosts := map[string]bool{}
			for _, n := range c.tlsHosts() {
				hosts[n] = true
			}
			h = certs.Redirect(hosts, c.webHost(), c.httpsPort())
		}
		t.redirect = &http.Server{
			Addr:              addr,
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
	}
	return t, nil
}

// policy returns the MTA-STS policy file for the web handler; nil
// without TLS.
func (t *tlsSetup) policy() func() []byte {
	if t.https == nil {
		return nil
	}
	return func() []byte { return t.cfg.stsPolicy(t.holdsMX()).Text() }
}

// listen opens the plain HTTP listener, if there is one.
func (t *tlsSetup) listen() error {
	if t.redirect == nil {
		return nil
	}
	ln, err := net.Listen("tcp", t.redirect.Addr)
	if err != nil {
		return fmt.Errorf("-http-redirect-addr %s: %w", t.redirect.Addr, err)
	}
	t.redirectLn = ln
	t.log.Info("plain HTTP redirects to HTTPS", "addr", ln.Addr().String(), "acme_http01", t.acme != nil)
	return nil
}

// runACME obtains the certificates of the public URL's and the MX host
// until they are held or ctx ends; autocert renews them afterwards.
func (t *tlsSetup) runACME(ctx context.Context) {
	if t.acme != nil {
		t.acme.Run(ctx)
	}
}

// serveRedirect serves plain HTTP until shutdown.
func (t *tlsSetup) serveRedirect() error {
	if t.redirectLn == nil {
		return nil
	}
	if err := t.redirect.Serve(t.redirectLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown stops the plain HTTP server.
func (t *tlsSetup) shutdown(ctx context.Context) {
	if t.redirect == nil {
		return
	}
	if err := t.redirect.Shutdown(ctx); err != nil {
		t.log.Warn("http redirect shutdown", "err", err)
		t.redirect.Close()
	}
}
