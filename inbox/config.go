package inbox

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config is the SMTP server's configuration. Zero fields take the
// defaults below; go-smtp's own defaults are unlimited, so every limit is
// set explicitly here.
type Config struct {
	Domain    string   // the mail domain: security@Domain is always accepted
	Addresses []string // further accepted addresses (aliases), full addresses
	Hostname  string   // name in the greeting; defaults to Domain

	MaxMessageBytes int64         // default 25 MiB; larger: 552 5.3.4
	MaxRecipients   int           // default 10; more: 452 4.5.3
	MaxLineLength   int           // default 4096 bytes incl. CRLF (RFC 5321 asks for at least 1000)
	MaxHeaderBytes  int           // default 256 KiB for the message header block
	IdleTimeout     time.Duration // default 2 min: for a whole command line to arrive; during DATA, with no byte arriving
	DataTimeout     time.Duration // default 10 min: the whole DATA transfer
	MaxConns        int           // default 100 concurrent connections in total
	MaxConnsPerIP   int           // default 10 per client IP

	// Per session (connection); going over answers 421 and closes it.
	MaxSessionTime  time.Duration // default 30 min; a DATA transfer begun in time may still finish within DataTimeout
	MaxCommands     int           // default 1000 commands
	MaxJunkCommands int           // default 100 NOOP, RSET, VRFY, EXPN, HELP, EHLO and HELO (reset by each message accepted)
	MaxErrors       int           // default 20 error replies, 4xx or 5xx (reset by each message accepted)

	TLSConfig *tls.Config // enables STARTTLS when set
	Logger    *slog.Logger
	Now       func() time.Time
}

func (c *Config) setDefaults() error {
	c.Domain = strings.ToLower(strings.TrimSpace(c.Domain))
	if c.Domain == "" {
		return fmt.Errorf("inbox: config: no domain")
	}
	if c.Hostname == "" {
		c.Hostname = c.Domain
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 25 << 20
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = 10
	}
	if c.MaxLineLength <= 0 {
		c.MaxLineLength = 4096
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 256 << 10
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.DataTimeout <= 0 {
		c.DataTimeout = 10 * time.Minute
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 100
	}
	if c.MaxConnsPerIP <= 0 {
		c.MaxConnsPerIP = 10
	}
	if c.MaxSessionTime <= 0 {
		c.MaxSessionTime = 30 * time.Minute
	}
	if c.MaxCommands <= 0 {
		c.MaxCommands = 1000
	}
	if c.MaxJunkCommands <= 0 {
		c.MaxJunkCommands = 100
	}
	if c.MaxErrors <= 0 {
		c.MaxErrors = 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// AcceptedAddresses returns the lower-cased addresses mail is accepted
// for: security@Domain first, then the aliases, without duplicates.
func AcceptedAddresses(domain string, aliases []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range append([]string{"security@" + domain}, aliases...) {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
