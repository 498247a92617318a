package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfig_MailboxPollers: per-mailbox credentials match the URLs by
// position, and settings that cannot work stop the start with the
// flag's name.
func TestConfig_MailboxPollers(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("secret\n"), 0o600)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := Config{IMAPTLS: "auto", IMAPDoneFolder: "secinbox-filed", IMAPPollInterval: 2 * time.Minute, MaxMessageBytes: 1 << 20}

	c := base
	c.IMAPURL = "imaps://a@imap.example.com, imaps://b@imap.example.com/Reports"
	c.IMAPPasswordFile = pw + ","
	c.IMAPOAuth2TokenFile = "," + filepath.Join(dir, "token")
	ps, err := c.mailboxPollers(nil, nil, log)
	if err != nil || len(ps) != 2 {
		t.Fatalf("%d pollers, %v", len(ps), err)
	}
	if ps[1].Name() != "imaps://b@imap.example.com:993/Reports" {
		t.Errorf("second mailbox %q", ps[1].Name())
	}
	if ps, err := base.mailboxPollers(nil, nil, log); err != nil || ps != nil {
		t.Errorf("no URL: %v %v", ps, err)
	}
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.IMAPURL = "imaps://a@h" }, "no credentials"},
		{func(c *Config) { c.IMAPURL, c.IMAPPasswordFile = "imaps://a@h,imaps://b@h", "x,y,z" }, "-imap-password-file has 3 items"},
		{func(c *Config) { c.IMAPURL, c.IMAPPassword = "imaps://a@h,imaps://a@h:993", "p" }, "listed twice"},
		{func(c *Config) { c.IMAPURL, c.IMAPPassword, c.IMAPTLS = "imap://a@mail.example.com", "p", "none" }, "loopback"},
		{func(c *Config) { c.IMAPPassword = "p" }, "need -imap-url"},
		{func(c *Config) { c.IMAPURL, c.IMAPPassword, c.IMAPPollInterval = "imaps://a@h", "p", time.Second }, "-imap-poll-interval"},
		{func(c *Config) { c.IMAPURL, c.IMAPPasswordFile = "imaps://a@h", filepath.Join(dir, "missing") }, "-imap-password-file"},
	} {
		c := base
		tc.change(&c)
		if _, err := c.mailboxPollers(nil, nil, log); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", c, err, tc.want)
		}
	}
}
