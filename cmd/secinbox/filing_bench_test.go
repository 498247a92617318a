package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// BenchmarkFiling measures intake end to end against the real server
// process, with reports made by GnuPG: signed by a researcher key and
// encrypted to the team key, about 10 KB each, with the researcher's key
// in an Autocrypt header (as Thunderbird sends). Settings (environment):
//
//	BENCH_BURSTS    burst sizes, each against a fresh server (default "1000")
//	BENCH_SESSIONS  concurrent SMTP sessions, each sending many messages (16)
//	BENCH_FLOOD     junk messages in the flood test (2000; 0 skips it)
//	BENCH_GPG_LOOP  reports decrypted one gpg process each, for the ratio (30)
//	BENCH_POOL      distinct GnuPG-made messages, reused in turn (50)
//
// For each burst it prints filed reports/s (from the first message sent
// to the last report filed), the time from each 250 to its report being
// filed (p50, p99; the server's own clock: raw_messages.stored_at to
// reports.created_at, both taken in the transactions that commit them),
// and how long after the last 250 the last report was filed. It then
// prints the rate of the one-gpg-process-per-report loop, the intake
// rate of a sink that commits nothing (Postfix's smtp-sink when
// installed, else a go-smtp server that discards the data) over the
// same sessions, and how long one real report's acknowledgement takes
// to be queued while a junk flood is arriving.
func BenchmarkFiling(b *testing.B) {
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		b.Skip("gpg not installed")
	}
	sessions := envInt("BENCH_SESSIONS", 16)
	bursts := envInts("BENCH_BURSTS", []int{1000})
	flood := envIntOrZero("BENCH_FLOOD", 2000)
	loop := envInt("BENCH_GPG_LOOP", 30)
	g := newBenchGPG(b, gpg)
	pool := g.reports(envInt("BENCH_POOL", 50))
	fmt.Printf("filing: %d GnuPG-made reports of %d bytes (signed, encrypted, Autocrypt), reused in turn; %d SMTP sessions\n",
		len(pool), len(g.message(pool[0], 0)), sessions)

	b.ResetTimer()
	for range b.N {
		var best float64
		for _, n := range bursts {
			r := runBurst(b, g, pool, n, sessions)
			best = max(best, r.filedPerSec)
			fmt.Printf("filing: burst of %d: intake %.0f/s, filed %.0f reports/s; 250 to filed p50 %v p99 %v; last report filed %v after the last 250\n",
				n, r.intakePerSec, r.filedPerSec, r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.tail.Round(time.Millisecond))
			b.ReportMetric(r.filedPerSec, fmt.Sprintf("filed/s@%d", n))
			b.ReportMetric(r.tail.Seconds(), fmt.Sprintf("tail-s@%d", n))
		}
		gpgRate := g.decryptLoop(pool, loop)
		fmt.Printf("filing: one gpg process per report (decrypt and verify, %d reports, sequential): %.1f reports/s; filed/gpg ratio %.1f\n",
			loop, gpgRate, best/gpgRate)
		b.ReportMetric(best/gpgRate, "x-gpg-loop")

		sinkName, sinkRate := sinkIntake(b, pool, bursts[0], sessions)
		r := runBurst(b, g, pool, bursts[0], sessions)
		fmt.Printf("filing: intake of %d reports over %d sessions: secinbox %.0f/s, %s %.0f/s: ratio %.2f\n",
			bursts[0], sessions, r.intakePerSec, sinkName, sinkRate, r.intakePerSec/sinkRate)
		b.ReportMetric(r.intakePerSec/sinkRate, "x-sink")

		if flood > 0 {
			d := floodAck(b, g, pool, flood, sessions)
			fmt.Printf("filing: a real report's acknowledgement was queued %v after its 250, during a flood of %d junk mails\n",
				d.Round(time.Millisecond), flood)
			b.ReportMetric(d.Seconds(), "ack-s-in-flood")
		}
	}
}

func envIntOrZero(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
		return n
	}
	return def
}

func envInts(name string, def []int) []int {
	var out []int
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

// benchGPG is a GnuPG home with the team's key (the GnuPG-made fixture the
// server imports) and a researcher's key.
type benchGPG struct {
	tb        testing.TB
	gpg, home string
	team      string // the team key's fingerprint
	autocrypt string // the researcher's Autocrypt header field, folded, CRLF-ended
}

const (
	benchResearcher = "rita@researcher.example"
	benchTeamFile   = "testdata/ed25519-team.sec.asc"
)

func newBenchGPG(tb testing.TB, gpg string) *benchGPG {
	g := &benchGPG{tb: tb, gpg: gpg, home: tb.TempDir()}
	os.Chmod(g.home, 0o700)
	sec, err := os.ReadFile(benchTeamFile)
	if err != nil {
		tb.Fatal(err)
	}
	g.run(sec, "--pinentry-mode", "loopback", "--passphrase", fixturePassphrase, "--import")
	for _, line := range strings.Split(string(g.run(nil, "--with-colons", "--list-secret-keys")), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
			g.team = f[9]
			break
		}
	}
	g.run(nil, "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "Rita Researcher <"+benchResearcher+">", "future-default", "default", "never")
	pub := g.run(nil, "--export", "--export-options", "export-minimal", benchResearcher)
	var f strings.Builder
	f.WriteString("Autocrypt: addr=" + benchResearcher + "; prefer-encrypt=mutual; keydata=\r\n")
	data := base64.StdEncoding.EncodeToString(pub)
	for len(data) > 0 {
		n := min(len(data), 76)
		f.WriteString(" " + data[:n] + "\r\n")
		data = data[n:]
	}
	g.autocrypt = f.String()
	return g
}

func (g *benchGPG) run(stdin []byte, args ...string) []byte {
	g.tb.Helper()
	cmd := exec.Command(g.gpg, append([]string{"--homedir", g.home, "--batch", "--no-tty", "--quiet", "--trust-model", "always", "--auto-key-locate", "local"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		g.tb.Fatalf("gpg %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// benchReport is one GnuPG-made report: its armored OpenPGP message and
// the whole mail (whose header the sender makes unique per delivery).
type benchReport struct {
	armored []byte
	mail    string // the body of the mail, after the header fields made per message
}

var benchWords = strings.Fields(`the login form at admin accepts a crafted session token and the server
returns another user's data when the request carries an id parameter that is not checked against
the owner of the record which lets an attacker read invoices addresses and payment details of any
customer steps to reproduce send the request below with a changed id and compare the answers`)

// reports makes n reports with gpg, about 10 KB on the wire each.
func (g *benchGPG) reports(n int) []benchReport {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]benchReport, n)
	for i := range out {
		var text strings.Builder
		fmt.Fprintf(&text, "Content-Type: text/plain; charset=utf-8\r\n\r\nReport %d\r\n", i)
		// Prose and a base64 dump, so that GnuPG's compression leaves
		// about 10 KB on the wire.
		blob := make([]byte, 48)
		for text.Len() < 9<<10 {
			for range 8 {
				text.WriteString(benchWords[rng.IntN(len(benchWords))] + " ")
			}
			text.WriteString("\r\n")
			for range 3 {
				for j := range blob {
					blob[j] = byte(rng.Uint32())
				}
				text.WriteString(base64.StdEncoding.EncodeToString(blob) + "\r\n")
			}
		}
		armored := g.run([]byte(text.String()), "--armor", "--sign", "--local-user", benchResearcher,
			"--encrypt", "--recipient", g.team)
		out[i] = benchReport{armored: armored, mail: crlf("MIME-Version: 1.0\n"+
			"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\n"+
			"\n"+
			"--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"+
			"--b1\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n") +
			string(bytes.ReplaceAll(armored, []byte("\n"), []byte("\r\n"))) + "\r\n--b1--\r\n"}
	}
	return out
}

// message is report r as the i-th mail of a run: its own Message-ID.
func (g *benchGPG) message(r benchReport, i int) []byte {
	return []byte("From: Rita Researcher <" + benchResearcher + ">\r\n" +
		"To: security@localhost\r\n" +
		"Subject: Report " + strconv.Itoa(i) + "\r\n" +
		"Message-ID: <bench." + strconv.Itoa(i) + "." + strconv.FormatInt(time.Now().UnixNano(), 36) + "@researcher.example>\r\n" +
		g.autocrypt + r.mail)
}

// decryptLoop decrypts and verifies n reports, one gpg process each, in
// turn, and returns reports per second.
func (g *benchGPG) decryptLoop(pool []benchReport, n int) float64 {
	g.run(pool[0].armored, "--pinentry-mode", "loopback", "--passphrase", fixturePassphrase, "--decrypt") // unlocks the key in the agent
	start := time.Now()
	for i := range n {
		cmd := exec.Command(g.gpg, "--homedir", g.home, "--batch", "--no-tty", "--quiet", "--trust-model", "always",
			"--pinentry-mode", "loopback", "--passphrase", fixturePassphrase, "--status-fd", "2", "--decrypt")
		cmd.Stdin = bytes.NewReader(pool[i%len(pool)].armored)
		var errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &errb
		if err := cmd.Run(); err != nil || !strings.Contains(errb.String(), "GOODSIG") {
			g.tb.Fatalf("gpg --decrypt: %v\n%s", err, errb.String())
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// startBenchServer starts the server on a fresh data directory holding
// the team key GnuPG encrypts to.
func startBenchServer(tb testing.TB, sessions int) (*proc, string) {
	data := tb.TempDir()
	cli(tb, data, fixturePassphrase+"\n", "key", "import", benchTeamFile)
	p := startProc(tb, data, "SECINBOX_SMTP_MAX_CONNS_PER_IP="+strconv.Itoa(2*sessions+8),
		"SECINBOX_SMTP_MAX_CONNS="+strconv.Itoa(4*sessions+16))
	return p, data
}

type burstResult struct {
	intakePerSec, filedPerSec float64
	p50, p99, tail            time.Duration
}

// runBurst sends n reports over sessions sessions to a fresh server and
// waits until all are filed.
func runBurst(tb testing.TB, g *benchGPG, pool []benchReport, n, sessions int) burstResult {
	p, data := startBenchServer(tb, sessions)
	defer p.kill()
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = g.message(pool[i%len(pool)], i)
	}
	start := time.Now()
	last250 := sendAll(tb, p.smtpAddr, msgs, sessions)
	intake := float64(n) / last250.Sub(start).Seconds()
	d := openReadOnly(tb, data)
	defer d.Close()
	waitFiled(tb, d, n)
	var lats []time.Duration
	var lastFiled time.Time
	rows, err := d.Query(`SELECT m.stored_at, r.created_at FROM reports r JOIN raw_messages m ON m.id = r.message_id`)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var s, c string
		if err := rows.Scan(&s, &c); err != nil {
			tb.Fatal(err)
		}
		st, _ := time.Parse(time.RFC3339Nano, s)
		ct, _ := time.Parse(time.RFC3339Nano, c)
		lats = append(lats, ct.Sub(st))
		if ct.After(lastFiled) {
			lastFiled = ct
		}
	}
	rows.Close()
	slices.Sort(lats)
	return burstResult{
		intakePerSec: intake,
		filedPerSec:  float64(n) / lastFiled.Sub(start).Seconds(),
		p50:          lats[len(lats)/2],
		p99:          lats[len(lats)*99/100],
		tail:         lastFiled.Sub(last250),
	}
}

func openReadOnly(tb testing.TB, data string) *sql.DB {
	d, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "secinbox.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// waitFiled polls until n reports are filed.
func waitFiled(tb testing.TB, d *sql.DB, n int) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var filed int
		if err := d.QueryRow(`SELECT count(*) FROM reports`).Scan(&filed); err != nil {
			tb.Fatal(err)
		}
		if filed >= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d reports filed after 10 minutes", filed, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// benchSessionReuse is how many messages a session sends before it
// reconnects, as an MTA's connection cache does (Postfix: 100); the
// server ends a session after 1000 commands.
const benchSessionReuse = 100

// sendAll delivers msgs over sessions SMTP sessions (each sending many
// messages, as an MTA with connection caching does) and returns the time
// of the last 250.
func sendAll(tb testing.TB, addr string, msgs [][]byte, sessions int) time.Time {
	next := make(chan []byte)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		last    time.Time
		failure error
	)
	for range sessions {
		wg.Go(func() {
			s, err := newBenchSession(addr)
			if err != nil {
				mu.Lock()
				failure = err
				mu.Unlock()
				for range next {
				}
				return
			}
			defer func() { s.close() }()
			sent := 0
			for m := range next {
				if sent == benchSessionReuse {
					s.close()
					if s, err = newBenchSession(addr); err != nil {
						mu.Lock()
						failure = err
						mu.Unlock()
						for range next {
						}
						return
					}
					sent = 0
				}
				sent++
				err := s.send("bench@researcher.example", m)
				mu.Lock()
				if err != nil && failure == nil {
					failure = err
				}
				last = time.Now()
				mu.Unlock()
			}
		})
	}
	for _, m := range msgs {
		next <- m
	}
	close(next)
	wg.Wait()
	if failure != nil {
		tb.Fatal(failure)
	}
	return last
}

// benchSession is one SMTP session sending message after message
// (pipelining is not used: each command waits for its reply).
type benchSession struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func newBenchSession(addr string) (*benchSession, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &benchSession{c: c, r: bufio.NewReader(c), w: bufio.NewWriterSize(c, 32<<10)}
	if err := s.expect("220"); err != nil {
		c.Close()
		return nil, err
	}
	if err := s.cmd("EHLO bench.example", "250"); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

func (s *benchSession) expect(code string) error {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return err
		}
		if len(line) >= 4 && line[3] == '-' {
			continue
		}
		if !strings.HasPrefix(line, code) {
			return fmt.Errorf("reply %q, want %s", strings.TrimSpace(line), code)
		}
		return nil
	}
}

func (s *benchSession) cmd(line, code string) error {
	s.w.WriteString(line + "\r\n")
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.expect(code)
}

func (s *benchSession) send(from string, msg []byte) error {
	if err := s.cmd("MAIL FROM:<"+from+">", "250"); err != nil {
		return err
	}
	if err := s.cmd("RCPT TO:<security@localhost>", "250"); err != nil {
		return err
	}
	if err := s.cmd("DATA", "354"); err != nil {
		return err
	}
	s.w.Write(msg) // CRLF-ended, no line starting with "."
	return s.cmd(".", "250")
}

func (s *benchSession) close() {
	s.cmd("QUIT", "221")
	s.c.Close()
}

// sinkIntake measures how fast a sink that stores nothing takes the
// same messages over the same sessions: Postfix's smtp-sink when it is
// installed, else a go-smtp server discarding the data.
func sinkIntake(tb testing.TB, pool []benchReport, n, sessions int) (string, float64) {
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = []byte("From: Rita Researcher <" + benchResearcher + ">\r\nSubject: x\r\n" + pool[i%len(pool)].mail)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	name := "a go-smtp sink"
	if sink, err := exec.LookPath("smtp-sink"); err == nil {
		ln.Close()
		cmd := exec.Command(sink, "-c", "-u", "nobody", addr, strconv.Itoa(4*sessions))
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		for range 100 { // until it listens
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		name = "Postfix smtp-sink"
	} else {
		srv := smtp.NewServer(sinkBackend{})
		srv.Domain = "localhost"
		srv.MaxMessageBytes = 25 << 20
		go srv.Serve(ln)
		defer srv.Close()
	}
	start := time.Now()
	last := sendAll(tb, addr, msgs, sessions)
	return name, float64(n) / last.Sub(start).Seconds()
}

// sinkBackend accepts every message and keeps nothing.
type sinkBackend struct{}

func (sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return sinkSession{}, nil }

type sinkSession struct{}

func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (sinkSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (sinkSession) Reset()        {}
func (sinkSession) Logout() error { return nil }

// floodAck sends flood junk mails over sessions sessions and, once a
// fifth of them are in, one real report on a session of its own, and
// returns how long after its 250 its acknowledgement was queued.
func floodAck(tb testing.TB, g *benchGPG, pool []benchReport, flood, sessions int) time.Duration {
	p, data := startBenchServer(tb, sessions)
	defer p.kill()
	junk := make([][]byte, flood)
	for i := range junk {
		junk[i] = []byte(crlf(fmt.Sprintf("From: promo%d@junk.example\nTo: security@localhost\nSubject: Win %d\n"+
			"Message-ID: <junk%d@junk.example>\n\n", i%10, i, i) + strings.Repeat("Buy now, limited offer!\n", 80)))
	}
	d := openReadOnly(tb, data)
	defer d.Close()
	var wg sync.WaitGroup
	wg.Go(func() { sendAll(tb, p.smtpAddr, junk, sessions) })
	for {
		var n int
		if err := d.QueryRow(`SELECT count(*) FROM raw_messages`).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n >= flood/5 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s, err := newBenchSession(p.smtpAddr)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.send(benchResearcher, g.message(pool[0], flood)); err != nil {
		tb.Fatal(err)
	}
	sent := time.Now()
	s.close()
	for {
		var n int
		if err := d.QueryRow(`SELECT count(*) FROM outbox WHERE mail_to = ? AND kind = 'ack'`, benchResearcher).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Since(sent) > 5*time.Minute {
			tb.Fatal("no acknowledgement queued after 5 minutes")
		}
		time.Sleep(2 * time.Millisecond)
	}
	took := time.Since(sent)
	wg.Wait()
	return took
}
