package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServe_MailSettings: a mail setting that cannot work stops the start
// with an error naming it, rather than failing every SLA mail later (an
// address the outbox refuses) or being read as something else (0 or less
// is the processor's default, not "none").
func TestServe_MailSettings(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ env, want string }{
		"NotifyEmailTypo":     {"SECINBOX_NOTIFY_EMAIL=lead@example.com, oncall@", "-notify-email"},
		"NotifyEmailName":     {"SECINBOX_NOTIFY_EMAIL=Lead <lead@example.com>", "-notify-email"},
		"NotifyEmailNonASCII": {"SECINBOX_NOTIFY_EMAIL=zoë@example.com", "-notify-email"},
		"AckPerSenderZero":    {"SECINBOX_ACK_PER_SENDER=0", "-ack-per-sender"},
		"AckPerHourNegative":  {"SECINBOX_ACK_PER_HOUR=-5", "-ack-per-hour"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a server that does start is stopped
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve", "-data", t.TempDir(), "-smtp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "SECINBOX_KEY_PASSPHRASE="+testPassphrase, tc.env)
			out, err := cmd.CombinedOutput()
			if err == nil || ctx.Err() != nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("serve with %s: %v (timed out: %v)\n%s", tc.env, err, ctx.Err() != nil, out)
			}
		})
	}
	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		startProc(t, t.TempDir(), "SECINBOX_NOTIFY_EMAIL=lead@example.com, oncall@example.com,",
			"SECINBOX_ACK_PER_SENDER=1", "SECINBOX_ACK_PER_HOUR=1000").kill()
	})
}
