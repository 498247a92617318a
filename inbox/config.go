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
	IdleTimeout     time.Duration // default 2 min: per command, and per read during DATA
	DataTimeout     time.Duration // default 10 min: the whole DATA transfer
	MaxConns        int           // default 100 concurrent connections in total
	MaxConnsPerIP   int           // default 10 per client IP

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
