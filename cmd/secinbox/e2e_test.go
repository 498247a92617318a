package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/smtp"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// crlf turns LF line endings into CRLF, as messages travel on the wire.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// pgpMIME wraps an armored OpenPGP message as RFC 3156 multipart/encrypted.
func pgpMIME(from, subject string, armored []byte) string {
	return crlf("From: " + from + "\n" +
		"To: security@localhost\n" +
		"Subject: " + subject + "\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\n" +
		"\n" +
		"--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n" +
		"--b1\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n" +
		string(armored) + "\n--b1--\n")
}

// teamKeyFrom fetches the team's public key as a researcher would.
func teamKeyFrom(t testing.TB, p *proc) openpgp.EntityList {
	t.Helper()
	resp, err := http.Get(p.url("/pgp-key.asc"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/pgp-keys") {
		t.Errorf("/pgp-key.asc Content-Type %q", ct)
	}
	keys, err := openpgp.ReadArmoredKeyRing(resp.Body)
	if err != nil {
		t.Fatalf("reading /pgp-key.asc: %v", err)
	}
	return keys
}

// TestEndToEnd is the foundation's promise: a report encrypted to the key
// from /pgp-key.asc, sent over SMTP to security@localhost, appears
// decrypted in the API and on the board.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startProc(t, data)
	keys := teamKeyFrom(t, p)
	if uid := pgp.PrimaryUserID(keys[0]); uid != "Security Team <security@localhost>" {
		t.Errorf("team key user ID %q", uid)
	}

	// The same key is found through WKD.
	resp, err := http.Get(p.url("/.well-known/openpgpkey/hu/" + pgp.WKDHash("security")))
	if err != nil {
		t.Fatal(err)
	}
	wkd, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if wkdKeys, err := openpgp.ReadKeyRing(bytes.NewReader(wkd)); err != nil || pgp.Fingerprint(wkdKeys[0]) != pgp.Fingerprint(keys[0]) {
		t.Fatalf("WKD key: %v", err)
	}

	inner := crlf("Content-Type: text/plain; charset=utf-8\n\nThe login form at /admin is vulnerable to SQL injection.\n")
	armored, err := pgp.Encrypt([]byte(inner), keys, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg := pgpMIME("Ada Researcher <ada@example.org>", "SQLi in admin login", armored)
	if err := smtp.SendMail(p.smtpAddr, nil, "ada@example.org", []string{"security@localhost"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}

	token := apiToken(t, data)
	reports := p.waitReports(token, 1)
	var r apiReport
	if code := p.getJSON(token, fmt.Sprintf("/api/v1/reports/%d", reports[0].ID), &r); code != 200 {
		t.Fatalf("GET report: %d", code)
	}
	if !r.Encrypted || !r.Decrypted || r.Status != "new" {
		t.Errorf("encrypted %v decrypted %v status %q", r.Encrypted, r.Decrypted, r.Status)
	}
	if !strings.Contains(r.Body, "vulnerable to SQL injection") {
		t.Errorf("body %q", r.Body)
	}
	if r.Title != "SQLi in admin login" || r.Researcher.Email != "ada@example.org" || r.Researcher.Name != "Ada Researcher" {
		t.Errorf("title %q researcher %+v", r.Title, r.Researcher)
	}
	year := time.Now().UTC().Year()
	if r.TrackingID != fmt.Sprintf("SEC-%d-0001", year) {
		t.Errorf("tracking id %q", r.TrackingID)
	}
	if d := r.FirstResponseDue.Sub(r.ReceivedAt); d != 24*time.Hour {
		t.Errorf("first response due %v after receipt", d)
	}
	if code := p.getJSON("wrong", "/api/v1/reports", nil); code != 401 {
		t.Errorf("API with a wrong token: %d, want 401", code)
	}

	// A staff member signs in and sees it on the board.
	addStaff(t, data, "lead@example.com", triage.RoleTriager)
	board := staffGet(t, p, "lead@example.com", staffPassword, "/board")
	for _, want := range []string{r.TrackingID, "SQLi in admin login", "ada@example.org"} {
		if !strings.Contains(board, want) {
			t.Errorf("board does not show %q", want)
		}
	}
}

// TestEndToEnd_GnuPG sends a report encrypted by GnuPG itself to the key
// served at /pgp-key.asc, when gpg is installed.
func TestEndToEnd_GnuPG(t *testing.T) {
	t.Parallel()
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("gpg not installed")
	}
	data := t.TempDir()
	p := startProc(t, data)
	home := t.TempDir()
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gpg, append([]string{"--homedir", home, "--batch", "--no-tty", "--quiet"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("gpg %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	resp, err := http.Get(p.url("/pgp-key.asc"))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	run(string(key), "--import")
	inner := crlf("Content-Type: text/plain; charset=utf-8\n\nRemote code execution in the image resizer.\n")
	armored := run(inner, "--trust-model", "always", "--armor", "--encrypt", "--recipient", "security@localhost")
	msg := pgpMIME("Grace <grace@example.org>", "RCE in resizer", []byte(armored))
	if err := smtp.SendMail(p.smtpAddr, nil, "grace@example.org", []string{"security@localhost"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	token := apiToken(t, data)
	reports := p.waitReports(token, 1)
	var r apiReport
	p.getJSON(token, fmt.Sprintf("/api/v1/reports/%d", reports[0].ID), &r)
	if !r.Decrypted || !strings.Contains(r.Body, "Remote code execution in the image resizer.") {
		t.Fatalf("GnuPG report: decrypted %v body %q", r.Decrypted, r.Body)
	}
}

// staffGet signs in through the login form and GETs path.
func staffGet(t *testing.T, p *proc, email, password, path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(p.url("/login"), url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(p.url(path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Request.URL.Path != path {
		t.Fatalf("GET %s as %s: %d at %s", path, email, resp.StatusCode, resp.Request.URL.Path)
	}
	return string(body)
}

// rawSession speaks SMTP by hand so a test can stop at any byte.
type rawSession struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialSMTP(t *testing.T, addr string) *rawSession {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	s := &rawSession{t: t, conn: c, r: bufio.NewReader(c)}
	s.expect("220")
	s.cmd("EHLO test.example", "250")
	return s
}

func (s *rawSession) expect(code string) {
	s.t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("waiting for %s: %v", code, err)
		}
		if len(line) >= 4 && line[3] == '-' {
			continue
		}
		if !strings.HasPrefix(line, code) {
			s.t.Fatalf("reply %q, want %s", line, code)
		}
		return
	}
}

func (s *rawSession) cmd(line, code string) {
	s.t.Helper()
	io.WriteString(s.conn, line+"\r\n")
	s.expect(code)
}

// startData opens a transaction and sends the DATA command.
func (s *rawSession) startData() {
	s.cmd("MAIL FROM:<r@example.org>", "250")
	s.cmd("RCPT TO:<security@localhost>", "250")
	s.cmd("DATA", "354")
}

// storedMessages opens the database the stopped server left and returns
// every raw message in it, by content hash.
func storedMessages(t *testing.T, data string) map[[32]byte]bool {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(data, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := map[[32]byte]bool{}
	for id, misses := int64(1), 0; misses < 100; id++ {
		m, err := d.RawMessage(ctx, id)
		if err != nil {
			misses++
			continue
		}
		out[sha256.Sum256(m.Data)] = true
	}
	return out
}

// checkFiledOnce waits until the server in data has filed every stored
// message, then checks that each is one report, tracking ids following
// the order the messages were stored.
func checkFiledOnce(t *testing.T, data string) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(data, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	deadline := time.Now().Add(time.Minute) // a safety net only
	for {
		pending, err := d.PendingRawMessages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still not filed after the restart", len(pending))
		}
		time.Sleep(50 * time.Millisecond)
	}
	reports, err := d.Reports(ctx, triage.ReportFilter{Limit: db.MaxReportLimit})
	if err != nil {
		t.Fatal(err)
	}
	stored := storedMessages(t, data)
	if len(reports) != len(stored) {
		t.Errorf("%d reports for %d stored messages, want one each", len(reports), len(stored))
	}
	sort.Slice(reports, func(i, j int) bool { return reports[i].MessageID < reports[j].MessageID })
	for i := 1; i < len(reports); i++ {
		a, b := reports[i-1], reports[i]
		if a.MessageID == b.MessageID {
			t.Errorf("message %d filed twice", a.MessageID)
		}
		if a.TrackingID >= b.TrackingID {
			t.Errorf("message %d filed as %s, after message %d as %s: tracking ids out of order",
				b.MessageID, b.TrackingID, a.MessageID, a.TrackingID)
		}
	}
	t.Logf("%d messages filed once each, in order", len(reports))
}

func durabilityMessage(n int) string {
	return crlf(fmt.Sprintf("From: r@example.org\nTo: security@localhost\nSubject: durability %d\n\n", n) +
		strings.Repeat(fmt.Sprintf("report %d: the quick brown fox jumps over the lazy dog\n", n), 100))
}

// TestDurability_Kill9 kills the server with SIGKILL right after a 250 and
// in the middle of a DATA transfer. After a restart, every message that got
// 250 is there byte for byte and filed as a report; the interrupted one is
// not there at all.
func TestDurability_Kill9(t *testing.T) {
	data := t.TempDir()
	p := startProc(t, data)

	acked := durabilityMessage(1)
	s := dialSMTP(t, p.smtpAddr)
	s.startData()
	io.WriteString(s.conn, acked+".\r\n")
	s.expect("250")
	p.kill() // right after the 250, before any processing could be relied on

	p = startProc(t, data)
	interrupted := durabilityMessage(2)
	s = dialSMTP(t, p.smtpAddr)
	s.startData()
	io.WriteString(s.conn, interrupted[:len(interrupted)/2])
	time.Sleep(100 * time.Millisecond) // the half message is in the server
	p.kill()

	p = startProc(t, data)
	token := apiToken(t, data)
	reports := p.waitReports(token, 1)
	time.Sleep(300 * time.Millisecond) // give a wrongly filed second report time to show
	reports = p.waitReports(token, 1)
	if len(reports) != 1 || reports[0].Title != "durability 1" {
		t.Fatalf("reports after restart: %+v", reports)
	}
	p.kill()

	stored := storedMessages(t, data)
	if !stored[sha256.Sum256([]byte(acked))] {
		t.Error("the message acknowledged with 250 is not stored byte for byte")
	}
	if len(stored) != 1 {
		t.Errorf("%d messages stored, want only the acknowledged one", len(stored))
	}
}

// TestDurability_Kill9UnderLoad kills the server while several clients
// send at once and intake files: every acknowledged message survives,
// nothing stored is a fragment of a message, and after the restart every
// stored message is filed exactly once, tracking ids in the order the
// messages were stored.
func TestDurability_Kill9UnderLoad(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startProc(t, data)
	sent := map[[32]byte]bool{}
	ackedc := make(chan [32]byte, 1000)
	var nacked atomic.Int64
	done := make(chan struct{})
	for c := range 4 {
		for i := range 200 {
			sent[sha256.Sum256([]byte(durabilityMessage(c*1000+i)))] = true
		}
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				msg := durabilityMessage(c*1000 + i)
				if err := smtp.SendMail(p.smtpAddr, nil, "r@example.org", []string{"security@localhost"}, []byte(msg)); err != nil {
					return // the server is gone
				}
				ackedc <- sha256.Sum256([]byte(msg))
				nacked.Add(1)
			}
		}()
	}
	// Killed once intake is busy, while the four clients still send: after
	// 100 acknowledgements (a condition, not a fixed wait, which on a
	// loaded machine could end before the first 250).
	for deadline := time.Now().Add(time.Minute); nacked.Load() < 100; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) { // a safety net only
			t.Fatalf("%d messages acknowledged in a minute, want 100 before the kill", nacked.Load())
		}
	}
	p.kill()
	for range 4 {
		<-done
	}
	close(ackedc)

	p = startProc(t, data)
	checkFiledOnce(t, data)
	p.terminate(t)
	stored := storedMessages(t, data)
	n := 0
	for h := range ackedc {
		n++
		if !stored[h] {
			t.Error("an acknowledged message was lost")
		}
	}
	if n == 0 {
		t.Fatal("no message was acknowledged before the kill; the test proves nothing")
	}
	for h := range stored {
		if !sent[h] {
			t.Error("a stored message is not one that was sent whole")
		}
	}
	t.Logf("%d acknowledged, %d stored", n, len(stored))
}

// TestSIGTERM: on SIGTERM the server lets a transfer in progress finish,
// answers idle sessions 421, and exits cleanly within 10 s.
func TestSIGTERM(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startProc(t, data)
	idle := dialSMTP(t, p.smtpAddr)
	busy := dialSMTP(t, p.smtpAddr)
	busy.startData()
	msg := durabilityMessage(7)
	io.WriteString(busy.conn, msg[:100])

	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	idle.expect("421")
	io.WriteString(busy.conn, msg[100:]+".\r\n")
	busy.expect("250")
	io.WriteString(busy.conn, "QUIT\r\n")
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after SIGTERM")
	}
	if p.exitErr != nil {
		t.Errorf("exit: %v", p.exitErr)
	}
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(p.logs(), "database closed") {
		t.Error("the database was not closed")
	}
	if !storedMessages(t, data)[sha256.Sum256([]byte(msg))] {
		t.Error("the message finished during shutdown was not stored")
	}
}

// TestDevPassphrase: with no passphrase configured, one is generated into
// a 0600 file and a warning is logged; the stored secret key is locked.
func TestDevPassphrase(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startProc(t, data, "SECINBOX_KEY_PASSPHRASE=")
	p.kill()
	fi, err := os.Stat(filepath.Join(data, "key-passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key-passphrase mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(p.logs(), "production must set SECINBOX_KEY_PASSPHRASE") {
		t.Error("no warning about the generated passphrase")
	}
	// Restarting finds the same key with the same file.
	p2 := startProc(t, data, "SECINBOX_KEY_PASSPHRASE=")
	p2.kill()

	// The secret key is never in the clear: not in the exported backup,
	// not anywhere in the database file.
	secret := cli(t, data, "", "key", "export", "--secret")
	es, err := openpgp.ReadArmoredKeyRing(strings.NewReader(secret))
	if err != nil {
		t.Fatal(err)
	}
	if es[0].PrivateKey == nil || !es[0].PrivateKey.Encrypted {
		t.Error("stored primary secret key is not passphrase-protected")
	}
	for _, sk := range es[0].Subkeys {
		if sk.PrivateKey != nil && !sk.PrivateKey.Encrypted {
			t.Error("stored secret subkey is not passphrase-protected")
		}
	}
	// A wrong passphrase is refused at start with a clear error.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a server that does start is stopped
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "-data", data, "-smtp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SECINBOX_KEY_PASSPHRASE=wrong")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "passphrase") {
		t.Errorf("start with a wrong passphrase: %v\n%s", err, out)
	}
}

// TestPassphraseFile: SECINBOX_KEY_PASSPHRASE_FILE protects the key, and
// no development passphrase is generated.
func TestPassphraseFile(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(file, []byte("from a file\n"), 0o600)
	p := startProc(t, data, "SECINBOX_KEY_PASSPHRASE=", "SECINBOX_KEY_PASSPHRASE_FILE="+file)
	p.kill()
	if _, err := os.Stat(filepath.Join(data, "key-passphrase")); !os.IsNotExist(err) {
		t.Errorf("a development passphrase was generated although a file was given: %v", err)
	}
	if strings.Contains(p.logs(), "production must set") {
		t.Error("warned about a missing passphrase although a file was given")
	}
	// The key is locked with the file's passphrase (the trailing newline
	// is not part of it): the same file starts the server again, another
	// passphrase does not.
	startProc(t, data, "SECINBOX_KEY_PASSPHRASE=", "SECINBOX_KEY_PASSPHRASE_FILE="+file).kill()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a server that does start is stopped
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "-data", data, "-smtp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SECINBOX_KEY_PASSPHRASE=from a file\n")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "passphrase") {
		t.Errorf("started with a different passphrase: %v\n%s", err, out)
	}
}
