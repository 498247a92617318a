package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// selfSigned writes a certificate for localhost and 127.0.0.1 and returns
// the file names and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile, pool
}

// TestTLS: with a certificate configured, SMTP offers STARTTLS and takes
// mail over it, and the web is served over HTTPS with Secure cookies.
func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	data := t.TempDir()
	p := startProc(t, data, "SECINBOX_TLS_CERT="+certFile, "SECINBOX_TLS_KEY="+keyFile)

	c, err := smtp.Dial(p.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := c.StartTLS(&tls.Config{ServerName: "localhost", RootCAs: pool}); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	if err := c.Mail("r@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("security@localhost"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: over TLS\r\n\r\nhello\r\n"))
	if err := w.Close(); err != nil {
		t.Fatalf("DATA over TLS: %v", err)
	}
	c.Quit()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + p.httpAddr
	resp, err := client.Get(base + "/.well-known/security.txt")
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("security.txt over HTTPS: %d", resp.StatusCode)
	}

	addStaff(t, data, "lead@example.com", triage.RoleViewer)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = client.PostForm(base+"/login", url.Values{"email": {"lead@example.com"}, "password": {staffPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The session cookie and the known-device cookie: both __Host-,
	// Secure and HttpOnly.
	cookies := resp.Cookies()
	names := map[string]bool{}
	for _, c := range cookies {
		names[c.Name] = true
		if !c.Secure || !c.HttpOnly || !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie over HTTPS: %+v", c)
		}
	}
	if !names["__Host-secinbox_session"] || len(cookies) != 2 {
		t.Fatalf("cookies over HTTPS: %+v", cookies)
	}
}

// TestKeyImport: a team brings the key it has published for years, as
// GnuPG exports it; it becomes the primary key, is served, and decrypts.
func TestKeyImport(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	out := cli(t, data, "team-passphrase\n", "key", "import", "../../pgp/testdata/team-ed25519.sec.asc")
	if !strings.HasPrefix(out, "imported ") {
		t.Fatalf("key import: %q", out)
	}
	fpr := strings.Fields(out)[1]
	if list := cli(t, data, "", "key", "list"); !strings.Contains(list, "* "+fpr) {
		t.Errorf("key list does not show %s as primary:\n%s", fpr, list)
	}
	if exp := cli(t, data, "", "key", "export"); !strings.Contains(exp, "BEGIN PGP PUBLIC KEY BLOCK") {
		t.Errorf("key export: %q", exp)
	}
	// A wrong passphrase for the imported key is refused, and nothing is stored.
	var stdout, stderr strings.Builder
	if code := Main(t.Context(), cliArgs(t.TempDir(), testPassphrase, "key", "import", "../../pgp/testdata/team-rsa.sec.asc"),
		strings.NewReader("wrong\n"), &stdout, &stderr); code == 0 {
		t.Error("import with a wrong passphrase succeeded")
	}

	p := startProc(t, data)
	keys := teamKeyFrom(t, p)
	if got := pgp.Fingerprint(keys[0]); got != fpr {
		t.Errorf("/pgp-key.asc serves %s, want the imported %s", got, fpr)
	}
	// A report encrypted by GnuPG to that key (a committed fixture) decrypts.
	msg, err := os.ReadFile("../../pgp/testdata/pgpmime-encrypted.eml")
	if err != nil {
		t.Fatal(err)
	}
	if err := smtp.SendMail(p.smtpAddr, nil, "r@example.org", []string{"security@localhost"}, msg); err != nil {
		t.Fatal(err)
	}
	token := apiToken(t, data)
	r := p.waitReports(token, 1)[0]
	if r.Status != "new" {
		t.Errorf("report encrypted to the imported key: status %q", r.Status)
	}
}
