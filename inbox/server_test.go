package inbox_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

// testServer is a real intake server on loopback over a real SQLite file.
type testServer struct {
	t     *testing.T
	addr  string
	db    *db.DB
	srv   *inbox.Server
	mu    sync.Mutex
	wakes int64 // intake woken: one per committed message
	done  chan error
}

func startServer(t *testing.T, cfg inbox.Config) *testServer {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ts := &testServer{t: t, db: d, done: make(chan error, 1)}
	srv, err := inbox.NewServer(cfg, d, triage.WakeFunc(func() {
		ts.mu.Lock()
		ts.wakes++
		ts.mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, ts.addr = srv, ln.Addr().String()
	go func() { ts.done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-ts.done
	})
	return ts
}

// stored returns the raw messages committed so far.
func (ts *testServer) stored() [][]byte {
	ts.t.Helper()
	ctx := context.Background()
	ids, err := ts.db.PendingRawMessages(ctx)
	if err != nil {
		ts.t.Fatal(err)
	}
	var out [][]byte
	for _, id := range ids {
		m, err := ts.db.RawMessage(ctx, id)
		if err != nil {
			ts.t.Fatal(err)
		}
		out = append(out, m.Data)
	}
	return out
}

// session is a client speaking SMTP line by line, as in a transcript.
type session struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (ts *testServer) dial() *session {
	ts.t.Helper()
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &session{t: ts.t, conn: c, r: bufio.NewReader(c)}
}

// reply reads one (possibly multi-line) reply and returns its last line.
func (s *session) reply() string {
	s.t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("reading reply: %v (got %q)", err, line)
		}
		if len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

// expect checks that the next reply starts with prefix ("250", "550 5.1.1").
func (s *session) expect(prefix string) string {
	s.t.Helper()
	got := s.reply()
	if !strings.HasPrefix(got, prefix) {
		s.t.Fatalf("reply %q, want %q", got, prefix)
	}
	return got
}

// send writes raw bytes: the test decides every CR and LF.
func (s *session) send(raw string) {
	s.t.Helper()
	if _, err := io.WriteString(s.conn, raw); err != nil {
		s.t.Fatal(err)
	}
}

func (s *session) cmd(line, want string) string {
	s.t.Helper()
	s.send(line + "\r\n")
	return s.expect(want)
}

func (s *session) hello() {
	s.t.Helper()
	s.expect("220 ")
	s.cmd("EHLO client.example", "250 ")
}

const message = "From: Researcher <r@example.org>\r\n" +
	"To: security@localhost\r\n" +
	"Subject: XSS in search\r\n" +
	"\r\n" +
	"Steps:\r\n" +
	"..a line that starts with a dot\r\n" +
	"1. open /search?q=<script>\r\n"

// messageStored is message as stored: dot-unstuffed (RFC 5321 §4.5.2),
// otherwise byte for byte.
var messageStored = strings.Replace(message, "\r\n..a line", "\r\n.a line", 1)

func TestServer_Accept(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{Addresses: []string{"psirt@localhost"}})
	s := ts.dial()
	s.hello()
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
	s.cmd("RCPT TO:<Security@LocalHost>", "250 ")
	s.cmd("RCPT TO:<psirt@localhost>", "250 ")
	s.cmd("DATA", "354 ")
	s.send(message + ".\r\n")
	s.expect("250 ")
	s.cmd("QUIT", "221 ")

	got := ts.stored()
	if len(got) != 1 {
		t.Fatalf("%d messages stored, want 1", len(got))
	}
	if string(got[0]) != messageStored {
		t.Errorf("stored %q\nwant   %q", got[0], messageStored)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.wakes != 1 {
		t.Errorf("processor woken %d times, want once", ts.wakes)
	}
}

func TestServer_AcceptNetSMTP(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	// The standard library's client, as any MUA or MTA would send it.
	if err := smtp.SendMail(ts.addr, nil, "r@example.org", []string{"security@localhost"}, []byte(message)); err != nil {
		t.Fatal(err)
	}
	if got := ts.stored(); len(got) != 1 || !strings.Contains(string(got[0]), "Subject: XSS in search") {
		t.Fatalf("stored %q", got)
	}
}

func TestServer_NeverARelay(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	s := ts.dial()
	s.hello()
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
	for _, rcpt := range []string{
		"<victim@example.com>",
		"<security@example.com>",
		"<@relay.example:victim@example.com>", // source route
		"<security%example.com@localhost>",    // %-hack
		"<example.com!security@localhost>",    // bang path
		"<security@localhost.example.com>",
		"<\"security@localhost\"@example.com>",
		"<security+x@localhost>",
	} {
		t.Run(rcpt, func(t *testing.T) {
			s.t = t
			s.cmd("RCPT TO:"+rcpt, "550 5.1.1 ")
		})
	}
	s.t = t
	s.cmd("DATA", "5") // no valid recipient: no data phase at all
	s.cmd("QUIT", "221 ")
	if got := ts.stored(); len(got) != 0 {
		t.Fatalf("stored %d messages for foreign recipients", len(got))
	}
}

func TestServer_Limits(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{MaxMessageBytes: 4096, MaxRecipients: 3, MaxHeaderBytes: 1024, MaxLineLength: 1000})

	t.Run("Oversize", func(t *testing.T) {
		s := ts.dial()
		s.hello()
		s.cmd("MAIL FROM:<r@example.org>", "250 ")
		s.cmd("RCPT TO:<security@localhost>", "250 ")
		s.cmd("DATA", "354 ")
		s.send("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("A", 78)+"\r\n", 100) + ".\r\n")
		s.expect("552 5.3.4 ")
		// The session goes on: a later message of a good size is taken.
		s.cmd("MAIL FROM:<r@example.org>", "250 ")
		s.cmd("RCPT TO:<security@localhost>", "250 ")
		s.cmd("DATA", "354 ")
		s.send(message + ".\r\n")
		s.expect("250 ")
	})
	t.Run("OversizeDeclared", func(t *testing.T) {
		s := ts.dial()
		s.hello()
		s.cmd("MAIL FROM:<r@example.org> SIZE=100000", "552 5.3.4 ")
	})
	t.Run("Recipients", func(t *testing.T) {
		s := ts.dial()
		s.hello()
		s.cmd("MAIL FROM:<r@example.org>", "250 ")
		for range 3 {
			s.cmd("RCPT TO:<security@localhost>", "250 ")
		}
		s.cmd("RCPT TO:<security@localhost>", "452 4.5.3 ")
	})
	// Bare LF line endings are taken as CRLF: see TestGuard_BareLFIsNormalized.
	for name, data := range map[string]string{
		"BareCR":         "Subject: x\r\n\r\nline one\rline two\r\n",
		"BareCRInHeader": "Subject: x\rX: y\r\n\r\nbody\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := ts.dial()
			s.hello()
			s.cmd("MAIL FROM:<r@example.org>", "250 ")
			s.cmd("RCPT TO:<security@localhost>", "250 ")
			s.cmd("DATA", "354 ")
			s.send(data + ".\r\n")
			s.expect("554 5.5.2 ")
			s.cmd("NOOP", "250 ") // the smuggled "command" was never run as one
		})
	}
	t.Run("HeaderTooLarge", func(t *testing.T) {
		s := ts.dial()
		s.hello()
		s.cmd("MAIL FROM:<r@example.org>", "250 ")
		s.cmd("RCPT TO:<security@localhost>", "250 ")
		s.cmd("DATA", "354 ")
		s.send(strings.Repeat("X-Filler: "+strings.Repeat("h", 60)+"\r\n", 20) + "\r\nbody\r\n.\r\n")
		s.expect("552 5.3.4 ")
	})
	t.Run("LineTooLong", func(t *testing.T) {
		s := ts.dial()
		s.hello()
		s.cmd("MAIL FROM:<r@example.org>", "250 ")
		s.cmd("RCPT TO:<security@localhost>", "250 ")
		s.cmd("DATA", "354 ")
		s.send("Subject: x\r\n\r\n" + strings.Repeat("L", 1500) + "\r\n.\r\n")
		s.expect("500 ")
		s.cmd("NOOP", "250 ") // read to its end: the session goes on
	})

	got := ts.stored()
	if len(got) != 1 || string(got[0]) != messageStored {
		t.Fatalf("stored %d messages, want only the one good message", len(got))
	}
}

func TestServer_ConnectionLimits(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{MaxConnsPerIP: 2, MaxConns: 10})
	a, b := ts.dial(), ts.dial()
	a.expect("220 ")
	b.expect("220 ")
	c := ts.dial()
	c.expect("421 4.7.0 ")
	a.cmd("QUIT", "221 ")
	a.conn.Close()
	// The slot is given back once a connection ends.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := ts.dial()
		if got := d.reply(); strings.HasPrefix(got, "220 ") {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("slot never freed: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServer_IdleTimeout(t *testing.T) {
	// Not parallel: the session must keep within a 200 ms idle limit
	// until it stalls on purpose.
	ts := startServer(t, inbox.Config{IdleTimeout: 200 * time.Millisecond})
	s := ts.dial()
	s.hello()
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
	s.cmd("RCPT TO:<security@localhost>", "250 ")
	s.cmd("DATA", "354 ")
	s.send("Subject: slow\r\n\r\nhalf a message")
	// The client stalls in the middle of DATA: the server gives up and
	// keeps nothing.
	s.expect("421 ")
	if got := ts.stored(); len(got) != 0 {
		t.Fatalf("stored %d messages from a stalled transfer", len(got))
	}
}

func TestServer_DataDeadline(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{IdleTimeout: time.Second, DataTimeout: 500 * time.Millisecond})
	s := ts.dial()
	s.hello()
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
	s.cmd("RCPT TO:<security@localhost>", "250 ")
	s.cmd("DATA", "354 ")
	s.send("Subject: trickle\r\n\r\n")
	// Each read comes well within the idle timeout, but the whole
	// transfer takes longer than the DATA deadline.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			if _, err := io.WriteString(s.conn, "x\r\n"); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	s.expect("421 ")
	<-done
	if got := ts.stored(); len(got) != 0 {
		t.Fatalf("stored %d messages past the deadline", len(got))
	}
}

func TestServer_StoreFailureIsTemporary(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	ts.db.Close() // the database goes away under the server
	s := ts.dial()
	s.hello()
	s.cmd("MAIL FROM:<r@example.org>", "250 ")
	s.cmd("RCPT TO:<security@localhost>", "250 ")
	s.cmd("DATA", "354 ")
	s.send(message + ".\r\n")
	s.expect("451 4.3.0 ") // retry later; never 5xx for our own trouble
}

func TestServer_Shutdown(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{})
	idle := ts.dial()
	idle.hello()
	busy := ts.dial()
	busy.hello()
	busy.cmd("MAIL FROM:<r@example.org>", "250 ")
	busy.cmd("RCPT TO:<security@localhost>", "250 ")
	busy.cmd("DATA", "354 ")
	busy.send("Subject: in flight\r\n\r\nfirst half\r\n")

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- ts.srv.Shutdown(ctx)
	}()
	// The idle session is told to go away.
	idle.expect("421 ")
	// The transfer in progress is finished and acknowledged.
	time.Sleep(100 * time.Millisecond)
	busy.send("second half\r\n.\r\n")
	busy.expect("250 ")
	// Then it is told to go away too.
	busy.expect("421 4.3.2 ")
	busy.expectClosed()
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	got := ts.stored()
	if len(got) != 1 || !strings.HasSuffix(string(got[0]), "first half\r\nsecond half\r\n") {
		t.Fatalf("stored %q", got)
	}
	// New connections are no longer accepted.
	if c, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		c.Close()
		t.Error("still accepting connections after shutdown")
	}
}

func TestServer_ManyConcurrent(t *testing.T) {
	t.Parallel()
	ts := startServer(t, inbox.Config{MaxConnsPerIP: 20})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			msg := fmt.Sprintf("Subject: report %d\r\n\r\nbody %d\r\n", i, i)
			for try := 0; ; try++ {
				err := smtp.SendMail(ts.addr, nil, "r@example.org", []string{"security@localhost"}, []byte(msg))
				if err != nil && strings.Contains(err.Error(), "421") && try < 500 {
					time.Sleep(10 * time.Millisecond) // over the connection limit: retry, as an MTA would
					continue
				}
				errs <- err
				return
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := ts.stored(); len(got) != 40 {
		t.Fatalf("stored %d messages, want 40", len(got))
	}
}

// TestServer_ShutdownBeforeServe: a SIGTERM right at start can shut the
// server down before its Serve goroutine runs; Serve must then return
// rather than accept forever (the process would never exit).
func TestServer_ShutdownBeforeServe(t *testing.T) {
	t.Parallel()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srv, err := inbox.NewServer(inbox.Config{Domain: "localhost", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		ln.Close()
		t.Fatal("Serve after Shutdown did not return: it accepts forever")
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts connections after Shutdown")
	}
}
