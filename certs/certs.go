// Package certs obtains and renews the TLS certificates of secinbox's own
// names from an ACME CA (Let's Encrypt by default) with
// golang.org/x/crypto/acme/autocert, and keeps them in a directory only
// the server's user can read. The same certificates serve HTTPS and SMTP
// STARTTLS.
//
// Certificates are obtained for the configured host names only: the names
// in Config.Prefetch at start, the others on the first TLS handshake that
// asks for them. autocert renews each one before it expires (by default a
// third of its lifetime, at most 30 days, before), from the HTTP-01
// challenge on port 80 (HTTPHandler) or the TLS-ALPN-01 challenge on the
// HTTPS port.
package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// LetsEncrypt is Let's Encrypt's production ACME directory.
const LetsEncrypt = acme.LetsEncryptURL

// Config is what New needs. Dir, HTTPSHost and MXHost are required.
type Config struct {
	// Dir is the cache directory: the ACME account key, certificates and
	// their private keys. It is made 0700 and every file in it 0600.
	Dir string
	// DirectoryURL is the ACME directory; "": LetsEncrypt.
	DirectoryURL string
	// Email is the contact address given to the CA; may be empty.
	Email string
	// HTTPSHost is the web UI's host name: the certificate for an HTTPS
	// handshake that names no host (or one not in Hosts).
	HTTPSHost string
	// MXHost is the SMTP server's host name: the certificate for a
	// STARTTLS handshake that names no host (most MTAs send no SNI) or
	// one not in Hosts.
	MXHost string
	// Hosts are further names a certificate may be obtained for
	// (mta-sts.DOMAIN, openpgpkey.DOMAIN), on first use.
	Hosts []string
	// Prefetch are the names whose certificates are obtained at start
	// rather than on first use; nil: HTTPSHost and MXHost.
	Prefetch []string
	// OnCertificate, when set, is called after a certificate was obtained
	// or renewed and stored.
	OnCertificate func(host string, leaf *x509.Certificate)
	Logger        *slog.Logger // nil: discard
	// HTTPClient talks to the CA; nil: http.DefaultClient.
	HTTPClient *http.Client
}

// Manager obtains, caches and renews the certificates.
type Manager struct {
	cfg   Config
	hosts map[string]bool
	cache *dirCache
	ac    *autocert.Manager
	log   *slog.Logger
}

// New returns a manager over the cache directory cfg.Dir, which it
// creates (0700) or tightens to 0700, with its files to 0600. It fails
// when a host name cannot have a public certificate or the directory
// cannot be made private.
func New(cfg Config) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DirectoryURL == "" {
		cfg.DirectoryURL = LetsEncrypt
	}
	if cfg.Prefetch == nil {
		cfg.Prefetch = []string{cfg.HTTPSHost, cfg.MXHost}
	}
	m := &Manager{cfg: cfg, hosts: map[string]bool{}, log: cfg.Logger}
	for _, h := range append([]string{cfg.HTTPSHost, cfg.MXHost}, cfg.Hosts...) {
		h = normalize(h)
		if err := PublicName(h); err != nil {
			return nil, err
		}
		m.hosts[h] = true
	}
	cache, err := openCache(cfg.Dir, m.stored)
	if err != nil {
		return nil, err
	}
	m.cache = cache
	m.ac = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cache,
		HostPolicy: m.hostPolicy,
		Email:      cfg.Email,
		Client:     &acme.Client{DirectoryURL: cfg.DirectoryURL, UserAgent: "secinbox", HTTPClient: cfg.HTTPClient},
		// RenewBefore stays 0: autocert renews a third of the lifetime
		// (at most 30 days) before expiry, which also fits short-lived
		// certificates, where a fixed 30 days would renew all the time.
	}
	return m, nil
}

// Hosts returns every name the manager may obtain a certificate for.
func (m *Manager) Hosts() []string {
	out := make([]string, 0, len(m.hosts))
	for _, h := range append([]string{m.cfg.HTTPSHost, m.cfg.MXHost}, m.cfg.Hosts...) {
		h = normalize(h)
		if m.hosts[h] && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// normalize lower-cases a host name and drops a trailing dot.
func normalize(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
}

// PublicName refuses names no public CA issues certificates for: empty,
// an address, a single label, localhost.
func PublicName(h string) error {
	switch {
	case h == "":
		return errors.New("certs: empty host name")
	case net.ParseIP(h) != nil:
		return fmt.Errorf("certs: %s is an address, not a host name", h)
	case !strings.Contains(h, "."), h == "localhost", strings.HasSuffix(h, ".localhost"):
		return fmt.Errorf("certs: %s is not a public host name", h)
	}
	return nil
}

// hostPolicy allows our names only. The HTTP-01 handler passes the Host
// header, which carries a port when port 80 is reached through another.
func (m *Manager) hostPolicy(_ context.Context, host string) error {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !m.hosts[normalize(host)] {
		return fmt.Errorf("certs: %q is not one of this server's names", host)
	}
	return nil
}

// getCertificate returns the tls.Config hook that answers a handshake
// for one of our names with its certificate, and any other (no SNI, an
// address, a stranger's name) with def's.
func (m *Manager) getCertificate(def string) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	def = normalize(def)
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if !m.hosts[normalize(hello.ServerName)] {
			h := *hello
			h.ServerName = def
			hello = &h
		}
		return m.ac.GetCertificate(hello)
	}
}

// HTTPSConfig is the web server's TLS configuration: certificates for
// every name, and the TLS-ALPN-01 challenge.
func (m *Manager) HTTPSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.getCertificate(m.cfg.HTTPSHost),
		NextProtos:     []string{"http/1.1", acme.ALPNProto},
		MinVersion:     tls.VersionTLS12,
	}
}

// SMTPConfig is the SMTP server's STARTTLS configuration: the same
// certificates, the MX host's for a handshake that names none.
func (m *Manager) SMTPConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.getCertificate(m.cfg.MXHost),
		MinVersion:     tls.VersionTLS12,
	}
}

// HTTPHandler answers the CA's HTTP-01 challenges and redirects every
// other request to HTTPS (Redirect). httpsPort is the port of the HTTPS
// URLs, "" for 443. It must be called before Run for HTTP-01 to be used.
func (m *Manager) HTTPHandler(httpsPort string) http.Handler {
	return m.ac.HTTPHandler(Redirect(m.hosts, m.cfg.HTTPSHost, httpsPort))
}

// Holds reports whether a valid certificate for host is in the cache.
func (m *Manager) Holds(host string) bool {
	return Held(m.cfg.Dir, host, time.Now()) != nil
}

// Run obtains the certificates of cfg.Prefetch, each retried with a
// growing pause (1 minute to 1 hour) until it is held or ctx ends, and
// returns then. autocert renews them from then on by itself.
func (m *Manager) Run(ctx context.Context) {
	done := make(chan struct{})
	n := 0
	for _, h := range m.cfg.Prefetch {
		h = normalize(h)
		if !m.hosts[h] {
			continue
		}
		n++
		go func() {
			defer func() { done <- struct{}{} }()
			m.obtain(ctx, h)
		}()
	}
	for range n {
		<-done
	}
}

func (m *Manager) obtain(ctx context.Context, host string) {
	pause := time.Minute
	for {
		err := m.fetch(ctx, host)
		if err == nil || ctx.Err() != nil {
			return
		}
		m.log.Warn("tls certificate not obtained; trying again", "host", host, "in", pause.String(), "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Hour)
	}
}

// fetch asks autocert for host's certificate as a client offering ECDSA
// would, which loads it from the cache or obtains it. autocert's own
// deadline is 5 minutes and cannot be cancelled: fetch returns when ctx
// ends and leaves the request to finish alone.
func (m *Manager) fetch(ctx context.Context, host string) error {
	hello := &tls.ClientHelloInfo{
		ServerName:       host,
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:  []tls.CurveID{tls.CurveP256},
	}
	errc := make(chan error, 1)
	go func() {
		_, err := m.ac.GetCertificate(hello)
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stored is told by the cache about every certificate written to it.
func (m *Manager) stored(host string, leaf *x509.Certificate) {
	m.log.Info("tls certificate stored", "host", host, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339),
		"issuer", leaf.Issuer.CommonName)
	if m.cfg.OnCertificate != nil {
		m.cfg.OnCertificate(host, leaf)
	}
}
