package inbox

import (
	"errors"
	"os"
	"syscall"

	"github.com/emersion/go-smtp"
)

// The replies intake gives for the sender's mistakes (5xx) and for passing
// conditions (4xx). Our own failures never answer 5xx: see smtpError. The
// connection guard (guard.go) gives those from errCommandTimeout on; a
// 421 always ends the connection.
var (
	errRecipient = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such recipient here; this server only accepts mail for its security contacts"}
	errSenderSyntax = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 7},
		Message: "Bad sender address syntax"}
	errBareCR = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
		Message: "Bare CR in message data is not allowed (RFC 5321 section 2.3.8)"}
	errHeaderTooLarge = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Message header too large"}
	errLineTooLong = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
		Message: "Line too long"}
	errDataTimeout = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Timeout while receiving data, closing connection"}
	errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "Server shutting down, try again later"}
	errTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary local problem, message not accepted; try again later"}
	errNoSpace = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1},
		Message: "Insufficient system storage, try again later"}

	errCommandTimeout = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Timeout waiting for a command, closing connection"}
	errCommandTooLong = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
		Message: "Command line too long, closing connection"}
	errSessionTime = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Session time limit reached, closing connection"}
	errTooManyCommands = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many commands, closing connection"}
	errTooManyJunk = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many NOOP, RSET, VRFY, HELP or EHLO commands, closing connection"}
	errTooManyErrors = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many errors, closing connection"}
	errSizeDeclared = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Declared message size exceeds the maximum message size"}
	errNoChunking = &smtp.SMTPError{Code: 502, EnhancedCode: smtp.EnhancedCode{5, 5, 1},
		Message: "BDAT is not offered here, use DATA; closing connection"}
	errHelloAfterTLS = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1},
		Message: "Send EHLO again after STARTTLS"}
	replyReadyTLS = &smtp.SMTPError{Code: 220, EnhancedCode: smtp.EnhancedCode{2, 0, 0},
		Message: "Ready to start TLS"}
)

// smtpError is the one place that turns an error met while receiving a
// message into the reply the client sees. Replies we chose (*smtp.SMTPError,
// including go-smtp's own 552 for oversize data) pass through; anything
// else is our fault, so the client is told to retry (4xx) and never that
// the message was refused. The cause goes to the log, not to the client.
// err must not be nil.
func smtpError(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, smtp.ErrTooLongLine):
		return errLineTooLong
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errDataTimeout
	case errors.Is(err, syscall.ENOSPC) || isDiskFull(err):
		return errNoSpace
	}
	return errTemporary
}

// isDiskFull reports whether err says the disk is full, as SQLite does
// ("database or disk is full") without an errno we could match.
func isDiskFull(err error) bool {
	var df interface{ DiskFull() bool }
	return errors.As(err, &df) && df.DiskFull()
}
