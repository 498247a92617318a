package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for names, valid from nb to
// na, as certFile and keyFile in dir, and returns the file names.
func writeCert(t *testing.T, dir string, nb, na time.Time, names ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
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
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// cacheCert puts a certificate for host into DATA/acme the way autocert
// stores it: the private key, then the chain.
func cacheCert(t *testing.T, data, host string, nb, na time.Time) {
	t.Helper()
	certFile, keyFile := writeCert(t, t.TempDir(), nb, na, host)
	k, _ := os.ReadFile(keyFile)
	c, _ := os.ReadFile(certFile)
	dir := filepath.Join(data, "acme")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, host), append(k, c...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func runDNS(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr strings.Builder
	if code := Main(t.Context(), append([]string{"dns"}, args...), strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("secinbox dns %v: exit %d: %s", args, code, stderr.String())
	}
	return stdout.String()
}

const dnsHead = `; DNS records for example.com (secinbox dns), in zone-file syntax.
; Not printed: the A/AAAA records of security.example.com and mx.example.com, with this server's addresses.

; Mail to security@example.com is delivered to secinbox, at mx.example.com.
example.com.	3600	IN	MX	10 mx.example.com.
; MTA-STS (RFC 8461): senders must deliver over TLS to mx.example.com; the id changes whenever the policy does.
`

const dnsTail = `; Senders fetch the MTA-STS policy from https://mta-sts.example.com/.well-known/mta-sts.txt, which secinbox serves.
mta-sts.example.com.	3600	IN	CNAME	security.example.com.
; TLS reporting (RFC 8460): senders mail a daily report of their TLS failures to the team.
_smtp._tls.example.com.	3600	IN	TXT	"v=TLSRPTv1; rua=mailto:lead@example.com,mailto:oncall@example.com"
; Web Key Directory: OpenPGP clients look the team's key up at https://openpgpkey.example.com/ first.
openpgpkey.example.com.	3600	IN	CNAME	security.example.com.
`

// TestDNS: secinbox dns prints every record for a given configuration,
// exactly; the _mta-sts id is the testing policy's until a certificate
// for the MX host is held, then the enforce policy's.
func TestDNS(t *testing.T) {
	now := time.Now()
	common := []string{"-domain", "example.com", "-public-url", "https://security.example.com",
		"-smtp-hostname", "mx.example.com", "-notify-email", "lead@example.com,oncall@example.com"}
	const (
		testingTXT = "_mta-sts.example.com.\t3600\tIN\tTXT\t\"v=STSv1; id=862e2bab291cfe999cbb\"\n"
		enforceTXT = "_mta-sts.example.com.\t3600\tIN\tTXT\t\"v=STSv1; id=36ddd63e6986d7f734bc\"\n"
		testingEnd = "; The MTA-STS policy is in testing mode until secinbox holds a certificate for mx.example.com:\n" +
			"; run secinbox dns again then, and publish the _mta-sts record's new id.\n"
	)

	t.Run("ACMENoCertificateYet", func(t *testing.T) {
		data := t.TempDir()
		got := runDNS(t, append(common, "-data", data, "-acme", "on")...)
		if want := dnsHead + testingTXT + dnsTail + testingEnd; got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
		if entries, _ := os.ReadDir(data); len(entries) != 0 {
			t.Errorf("secinbox dns wrote into the data directory: %v", entries)
		}
	})
	t.Run("ACMEHeld", func(t *testing.T) {
		data := t.TempDir()
		cacheCert(t, data, "mx.example.com", now.Add(-time.Hour), now.Add(80*24*time.Hour))
		got := runDNS(t, append(common, "-data", data, "-acme", "on")...)
		if want := dnsHead + enforceTXT + dnsTail; got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("ACMEExpired", func(t *testing.T) {
		data := t.TempDir()
		cacheCert(t, data, "mx.example.com", now.Add(-90*24*time.Hour), now.Add(-time.Hour))
		got := runDNS(t, append(common, "-data", data, "-acme", "on")...)
		if want := dnsHead + testingTXT + dnsTail + testingEnd; got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("Files", func(t *testing.T) {
		certFile, keyFile := writeCert(t, t.TempDir(), now.Add(-time.Hour), now.Add(time.Hour),
			"security.example.com", "mx.example.com", "mta-sts.example.com", "openpgpkey.example.com")
		got := runDNS(t, append(common, "-data", t.TempDir(), "-tls-cert", certFile, "-tls-key", keyFile)...)
		want := dnsHead + enforceTXT + dnsTail +
			"; The certificate of -tls-cert must also name mta-sts.example.com and openpgpkey.example.com.\n"
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("FilesNotForMX", func(t *testing.T) {
		certFile, keyFile := writeCert(t, t.TempDir(), now.Add(-time.Hour), now.Add(time.Hour), "security.example.com")
		got := runDNS(t, append(common, "-data", t.TempDir(), "-tls-cert", certFile, "-tls-key", keyFile)...)
		if !strings.Contains(got, testingTXT) {
			t.Errorf("a certificate not for the MX host gives an enforce policy:\n%s", got)
		}
	})
	t.Run("NoTLS", func(t *testing.T) {
		got := runDNS(t, "-data", t.TempDir(), "-domain", "example.com", "-public-url", "https://security.example.com")
		want := `; DNS records for example.com (secinbox dns), in zone-file syntax.
; Not printed: the A/AAAA records of security.example.com and example.com, with this server's addresses.

; Mail to security@example.com is delivered to secinbox, at example.com.
example.com.	3600	IN	MX	10 example.com.
; No MTA-STS, TLS reporting or Web Key Directory host: they need TLS (-acme on, or -tls-cert and -tls-key).
`
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("TLSReportsToSecurityWithoutTeam", func(t *testing.T) {
		got := runDNS(t, "-data", t.TempDir(), "-domain", "example.com", "-public-url", "https://security.example.com",
			"-smtp-hostname", "mx.example.com", "-acme", "on")
		if !strings.Contains(got, "\"v=TLSRPTv1; rua=mailto:security@example.com\"\n") {
			t.Errorf("TLS-RPT without -notify-email:\n%s", got)
		}
	})
}

// TestACMESettingsRefused: settings that cannot work with ACME are
// refused, naming the flag.
func TestACMESettingsRefused(t *testing.T) {
	certFile, keyFile := writeCert(t, t.TempDir(), time.Now(), time.Now().Add(time.Hour), "localhost")
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"-acme", "on"}, "-domain"},
		{[]string{"-acme", "on", "-domain", "example.com", "-public-url", "https://127.0.0.1"}, "-public-url"},
		{[]string{"-acme", "on", "-domain", "example.com", "-smtp-hostname", "localhost"}, "-smtp-hostname"},
		{[]string{"-acme", "on", "-domain", "example.com", "-tls-cert", certFile, "-tls-key", keyFile}, "-tls-cert"},
		{[]string{"-acme", "on", "-domain", "example.com", "-acme-email", "not an address"}, "-acme-email"},
		{[]string{"-acme", "on", "-domain", "example.com", "-acme-directory", "http://ca.example/dir"}, "-acme-directory"},
		{[]string{"-http-redirect-addr", ":8081"}, "-http-redirect-addr"},
		{[]string{"-smtp-hostname", "mx example"}, "-smtp-hostname"},
	} {
		var stdout, stderr strings.Builder
		code := Main(t.Context(), append([]string{"dns", "-data", t.TempDir()}, tc.args...), strings.NewReader(""), &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), tc.flag) {
			t.Errorf("%v: exit %d, %q; want a refusal naming %s", tc.args, code, stderr.String(), tc.flag)
		}
	}
}
