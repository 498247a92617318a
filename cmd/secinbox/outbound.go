package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

// linkKey derives the key of the researchers' link tokens (status and
// credit links, triage.LinkToken) from the key that seals two-factor
// secrets: it never touches the disk, and changing the key passphrase
// retires every link mailed before, as it does the sealed secrets.
func linkKey(secretKey []byte) []byte {
	if len(secretKey) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte("secinbox link tokens v1"))
	return m.Sum(nil)
}

// sender builds the outbox's sender from the settings. With neither a
// relay nor a maildir it is built all the same (its Run returns at once)
// so that the rest of the server can kick it and describe it.
func (c *Config) sender(store inbox.OutboxStore, signer inbox.MailSigner, links []byte, log *slog.Logger) (*inbox.Sender, error) {
	cfg := inbox.SenderConfig{
		Store:       store,
		Relay:       c.Relay,
		RelayUser:   c.RelayUser,
		RelayTLS:    c.RelayTLS,
		Maildir:     c.Maildir,
		Domain:      c.Domain,
		TeamAddress: "security@" + c.Domain,
		PublicURL:   c.publicURL(),
		LinkKey:     links,
		Signer:      signer,
		Logger:      log,
	}
	switch {
	case c.RelayPassword != "":
		cfg.RelayPassword = c.RelayPassword
	case c.RelayPasswordFile != "":
		b, err := readSecretFile("relay password", c.RelayPasswordFile)
		if err != nil {
			return nil, err
		}
		cfg.RelayPassword = string(b)
	}
	if c.RelayUser != "" && cfg.RelayPassword == "" {
		return nil, errors.New("-relay-user needs -relay-password or -relay-password-file")
	}
	s, err := inbox.NewSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("outgoing mail: %w", err)
	}
	return s, nil
}

// teamAddresses are -notify-email's addresses, each one the outbox can
// mail: a typo must stop the start, not fail every SLA mail later
// (inbox.NewTeamMail refuses it too, but without naming the setting).
func (c *Config) teamAddresses() ([]string, error) {
	var out []string
	for _, a := range splitList(c.NotifyEmail) {
		v, err := triage.ValidAddress(a)
		if err != nil {
			return nil, fmt.Errorf("-notify-email: %q is not one plain (ASCII) email address", a)
		}
		out = append(out, v)
	}
	return out, nil
}

// checkAckLimits refuses acknowledgement limits below 1: the processor
// reads 0 or less as its defaults, not as "none".
func (c *Config) checkAckLimits() error {
	if c.AckPerSender < 1 {
		return fmt.Errorf("-ack-per-sender must be 1 or more, not %d", c.AckPerSender)
	}
	if c.AckPerHour < 1 {
		return fmt.Errorf("-ack-per-hour must be 1 or more, not %d", c.AckPerHour)
	}
	return nil
}

// splitList splits a comma-separated setting, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
