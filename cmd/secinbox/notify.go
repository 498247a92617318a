package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"

	"github.com/secinbox/secinbox/inbox"
)

// notifier builds the SLA notifier from the settings: the webhook, when
// -webhook-url is set, needs a secret (-webhook-secret or
// -webhook-secret-file). Email notifications are recorded either way and
// wait for the outbound mail.
func (c *Config) notifier(store inbox.NotifyStore, log *slog.Logger) (*inbox.Notifier, error) {
	n := &inbox.Notifier{Store: store, WebhookURL: c.WebhookURL, PublicURL: c.publicURL(), Logger: log}
	switch {
	case c.WebhookSecret != "":
		n.WebhookSecret = []byte(c.WebhookSecret)
	case c.WebhookSecretFile != "":
		b, err := os.ReadFile(c.WebhookSecretFile)
		if err != nil {
			return nil, fmt.Errorf("webhook secret: %w", err)
		}
		if n.WebhookSecret = bytes.TrimRight(b, "\r\n"); len(n.WebhookSecret) == 0 {
			return nil, fmt.Errorf("webhook secret: %s is empty", c.WebhookSecretFile)
		}
	}
	if err := n.Check(); err != nil {
		return nil, fmt.Errorf("-webhook-url: %w", err)
	}
	return n, nil
}
