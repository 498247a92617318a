package mailbox

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

// The tests run a real Dovecot (Debian's dovecot-imapd), started on
// loopback with its own configuration and a maildir in a temporary
// directory. Without Dovecot (or without root, which it needs to switch
// to its mail user) they skip, saying so; under CI=true they fail.

const (
	testUser     = "security@example.com"
	testPassword = "correct horse battery staple"
)

type dovecot struct {
	dir      string
	imapAddr string // plain (ssl = no) or STARTTLS (with TLS)
	tlsAddr  string // implicit TLS; "" without TLS
	roots    *x509.CertPool
}

func dovecotBinary(t *testing.T) string {
	t.Helper()
	path := "/usr/sbin/dovecot"
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("dovecot"); err != nil {
			skipOrFail(t, "Dovecot is not installed (Debian: apt-get install dovecot-imapd)")
		}
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "Dovecot needs root to switch to its mail user")
	}
	if _, err := user.Lookup("nobody"); err != nil {
		skipOrFail(t, "no user nobody for Dovecot's mail processes")
	}
	return path
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("IMAP test against Dovecot cannot run: %s", why)
	}
	t.Skipf("SKIPPED: IMAP test against Dovecot not run: %s", why)
}

// handedOut are the ports freePort returned: the Dovecots of parallel
// tests never get the same one.
var handedOut sync.Map

func freePort(t *testing.T) string {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		if _, taken := handedOut.LoadOrStore(port, true); !taken {
			return port
		}
	}
}

// startDovecot starts Dovecot for one test: with withTLS a self-signed
// certificate for 127.0.0.1, STARTTLS required on the plain port and
// implicit TLS on the other; without, ssl = no.
func startDovecot(t *testing.T, withTLS bool, extra string) *dovecot {
	t.Helper()
	bin := dovecotBinary(t)
	// A short directory: Dovecot's sockets live in it (108-byte limit).
	dir, err := os.MkdirTemp("", "dv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	nobody, _ := user.Lookup("nobody")
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	for _, d := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "mail"), uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(testUser+":{PLAIN}"+testPassword+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &dovecot{dir: dir, imapAddr: "127.0.0.1:" + freePort(t)}
	ssl := "ssl = no\n"
	tlsListener := "  inet_listener imaps {\n    port = 0\n  }\n"
	if withTLS {
		certPEM, keyPEM, roots := selfSigned(t)
		d.roots = roots
		os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644)
		os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
		ssl = "ssl = required\nssl_cert = <" + dir + "/cert.pem\nssl_key = <" + dir + "/key.pem\n"
		d.tlsAddr = "127.0.0.1:" + freePort(t)
		_, port, _ := net.SplitHostPort(d.tlsAddr)
		tlsListener = "  inet_listener imaps {\n    address = 127.0.0.1\n    port = " + port + "\n    ssl = yes\n  }\n"
	}
	_, port, _ := net.SplitHostPort(d.imapAddr)
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = secinbox-test-%[2]s
protocols = imap
listen = 127.0.0.1
%[3]sdisable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = root
default_internal_group = root
default_login_user = nobody
log_path = %[1]s/dovecot.log
mail_location = maildir:%[1]s/mail/%%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[4]d gid=%[5]d home=%[1]s/mail/%%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]s
  }
%[6]s}
service anvil {
  chroot =
  # No authentication penalty (Dovecot's documented switch): after a
  # refused sign-in, Dovecot would hold the next one from the address
  # for 2 s, doubling up to 15 s.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
%[7]s
`, dir, port, ssl, uid, gid, tlsListener, extra)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-c", confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Logf("dovecot output:\n%s\ndovecot.log:\n%s", out.String(), log)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.imapAddr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "* OK") {
				return d
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot exited: %s\n%s", out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot did not answer on %s: %v", d.imapAddr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and the pool trusting it.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), roots
}

// peer is a mail client of the test: it appends mail and looks at the
// folders, signed in as the same user.
type peer struct {
	t *testing.T
	c *client.Client
}

func (d *dovecot) peer(t *testing.T) *peer {
	t.Helper()
	var c *client.Client
	var err error
	if d.tlsAddr != "" {
		c, err = client.DialTLS(d.tlsAddr, &tls.Config{RootCAs: d.roots, ServerName: "127.0.0.1"})
	} else {
		c, err = client.Dial(d.imapAddr)
	}
	if err != nil {
		t.Fatal(err)
	}
	// No c.Timeout: go-imap's client applies it to its idle read loop
	// too, so a peer left alone for that long (while a test builds the
	// server binary) would lose its connection. The test's own timeout
	// bounds a hung server.
	if err := c.Login(testUser, testPassword); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Logout() })
	return &peer{t: t, c: c}
}

// appendMessage adds a message to folder, as a delivery would.
func (p *peer) appendMessage(folder string, data []byte) {
	p.t.Helper()
	if err := p.c.Append(folder, nil, time.Now(), bytes.NewBuffer(data)); err != nil {
		p.t.Fatalf("append to %s: %v", folder, err)
	}
}

// count returns how many messages folder holds (not marked deleted).
func (p *peer) count(folder string) int {
	p.t.Helper()
	if _, err := p.c.Select(folder, true); err != nil {
		p.t.Fatalf("select %s: %v", folder, err)
	}
	crit := imap.NewSearchCriteria()
	crit.WithoutFlags = []string{imap.DeletedFlag}
	uids, err := p.c.UidSearch(crit)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.c.Unselect(); err != nil {
		p.t.Fatal(err)
	}
	return len(uids)
}
