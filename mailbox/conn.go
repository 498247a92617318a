package mailbox

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// errBudget is a server that sent more than one command's reply may
// hold: a message over the size limit, or a runaway line.
var errBudget = errors.New("mailbox: the server sent more than the limit for one reply")

// guardConn is the plain-text side of a mailbox connection, under the
// IMAP client. It bounds what the server may send: every literal it
// announces ("{n}" at the end of a line) is checked against maxLiteral
// before the client reads (and allocates) it, and the bytes read between
// two calls of reset are limited. go-imap v1 clears the deadline for
// commands without a timeout; a hard deadline, when set, stays.
type guardConn struct {
	net.Conn
	maxLiteral int64
	budget     atomic.Int64
	hard       atomic.Int64 // unix nanoseconds; 0: none

	// literal scanner state, touched by Read only (one reader)
	inLiteral int64 // bytes of literal data still to come
	state     int   // 0: text, 1: after "{", 2: digits, 3: after "+", 4: after "}", 5: after "}\r"
	digits    int
	n         int64
}

func newGuardConn(c net.Conn, maxLiteral int64) *guardConn {
	g := &guardConn{Conn: c, maxLiteral: maxLiteral}
	g.budget.Store(maxLiteral + 1<<20)
	return g
}

// reset allows n more bytes to be read.
func (g *guardConn) reset(n int64) { g.budget.Store(n) }

// setHard sets a deadline the client cannot clear (zero: none).
func (g *guardConn) setHard(t time.Time) {
	if t.IsZero() {
		g.hard.Store(0)
	} else {
		g.hard.Store(t.UnixNano())
	}
	g.Conn.SetDeadline(t)
}

func (g *guardConn) SetDeadline(t time.Time) error {
	if h := g.hard.Load(); h != 0 && (t.IsZero() || t.UnixNano() > h) {
		t = time.Unix(0, h)
	}
	return g.Conn.SetDeadline(t)
}

func (g *guardConn) SetReadDeadline(t time.Time) error {
	if h := g.hard.Load(); h != 0 && (t.IsZero() || t.UnixNano() > h) {
		t = time.Unix(0, h)
	}
	return g.Conn.SetReadDeadline(t)
}

func (g *guardConn) Read(p []byte) (int, error) {
	left := g.budget.Load()
	if left <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := g.Conn.Read(p)
	g.budget.Add(-int64(n))
	if scanErr := g.scan(p[:n]); scanErr != nil {
		return 0, scanErr
	}
	return n, err
}

// scan follows the stream to find the literals the server announces
// (RFC 3501 section 4.3: "{" number "}" CRLF, then that many bytes; "+"
// before "}" is LITERAL+) and refuses one over maxLiteral.
func (g *guardConn) scan(p []byte) error {
	for i := 0; i < len(p); i++ {
		if g.inLiteral > 0 {
			skip := min(g.inLiteral, int64(len(p)-i))
			g.inLiteral -= skip
			i += int(skip) - 1
			continue
		}
		c := p[i]
		switch g.state {
		case 1, 2:
			if c >= '0' && c <= '9' && g.digits < 19 {
				g.n = g.n*10 + int64(c-'0')
				g.digits++
				g.state = 2
				continue
			}
			if g.state == 2 && c == '+' {
				g.state = 3
				continue
			}
			if g.state == 2 && c == '}' {
				g.state = 4
				continue
			}
		case 3:
			if c == '}' {
				g.state = 4
				continue
			}
		case 4:
			if c == '\r' {
				g.state = 5
				continue
			}
			if c == '\n' {
				if err := g.literal(); err != nil {
					return err
				}
				continue
			}
		case 5:
			if c == '\n' {
				if err := g.literal(); err != nil {
					return err
				}
				continue
			}
		}
		g.state, g.digits, g.n = 0, 0, 0
		if c == '{' {
			g.state = 1
		}
	}
	return nil
}

func (g *guardConn) literal() error {
	n := g.n
	g.state, g.digits, g.n = 0, 0, 0
	if n > g.maxLiteral {
		return fmt.Errorf("mailbox: the server announced a literal of %d bytes, over the limit of %d", n, g.maxLiteral)
	}
	g.inLiteral = n
	return nil
}

// prefixConn reads a few bytes of its own before the connection's: the
// greeting the IMAP client waits for after a STARTTLS done by hand.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// dial connects to the account's server with the TLS its mode asks for
// and returns the plain-text side, guarded. The IMAP greeting is still
// to be read (after STARTTLS, a stand-in greeting is).
func dial(ctx context.Context, a Account, tlsConfig *tls.Config, timeout time.Duration, maxLiteral int64,
	dialFn func(ctx context.Context, network, addr string) (net.Conn, error)) (*guardConn, error) {
	deadline := time.Now().Add(timeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	raw, err := dialFn(dctx, "tcp", a.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", a.Addr, err)
	}
	raw.SetDeadline(deadline)
	tc := tlsConfigFor(tlsConfig, a.Host)
	var conn net.Conn
	switch a.TLS {
	case TLSImplicit:
		t := tls.Client(raw, tc)
		if err := t.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS with %s: %w", a.Addr, err)
		}
		conn = t
	case TLSStartTLS:
		if conn, err = startTLS(dctx, raw, tc); err != nil {
			raw.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", a.Addr, err)
		}
	case TLSNone:
		conn = raw
	default:
		raw.Close()
		return nil, fmt.Errorf("TLS mode %q", a.TLS)
	}
	g := newGuardConn(conn, maxLiteral)
	g.setHard(deadline)
	return g, nil
}

func tlsConfigFor(c *tls.Config, host string) *tls.Config {
	if c == nil {
		c = &tls.Config{}
	}
	c = c.Clone()
	if c.ServerName == "" {
		c.ServerName = host
	}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// startTLS reads the greeting, asks for STARTTLS and does the handshake
// (RFC 3501 section 6.2.1). A server that refuses is an error: STARTTLS
// is required. Nothing the server sent before the handshake is kept (a
// reply with more after it would be an injection attempt, refused).
func startTLS(ctx context.Context, raw net.Conn, tc *tls.Config) (net.Conn, error) {
	br := bufio.NewReaderSize(raw, 4096)
	line, err := readLine(br)
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(strings.ToUpper(line), "* OK") {
		return nil, fmt.Errorf("unexpected greeting %q", clip(line))
	}
	if _, err := io.WriteString(raw, "S1 STARTTLS\r\n"); err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(line, "* ") && i < 20 {
			continue
		}
		if !strings.HasPrefix(strings.ToUpper(line), "S1 OK") {
			return nil, fmt.Errorf("the server refused STARTTLS: %q", clip(line))
		}
		break
	}
	if br.Buffered() > 0 {
		return nil, errors.New("the server sent data after accepting STARTTLS")
	}
	t := tls.Client(raw, tc)
	if err := t.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	// go-imap's client waits for a greeting; the server's came before
	// TLS and is not repeated.
	return &prefixConn{Conn: t, r: io.MultiReader(strings.NewReader("* OK TLS started\r\n"), t)}, nil
}

// readLine reads one line of at most 4 KiB, without its line ending.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errors.New("line too long")
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// clip shortens what a server said for an error message and makes it
// printable.
func clip(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strconv.QuoteToASCII(s)[1 : len(strconv.QuoteToASCII(s))-1]
}

// xoauth2 is SASL XOAUTH2, the OAuth 2.0 sign-in of Gmail and Microsoft
// 365: the user and a bearer access token.
type xoauth2 struct {
	user, token string
	failure     string // the JSON error the server sent, if any
}

func (a *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + a.user + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

// Next answers the server's error challenge with an empty response, as
// the mechanism asks; the server then fails the command.
func (a *xoauth2) Next(challenge []byte) ([]byte, error) {
	a.failure = clip(string(challenge))
	return []byte{}, nil
}
