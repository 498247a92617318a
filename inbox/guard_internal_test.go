package inbox

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"testing"
	"time"
)

func testGuardConfig() *guardConfig {
	return &guardConfig{
		idle: 5 * time.Second, data: time.Minute, lifetime: time.Hour,
		maxLine: 1000, maxCommands: 100, maxJunk: 100, maxErrors: 20, maxMessageBytes: 1 << 20,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// pipeGuard is a guard over one end of a pipe; the test is go-smtp on the
// guard's side and the client on the other end.
func pipeGuard(t *testing.T, cfg *guardConfig) (*guardConn, net.Conn, *bufio.Reader) {
	t.Helper()
	server, client := net.Pipe()
	g := newGuardConn(server, cfg, func() {})
	client.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { g.Close(); client.Close() })
	return g, client, bufio.NewReader(client)
}

// readOnce is one Read of go-smtp's, with a safety net.
func readOnce(t *testing.T, g *guardConn, size int) (string, error) {
	t.Helper()
	type result struct {
		s   string
		err error
	}
	c := make(chan result, 1)
	go func() {
		buf := make([]byte, size)
		n, err := g.Read(buf)
		c <- result{string(buf[:n]), err}
	}()
	select {
	case r := <-c:
		return r.s, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("Read never returned")
		return "", nil
	}
}

func TestGuardConn_WholeCommandLines(t *testing.T) {
	t.Parallel()
	g, client, _ := pipeGuard(t, testGuardConfig())
	go func() {
		for _, p := range []string{"NO", "OP\r\nRSET\nQ", "UIT\r\n"} {
			client.Write([]byte(p))
		}
	}()
	for _, want := range []string{"NOOP\r\n", "RSET\n", "QUIT\r\n"} {
		if got, err := readOnce(t, g, 4096); got != want || err != nil {
			t.Fatalf("Read: %q, %v; want %q", got, err, want)
		}
	}
}

// A line that does not arrive whole in time is never handed on: the client
// is told 421 and go-smtp reads the end.
func TestGuardConn_PartialLineTimesOut(t *testing.T) {
	t.Parallel()
	cfg := testGuardConfig()
	cfg.idle = 200 * time.Millisecond
	g, client, r := pipeGuard(t, cfg)
	type result struct {
		s   string
		err error
	}
	c := make(chan result, 1)
	go func() {
		buf := make([]byte, 4096)
		n, err := g.Read(buf)
		c <- result{string(buf[:n]), err}
	}()
	client.Write([]byte("NOO"))
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "421 4.4.2 ") {
		t.Fatalf("client read %q, %v; want 421 4.4.2", line, err)
	}
	res := <-c
	if res.s != "" || !errors.Is(res.err, net.ErrClosed) {
		t.Fatalf("go-smtp read %q, %v; want nothing and the connection closed", res.s, res.err)
	}
}

// go-smtp's 354 to DATA switches to data mode; the data go-smtp reads is
// canonical and ends where the client's ended; the next command follows.
func TestGuardConn_DataMode(t *testing.T) {
	t.Parallel()
	g, client, r := pipeGuard(t, testGuardConfig())
	go client.Write([]byte("DATA\r\n"))
	if got, _ := readOnce(t, g, 4096); got != "DATA\r\n" {
		t.Fatalf("Read %q", got)
	}
	written := make(chan error, 1)
	go func() { _, err := g.Write([]byte("354 Go ahead\r\n")); written <- err }()
	if line, _ := r.ReadString('\n'); line != "354 Go ahead\r\n" {
		t.Fatalf("client read %q", line)
	}
	if err := <-written; err != nil { // go-smtp writes, then reads
		t.Fatal(err)
	}
	go client.Write([]byte("a\n.\r\n..b\r\n.\r\nNOOP\r\n"))
	var data string
	for !strings.HasSuffix(data, "\r\n.\r\n") {
		got, err := readOnce(t, g, 4096)
		if err != nil {
			t.Fatal(err)
		}
		data += got
	}
	if want := "a\r\n..\r\n..b\r\n.\r\n"; data != want {
		t.Fatalf("go-smtp read %q, want %q", data, want)
	}
	if got, _ := readOnce(t, g, 4096); got != "NOOP\r\n" {
		t.Fatalf("after the data, Read %q", got)
	}
}

// The EHLO reply loses CHUNKING and gains STARTTLS (before TLS only).
func TestGuardConn_EHLOReply(t *testing.T) {
	t.Parallel()
	cfg := testGuardConfig()
	cfg.tls = &tls.Config{}
	g, client, r := pipeGuard(t, cfg)
	go client.Write([]byte("EHLO client.example\r\n"))
	if got, _ := readOnce(t, g, 4096); got != "EHLO client.example\r\n" {
		t.Fatalf("Read %q", got)
	}
	go g.Write([]byte("250-Hello client.example\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SIZE 100\r\n"))
	var got []string
	for len(got) == 0 || got[len(got)-1][3] == '-' {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimRight(line, "\r\n"))
	}
	want := []string{"250-Hello client.example", "250-STARTTLS", "250-PIPELINING", "250 SIZE 100"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("EHLO reply %q, want %q", got, want)
	}
}

// Shutdown's 421 and go-smtp's replies never interleave: the client reads
// whole lines, the 421 last.
func TestGuardConn_AbortSerialisesWrites(t *testing.T) {
	t.Parallel()
	g, _, r := pipeGuard(t, testGuardConfig())
	reply := strings.Repeat("250-"+strings.Repeat("x", 200)+"\r\n", 50) + "250 done\r\n"
	go g.Write([]byte(reply))
	go g.abort(errShuttingDown)
	var last string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if line != "" {
				t.Fatalf("a partial line %q", line)
			}
			break
		}
		if !strings.HasPrefix(line, "250") && !strings.HasPrefix(line, "421 4.3.2 ") ||
			!strings.HasSuffix(line, "\r\n") || strings.Contains(line[3:], "421") {
			t.Fatalf("line %q", line)
		}
		last = line
	}
	if !strings.HasPrefix(last, "421 4.3.2 ") {
		t.Fatalf("last line %q, want the 421", last)
	}
}

func TestCommandVerb(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		"NOOP\r\n":                 "NOOP",
		"noop\n":                   "NOOP",
		"mail FROM:<a@b>\r\n":      "MAIL",
		"STARTTLS\r\n":             "STARTTLS",
		"starttls now\r\n":         "STARTTLS",
		"BDAT 10 LAST\r\n":         "BDAT",
		"DATA\r\r\n":               "DATA",
		"DATAX\r\n":                "",
		"MAILFROM:<a@b>\r\n":       "",
		"\r\n":                     "",
		"NO\r\n":                   "",
		"RCPT TO:<security@x>\r\n": "RCPT",
	} {
		if got := commandVerb([]byte(line)); got != want {
			t.Errorf("commandVerb(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestDeclaredSize(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]int64{
		"MAIL FROM:<a@b> SIZE=1000\r\n":                       1000,
		"MAIL FROM:<a@b> BODY=8BITMIME size=999999999999\r\n": 999999999999,
		"MAIL FROM:<a@b> SIZE=99999999999999999999999\r\n":    math.MaxInt64,
		"MAIL FROM:<a@b>\r\n":                                 -1,
		"MAIL FROM:<a@b> SIZE=\r\n":                           -1,
		"MAIL FROM:<a@b> SIZE=12x\r\n":                        -1,
		"MAIL FROM:<\"SIZE=999999999999\"@b>\r\n":             -1,
		"MAIL FROM:a@b SIZE=5\r\n":                            5,
	} {
		if got := declaredSize([]byte(line)); got != want {
			t.Errorf("declaredSize(%q) = %d, want %d", line, got, want)
		}
	}
}

func TestDataCanon(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, out string // out: what go-smtp reads
		rest          string // left for the next command
		bareCR, long  bool
	}{
		{"empty", ".\r\n", ".\r\n", "", false, false},
		{"plain", "a\r\nb\r\n.\r\nQUIT\r\n", "a\r\nb\r\n.\r\n", "QUIT\r\n", false, false},
		{"stuffed", "..\r\n...x\r\n. \r\n.\r\n", "..\r\n...x\r\n \r\n.\r\n", "", false, false},
		{"bare LF", "a\nb\n\r\n.\r\n", "a\r\nb\r\n\r\n.\r\n", "", false, false},
		{"lone dot after bare LF", "a\n.\r\nb\r\n.\r\n", "a\r\n..\r\nb\r\n.\r\n", "", false, false},
		{"dot LF", "a\r\n.\nb\r\n.\r\n", "a\r\n..\r\nb\r\n.\r\n", "", false, false},
		{"dot CR text", ".\rX\r\n.\r\n", "X\r\n.\r\n", "", true, false},
		{"dot CR dot", ".\r.\r\n.\r\n", "..\r\n.\r\n", "", true, false},
		{"CR CR LF", "a\r\r\n.\r\n", "a\r\n.\r\n", "", true, false},
		{"CR at line start then dot", "\r.\r\n.\r\n", "..\r\n.\r\n", "", true, false},
		{"CR in text", "a\rb\r\n.\r\n", "ab\r\n.\r\n", "", true, false},
		{"long line cut", "1234567890\r\nok\r\n.\r\n", "123456789\r\nok\r\n.\r\n", "", false, true},
		{"line at the limit", "1234567\r\n.\r\n", "1234567\r\n.\r\n", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDataCanon(9)
			n, out, done := d.feed([]byte(tc.in), nil)
			if !done || string(out) != tc.out || tc.in[n:] != tc.rest || d.bareCR != tc.bareCR || d.longLine != tc.long {
				t.Errorf("feed(%q) = %q, rest %q, done %v, bare CR %v, long %v", tc.in, out, tc.in[n:], done, d.bareCR, d.longLine)
			}
		})
	}
}

// refCanon is dataCanon's reading of a stream, written plainly over whole
// lines: the content go-smtp should decode, the bytes the data took, and
// the verdicts. raw must hold the end of data.
func refCanon(raw []byte, maxLine int) (content []byte, n int, bareCR, longLine bool) {
	prevCRLF := true
	for start := 0; ; {
		i := bytes.IndexByte(raw[start:], '\n')
		if i < 0 {
			panic("no end of data")
		}
		line := raw[start : start+i+1]
		start += i + 1
		longLine = longLine || len(line) > maxLine
		crlf := len(line) >= 2 && line[len(line)-2] == '\r'
		body := line[:len(line)-1]
		if crlf {
			body = body[:len(body)-1]
		}
		if string(body) == "." && crlf && prevCRLF {
			return content, start, bareCR, longLine
		}
		if len(body) > 1 && body[0] == '.' {
			body = body[1:]
		}
		if bytes.IndexByte(body, '\r') >= 0 {
			bareCR = true
			body = bytes.ReplaceAll(body, []byte("\r"), nil)
		}
		content = append(append(content, body...), '\r', '\n')
		prevCRLF = crlf
	}
}

// decodeCanonical reads the canonical stream as go-smtp's data reader
// does (on a stream whose only CR and LF are CRLF line endings, its state
// machine comes down to this), and checks it is canonical.
func decodeCanonical(t *testing.T, out []byte) []byte {
	t.Helper()
	if !bytes.HasSuffix(out, []byte(".\r\n")) {
		t.Fatalf("canonical stream %q does not end in .CRLF", out)
	}
	lines := strings.SplitAfter(string(out), "\r\n")
	lines = lines[:len(lines)-1] // "" after the last CRLF
	var content []byte
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\r\n")
		if strings.ContainsAny(body, "\r\n") {
			t.Fatalf("canonical line %q has a bare CR or LF", l)
		}
		if body == "." {
			if i != len(lines)-1 {
				t.Fatalf("canonical stream %q ends early, at line %d", out, i)
			}
			return content
		}
		if strings.HasPrefix(body, ".") {
			body = body[1:]
		}
		content = append(append(content, body...), '\r', '\n')
	}
	t.Fatalf("canonical stream %q has no end", out)
	return nil
}

// FuzzDataCanon checks dataCanon against refCanon, the canonical stream
// against go-smtp's reading of it, and that how the stream is cut into
// reads changes nothing.
func FuzzDataCanon(f *testing.F) {
	for _, s := range []string{
		"a\r\nb", ".\rX", "x\r\n.\r.", "body\n.\r\nMAIL FROM:<e@x>", "..\r\n.\n", "\r\r\n\r", "a\n.\n.\r\n",
		strings.Repeat("y", 40) + "\r\n",
	} {
		f.Add([]byte(s), uint8(3), uint16(30))
	}
	f.Fuzz(func(t *testing.T, data []byte, step uint8, maxLine uint16) {
		limit := 3 + int(maxLine)
		raw := append(append([]byte(nil), data...), "\r\n.\r\n"...)

		whole := newDataCanon(limit)
		n, out, done := whole.feed(raw, nil)
		if !done {
			t.Fatalf("no end of data in %q", raw)
		}
		want, wantN, bareCR, longLine := refCanon(raw, limit)
		if n != wantN || whole.bareCR != bareCR || whole.longLine != longLine {
			t.Fatalf("%q: used %d bytes, bare CR %v, long %v; want %d, %v, %v",
				raw, n, whole.bareCR, whole.longLine, wantN, bareCR, longLine)
		}
		got := decodeCanonical(t, out)
		if !longLine && !bytes.Equal(got, want) {
			t.Fatalf("%q: go-smtp reads %q, want %q", raw, got, want)
		}
		if len(out) > 2*n {
			t.Fatalf("%q: %d bytes out of %d", raw, len(out), n)
		}

		// The same stream in reads of step bytes.
		parts := newDataCanon(limit)
		var pout []byte
		used := 0
		for used < len(raw) {
			end := min(used+1+int(step), len(raw))
			k, o, d := parts.feed(raw[used:end], pout)
			pout, used = o, used+k
			if d {
				break
			}
			if used != end {
				t.Fatalf("stopped at %d before the end of data", used)
			}
		}
		if used != n || !bytes.Equal(pout, out) || parts.bareCR != whole.bareCR || parts.longLine != whole.longLine {
			t.Fatalf("%q in reads of %d: %q (%d bytes used), want %q (%d)", raw, 1+int(step), pout, used, out, n)
		}
	})
}
