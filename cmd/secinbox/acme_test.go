package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/certs/pebbletest"
)

// TestACME: with -acme on, secinbox gets its certificates from a local
// ACME CA (pebble, which validates each name by fetching the HTTP-01
// challenge from -http-redirect-addr: its DNS answers 127.0.0.1 for every
// name, and TLS-ALPN-01 cannot succeed) and serves HTTPS and SMTP
// STARTTLS with them, verified against pebble's own root. The MTA-STS
// policy says enforce once the MX host's certificate is held; plain HTTP
// redirects to HTTPS; the cache in DATA/acme is private.
func TestACME(t *testing.T) {
	t.Parallel()
	redirectPort := pebbletest.FreePort(t)
	ca := pebbletest.Start(t, pebbletest.Options{HTTPPort: redirectPort})
	data := t.TempDir()
	p := startProc(t, data,
		"SECINBOX_DOMAIN=example.com",
		"SECINBOX_PUBLIC_URL=https://security.example.com",
		"SECINBOX_SMTP_HOSTNAME=mx.example.com",
		"SECINBOX_ACME=on",
		"SECINBOX_ACME_EMAIL=team@example.com",
		"SECINBOX_ACME_DIRECTORY="+ca.DirectoryURL,
		"SECINBOX_HTTP_REDIRECT_ADDR=127.0.0.1:"+strconv.Itoa(redirectPort),
		"SSL_CERT_FILE="+ca.ListenerCAFile, // secinbox's ACME client trusts pebble's listener
	)
	// client connects to the HTTPS port as host, trusting pebble's root
	// only. A first handshake for a name waits while its certificate is
	// obtained; 3 minutes is a safety net.
	client := func(host string) *http.Client {
		return &http.Client{
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Roots, ServerName: host}},
			Timeout:   3 * time.Minute,
		}
	}

	resp, err := client("security.example.com").Get("https://" + p.httpAddr + "/.well-known/security.txt")
	if err != nil {
		t.Fatalf("HTTPS with the issued certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("security.txt over HTTPS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}

	// The MTA-STS policy, fetched as senders do, from mta-sts.DOMAIN (a
	// certificate obtained on that first request), is enforce once the
	// MX host's certificate is held (obtained at start).
	const enforce = "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 604800\r\n"
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := client("mta-sts.example.com").Get("https://" + p.httpAddr + "/.well-known/mta-sts.txt")
		if err != nil {
			t.Fatalf("mta-sts.txt: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && string(body) == enforce {
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
				t.Errorf("mta-sts.txt Content-Type %q", ct)
			}
			break
		}
		if resp.StatusCode != 200 || !strings.Contains(string(body), "mode: testing\r\n") || time.Now().After(deadline) {
			t.Fatalf("mta-sts.txt: %d %q", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// SMTP STARTTLS with the MX host's certificate.
	c, err := smtp.Dial(p.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.StartTLS(&tls.Config{ServerName: "mx.example.com", RootCAs: ca.Roots}); err != nil {
		t.Fatalf("STARTTLS with the issued certificate: %v", err)
	}
	if err := c.Mail("r@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("security@example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: over STARTTLS\r\n\r\nhello\r\n")
	if err := w.Close(); err != nil {
		t.Fatalf("DATA over STARTTLS: %v", err)
	}
	c.Quit()

	t.Run("swaks", func(t *testing.T) {
		swaks, err := exec.LookPath("swaks")
		if err != nil {
			t.Skip("swaks is not installed: STARTTLS checked with Go's client only")
		}
		if out, _ := exec.Command(swaks, "--support").CombinedOutput(); !strings.Contains(string(out), "=== TLS supported") {
			t.Skip("swaks has no TLS (Debian: apt-get install libnet-ssleay-perl): STARTTLS checked with Go's client only")
		}
		root := filepath.Join(t.TempDir(), "pebble-root.pem")
		if err := os.WriteFile(root, ca.RootPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		host, port, _ := strings.Cut(p.smtpAddr, ":")
		// No SNI, as most MTAs: the MX host's certificate is served.
		args := []string{"--server", host, "--port", port, "--helo", "client.example.org",
			"--from", "r@example.org", "--to", "security@example.com", "--tls", "--tls-verify",
			"--header", "Subject: swaks over STARTTLS", "--timeout", "60"}
		out, err := exec.Command(swaks, append(args, "--tls-ca-path", root)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "TLS started") || !strings.Contains(string(out), "<~  250 ") {
			t.Fatalf("swaks --tls --tls-verify: %v\n%s", err, out)
		}
		// It does verify: without pebble's root the same fails.
		if out, err := exec.Command(swaks, args...).CombinedOutput(); err == nil {
			t.Errorf("swaks --tls-verify without pebble's root succeeded:\n%s", out)
		}
	})

	// Plain HTTP redirects to HTTPS, on our names only.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(redirectPort)+"/policy?x=1", nil)
	req.Host = "security.example.com"
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://security.example.com/policy?x=1" {
		t.Errorf("plain HTTP: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The cache: the account key and the certificates, readable by the
	// server's user only.
	dir := filepath.Join(data, "acme")
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("%s: %v %v, want mode 0700", dir, st.Mode(), err)
	}
	for _, name := range []string{"acme_account+key", "security.example.com", "mx.example.com", "mta-sts.example.com"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want a file of mode 0600", name, err)
		}
	}
}

// TestMTASTS_Files: with certificate files the policy is enforce when the
// certificate names the MX host (here localhost, the default: -domain)
// and testing when it does not; -http-redirect-addr redirects to HTTPS;
// without TLS there is no policy.
func TestMTASTS_Files(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	redirectPort := pebbletest.FreePort(t)
	p := startProc(t, t.TempDir(), "SECINBOX_TLS_CERT="+certFile, "SECINBOX_TLS_KEY="+keyFile,
		"SECINBOX_HTTP_REDIRECT_ADDR=127.0.0.1:"+strconv.Itoa(redirectPort), "SECINBOX_PUBLIC_URL=https://localhost:8443")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(base string) (int, string) {
		t.Helper()
		resp, err := client.Get(base + "/.well-known/mta-sts.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("https://" + p.httpAddr); code != 200 || body != "version: STSv1\r\nmode: enforce\r\nmx: localhost\r\nmax_age: 604800\r\n" {
		t.Errorf("certificate for the MX host: %d %q", code, body)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://localhost:" + strconv.Itoa(redirectPort) + "/.well-known/mta-sts.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://localhost:8443/.well-known/mta-sts.txt" {
		t.Errorf("plain HTTP: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	p = startProc(t, t.TempDir(), "SECINBOX_TLS_CERT="+certFile, "SECINBOX_TLS_KEY="+keyFile, "SECINBOX_SMTP_HOSTNAME=mx.example.com")
	if code, body := get("https://" + p.httpAddr); code != 200 || body != "version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\nmax_age: 604800\r\n" {
		t.Errorf("certificate not for the MX host: %d %q", code, body)
	}

	p = startProc(t, t.TempDir())
	if code, _ := get("http://" + p.httpAddr); code != http.StatusNotFound {
		t.Errorf("without TLS: %d, want 404", code)
	}
}
