package inbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/secinbox/secinbox/triage"
)

// Server is the SMTP intake: it accepts mail for the security addresses
// only, commits each message durably, answers 250, and hands the message's
// id to the processor that files it as a report.
type Server struct {
	cfg      Config
	store    Store
	accepted map[string]bool
	intake   triage.Waker // woken after each committed message

	smtp     *smtp.Server
	guard    *guardConfig
	draining atomic.Bool

	mu       sync.Mutex
	listener *limitListener // set by Serve
	closed   bool           // Shutdown was called: Serve must not start
}

// NewServer returns a server that stores into store and wakes intake
// after every message it has committed (intake may be nil).
func NewServer(cfg Config, store Store, intake triage.Waker) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: store, intake: intake, accepted: map[string]bool{}}
	for _, a := range AcceptedAddresses(cfg.Domain, cfg.Addresses) {
		s.accepted[a] = true
	}
	s.guard = newGuardConfig(cfg)
	ss := smtp.NewServer(s)
	ss.Domain = cfg.Hostname
	ss.MaxMessageBytes = cfg.MaxMessageBytes
	ss.MaxRecipients = cfg.MaxRecipients
	// The connection guard (guard.go) reads the socket: it enforces
	// MaxLineLength and sets every read deadline; go-smtp's line limit is
	// only a backstop, a little over the longest line the guard hands on.
	// The guard does STARTTLS too, so go-smtp has no TLSConfig.
	ss.MaxLineLength = cfg.MaxLineLength + 8
	ss.ReadTimeout = 0
	ss.WriteTimeout = cfg.IdleTimeout
	ss.EnableSMTPUTF8 = true
	ss.ErrorLog = slogPrinter{cfg.Logger}
	s.smtp = ss
	return s, nil
}

// Serve accepts connections on l until Shutdown. It returns nil after a
// Shutdown.
func (s *Server) Serve(l net.Listener) error {
	ll := newLimitListener(l, s.guard, s.cfg.MaxConns, s.cfg.MaxConnsPerIP, func(remote, reason string) {
		s.cfg.Logger.Warn("smtp connection refused", "remote", remote, "reason", reason)
	})
	s.mu.Lock()
	if s.closed {
		// Shut down before it started (a SIGTERM right at start):
		// go-smtp would accept on l forever.
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listener = ll
	s.mu.Unlock()
	err := s.smtp.Serve(ll)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if errors.Is(err, smtp.ErrServerClosed) || (closed && errors.Is(err, net.ErrClosed)) {
		return nil
	}
	return err
}

// stopServing returns the listener Serve uses (nil before it started) and
// marks the server closed, so that a Serve still to come returns at once.
func (s *Server) stopServing() *limitListener {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.listener
}

// Shutdown stops accepting connections, answers 421 to every connection
// not inside a DATA transfer (at once, or after the transfer) and closes
// it, and lets transfers in progress finish. When ctx ends first, the
// connections still open are answered 421 4.3.2 and closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	ll := s.stopServing()
	done := make(chan error, 1)
	go func() { done <- s.smtp.Shutdown(ctx) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ll != nil {
			ll.drain()
		}
		select {
		case err := <-done:
			if ll != nil {
				// go-smtp closed the listeners its Serve had registered;
				// one Serve was about to register would be accepted on
				// forever (a SIGTERM right at start). Closed again: no harm.
				_ = ll.Close()
			}
			// After go-smtp's Shutdown its Close does nothing, so the
			// connections still open when ctx ended are answered and
			// closed here.
			if err != nil && ll != nil {
				ll.closeAll()
			}
			return err
		case <-tick.C:
		}
	}
}

// NewSession implements smtp.Backend; it is called at EHLO/HELO.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if s.draining.Load() {
		return nil, errShuttingDown
	}
	g, ok := c.Conn().(*guardConn)
	if !ok {
		s.cfg.Logger.Error("smtp connection without its guard", "remote", c.Conn().RemoteAddr().String())
		return nil, errTemporary
	}
	return &session{
		srv:    s,
		conn:   c,
		guard:  g,
		remote: c.Conn().RemoteAddr().String(),
		log:    g.log.With("helo", c.Hostname()),
	}, nil
}

// session is one SMTP connection. The fields under "message state" belong
// to the transaction in progress and are cleared in one place, Reset.
type session struct {
	srv    *Server
	conn   *smtp.Conn
	guard  *guardConn
	remote string
	log    *slog.Logger

	// message state
	from  string
	rcpts []string
}

func (s *session) Reset() {
	s.from = ""
	s.rcpts = nil
}

func (s *session) Logout() error { return nil }

// Mail takes any sender address go-smtp could parse, UTF-8 ones too
// (SMTPUTF8 is offered), but none with control characters or that is not
// UTF-8: they would end up in logs, the database and the web UI.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.draining.Load() {
		return errShuttingDown
	}
	if !utf8.ValidString(from) || strings.ContainsFunc(from, func(r rune) bool {
		return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
	}) {
		s.log.Info("smtp sender refused", "from", truncate(strconv.Quote(from), 320))
		return errSenderSyntax
	}
	s.Reset()
	s.from = from
	return nil
}

// Rcpt accepts only our own addresses, compared case-insensitively and in
// full, so that nothing addressed elsewhere is ever stored or relayed:
// "%"-hacks and bang paths are simply not our addresses. go-smtp strips
// a source route ("<@a:b@c>") before we see the mailbox, as RFC 5321
// Appendix C asks; the remaining mailbox is checked like any other.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	addr := strings.ToLower(to)
	if !s.srv.accepted[addr] {
		s.log.Info("smtp recipient refused", "rcpt", truncate(to, 320))
		return errRecipient
	}
	s.rcpts = append(s.rcpts, addr)
	return nil
}

// Data reads the message within the limits, commits it, and only then
// returns nil, which go-smtp answers with 250. The guard has already made
// the stream canonical, and bounds it in time.
func (s *session) Data(r io.Reader) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("smtp panic while receiving message", "panic", fmt.Sprint(p))
			err = errTemporary
		}
	}()

	start := s.srv.cfg.Now()
	body, err := s.readData(r)
	if err != nil {
		reply := smtpError(err)
		s.log.Info("smtp message refused", "reason", err, "reply", reply.Code)
		return reply
	}

	m := &triage.RawMessage{
		MailFrom:   s.from,
		Recipients: append([]string(nil), s.rcpts...),
		RemoteAddr: s.remote,
		ReceivedAt: start.UTC(),
		Data:       body,
	}
	// The transaction's outcome must not depend on the client staying
	// connected: commit with a context of our own, bounded in time.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.srv.store.AddRawMessage(ctx, m); err != nil {
		reply := smtpError(err)
		s.log.Error("smtp message not stored", "err", err, "reply", reply.Code)
		return reply
	}
	s.log.Info("smtp message accepted", "message", m.ID, "size", len(body),
		"from", truncate(s.from, 320), "duration", s.srv.cfg.Now().Sub(start))
	if s.srv.intake != nil {
		s.srv.intake.Wake()
	}
	return nil
}

// readData reads the whole message and checks the header size limit and
// the guard's verdict on line endings and lengths. It always reads to the
// end of the data (go-smtp drains what we leave, but we want a definite
// verdict first). It returns the message as sent, dot-unstuffed, with bare
// LF line endings made CRLF.
func (s *session) readData(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	h := headerChecker{max: s.srv.cfg.MaxHeaderBytes}
	var verdict error
	for {
		n, err := r.Read(chunk)
		if n > 0 && verdict == nil {
			if verdict = h.check(chunk[:n]); verdict == nil {
				buf.Write(chunk[:n])
			} else {
				buf = bytes.Buffer{} // keep reading to the end, but keep nothing
			}
		}
		if err == io.EOF {
			if verdict == nil {
				verdict = s.guard.dataVerdict()
			}
			if verdict != nil {
				return nil, verdict
			}
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// headerChecker measures the header block of the canonical data stream
// (CRLF line endings only) against the limit.
type headerChecker struct {
	max, n    int
	inBody    bool
	lineStart bool // the current line is empty so far
}

func (h *headerChecker) check(p []byte) error {
	for _, c := range p {
		if h.inBody {
			return nil
		}
		if h.n++; h.n > h.max {
			return errHeaderTooLarge
		}
		// The header ends at the first empty line: CRLF CRLF, or a
		// message that starts with CRLF.
		if c == '\n' {
			if h.lineStart || h.n == 2 {
				h.inBody = true
			}
			h.lineStart = true
		} else if c != '\r' {
			h.lineStart = false
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// slogPrinter lets go-smtp's error log go to slog.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.l.Warn("smtp: " + fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.l.Warn("smtp: " + fmt.Sprint(v...)) }
