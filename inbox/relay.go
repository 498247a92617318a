package inbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The relay client: go-smtp's Client over a connection we dial, so every
// step has a deadline. go-smtp bounds each command (CommandTimeout) and
// the answer to the final dot (SubmissionTimeout), each from its own
// start, but neither the dial, nor the greeting, EHLO and STARTTLS of
// NewClientStartTLS (5 minutes each, before we can set them), nor the
// writing of the data. So watchdogs close the connection: when
// connecting as a whole outlives SenderConfig.RelayConnectTimeout, when one
// mail outlives SenderConfig.RelayMailTimeout, when the session outlives its
// lifetime or the sender's context ends. A relay that stops answering
// thus holds the outbox up for one of those deadlines (a minute by
// default), and the tick ends (a sessionError): the next one connects
// afresh.
//
// RFC 5321 section 4.5.3.2 asks a client to wait minutes (10 for the
// final dot); those are for MTAs relaying over the Internet. Our relay
// is our own submission server, and a mail it failed to answer is tried
// again later.

// Timeouts of the relay client.
const (
	defaultRelayConnectTimeout = 30 * time.Second
	defaultRelayCommandTimeout = 30 * time.Second
	defaultRelayMailTimeout    = time.Minute
	// relayQuitTimeout bounds the answer to QUIT, which nothing waits for.
	relayQuitTimeout = 5 * time.Second
	// relaySessionMaxAge: no mail is started on a session older than
	// this; the next mail gets a new session. The session's watchdog cuts
	// it at relaySessionMaxAge plus the connect and mail deadlines, after
	// the last mail it may carry.
	relaySessionMaxAge = 10 * time.Minute
	// relayShutdownGrace is how long the mail in flight has to finish
	// once shutdown begins: cut mid-transfer, a mail the relay took
	// would be recorded as failed and sent again after the restart.
	relayShutdownGrace = 5 * time.Second
)

// relaySession is one connection to the relay, authenticated, ready for
// mail.
type relaySession struct {
	relay   string
	conn    net.Conn
	c       *smtp.Client
	stop    func() bool // stops the watchdog
	cancel  context.CancelFunc
	started time.Time
	// command and mail are SenderConfig's RelayCommandTimeout and
	// RelayMailTimeout.
	command, mail time.Duration
	used          bool // a mail was tried: RSET before the next
	broken        bool // the connection is unusable: close it
}

// dialRelay connects to the relay, secures the connection as RelayTLS
// says and authenticates. Errors never carry the password.
func (s *Sender) dialRelay(ctx context.Context) (_ *relaySession, err error) {
	host, _, err := net.SplitHostPort(s.cfg.Relay)
	if err != nil {
		return nil, fmt.Errorf("relay %s: %w", s.cfg.Relay, err)
	}
	if err := checkTLS(s.cfg.RelayTLS, host); err != nil {
		return nil, fmt.Errorf("relay %s: %w", s.cfg.Relay, err)
	}
	mode := tlsMode(s.cfg.RelayTLS)
	tlsConfig := s.relayTLSConfig(host)

	connect, command, mail := s.cfg.RelayConnectTimeout, s.cfg.RelayCommandTimeout, s.cfg.RelayMailTimeout
	// The session outlives ctx by relayShutdownGrace; Tick tries no new
	// mail once ctx ends.
	sessCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), connect+relaySessionMaxAge+mail)
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(relayShutdownGrace, cancel) })
	cancelAll := func() { stopGrace(); cancel() }
	// Connecting, from the dial to AUTH, has one deadline: a watchdog
	// closes the connection when it passes, whatever step hangs.
	connCtx, cancelConn := context.WithTimeout(sessCtx, connect)
	defer cancelConn()
	var d net.Dialer
	var conn net.Conn
	if mode == RelayImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConfig}).DialContext(connCtx, "tcp", s.cfg.Relay)
	} else {
		conn, err = d.DialContext(connCtx, "tcp", s.cfg.Relay)
	}
	if err != nil {
		cancelAll()
		return nil, fmt.Errorf("relay %s: connect: %w", s.cfg.Relay, err)
	}
	rs := &relaySession{relay: s.cfg.Relay, conn: conn, cancel: cancelAll, started: time.Now(), command: command, mail: mail}
	rs.stop = context.AfterFunc(sessCtx, func() { conn.Close() })
	stopConnWatch := context.AfterFunc(connCtx, func() { conn.Close() })
	defer func() {
		if !stopConnWatch() && err == nil {
			err = fmt.Errorf("relay %s: connecting took over %s", s.cfg.Relay, connect)
		}
		if err != nil {
			if connCtx.Err() == context.DeadlineExceeded {
				err = fmt.Errorf("%w (no answer within %s)", err, connect)
			}
			rs.close()
		}
	}()

	var c *smtp.Client
	switch mode {
	case RelayStartTLS:
		// NewClientStartTLS refuses when the relay does not offer
		// STARTTLS, before any AUTH or MAIL. Its greeting, EHLO and
		// STARTTLS run under go-smtp's default timeouts, cut short by
		// the connect watchdog; the TLS handshake happens within the
		// next command's deadline.
		c, err = smtp.NewClientStartTLS(conn, tlsConfig)
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("relay %s: greeting, EHLO or STARTTLS: %w", s.cfg.Relay, err)
		} else if err != nil {
			return nil, fmt.Errorf("relay %s: STARTTLS required: %w", s.cfg.Relay, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = min(command, connect), mail
	rs.c = c
	if err := c.Hello(s.helloName()); err != nil { // the greeting too, without STARTTLS
		return nil, fmt.Errorf("relay %s: EHLO: %w", s.cfg.Relay, err)
	}
	if s.cfg.RelayUser != "" {
		if err := s.auth(c); err != nil {
			return nil, fmt.Errorf("relay %s: AUTH: %w", s.cfg.Relay, err)
		}
	}
	return rs, nil
}

// auth authenticates with PLAIN, or LOGIN when only that is offered.
// The connection is encrypted at this point, or on loopback.
func (s *Sender) auth(c *smtp.Client) error {
	switch {
	case c.SupportsAuth(sasl.Plain):
		return c.Auth(sasl.NewPlainClient("", s.cfg.RelayUser, s.cfg.RelayPassword))
	case c.SupportsAuth(sasl.Login):
		return c.Auth(sasl.NewLoginClient(s.cfg.RelayUser, s.cfg.RelayPassword))
	}
	return errors.New("the relay offers neither AUTH PLAIN nor AUTH LOGIN")
}

func (s *Sender) relayTLSConfig(host string) *tls.Config {
	var cfg *tls.Config
	if s.cfg.TLSConfig != nil {
		cfg = s.cfg.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if s.cfg.RootCAs != nil {
		cfg.RootCAs = s.cfg.RootCAs
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

func (s *Sender) helloName() string {
	if s.cfg.Domain != "" {
		return s.cfg.Domain
	}
	return "localhost"
}

// send hands one message to the relay, within rs.mail: each command's
// answer within rs.command, and a watchdog closes the connection when
// the mail as a whole (writing the data and the answer to the final dot
// included) outlives rs.mail. A 5xx answer to MAIL, RCPT or DATA is
// permanent; a 4xx is temporary and the session stays usable, but for
// 421, with which the relay closes it; anything else (the connection
// lost, a timeout) is temporary and breaks the session.
//
// A final dot without an answer is an unknown outcome: the relay may
// have taken the mail. It counts as a temporary failure, tried again
// after its backoff: a relay takes responsibility for a mail only by
// answering 250 (RFC 5321 sections 4.1.1.4 and 6.1), and a mail lost is
// worse than a mail sent twice (README, outgoing mail).
func (rs *relaySession) send(from, to string, msg []byte) (err error) {
	deadline := time.Now().Add(rs.mail)
	rs.c.CommandTimeout, rs.c.SubmissionTimeout = min(rs.command, rs.mail), rs.mail
	watch := time.AfterFunc(rs.mail, func() { rs.conn.Close() })
	defer func() {
		if !watch.Stop() {
			rs.broken = true
			if err == nil { // the answer came as the watchdog fired: trust it
				return
			}
			err = fmt.Errorf("%w (the mail took over %s)", err, rs.mail)
		}
	}()
	if rs.used {
		if err := rs.c.Reset(); err != nil {
			rs.broken = true
			return &sessionError{fmt.Errorf("relay %s: RSET: %w", rs.relay, err)}
		}
	}
	rs.used = true
	// from and to are ASCII: pgp.ComposeMail refuses any other address.
	if err := rs.c.Mail(from, &smtp.MailOptions{Size: int64(len(msg))}); err != nil {
		return rs.fail("MAIL FROM", err)
	}
	if err := rs.c.Rcpt(to, nil); err != nil {
		return rs.fail("RCPT TO", err)
	}
	w, err := rs.c.Data()
	if err != nil {
		return rs.fail("DATA", err)
	}
	rs.conn.SetWriteDeadline(deadline)
	if _, err := w.Write(msg); err != nil {
		return rs.fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		var se *smtp.SMTPError
		if !errors.As(err, &se) {
			return rs.fail("no answer to the final dot (the relay may have taken the mail; it is tried again later)", err)
		}
		return rs.fail("end of DATA", err)
	}
	return nil
}

// fail classifies an error of step: the relay's own answer (its text
// kept, for staff to read in the outbox) or a broken connection.
func (rs *relaySession) fail(step string, err error) error {
	err = fmt.Errorf("relay %s: %s: %w", rs.relay, step, err)
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se) && se.Code >= 500 && se.Code <= 599:
		return permanent(err)
	case errors.As(err, &se) && se.Code >= 400 && se.Code <= 499 && se.Code != 421:
		return err
	}
	// 421: the relay is closing the session (RFC 5321 section 3.8).
	rs.broken = true
	return &sessionError{err}
}

// quit ends the session politely, then closes it.
func (rs *relaySession) quit() {
	if !rs.broken && rs.c != nil {
		rs.c.CommandTimeout = min(rs.command, relayQuitTimeout)
		_ = rs.c.Quit()
	}
	rs.close()
}

func (rs *relaySession) close() {
	rs.stop()
	rs.cancel()
	if rs.c != nil {
		_ = rs.c.Close()
	} else {
		_ = rs.conn.Close()
	}
}
