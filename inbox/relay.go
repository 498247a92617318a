package inbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The relay client: go-smtp's Client over a connection we dial, so every
// step has a deadline. go-smtp bounds each command (CommandTimeout) and
// the answer to the final dot (SubmissionTimeout) but neither the dial,
// nor the TLS handshake of an implicit-TLS connection, nor the writing of
// the data; those get their own deadlines here, and a watchdog closes the
// connection when the whole session outlives relaySessionTimeout or the
// sender's context ends.

// Timeouts of the relay client.
const (
	relayDialTimeout    = 30 * time.Second
	relayCommandTimeout = time.Minute     // each command's answer (RFC 5321 4.5.3.2 allows 5 min)
	relayDataTimeout    = 5 * time.Minute // writing a message, and the answer to its final dot
	relaySessionTimeout = 15 * time.Minute
	// relayShutdownGrace is how long the mail in flight has to finish
	// once shutdown begins: cut mid-transfer, a mail the relay took
	// would be recorded as failed and sent again after the restart.
	relayShutdownGrace = 5 * time.Second
)

// relaySession is one connection to the relay, authenticated, ready for
// mail.
type relaySession struct {
	relay  string
	conn   net.Conn
	c      *smtp.Client
	stop   func() bool // stops the watchdog
	cancel context.CancelFunc
	used   bool // a mail was tried: RSET before the next
	broken bool // the connection is unusable: close it
}

// dialRelay connects to the relay, secures the connection as RelayTLS
// says and authenticates. Errors never carry the password.
func (s *Sender) dialRelay(ctx context.Context) (_ *relaySession, err error) {
	host, _, err := net.SplitHostPort(s.Relay)
	if err != nil {
		return nil, fmt.Errorf("relay %s: %w", s.Relay, err)
	}
	if err := s.checkTLS(host); err != nil {
		return nil, fmt.Errorf("relay %s: %w", s.Relay, err)
	}
	mode := s.tlsMode()
	tlsConfig := s.relayTLSConfig(host)

	// The session outlives ctx by relayShutdownGrace; Tick tries no new
	// mail once ctx ends.
	sessCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relaySessionTimeout)
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(relayShutdownGrace, cancel) })
	cancelAll := func() { stopGrace(); cancel() }
	dialCtx, cancelDial := context.WithTimeout(sessCtx, relayDialTimeout)
	defer cancelDial()
	var d net.Dialer
	var conn net.Conn
	if mode == RelayImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConfig}).DialContext(dialCtx, "tcp", s.Relay)
	} else {
		conn, err = d.DialContext(dialCtx, "tcp", s.Relay)
	}
	if err != nil {
		cancelAll()
		return nil, fmt.Errorf("relay %s: connect: %w", s.Relay, err)
	}
	rs := &relaySession{relay: s.Relay, conn: conn, cancel: cancelAll}
	rs.stop = context.AfterFunc(sessCtx, func() { conn.Close() })
	defer func() {
		if err != nil {
			rs.close()
		}
	}()

	// The greeting and the first EHLO are bounded by go-smtp's
	// CommandTimeout; STARTTLS's handshake happens within the next
	// command's deadline.
	var c *smtp.Client
	switch mode {
	case RelayStartTLS:
		// NewClientStartTLS refuses when the relay does not offer
		// STARTTLS, before any AUTH or MAIL.
		c, err = newClientStartTLS(conn, tlsConfig)
		if err != nil {
			return nil, fmt.Errorf("relay %s: STARTTLS required: %w", s.Relay, err)
		}
	default:
		c = smtp.NewClient(conn)
		c.CommandTimeout, c.SubmissionTimeout = relayCommandTimeout, relayDataTimeout
	}
	rs.c = c
	if err := c.Hello(s.helloName()); err != nil {
		return nil, fmt.Errorf("relay %s: EHLO: %w", s.Relay, err)
	}
	if s.RelayUser != "" {
		if err := s.auth(c); err != nil {
			return nil, fmt.Errorf("relay %s: AUTH: %w", s.Relay, err)
		}
	}
	return rs, nil
}

// newClientStartTLS is smtp.NewClientStartTLS with our timeouts once it
// returns. Its greeting, EHLO and STARTTLS run under go-smtp's default
// command timeout (5 minutes), within the session's watchdog.
func newClientStartTLS(conn net.Conn, tlsConfig *tls.Config) (*smtp.Client, error) {
	c, err := smtp.NewClientStartTLS(conn, tlsConfig)
	if err != nil {
		return nil, err
	}
	c.CommandTimeout, c.SubmissionTimeout = relayCommandTimeout, relayDataTimeout
	return c, nil
}

// auth authenticates with PLAIN, or LOGIN when only that is offered.
// The connection is encrypted at this point, or on loopback.
func (s *Sender) auth(c *smtp.Client) error {
	switch {
	case c.SupportsAuth(sasl.Plain):
		return c.Auth(sasl.NewPlainClient("", s.RelayUser, s.RelayPassword))
	case c.SupportsAuth(sasl.Login):
		return c.Auth(sasl.NewLoginClient(s.RelayUser, s.RelayPassword))
	}
	return errors.New("the relay offers neither AUTH PLAIN nor AUTH LOGIN")
}

func (s *Sender) relayTLSConfig(host string) *tls.Config {
	var cfg *tls.Config
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if s.RootCAs != nil {
		cfg.RootCAs = s.RootCAs
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

func (s *Sender) helloName() string {
	if s.Domain != "" {
		return s.Domain
	}
	return "localhost"
}

// send hands one message to the relay. A 5xx answer to MAIL, RCPT or
// DATA is permanent; a 4xx is temporary and the session stays usable,
// but for 421, with which the relay closes it; anything else (the
// connection lost, a timeout) is temporary and breaks the session.
func (rs *relaySession) send(from, to string, msg []byte) error {
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
	rs.conn.SetWriteDeadline(time.Now().Add(relayDataTimeout))
	if _, err := w.Write(msg); err != nil {
		return rs.fail("DATA", err)
	}
	if err := w.Close(); err != nil {
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
