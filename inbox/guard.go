package inbox

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// The connection guard.
//
// go-smtp (v0.25.1) reads the socket through a bufio.Reader under one
// deadline per command line, and a timed-out partial line comes out of
// bufio.ReadLine as a whole one; after a DATA timeout it answers and reads
// the rest of the data as commands (go-smtp issue #196); its data reader
// drops ".\r" at the start of a line, and fills its caller's whole buffer
// before returning, so a read deadline holds for 32 KiB rather than for a
// byte. We cannot change go-smtp, so every accepted connection is wrapped
// in a guardConn before go-smtp sees it. The guard owns all reading from
// the socket, sets every read deadline itself (go-smtp's ReadTimeout is
// off and SetReadDeadline does nothing), and hands go-smtp only:
//
//   - in command mode, one complete command line per Read, once it has
//     arrived whole within IdleTimeout of being asked for: bytes
//     trickling in do not extend that, and a partial line is never handed
//     on (a timeout answers 421 and closes);
//   - in data mode, from the 354 go-smtp writes in reply to DATA to the
//     end of the data, the canonical stream of dataCanon: CRLF line
//     endings, dot-stuffed afresh, ended by ".\r\n" exactly where the
//     client's data ended (only CRLF.CRLF ends it), nothing after it. The
//     idle limit is renewed by every byte that arrives; DataTimeout bounds
//     the whole transfer; either ends the connection with 421.
//
// It watches the replies go-smtp writes: 354 to DATA starts data mode,
// 4xx and 5xx replies count towards MaxErrors, a 421 closes the
// connection, and the EHLO reply loses CHUNKING (BDAT would carry data
// past the guard) and gains STARTTLS, which the guard does itself so that
// it stays above TLS (go-smtp would put TLS above the guard). It keeps
// the per-session limits (lifetime, commands, junk commands, errors) and,
// when the server drains, answers 421 to every connection not inside a
// DATA transfer. Its writes are serialised, so that Shutdown can answer
// 421 while go-smtp is writing.

// guardConfig is what every guard of a server shares.
type guardConfig struct {
	idle, data, lifetime            time.Duration
	maxLine                         int
	maxCommands, maxJunk, maxErrors int
	maxMessageBytes                 int64
	tls                             *tls.Config
	log                             *slog.Logger
	ids                             atomic.Uint64 // connection ids, for the logs
}

func newGuardConfig(cfg Config) *guardConfig {
	return &guardConfig{
		idle: cfg.IdleTimeout, data: cfg.DataTimeout, lifetime: cfg.MaxSessionTime,
		maxLine:     cfg.MaxLineLength,
		maxCommands: cfg.MaxCommands, maxJunk: cfg.MaxJunkCommands, maxErrors: cfg.MaxErrors,
		maxMessageBytes: cfg.MaxMessageBytes,
		tls:             cfg.TLSConfig,
		log:             cfg.Logger,
	}
}

// abortWriteTimeout bounds the last reply to a client that is not reading;
// lingerTime how long, after it, input is read and dropped before the
// socket is closed (see closeLingering).
const (
	abortWriteTimeout = 500 * time.Millisecond
	lingerTime        = 500 * time.Millisecond
)

type guardMode uint8

const (
	modeCommand guardMode = iota // one complete command line per Read
	modeData                     // the canonical DATA stream
)

// junkCommands are the commands that cost us and deliver nothing
// (Postfix's smtpd_junk_command_limit counts NOOP, VRFY, ETRN and RSET).
var junkCommands = map[string]bool{"NOOP": true, "RSET": true, "VRFY": true, "EXPN": true,
	"HELP": true, "EHLO": true, "HELO": true}

// afterTLS are the commands taken after STARTTLS before a new EHLO: RFC
// 3207 §4.2 has the server forget what it learnt before TLS, which
// go-smtp does on EHLO (it resets the transaction) but not on its own.
var afterTLS = map[string]bool{"EHLO": true, "HELO": true, "NOOP": true, "RSET": true, "QUIT": true}

// guardConn is an accepted connection as go-smtp sees it; see above.
type guardConn struct {
	raw     net.Conn // the accepted TCP connection
	cfg     *guardConfig
	log     *slog.Logger
	start   time.Time
	release func() // gives the listener's slot back
	once    sync.Once

	// Used only from the goroutine go-smtp serves this connection in (it
	// calls Read, Write and, through the session, dataVerdict).
	in                  []byte // read from the client, not yet used
	out                 []byte // for go-smtp: out[outR:]
	outR                int
	readErr             error // why reading ended, for good
	mode                guardMode
	canon               dataCanon
	dataStart, lastByte time.Time
	dataEnded           bool   // the end of data was handed on, its reply not yet written
	verb                string // the command last handed to go-smtp
	commands, junk      int
	errors              int // error replies since the last message accepted
	tlsOn, needHello    bool
	replyLines          int // lines of the reply being written so far

	wmu   sync.Mutex
	conn  net.Conn // raw, or TLS over it after STARTTLS; changed under wmu
	wline []byte   // a reply line go-smtp has begun to write

	draining  atomic.Bool // the server is shutting down
	waiting   atomic.Bool // Read waits for a command line
	closing   atomic.Bool // nothing more is written
	lingering atomic.Bool // closeLingering will close the socket
}

func newGuardConn(c net.Conn, cfg *guardConfig, release func()) *guardConn {
	buf := max(cfg.maxLine+1, 16<<10)
	return &guardConn{
		raw: c, conn: c, cfg: cfg, release: release, start: time.Now(),
		log: cfg.log.With("conn", cfg.ids.Add(1), "remote", c.RemoteAddr().String()),
		in:  make([]byte, 0, buf),
	}
}

// closedError is what go-smtp reads once the guard has ended the
// connection: it wraps net.ErrClosed, on which go-smtp ends the session
// without another word.
type closedError struct{ reason string }

func (e *closedError) Error() string { return "connection closed: " + e.reason }
func (e *closedError) Unwrap() error { return net.ErrClosed }

// Read gives go-smtp the next command line, or the next part of the
// canonical data stream.
func (g *guardConn) Read(p []byte) (int, error) {
	for g.outR == len(g.out) {
		if g.readErr == nil && g.closing.Load() {
			g.readErr = &closedError{"closed"}
		}
		if g.readErr != nil {
			return 0, g.readErr
		}
		g.out, g.outR = g.out[:0], 0
		var err error
		if g.mode == modeData {
			err = g.readData()
		} else {
			err = g.readCommand()
		}
		if err != nil {
			g.readErr = err
		}
	}
	n := copy(p, g.out[g.outR:])
	g.outR += n
	return n, nil
}

// readCommand puts the next command line for go-smtp into out, or ends
// the connection when a limit is reached. It answers itself STARTTLS, a
// declared SIZE over the limit that go-smtp cannot parse, and commands
// not allowed after STARTTLS before EHLO.
func (g *guardConn) readCommand() error {
	for {
		switch {
		case g.draining.Load():
			return g.end(errShuttingDown)
		case g.errors >= g.cfg.maxErrors:
			return g.end(errTooManyErrors)
		case !time.Now().Before(g.start.Add(g.cfg.lifetime)):
			return g.end(errSessionTime)
		}
		if err := g.readLine(); err != nil {
			return err
		}
		verb := commandVerb(g.out)
		g.commands++
		if g.commands > g.cfg.maxCommands {
			return g.end(errTooManyCommands)
		}
		if junkCommands[verb] {
			if g.junk++; g.junk > g.cfg.maxJunk {
				return g.end(errTooManyJunk)
			}
		}
		var answer *smtp.SMTPError
		switch {
		case g.needHello && !afterTLS[verb]:
			answer = errHelloAfterTLS
		case verb == "STARTTLS" && g.cfg.tls != nil && !g.tlsOn:
			g.out = g.out[:0]
			if err := g.startTLS(); err != nil {
				return err
			}
			continue
		case verb == "BDAT":
			// Its chunk would follow, and be read as commands.
			return g.end(errNoChunking)
		case verb == "MAIL" && declaredSize(g.out) > g.cfg.maxMessageBytes:
			answer = errSizeDeclared
		}
		if answer != nil {
			g.out = g.out[:0]
			if err := g.reply(answer); err != nil {
				return err
			}
			continue
		}
		if verb == "EHLO" || verb == "HELO" {
			g.needHello = false
		}
		g.verb = verb
		return nil
	}
}

// readLine puts the next command line, LF included, into out. The whole
// line must arrive within the idle limit from now, and within the
// session's lifetime.
func (g *guardConn) readLine() error {
	deadline, onTimeout := time.Now().Add(g.cfg.idle), errCommandTimeout
	if end := g.start.Add(g.cfg.lifetime); end.Before(deadline) {
		deadline, onTimeout = end, errSessionTime
	}
	for {
		if g.closing.Load() {
			return &closedError{"closed"}
		}
		if i := bytes.IndexByte(g.in, '\n'); i >= 0 {
			if i+1 > g.cfg.maxLine {
				return g.end(errCommandTooLong)
			}
			g.out = append(g.out[:0], g.in[:i+1]...)
			g.in = g.in[:copy(g.in, g.in[i+1:])]
			return nil
		}
		if len(g.in) >= g.cfg.maxLine {
			return g.end(errCommandTooLong)
		}
		if g.draining.Load() {
			return g.end(errShuttingDown)
		}
		if !time.Now().Before(deadline) {
			return g.end(onTimeout)
		}
		g.waiting.Store(true)
		err := g.fill(deadline)
		g.waiting.Store(false)
		if err != nil {
			return err
		}
	}
}

// readData puts the next part of the canonical data stream into out. The
// client must send a byte at least every idle limit, and the whole data
// within the data deadline.
func (g *guardConn) readData() error {
	for {
		if g.closing.Load() {
			return &closedError{"closed"}
		}
		if len(g.in) > 0 {
			n, out, done := g.canon.feed(g.in, g.out)
			g.out = out
			g.in = g.in[:copy(g.in, g.in[n:])]
			if done {
				g.mode, g.dataEnded = modeCommand, true
			}
			if len(g.out) > 0 {
				return nil
			}
		}
		deadline := g.lastByte.Add(g.cfg.idle)
		if end := g.dataStart.Add(g.cfg.data); end.Before(deadline) {
			deadline = end
		}
		if !time.Now().Before(deadline) {
			return g.end(errDataTimeout)
		}
		if err := g.fill(deadline); err != nil {
			return err
		}
	}
}

// fill reads what the client sends into in, until deadline at the latest.
// A timeout is no error: the caller looks at the clock and the limits.
func (g *guardConn) fill(deadline time.Time) error {
	g.conn.SetReadDeadline(deadline)
	if g.mode == modeCommand && g.draining.Load() {
		return nil // drain may have come before the deadline was set
	}
	n, err := g.conn.Read(g.in[len(g.in):cap(g.in)])
	g.in = g.in[:len(g.in)+n]
	if n > 0 {
		g.lastByte = time.Now()
	}
	switch {
	case err == nil || errors.Is(err, os.ErrDeadlineExceeded):
		return nil
	case g.closing.Load():
		return &closedError{"closed"}
	}
	return err
}

// startTLS answers STARTTLS and shakes hands. What the client sent after
// STARTTLS in the clear is dropped, never read as commands (RFC 3207 §5,
// command injection).
func (g *guardConn) startTLS() error {
	g.in = g.in[:0]
	if err := g.reply(replyReadyTLS); err != nil {
		return err
	}
	tc := tls.Server(g.raw, g.cfg.tls)
	tc.SetDeadline(time.Now().Add(g.cfg.idle))
	if err := tc.Handshake(); err != nil {
		g.log.Info("smtp TLS handshake failed", "err", err)
		g.abort(nil)
		return &closedError{"TLS handshake failed"}
	}
	tc.SetDeadline(time.Time{})
	g.wmu.Lock()
	g.conn = tc
	g.wmu.Unlock()
	g.tlsOn, g.needHello = true, true
	return nil
}

// startData enters data mode; go-smtp has just written 354.
func (g *guardConn) startData() {
	g.mode = modeData
	g.canon = newDataCanon(g.cfg.maxLine)
	g.dataStart = time.Now()
	g.lastByte = g.dataStart
}

// dataVerdict says whether the data that has just ended may be accepted:
// no bare CR in it (errBareCR), no line over the limit (errLineTooLong).
// go-smtp never sees either: its reader would lose track of "\r\r\n".
func (g *guardConn) dataVerdict() error {
	switch {
	case g.canon.bareCR:
		return errBareCR
	case g.canon.longLine:
		return errLineTooLong
	}
	return nil
}

// Write takes go-smtp's replies line by line (see writeLine).
func (g *guardConn) Write(p []byte) (int, error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			// go-smtp flushes after each line, so this waits for the
			// rest of the line, and is as long as go-smtp's replies.
			g.wline = append(g.wline, rest...)
			break
		}
		g.wline = append(g.wline, rest[:i+1]...)
		rest = rest[i+1:]
		err := g.writeLine(g.wline)
		g.wline = g.wline[:0]
		if err != nil {
			return len(p) - len(rest), err
		}
	}
	return len(p), nil
}

// writeLine writes one line of a reply of go-smtp's and acts on the
// reply once its last line is written. Under wmu.
func (g *guardConn) writeLine(line []byte) error {
	if g.closing.Load() {
		return net.ErrClosed
	}
	code, last := replyCode(line)
	first := g.replyLines == 0
	g.replyLines++
	if last {
		g.replyLines = 0
	}
	ehlo := g.verb == "EHLO" && code == 250 && !last
	if ehlo && bytes.EqualFold(bytes.TrimRight(line[4:], "\r\n"), []byte("CHUNKING")) {
		return nil // not offered: BDAT would carry data past the guard
	}
	if _, err := g.conn.Write(line); err != nil {
		return err
	}
	if ehlo && first && g.cfg.tls != nil && !g.tlsOn {
		if _, err := io.WriteString(g.conn, "250-STARTTLS\r\n"); err != nil {
			return err
		}
	}
	if !last {
		return nil
	}
	if g.dataEnded {
		g.dataEnded = false
		if code/100 == 2 {
			// A message accepted: Postfix resets both counts then.
			g.junk, g.errors = 0, 0
		}
	}
	switch {
	case code == 354 && g.verb == "DATA":
		g.startData()
	case code == 421:
		// The service closes the channel (RFC 5321 §3.8): whatever
		// go-smtp would do next, the connection ends here.
		g.closing.Store(true)
		g.closeLingering()
	case code >= 400:
		g.errors++
	}
	return nil
}

// reply writes a reply of the guard's own.
func (g *guardConn) reply(e *smtp.SMTPError) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if g.closing.Load() {
		return &closedError{"closed"}
	}
	if e.Code >= 400 {
		g.errors++
	}
	g.conn.SetWriteDeadline(time.Now().Add(g.cfg.idle))
	_, err := io.WriteString(g.conn, formatReply(e))
	return err
}

// end answers reply, closes the connection and returns what go-smtp then
// reads. It runs in go-smtp's goroutine.
func (g *guardConn) end(reply *smtp.SMTPError) error {
	g.log.Info("smtp connection closed", "reply", reply.Code, "reason", reply.Message,
		"commands", g.commands, "errors", g.errors)
	g.abort(reply)
	return &closedError{reply.Message}
}

// abort answers reply (when not nil) and closes the connection, whatever
// go-smtp is doing. Safe from any goroutine. A write of go-smtp's that
// the client does not read is cut short first.
func (g *guardConn) abort(reply *smtp.SMTPError) {
	if g.closing.Swap(true) {
		return
	}
	g.raw.SetWriteDeadline(time.Now().Add(abortWriteTimeout))
	g.wmu.Lock()
	if reply != nil {
		g.conn.SetWriteDeadline(time.Now().Add(abortWriteTimeout))
		io.WriteString(g.conn, formatReply(reply))
	}
	g.wmu.Unlock()
	if reply != nil {
		g.closeLingering()
	} else {
		g.Close()
	}
}

// closeLingering closes the connection so that the last reply reaches a
// client that has sent more (pipelined commands, the rest of its data):
// closing a socket with unread input sends a TCP reset, which can destroy
// the reply before the client reads it. So the sending side is shut
// first, then input is read and dropped until the client closes too, or
// for lingerTime at most (as net/http does before closing).
func (g *guardConn) closeLingering() {
	g.lingering.Store(true)
	defer g.closeNow()
	cw, ok := g.raw.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	g.raw.SetReadDeadline(time.Now().Add(lingerTime))
	io.Copy(io.Discard, g.raw)
}

// drain tells the guard the server is shutting down: a connection waiting
// for a command is answered 421 at once, any other at its next command.
func (g *guardConn) drain() {
	g.draining.Store(true)
	if g.waiting.Load() {
		g.raw.SetReadDeadline(time.Now()) // fill returns, readLine sees draining
	}
}

// Close closes the connection, unless closeLingering is about to, and
// gives the listener's slot back. (At the end of the shutdown grace,
// go-smtp closes the connection as soon as it reads that it has ended,
// while abort may still be lingering.)
func (g *guardConn) Close() error {
	g.closing.Store(true)
	if g.lingering.Load() {
		return nil
	}
	return g.closeNow()
}

func (g *guardConn) closeNow() error {
	err := net.ErrClosed
	g.once.Do(func() {
		g.release()
		err = g.raw.Close()
	})
	return err
}

// SetReadDeadline does nothing: the guard sets its own read deadlines,
// which nothing go-smtp does may undo.
func (g *guardConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline sets the deadline for go-smtp's replies.
func (g *guardConn) SetWriteDeadline(t time.Time) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if g.closing.Load() {
		return net.ErrClosed
	}
	return g.conn.SetWriteDeadline(t)
}

// SetDeadline sets the write deadline only (see SetReadDeadline).
func (g *guardConn) SetDeadline(t time.Time) error { return g.SetWriteDeadline(t) }

func (g *guardConn) LocalAddr() net.Addr  { return g.raw.LocalAddr() }
func (g *guardConn) RemoteAddr() net.Addr { return g.raw.RemoteAddr() }

func formatReply(e *smtp.SMTPError) string {
	c := e.EnhancedCode
	return fmt.Sprintf("%d %d.%d.%d %s\r\n", e.Code, c[0], c[1], c[2], e.Message)
}

// replyCode reads the code of a reply line and whether the line is the
// reply's last ("250 ..." rather than "250-...").
func replyCode(line []byte) (code int, last bool) {
	if len(line) < 3 {
		return 0, true
	}
	code, err := strconv.Atoi(string(line[:3]))
	if err != nil {
		return 0, true
	}
	return code, len(line) < 4 || line[3] != '-'
}

// commandVerb is the command of a line as go-smtp's parseCmd sees it
// (the same rules, so that the guard and go-smtp agree on what a line
// is), or "" when go-smtp takes it for no command.
func commandVerb(line []byte) string {
	s := strings.TrimRight(string(line), "\r\n")
	switch {
	case strings.HasPrefix(strings.ToUpper(s), "STARTTLS"):
		return "STARTTLS"
	case len(s) == 4:
		return strings.ToUpper(s)
	case len(s) > 5 && s[4] == ' ':
		return strings.ToUpper(s[:4])
	}
	return ""
}

// declaredSize is the SIZE parameter (RFC 1870) of a MAIL command line,
// or -1 when it has none that is a number. A number too large for int64
// is math.MaxInt64. (go-smtp answers a SIZE over 2^32-1 with 501, a
// syntax error, where 552 5.3.4 is due.)
func declaredSize(line []byte) int64 {
	s := strings.TrimRight(string(line), "\r\n")
	if i := strings.LastIndexByte(s, '>'); i >= 0 {
		s = s[i+1:] // the parameters follow the path
	}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || !strings.EqualFold(k, "SIZE") || v == "" || strings.Trim(v, "0123456789") != "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return math.MaxInt64
		}
		return n
	}
	return -1
}

// dataCanon turns the DATA stream as the client sends it into the
// canonical stream go-smtp's data reader decodes without loss. It reads
// the client's stream as Postfix 3.9 does by default
// (smtpd_forbid_bare_newline = normalize):
//
//   - a line ends in CRLF or in a bare LF; either way it goes on as CRLF;
//   - only CRLF "." CRLF ends the data (a "." line after a line that
//     ended in a bare LF, or ".\n", is content, kept as "."), so SMTP
//     smuggling gets nowhere;
//   - a leading dot is removed from a line with more on it (RFC 5321
//     §4.5.2), and put back, for go-smtp to remove, before every line
//     that starts with a dot once the client's was removed;
//   - a bare CR (one not followed by LF) is noted (bareCR), and left out
//     of the canonical stream, where go-smtp could mistake it;
//   - a line longer than maxLine (CRLF or LF included) is noted
//     (longLine) and cut to maxLine.
//
// The canonical stream thus has CRLF line endings only, no other CR or
// LF, and ends in ".\r\n" exactly where the client's data ended.
type dataCanon struct {
	maxLine  int
	state    canonState
	crlf     bool // the line before this one ended in CRLF (true at the start)
	lineLen  int  // bytes of this line as sent, so far
	started  bool // something of this line has gone out
	bareCR   bool
	longLine bool
}

type canonState uint8

const (
	canonLineStart canonState = iota
	canonDot                  // "." at the start of a line
	canonDotCR                // ".\r" at the start of a line
	canonText                 // within a line
	canonCR                   // "\r" within a line
	canonDone                 // the end of data has been read
)

func newDataCanon(maxLine int) dataCanon { return dataCanon{maxLine: maxLine, crlf: true} }

// feed reads in and appends the canonical stream to out, until the end of
// in or of the data. It returns how much of in it read (what follows the
// end of data belongs to the next command), out, and whether the data
// has ended: out then ends in ".\r\n". out grows by at most 2*len(in).
func (d *dataCanon) feed(in, out []byte) (int, []byte, bool) {
	for i, c := range in {
		if d.state == canonDone {
			return i, out, true
		}
		d.lineLen++
		if d.lineLen > d.maxLine {
			d.longLine = true
		}
		switch d.state {
		case canonLineStart:
			switch c {
			case '.':
				d.state = canonDot
			case '\r':
				d.state = canonCR
			case '\n':
				out = d.endLine(out, false)
			default:
				out = d.text(out, c)
			}
		case canonDot:
			switch c {
			case '\r':
				d.state = canonDotCR
			case '\n': // ".\n": a lone dot, content
				out = d.endLine(d.put(out, '.'), false)
			default: // the dot was stuffing
				out = d.text(out, c)
			}
		case canonDotCR:
			switch {
			case c == '\n' && d.crlf:
				d.state = canonDone
				return i + 1, append(out, ".\r\n"...), true
			case c == '\n': // a lone dot after a bare-LF line: content
				out = d.endLine(d.put(out, '.'), true)
			default: // the dot was stuffing, the CR is bare
				d.bareCR = true
				out = d.inText(out, c)
			}
		case canonText:
			out = d.inText(out, c)
		case canonCR:
			switch c {
			case '\n':
				out = d.endLine(out, true)
			case '\r':
				d.bareCR = true
			default:
				d.bareCR = true
				out = d.text(out, c)
			}
		}
	}
	return len(in), out, d.state == canonDone
}

// inText reads c within a line.
func (d *dataCanon) inText(out []byte, c byte) []byte {
	switch c {
	case '\r':
		d.state = canonCR
		return out
	case '\n':
		return d.endLine(out, false)
	}
	return d.text(out, c)
}

func (d *dataCanon) text(out []byte, c byte) []byte {
	d.state = canonText
	return d.put(out, c)
}

// put writes a byte of content, after a stuffing dot when it is a dot
// that starts the line, unless the line is already too long.
func (d *dataCanon) put(out []byte, c byte) []byte {
	if d.lineLen > d.maxLine {
		return out
	}
	if !d.started {
		d.started = true
		if c == '.' {
			out = append(out, '.')
		}
	}
	return append(out, c)
}

func (d *dataCanon) endLine(out []byte, crlf bool) []byte {
	d.state, d.crlf, d.lineLen, d.started = canonLineStart, crlf, 0, false
	return append(out, '\r', '\n')
}
