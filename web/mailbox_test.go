package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// TestMailboxStatus: the mailboxes fetched over IMAP show their state on
// the admin's settings page and in /metrics.
func TestMailboxStatus(t *testing.T) {
	t.Parallel()
	ok := "imaps://security@example.com@imap.example.com:993/INBOX"
	failing := "imap://reports@127.0.0.1:143/INBOX"
	e := newEnv(t, func(c *web.Config) {
		c.Mailboxes = func() []triage.MailboxStatus {
			return []triage.MailboxStatus{
				{Mailbox: ok, State: triage.MailboxOK, LastCheck: t0, Idle: true, Fetched: 3, TooLarge: 1},
				{Mailbox: failing, State: triage.MailboxFailing, LastError: "sign-in as reports refused: [AUTHENTICATIONFAILED] Authentication failed.",
					RetryAt: t0.Add(40 * time.Second), Errors: 7},
			}
		}
	})
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	token := e.newToken(admin.ID)
	resp, body := e.get(e.client(), "/metrics", "Authorization", "Bearer "+token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`secinbox_mailbox_up{mailbox="` + ok + `"} 1`,
		`secinbox_mailbox_up{mailbox="` + failing + `"} 0`,
		`secinbox_mailbox_messages_total{mailbox="` + ok + `"} 3`,
		`secinbox_mailbox_errors_total{mailbox="` + failing + `"} 7`,
		`secinbox_mailbox_too_large{mailbox="` + ok + `"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cookie, _ := e.newSession(admin.ID)
	resp, body = e.get(e.client(), "/admin/settings", "Cookie", "secinbox_session="+cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/admin/settings: %d", resp.StatusCode)
	}
	for _, want := range []string{`data-testid="mailbox-status"`, ok, failing, "Authentication failed", "retrying in 40s", "over the size limit"} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
}
