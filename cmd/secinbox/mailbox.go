package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/secinbox/secinbox/mailbox"
	"github.com/secinbox/secinbox/triage"
)

// mailboxPollers builds one poller per -imap-url, with its credentials:
// -imap-password-file and -imap-oauth2-token-file give one file for all
// mailboxes or one per URL, in order (an empty item: none for that
// mailbox); -imap-password serves the mailboxes left without either.
func (c *Config) mailboxPollers(store mailbox.Store, wake triage.Waker, log *slog.Logger) ([]*mailbox.Poller, error) {
	urls := splitList(c.IMAPURL)
	if len(urls) == 0 {
		if c.IMAPPassword != "" || c.IMAPPasswordFile != "" || c.IMAPOAuth2TokenFile != "" {
			return nil, fmt.Errorf("-imap-password, -imap-password-file and -imap-oauth2-token-file need -imap-url")
		}
		return nil, nil
	}
	if c.IMAPPollInterval < 10*time.Second || c.IMAPPollInterval > time.Hour {
		return nil, fmt.Errorf("-imap-poll-interval must be between 10s and 1h, not %s", c.IMAPPollInterval)
	}
	if strings.TrimSpace(c.IMAPDoneFolder) == "" || strings.ContainsAny(c.IMAPDoneFolder, "\r\n\x00") {
		return nil, fmt.Errorf("-imap-done-folder must name a folder")
	}
	passFiles, err := perMailbox("-imap-password-file", c.IMAPPasswordFile, len(urls))
	if err != nil {
		return nil, err
	}
	tokenFiles, err := perMailbox("-imap-oauth2-token-file", c.IMAPOAuth2TokenFile, len(urls))
	if err != nil {
		return nil, err
	}
	mode := c.IMAPTLS
	if mode == "auto" {
		mode = ""
	}
	var out []*mailbox.Poller
	seen := map[string]bool{}
	for i, u := range urls {
		a, err := mailbox.ParseURL(u, mode)
		if err != nil {
			return nil, fmt.Errorf("-imap-url: %w", err)
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("-imap-url: %s is listed twice", a.Name)
		}
		seen[a.Name] = true
		mc := mailbox.Config{
			Account:         a,
			OAuth2TokenFile: tokenFiles[i],
			DoneFolder:      strings.TrimSpace(c.IMAPDoneFolder),
			MaxMessageBytes: c.MaxMessageBytes,
			PollInterval:    c.IMAPPollInterval,
			Logger:          log,
		}
		switch {
		case mc.OAuth2TokenFile != "":
		case passFiles[i] != "":
			b, err := readSecretFile("-imap-password-file", passFiles[i])
			if err != nil {
				return nil, err
			}
			mc.Password = string(b)
		case c.IMAPPassword != "":
			mc.Password = c.IMAPPassword
		default:
			return nil, fmt.Errorf("-imap-url %s: no credentials: set -imap-password, -imap-password-file or -imap-oauth2-token-file", a.Name)
		}
		p, err := mailbox.New(mc, store, wake)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// perMailbox splits a per-mailbox list setting: empty, one item for all
// n mailboxes, or exactly n items (empty ones kept).
func perMailbox(name, v string, n int) ([]string, error) {
	out := make([]string, n)
	if strings.TrimSpace(v) == "" {
		return out, nil
	}
	items := strings.Split(v, ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	switch len(items) {
	case 1:
		for i := range out {
			out[i] = items[0]
		}
		return out, nil
	case n:
		return items, nil
	}
	return nil, fmt.Errorf("%s has %d items: give one for every mailbox or one per -imap-url (%d)", name, len(items), n)
}

// mailboxStatus is web's Config.Mailboxes: the pollers' states now.
func mailboxStatus(ps []*mailbox.Poller) func() []triage.MailboxStatus {
	if len(ps) == 0 {
		return nil
	}
	return func() []triage.MailboxStatus {
		out := make([]triage.MailboxStatus, len(ps))
		for i, p := range ps {
			out[i] = p.Status()
		}
		return out
	}
}
