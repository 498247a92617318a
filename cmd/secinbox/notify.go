package main

import (
	"fmt"
	"log/slog"

	"github.com/secinbox/secinbox/inbox"
)

// notifier builds the SLA notifier from the settings: the webhook, when
// -webhook-url is set, needs a secret (-webhook-secret or
// -webhook-secret-file). Email notifications are recorded either way and
// go to mailer, the team's addresses (nil: none; they stay pending).
func (c *Config) notifier(store inbox.NotifyStore, mailer inbox.TeamMailer, log *slog.Logger) (*inbox.Notifier, error) {
	cfg := inbox.NotifierConfig{Store: store, WebhookURL: c.WebhookURL, Mailer: mailer, PublicURL: c.publicURL(), Logger: log}
	switch {
	case c.WebhookSecret != "":
		cfg.WebhookSecret = []byte(c.WebhookSecret)
	case c.WebhookSecretFile != "":
		var err error
		if cfg.WebhookSecret, err = readSecretFile("webhook secret", c.WebhookSecretFile); err != nil {
			return nil, err
		}
	}
	n, err := inbox.NewNotifier(cfg)
	if err != nil {
		return nil, fmt.Errorf("-webhook-url: %w", err)
	}
	return n, nil
}
