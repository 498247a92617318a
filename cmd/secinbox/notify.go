package main

import (
	"fmt"
	"log/slog"

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
		var err error
		if n.WebhookSecret, err = readSecretFile("webhook secret", c.WebhookSecretFile); err != nil {
			return nil, err
		}
	}
	if err := n.Check(); err != nil {
		return nil, fmt.Errorf("-webhook-url: %w", err)
	}
	return n, nil
}
