package inbox_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/inbox"
)

// These tests play the attacks found on the SMTP intake as transcripts
// against the real server over loopback, one test per defect.

// expectClosed checks that the server has closed the connection: the next
// read ends (EOF or reset) without a reply.
func (s *session) expectClosed() {
	s.t.Helper()
	line, err := s.r.ReadString('\n')
	var ne net.Error
	switch {
	case err == nil:
		s.t.Fatalf("got %q, want the connection closed", line)
	case errors.As(err, &ne) && ne.Timeout():
		s.t.Fatalf("the connection is still open (read %q)", line)
	}
}

// ehlo says EHLO and returns the capabilities offered.
func (s *session) ehlo() []string {
	s.t.Helper()
	s.send("EHLO client.example\r\n")
	var caps []string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("reading EHLO reply: %v", err)
		}
		if !strings.HasPrefix(line, "250") {
			s.t.Fatalf("EHLO: %q", line)
		}
		caps = append(caps, strings.TrimRight(line[4:], "\r\n"))
		if line[3] == ' ' {
			return caps[1:] // the first line is the greeting
		}
	}
}

func (s *session) startData() {
	s.t.Helper()
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
	s.cmd("RCPT TO:<security@localhost>", "250 ")
	s.cmd("DATA", "354 ")
}

// sendQuietly writes raw bytes and ignores a failure: the server may
// rightly have closed the connection by then.
func (s *session) sendQuietly(raw string) {
	io.WriteString(s.conn, raw)
}

// Defect 2: a client that pauses inside DATA got 421, then the rest of its
// DATA was read as commands: an embedded message was stored.
func TestGuard_DataTimeoutClosesTheConnection(t *testing.T) {
	// Not parallel: the session must keep within a 300 ms idle limit
	// until it stalls on purpose.
	ts := startServer(t, inbox.Config{IdleTimeout: 300 * time.Millisecond})
	s := ts.dial()
	s.hello()
	s.startData()
	s.send("Subject: slow\r\n\r\nhalf a message")
	s.expect("421 4.4.2 ")
	s.sendQuietly("\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<security@localhost>\r\nDATA\r\n" +
		"Subject: embedded\r\n\r\nnot a report\r\n.\r\n")
	s.expectClosed()
	if got := ts.stored(); len(got) != 0 {
		t.Fatalf("stored %q after a DATA timeout", got)
	}
}

// Defect 3: the idle limit during DATA held for a 32 KiB buffer, not for
// bytes: a slow but steady sender was cut off.
func TestGuard_SlowSenderIsNotCutOff(t *testing.T) {
	t.Parallel()
	// The idle limit is ten times the gap between the sender's bytes: the
	// sender goroutine may be kept waiting for a core under load (it was,
	// for over a second, with a 1 s limit and 100 ms gaps).
	ts := startServer(t, inbox.Config{IdleTimeout: 2 * time.Second, DataTimeout: time.Minute})
	s := ts.dial()
	s.hello()
	s.startData()
	msg := "Subject: slow\r\n\r\n"
	s.send(msg)
	// Bytes keep coming, 5 a second, for three times the idle limit.
	for range 30 {
		s.send("x\r\n")
		msg += "x\r\n"
		time.Sleep(200 * time.Millisecond)
	}
	s.send(".\r\n")
	s.expect("250 ")
	if got := ts.stored(); len(got) != 1 || string(got[0]) != msg {
		t.Fatalf("stored %q, want %q", got, msg)
	}
}

// Defect 4: a command line trickled in was parsed, in part, when the
// timeout struck. A command line must now arrive whole within the idle
// limit, and a partial one is never run.
func TestGuard_CommandLineMustArriveWhole(t *testing.T) {
	// Not parallel: the session must keep within a 600 ms idle limit
	// until it stalls on purpose.
	ts := startServer(t, inbox.Config{IdleTimeout: 600 * time.Millisecond})
	s := ts.dial()
	s.hello()
	go func() {
		for _, c := range "NOOP\r\n" {
			if _, err := io.WriteString(s.conn, string(c)); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond) // each byte well within the limit, the line not
		}
	}()
	s.expect("421 4.4.2 ")
	s.expectClosed()
}

// Defect 4: a NOOP now and then kept a session open for ever.
func TestGuard_SessionLifetime(t *testing.T) {
	// Not parallel: a transfer must begin within the 500 ms lifetime.
	ts := startServer(t, inbox.Config{MaxSessionTime: 500 * time.Millisecond})
	s := ts.dial()
	s.hello()
	for i := 0; ; i++ {
		if i == 500 {
			t.Fatal("500 NOOPs later the session is still open")
		}
		s.send("NOOP\r\n")
		if got := s.reply(); !strings.HasPrefix(got, "250 ") {
			if !strings.HasPrefix(got, "421 4.4.2 ") {
				t.Fatalf("reply %q, want 421 4.4.2", got)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.expectClosed()

	t.Run("TransferInProgressFinishes", func(t *testing.T) {
		s := ts.dial()
		s.t = t
		s.hello()
		s.startData()
		s.send("Subject: long\r\n\r\nbegun in time\r\n")
		time.Sleep(700 * time.Millisecond) // the session's time is up meanwhile
		s.send("finished late\r\n.\r\n")
		s.expect("250 ")
		s.cmd("NOOP", "421 4.4.2 ")
		s.expectClosed()
	})
}

// Defect 4: 20,000 pipelined NOOPs were all answered. The junk command
// limit (default 100, the EHLO included) ends the session.
func TestGuard_JunkCommandLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	s := ts.dial()
	s.hello()
	go s.sendQuietly(strings.Repeat("NOOP\r\n", 20000))
	n := 0
	for {
		got := s.reply()
		if !strings.HasPrefix(got, "250 ") {
			if !strings.HasPrefix(got, "421 4.7.0 ") {
				t.Fatalf("reply %q after %d NOOPs, want 421 4.7.0", got, n)
			}
			break
		}
		n++
	}
	if n != 99 {
		t.Errorf("%d NOOPs answered after EHLO, want 99", n)
	}
	s.expectClosed()

	t.Run("ResetByAMessage", func(t *testing.T) {
		ts := startServer(t, inbox.Config{MaxJunkCommands: 3})
		s := ts.dial()
		s.hello()
		s.cmd("NOOP", "250 ")
		s.cmd("RSET", "250 ")
		s.startData()
		s.send(message + ".\r\n")
		s.expect("250 ")
		for range 3 {
			s.cmd("NOOP", "250 ")
		}
		s.cmd("VRFY security", "421 4.7.0 ")
		s.expectClosed()
	})
}

// Defect 4: 10,000 refused RCPTs kept a session open. The hard error
// limit (default 20 error replies) ends it.
func TestGuard_ErrorLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	s := ts.dial()
	s.hello()
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
	go s.sendQuietly(strings.Repeat("RCPT TO:<victim@example.com>\r\n", 10000))
	n := 0
	for {
		got := s.reply()
		if !strings.HasPrefix(got, "550 ") {
			if !strings.HasPrefix(got, "421 4.7.0 ") {
				t.Fatalf("reply %q after %d refusals, want 421 4.7.0", got, n)
			}
			break
		}
		n++
	}
	if n != 20 {
		t.Errorf("%d refusals before 421, want 20", n)
	}
	s.expectClosed()
}

// Defect 4: no cap on the commands of one session.
func TestGuard_CommandLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{MaxCommands: 30})
	s := ts.dial()
	s.hello()
	go s.sendQuietly(strings.Repeat("MAIL FROM:<r@example.org>\r\n", 100))
	n := 0
	for {
		got := s.reply()
		if !strings.HasPrefix(got, "250 ") {
			if !strings.HasPrefix(got, "421 4.7.0 ") {
				t.Fatalf("reply %q after %d commands, want 421 4.7.0", got, n)
			}
			break
		}
		n++
	}
	if n != 29 {
		t.Errorf("%d MAIL commands answered after EHLO, want 29", n)
	}
	s.expectClosed()
}

// Defect 5: at the end of the shutdown grace, transfers still going were
// cut without a word. Every connection open then gets 421 4.3.2.
func TestGuard_ShutdownGraceEndsWith421(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	busy := ts.dial()
	busy.hello()
	busy.startData()
	busy.send("Subject: never finished\r\n\r\nfirst half\r\n")
	partial := ts.dial()
	partial.hello()
	partial.send("MAIL FROM:<r@exa") // half a command line

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want the grace to run out", err)
	}
	partial.expect("421 4.3.2 ")
	partial.expectClosed()
	busy.expect("421 4.3.2 ")
	busy.expectClosed()
	if got := ts.stored(); len(got) != 0 {
		t.Fatalf("stored %q", got)
	}
}

// Defect 6: go-smtp dropped ".\r" at the start of a line before the bare
// CR check could see it. Every bare CR is now refused, and what is stored
// is what was sent, dot-unstuffed.
func TestGuard_DotCR(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	for name, data := range map[string]string{
		"DotCRText":   "Subject: x\r\n\r\n.\rfoo\r\n",
		"DotCRDot":    "Subject: x\r\n\r\nbody\r\n.\r.\r\n",
		"DotCRCR":     "Subject: x\r\n\r\nbody\r\n.\r\r\nmore\r\n",
		"CRAtLineEnd": "Subject: x\r\n\r\nbody\r\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := ts.dial()
			s.t = t
			s.hello()
			s.startData()
			s.send(data + ".\r\n")
			s.expect("554 5.5.2 ")
			s.cmd("NOOP", "250 ")
		})
	}
	if got := ts.stored(); len(got) != 0 {
		t.Fatalf("stored %q", got)
	}

	s := ts.dial()
	s.hello()
	s.startData()
	s.send("Subject: dots\r\n\r\n..\r\n...\r\n.. x\r\n..x.\r\na.\r\n\r\n\x00\xff\t \r\n.\r\n")
	s.expect("250 ")
	want := "Subject: dots\r\n\r\n.\r\n..\r\n. x\r\n.x.\r\na.\r\n\r\n\x00\xff\t \r\n"
	if got := ts.stored(); len(got) != 1 || string(got[0]) != want {
		t.Fatalf("stored %q\nwant   %q", got, want)
	}
}

// Defect 10: lines ending in a bare LF are taken as if they ended in CRLF
// (stored so), while only CRLF.CRLF ends DATA: a "." line after a bare LF,
// or ".\n", is content. SMTP smuggling gets nowhere either way.
func TestGuard_BareLFIsNormalized(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, sent, stored string
	}{
		{"LFLines", "Subject: x\nX: y\n\nline one\nline two\r\n",
			"Subject: x\r\nX: y\r\n\r\nline one\r\nline two\r\n"},
		{"SmugglingLFDotCRLF", "Subject: x\r\n\r\nbody\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<security@localhost>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n",
			"Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<security@localhost>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n"},
		{"SmugglingDotLF", "Subject: x\r\n\r\nbody\r\n.\nMAIL FROM:<evil@example.com>\r\n",
			"Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<evil@example.com>\r\n"},
		{"SmugglingLFDotLF", "Subject: x\n\nbody\n.\nQUIT\r\n",
			"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n"},
		{"DotStuffedAfterLF", "Subject: x\n\nbody\n..x\r\n",
			"Subject: x\r\n\r\nbody\r\n.x\r\n"},
		// A "." line after a bare LF does not end the data; the
		// CRLF.CRLF that follows does.
		{"DotAfterLFNotTheEnd", "Subject: x\n\nbody\n.\r\n",
			"Subject: x\r\n\r\nbody\r\n.\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, inbox.Config{})
			s := ts.dial()
			s.hello()
			s.startData()
			s.send(tc.sent + ".\r\n")
			s.expect("250 ")
			s.cmd("NOOP", "250 ") // one reply for the one message: nothing smuggled ran
			if got := ts.stored(); len(got) != 1 || string(got[0]) != tc.stored {
				t.Fatalf("stored %q\nwant   %q", got, tc.stored)
			}
		})
	}
}

// Defect 10: a Python script sending msg.as_bytes() (LF line endings)
// with smtplib was refused 554.
func TestGuard_PythonSmtplib(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the real Python smtplib client is not tried")
	}
	ts := startServer(t, inbox.Config{})
	host, port, _ := net.SplitHostPort(ts.addr)
	script := filepath.Join(t.TempDir(), "send.py")
	os.WriteFile(script, []byte(`import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "r@example.org"
m["To"] = "security@localhost"
m["Subject"] = "from a script"
m.set_content("first line\n.a line starting with a dot\n\nlast line\n")
data = m.as_bytes()
assert b"\r" not in data
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]))
s.sendmail("r@example.org", ["security@localhost"], data)
s.quit()
sys.stdout.buffer.write(data)
`), 0o600)
	out, err := exec.Command(python, script, host, port).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("smtplib: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	// smtplib ends the data with CRLF.CRLF after the last LF.
	want := strings.ReplaceAll(string(out), "\n", "\r\n") + "\r\n"
	if got := ts.stored(); len(got) != 1 || string(got[0]) != want {
		t.Fatalf("stored %q\nwant   %q", got, want)
	}
}

// Defect 9: a NUL byte in MAIL FROM was accepted.
func TestGuard_MailFromControlCharacters(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	s := ts.dial()
	s.hello()
	s.cmd("MAIL FROM:<r\x00@example.org>", "501 5.1.7 ")
	s.cmd("MAIL FROM:<r@exam\x00ple.org>", "501 5.1.7 ")
	s.cmd("MAIL FROM:<\"r\x01\"@example.org>", "501 5.1.7 ")
	s.cmd("MAIL FROM:<r\xff@example.org>", "501 5.1.7 ") // not UTF-8
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
}

// Defect 9: a SIZE too large for go-smtp's parser was a syntax error.
func TestGuard_SizeOverLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	s := ts.dial()
	s.hello()
	s.cmd("MAIL FROM:<r@example.org> SIZE=999999999999", "552 5.3.4 ")
	s.cmd("MAIL FROM:<r@example.org> SIZE=99999999999999999999999999", "552 5.3.4 ")
	s.cmd("MAIL FROM:<r@example.org> SIZE=26214401", "552 5.3.4 ")
	s.cmd("MAIL FROM:<r@example.org> SIZE=12345", "250 ")
}

// Defect 9: SMTPUTF8 was not offered; mail from a UTF-8 address is now
// taken and stored as sent.
func TestGuard_SMTPUTF8(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	s := ts.dial()
	s.expect("220 ")
	if caps := s.ehlo(); !hasCap(caps, "SMTPUTF8") {
		t.Fatalf("SMTPUTF8 not offered: %q", caps)
	}
	s.cmd("MAIL FROM:<rené@exämple.org> SMTPUTF8", "250 ")
	s.cmd("RCPT TO:<security@localhost>", "250 ")
	s.cmd("DATA", "354 ")
	msg := "From: René <rené@exämple.org>\r\nSubject: Grüße\r\n\r\nÜber alles\r\n"
	s.send(msg + ".\r\n")
	s.expect("250 ")
	ids := ts.filedIDs()
	if len(ids) != 1 {
		t.Fatalf("%d messages stored, want 1", len(ids))
	}
	m, err := ts.db.RawMessage(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if m.MailFrom != "rené@exämple.org" || string(m.Data) != msg {
		t.Fatalf("stored from %q: %q", m.MailFrom, m.Data)
	}
}

func hasCap(caps []string, name string) bool {
	for _, c := range caps {
		if strings.EqualFold(strings.Fields(c)[0], name) {
			return true
		}
	}
	return false
}

// CHUNKING (BDAT) would carry data past the guard: it is not offered, and
// a client that sends BDAT anyway is refused and disconnected, since its
// chunk would otherwise be read as commands.
func TestGuard_NoChunking(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	s := ts.dial()
	s.expect("220 ")
	if caps := s.ehlo(); hasCap(caps, "CHUNKING") {
		t.Fatalf("CHUNKING offered: %q", caps)
	}
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
	s.cmd("RCPT TO:<security@localhost>", "250 ")
	s.send("BDAT 20 LAST\r\nMAIL FROM:<x@y.z>\r\n\r\n")
	s.expect("502 5.5.1 ")
	s.expectClosed()
	if got := ts.stored(); len(got) != 0 {
		t.Fatalf("stored %q", got)
	}
}

// testCert is a self-signed certificate for localhost.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// After STARTTLS the same rules hold: the guard sits above TLS, not below.
func TestGuard_STARTTLS(t *testing.T) {
	// Not parallel: the session must keep within a 500 ms idle limit
	// until it stalls on purpose.
	cfg, pool := testCert(t)
	ts := startServer(t, inbox.Config{TLSConfig: cfg, IdleTimeout: 500 * time.Millisecond})
	s := ts.dial()
	s.expect("220 ")
	if caps := s.ehlo(); !hasCap(caps, "STARTTLS") {
		t.Fatalf("STARTTLS not offered: %q", caps)
	}
	s.cmd("MAIL FROM:<before-tls@example.org>", "250 ")
	// A command pipelined in the clear after STARTTLS is never run.
	s.send("STARTTLS\r\nRCPT TO:<security@localhost>\r\n")
	s.expect("220 ")
	tc := tls.Client(s.conn, &tls.Config{ServerName: "localhost", RootCAs: pool})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	s = &session{t: t, conn: tc, r: bufio.NewReader(tc)}
	// Nothing said before TLS counts: EHLO comes first again.
	s.cmd("DATA", "503 5.5.1 ")
	if caps := s.ehlo(); hasCap(caps, "STARTTLS") || hasCap(caps, "CHUNKING") {
		t.Fatalf("capabilities after STARTTLS: %q", caps)
	}
	s.cmd("RCPT TO:<security@localhost>", "5") // no MAIL FROM any more
	s.startData()
	s.send("Subject: over TLS\n\nbody\n.\r\nMAIL FROM:<evil@example.com>\r\n.\r\n")
	s.expect("250 ")
	s.cmd("NOOP", "250 ")
	s.startData()
	s.send("Subject: stalled\r\n\r\nhalf")
	s.expect("421 4.4.2 ")
	s.expectClosed()
	got := ts.stored()
	if want := "Subject: over TLS\r\n\r\nbody\r\n.\r\nMAIL FROM:<evil@example.com>\r\n"; len(got) != 1 || string(got[0]) != want {
		t.Fatalf("stored %q\nwant   %q", got, want)
	}
}
