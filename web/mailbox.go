package web

import (
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// mailboxViews formats the mailboxes' states for the settings page.
func (s *server) mailboxViews() []templates.MailboxView {
	if s.mailboxes == nil {
		return nil
	}
	now := s.now()
	var out []templates.MailboxView
	for _, m := range s.mailboxes() {
		v := templates.MailboxView{Mailbox: m.Mailbox, State: string(m.State), Error: m.LastError,
			Fetched: m.Fetched, TooLarge: m.TooLarge, Idle: m.Idle}
		if !m.LastCheck.IsZero() {
			v.LastCheck = m.LastCheck.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		if !m.RetryAt.IsZero() {
			v.Retry = "in " + m.RetryAt.Sub(now).Round(time.Second).String()
		}
		out = append(out, v)
	}
	return out
}

// mailboxMetrics adds the mailboxes' states to /metrics.
func (s *server) mailboxMetrics(m metricWriter) {
	if s.mailboxes == nil {
		return
	}
	list := s.mailboxes()
	m.family("secinbox_mailbox_up", "gauge", "1 when the mailbox's last check succeeded, 0 while it fails or has not connected yet.")
	for _, mb := range list {
		up := int64(0)
		if mb.State == triage.MailboxOK {
			up = 1
		}
		m.sample("secinbox_mailbox_up", up, "mailbox", mb.Mailbox)
	}
	m.family("secinbox_mailbox_messages_total", "counter", "Messages fetched from the mailbox and stored since this process started.")
	for _, mb := range list {
		m.sample("secinbox_mailbox_messages_total", mb.Fetched, "mailbox", mb.Mailbox)
	}
	m.family("secinbox_mailbox_errors_total", "counter", "Failed connections or checks of the mailbox since this process started.")
	for _, mb := range list {
		m.sample("secinbox_mailbox_errors_total", mb.Errors, "mailbox", mb.Mailbox)
	}
	m.family("secinbox_mailbox_too_large", "gauge", "Messages left in the mailbox for being over the size limit.")
	for _, mb := range list {
		m.sample("secinbox_mailbox_too_large", int64(mb.TooLarge), "mailbox", mb.Mailbox)
	}
}
