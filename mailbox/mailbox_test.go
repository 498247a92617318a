package mailbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// rig is secinbox's side of a test: a real database in a temporary
// directory and the processor that files, decrypts and acknowledges.
type rig struct {
	t    *testing.T
	d    *db.DB
	proc *inbox.Processor
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	keys := teamKey(t)
	proc, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: d, Conversation: d, Keys: inbox.FixedKeys(keys),
		Logger: testLogger(t), Domain: "example.com", OwnAddresses: []string{"security@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { proc.Run(pctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return &rig{t: t, d: d, proc: proc}
}

// teamKeyOnce holds the fixture team key, unlocked once per test binary
// (its S2K is deliberately slow).
var teamKeyOnce = sync.OnceValues(func() ([]byte, error) {
	sec, err := os.ReadFile(filepath.Join("..", "pgp", "testdata", "team-ed25519.sec.asc"))
	if err != nil {
		return nil, err
	}
	keys, err := pgp.ReadSecretKeys(sec, []byte("team-passphrase"))
	if err != nil {
		return nil, err
	}
	var unlocked bytes.Buffer
	for _, e := range keys {
		if err := e.SerializePrivateWithoutSigning(&unlocked, nil); err != nil {
			return nil, err
		}
	}
	return unlocked.Bytes(), nil
})

// teamKey returns the fixture team key, unlocked: a copy of the test's
// own, since go-crypto caches signature checks in the entities it parses
// (writes) and the tests run in parallel.
func teamKey(t *testing.T) openpgp.EntityList {
	t.Helper()
	unlocked, err := teamKeyOnce()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := openpgp.ReadKeyRing(bytes.NewReader(unlocked))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// poller makes a poller of rawURL for the rig, with short waits, and a
// channel of its status changes.
func (r *rig) poller(rawURL, mode string, d *dovecot, change func(*Config)) (*Poller, <-chan triage.MailboxStatus) {
	r.t.Helper()
	a, err := ParseURL(rawURL, mode)
	if err != nil {
		r.t.Fatal(err)
	}
	cfg := Config{
		Account:        a,
		Password:       testPassword,
		PollInterval:   time.Hour, // tests never wait for the poll
		CommandTimeout: 30 * time.Second,
		MinBackoff:     10 * time.Millisecond,
		MaxBackoff:     50 * time.Millisecond,
		Logger:         testLogger(r.t),
	}
	if d != nil && d.roots != nil {
		cfg.TLSConfig = &tls.Config{RootCAs: d.roots}
	}
	if change != nil {
		change(&cfg)
	}
	p, err := New(cfg, r.d, r.proc)
	if err != nil {
		r.t.Fatal(err)
	}
	statuses := make(chan triage.MailboxStatus, 1000)
	p.onStatus = func(s triage.MailboxStatus) {
		select {
		case statuses <- s:
		default:
		}
	}
	return p, statuses
}

// run runs p until the test ends (or the returned stop is called).
func run(t *testing.T, p *Poller) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// waitStatus waits for a status for which ok is true.
func waitStatus(t *testing.T, statuses <-chan triage.MailboxStatus, what string, ok func(triage.MailboxStatus) bool) triage.MailboxStatus {
	t.Helper()
	timeout := time.After(60 * time.Second) // a safety net only
	for {
		select {
		case s := <-statuses:
			if ok(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("no status %s within a minute", what)
		}
	}
}

// waitFor polls cond (a database read) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a safety net only
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) reports() []*triage.Report {
	r.t.Helper()
	list, err := r.d.Reports(context.Background(), triage.ReportFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	return list
}

func (r *rig) rawCount() int {
	r.t.Helper()
	n := len(r.reports())
	pending, err := r.d.PendingRawMessages(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return n + len(pending)
}

// encryptedReport is the GnuPG-made PGP/MIME fixture as a mailbox holds
// it after delivery: with the Return-Path the final delivery adds.
func encryptedReport(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "pgp", "testdata", "pgpmime-encrypted.eml"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("Return-Path: <alice@researcher.example>\r\n"), b...)
}

func plainMessage(id, subject string) []byte {
	return []byte("Return-Path: <bob@researcher.example>\r\nFrom: Bob <bob@researcher.example>\r\n" +
		"To: security@example.com\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + "@researcher.example>\r\n" +
		"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n")
}

// TestPoller_Delivery: a GnuPG-encrypted report in INBOX is committed,
// filed decrypted, acknowledged (the acknowledgement queued in the
// outbox), and moved to the done folder, which is created.
func TestPoller_Delivery(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, false, "")
	r := newRig(t)
	mua := d.peer(t)
	mua.appendMessage("INBOX", encryptedReport(t))

	p, statuses := r.poller("imap://"+testUser+"@"+d.imapAddr+"/INBOX", TLSNone, d, nil)
	run(t, p)
	waitStatus(t, statuses, "ok", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
	waitFor(t, "the report to be filed", func() bool { return len(r.reports()) == 1 })
	ctx := context.Background()
	rep, err := r.d.Report(ctx, r.reports()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Encrypted || !rep.Decrypted || !strings.Contains(rep.Body, "SQL injection") && rep.Title != "SQL injection in /admin" {
		t.Errorf("report: encrypted %v decrypted %v title %q body %q", rep.Encrypted, rep.Decrypted, rep.Title, rep.Body)
	}
	if rep.ResearcherEmail != "alice@researcher.example" {
		t.Errorf("researcher %q", rep.ResearcherEmail)
	}
	raw, err := r.d.RawMessage(ctx, rep.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if raw.MailFrom != "alice@researcher.example" || raw.RemoteAddr != RemoteAddr {
		t.Errorf("raw message: mail from %q remote %q", raw.MailFrom, raw.RemoteAddr)
	}
	if string(raw.Data) != string(encryptedReport(t)) {
		t.Errorf("raw message is not the bytes appended")
	}
	waitFor(t, "the acknowledgement", func() bool {
		out, err := r.d.Outbox(ctx, triage.OutboxFilter{Kind: triage.MailAck})
		return err == nil && len(out) == 1 && out[0].To == "alice@researcher.example"
	})
	waitFor(t, "the move to the done folder", func() bool {
		return mua.count("INBOX") == 0 && mua.count("secinbox-filed") == 1
	})
	if s := p.Status(); s.Fetched != 1 || s.LastCheck.IsZero() || !s.Idle {
		t.Errorf("status %+v", s)
	}
}

// TestPoller_IdleWakeUp: a message that arrives while the poller waits
// is filed at once: the poll interval is an hour, so only IDLE can have
// told.
func TestPoller_IdleWakeUp(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, false, "")
	r := newRig(t)
	p, statuses := r.poller("imap://"+testUser+"@"+d.imapAddr, TLSNone, d, nil)
	run(t, p)
	waitStatus(t, statuses, "ok (first check done)", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
	if len(r.reports()) != 0 {
		t.Fatal("a report before any mail")
	}
	mua := d.peer(t)
	mua.appendMessage("INBOX", plainMessage("idle", "Arrived while idle"))
	waitFor(t, "the report of the message appended while idle", func() bool { return len(r.reports()) == 1 })
	waitFor(t, "the move", func() bool { return mua.count("INBOX") == 0 })
}

// TestPoller_CrashBetweenCommitAndMove: the process dies after the
// commit, before the move (the hook stops the session there, as kill -9
// would). The next poller finds the message recorded, commits nothing
// twice, files one report, and moves it.
func TestPoller_CrashBetweenCommitAndMove(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, false, "")
	r := newRig(t)
	mua := d.peer(t)
	mua.appendMessage("INBOX", plainMessage("crash", "Committed, never moved"))

	url := "imap://" + testUser + "@" + d.imapAddr + "/INBOX"
	first, _ := r.poller(url, TLSNone, d, nil)
	committed := make(chan int64, 1)
	first.afterCommit = func(id int64) error {
		select {
		case committed <- id:
		default:
		}
		return errors.New("simulated crash before the move")
	}
	stopFirst := run(t, first)
	var id int64
	select {
	case id = <-committed:
	case <-time.After(60 * time.Second):
		t.Fatal("nothing committed")
	}
	stopFirst()
	if n := mua.count("INBOX"); n != 1 {
		t.Fatalf("INBOX holds %d messages after the crash, want 1 (not moved)", n)
	}
	waitFor(t, "the report", func() bool { return len(r.reports()) == 1 })

	second, statuses := r.poller(url, TLSNone, d, nil)
	run(t, second)
	waitStatus(t, statuses, "ok", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
	if n := mua.count("INBOX"); n != 0 {
		t.Errorf("INBOX holds %d messages, want 0 (moved by the second poller)", n)
	}
	if n := mua.count("secinbox-filed"); n != 1 {
		t.Errorf("done folder holds %d messages, want 1", n)
	}
	if n := r.rawCount(); n != 1 {
		t.Errorf("%d raw messages stored, want 1", n)
	}
	if reps := r.reports(); len(reps) != 1 || reps[0].MessageID != id {
		t.Errorf("reports %v, want one from message %d", reps, id)
	}
	if s := second.Status(); s.Fetched != 0 {
		t.Errorf("second poller fetched %d, want 0", s.Fetched)
	}

	// The same message delivered again (a new UID): known by its
	// Message-ID and bytes, moved, not stored again.
	mua.appendMessage("INBOX", plainMessage("crash", "Committed, never moved"))
	third, statuses := r.poller(url, TLSNone, d, nil)
	run(t, third)
	waitStatus(t, statuses, "ok", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
	if n := r.rawCount(); n != 1 {
		t.Errorf("%d raw messages stored after the same message came again, want 1", n)
	}
	if n := mua.count("INBOX"); n != 0 {
		t.Errorf("INBOX holds %d messages, want 0", n)
	}
}

// TestPoller_WrongPassword: refused credentials are retried after a
// backoff, with the reason in the status; the poller does not crash.
func TestPoller_WrongPassword(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, false, "auth_failure_delay = 0\n")
	r := newRig(t)
	p, statuses := r.poller("imap://"+testUser+"@"+d.imapAddr, TLSNone, d, func(c *Config) { c.Password = "wrong" })
	stop := run(t, p)
	s := waitStatus(t, statuses, "failing twice", func(s triage.MailboxStatus) bool {
		return s.State == triage.MailboxFailing && s.Errors >= 2
	})
	if !strings.Contains(s.LastError, "sign-in as "+testUser+" refused") {
		t.Errorf("last error %q", s.LastError)
	}
	if strings.Contains(s.LastError, "wrong") {
		t.Errorf("the status shows the password: %q", s.LastError)
	}
	stop() // returns: Run ends with its context
	if s := p.Status(); s.State != triage.MailboxFailing || !s.LastCheck.IsZero() {
		t.Errorf("status %+v", s)
	}
}

// TestPoller_TLS: implicit TLS (imaps://) and STARTTLS (imap://), with
// the server's certificate checked; a STARTTLS the server does not offer
// is a failure, never a fall back to plain text.
func TestPoller_TLS(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, true, "")
	r := newRig(t)
	mua := d.peer(t)
	for i, u := range []string{"imaps://" + testUser + "@" + d.tlsAddr, "imap://" + testUser + "@" + d.imapAddr} {
		mua.appendMessage("INBOX", plainMessage("tls"+string(rune('a'+i)), "Over TLS"))
		p, statuses := r.poller(u, "", d, nil)
		stop := run(t, p)
		waitStatus(t, statuses, "ok over "+u, func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
		stop()
		waitFor(t, "the report", func() bool { return len(r.reports()) == i+1 })
	}
	// Certificate not trusted: refused.
	p, statuses := r.poller("imaps://"+testUser+"@"+d.tlsAddr, "", d, func(c *Config) { c.TLSConfig = nil })
	run(t, p)
	s := waitStatus(t, statuses, "failing", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxFailing })
	if !strings.Contains(s.LastError, "TLS") || !strings.Contains(s.LastError, "certificate") {
		t.Errorf("untrusted certificate: %q", s.LastError)
	}

	plain := startDovecot(t, false, "")
	p, statuses = r.poller("imap://"+testUser+"@"+plain.imapAddr, "", plain, nil)
	run(t, p)
	s = waitStatus(t, statuses, "failing", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxFailing })
	if !strings.Contains(s.LastError, "STARTTLS") {
		t.Errorf("no STARTTLS: %q", s.LastError)
	}
}

// TestPoller_TooLarge: a message over the size limit stays in the folder
// and is counted in the status; the others are filed.
func TestPoller_TooLarge(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, false, "")
	r := newRig(t)
	mua := d.peer(t)
	big := plainMessage("big", "Too large")
	big = append(big, []byte(strings.Repeat("x", 4096)+"\r\n")...)
	mua.appendMessage("INBOX", big)
	mua.appendMessage("INBOX", plainMessage("small", "Small"))
	p, statuses := r.poller("imap://"+testUser+"@"+d.imapAddr, TLSNone, d, func(c *Config) { c.MaxMessageBytes = 2048 })
	run(t, p)
	s := waitStatus(t, statuses, "ok", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
	if s.TooLarge != 1 || s.Fetched != 1 {
		t.Errorf("status %+v, want 1 too large and 1 fetched", s)
	}
	waitFor(t, "the small report", func() bool { return len(r.reports()) == 1 })
	if n := mua.count("INBOX"); n != 1 {
		t.Errorf("INBOX holds %d, want the large message only", n)
	}
}
