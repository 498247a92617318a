package certs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/secinbox/secinbox/certs"
	"github.com/secinbox/secinbox/certs/pebbletest"
)

const (
	webHost = "security.example.com"
	mxHost  = "mx.example.com"
)

// server is a Manager serving HTTPS, a bare TLS listener with the SMTP
// configuration, and the HTTP-01 handler on port httpPort.
type server struct {
	m         *certs.Manager
	dir       string
	httpsAddr string
	smtpAddr  string
}

func newManager(t *testing.T, ca *pebbletest.CA, dir string) *certs.Manager {
	t.Helper()
	m, err := certs.New(certs.Config{
		Dir:          dir,
		DirectoryURL: ca.DirectoryURL,
		Email:        "team@example.com",
		HTTPSHost:    webHost,
		MXHost:       mxHost,
		Hosts:        []string{"mta-sts.example.com"},
		HTTPClient: &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.ListenerRoots}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// startServer runs m's HTTP-01 handler on httpPort, an HTTPS server and
// a TLS listener with the SMTP configuration, until the test ends.
func startServer(t *testing.T, m *certs.Manager, httpPort int) *server {
	t.Helper()
	s := &server{m: m}
	httpLn, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(httpPort))
	if err != nil {
		t.Fatal(err)
	}
	plain := &http.Server{Handler: m.HTTPHandler("8443")}
	go plain.Serve(httpLn)
	t.Cleanup(func() { plain.Close() })

	httpsLn, err := tls.Listen("tcp", "127.0.0.1:0", m.HTTPSConfig())
	if err != nil {
		t.Fatal(err)
	}
	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })}
	go web.Serve(httpsLn)
	t.Cleanup(func() { web.Close() })
	s.httpsAddr = httpsLn.Addr().String()

	smtpLn, err := tls.Listen("tcp", "127.0.0.1:0", m.SMTPConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpLn.Close() })
	go func() {
		for {
			c, err := smtpLn.Accept()
			if err != nil {
				return
			}
			go func() {
				c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	s.smtpAddr = smtpLn.Addr().String()
	return s
}

// run obtains the prefetched certificates, failing the test after a
// generous safety net.
func run(t *testing.T, m *certs.Manager) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	m.Run(ctx)
	if ctx.Err() != nil {
		t.Fatal("certificates not obtained within 3 minutes")
	}
}

// served does a TLS handshake with addr sending serverName as SNI ("":
// none) and returns the chain it is served, unverified.
func served(t *testing.T, addr, serverName string) []*x509.Certificate {
	t.Helper()
	conf := &tls.Config{ServerName: serverName, InsecureSkipVerify: true} // verified by peerCert
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, conf)
	if err != nil {
		t.Fatalf("TLS to %s (SNI %q): %v", addr, serverName, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates
}

// peerCert returns the certificate addr serves for serverName, failing
// the test unless its chain verifies against roots for verifyName.
func peerCert(t *testing.T, addr, serverName, verifyName string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	chain := served(t, addr, serverName)
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: verifyName, Roots: roots, Intermediates: inter}); err != nil {
		t.Fatalf("%s (SNI %q) serves a certificate for %v that does not verify for %s: %v", addr, serverName, chain[0].DNSNames, verifyName, err)
	}
	return chain[0]
}

// TestManager_HTTP01 obtains certificates from pebble, which validates
// them by fetching the HTTP-01 challenge from the manager's HTTP handler
// (TLS-ALPN-01 cannot succeed: pebble's TLS port has no listener). The
// same certificates serve HTTPS and the SMTP configuration, with and
// without SNI, and are kept private on disk.
func TestManager_HTTP01(t *testing.T) {
	httpPort := pebbletest.FreePort(t)
	ca := pebbletest.Start(t, pebbletest.Options{HTTPPort: httpPort})
	dir := filepath.Join(t.TempDir(), "acme")
	m := newManager(t, ca, dir)
	if m.Holds(mxHost) {
		t.Fatal("a certificate is held before any was obtained")
	}
	s := startServer(t, m, httpPort)
	run(t, m)

	for _, h := range []string{webHost, mxHost} {
		if !m.Holds(h) {
			t.Errorf("no certificate held for %s", h)
		}
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Roots, ServerName: webHost}}}
	resp, err := client.Get("https://" + s.httpsAddr + "/")
	if err != nil {
		t.Fatalf("HTTPS with pebble's root: %v", err)
	}
	resp.Body.Close()

	// SMTP: most MTAs send no SNI; they get the MX host's certificate.
	if leaf := peerCert(t, s.smtpAddr, "", mxHost, ca.Roots); leaf.VerifyHostname(mxHost) != nil {
		t.Errorf("SMTP without SNI: certificate for %v", leaf.DNSNames)
	}
	peerCert(t, s.smtpAddr, mxHost, mxHost, ca.Roots)
	// A stranger's name gets ours, and no certificate is asked for it.
	peerCert(t, s.httpsAddr, "other.example.net", webHost, ca.Roots)
	if _, err := os.Stat(filepath.Join(dir, "other.example.net")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a certificate was cached for a stranger's name: %v", err)
	}

	// On first use: mta-sts.example.com was not prefetched.
	peerCert(t, s.httpsAddr, "mta-sts.example.com", "mta-sts.example.com", ca.Roots)

	checkPrivate(t, dir)
}

// checkPrivate: the cache directory is 0700 and every file in it 0600.
func checkPrivate(t *testing.T, dir string) {
	t.Helper()
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want 0700", dir, st.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Errorf("%s is empty", dir)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
}

// TestNew_Tightens: a cache directory and files left readable by others
// (a copy, a restore from backup) are made private at start.
func TestNew_Tightens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "acme")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme_account+key"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.New(certs.Config{Dir: dir, HTTPSHost: webHost, MXHost: mxHost}); err != nil {
		t.Fatal(err)
	}
	checkPrivate(t, dir)
}

// TestNew_RefusesNames that no public CA would certify.
func TestNew_RefusesNames(t *testing.T) {
	for _, h := range []string{"localhost", "127.0.0.1", "example", "a.localhost", ""} {
		if _, err := certs.New(certs.Config{Dir: t.TempDir(), HTTPSHost: webHost, MXHost: h}); err == nil {
			t.Errorf("MX host %q accepted", h)
		}
	}
}

// TestManager_RenewsNearExpiry: a cached certificate that expires within
// the renewal window (here: in one hour, of a 60-day lifetime) is served
// at first and replaced by a new one from the CA, without a restart.
func TestManager_RenewsNearExpiry(t *testing.T) {
	ca := pebbletest.Start(t, pebbletest.Options{AlwaysValid: true})
	dir := filepath.Join(t.TempDir(), "acme")
	old := writeCached(t, dir, mxHost, time.Now().Add(-60*24*time.Hour), time.Now().Add(time.Hour))
	m := newManager(t, ca, dir)
	s := startServer(t, m, pebbletest.FreePort(t))
	run(t, m) // loads the cached certificates, and starts their renewal

	deadline := time.Now().Add(3 * time.Minute)
	for {
		held := certs.Held(dir, mxHost, time.Now())
		if held != nil && held.SerialNumber.Cmp(old.SerialNumber) != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the certificate close to expiry was not renewed within 3 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Served without a restart, verified by pebble's root.
	for {
		if leaf := served(t, s.smtpAddr, "")[0]; leaf.SerialNumber.Cmp(old.SerialNumber) != 0 {
			peerCert(t, s.smtpAddr, "", mxHost, ca.Roots)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate is not served")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeCached puts a self-signed certificate for host, valid from nb to
// na, into the cache directory in autocert's format (key, then chain).
func writeCached(t *testing.T, dir, host string, nb, na time.Time) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    nb,
		NotAfter:     na,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	data := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, host), data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}
