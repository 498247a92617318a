package mailbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestPoller_XOAUTH2: Dovecot checks the poller's SASL XOAUTH2 bearer
// token with an OAuth 2.0 introspection endpoint (RFC 7662) served by
// the test (passdb driver oauth2). A good token signs in and the message
// is filed; a refused token is a failing status naming XOAUTH2; the
// token file is read again at the next sign-in.
func TestPoller_XOAUTH2(t *testing.T) {
	t.Parallel()
	const good = "ya29.good-access-token"
	var asked atomic.Int32
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		r.ParseForm()
		resp := map[string]any{"active": false}
		if r.Method == http.MethodPost && r.Form.Get("token") == good {
			resp = map[string]any{"active": true, "username": testUser}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(idp.Close)
	dir := t.TempDir()
	oauthConf := filepath.Join(dir, "dovecot-oauth2.conf.ext")
	if err := os.WriteFile(oauthConf, []byte("introspection_mode = post\n"+
		"introspection_url = "+idp.URL+"/introspect\n"+
		"force_introspection = yes\n"+
		"username_attribute = username\n"+
		"active_attribute = active\n"+
		"active_value = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDovecot(t, false, "auth_mechanisms = plain login xoauth2\nauth_failure_delay = 0\n"+
		"passdb {\n  driver = oauth2\n  mechanisms = xoauth2\n  args = "+oauthConf+"\n}\n")
	r := newRig(t)
	mua := d.peer(t)
	mua.appendMessage("INBOX", plainMessage("oauth", "Fetched with a bearer token"))

	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("expired-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, statuses := r.poller("imap://"+testUser+"@"+d.imapAddr+"/INBOX", TLSNone, d, func(c *Config) {
		c.Password, c.OAuth2TokenFile = "", tokenFile
	})
	run(t, p)
	s := waitStatus(t, statuses, "failing", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxFailing })
	if !strings.Contains(s.LastError, "OAuth2 token refused") {
		t.Errorf("error %q, want the OAuth2 token refused", s.LastError)
	}
	if asked.Load() == 0 {
		t.Error("Dovecot never asked the introspection endpoint")
	}
	if n := len(r.reports()); n != 0 {
		t.Fatalf("%d reports with a refused token", n)
	}

	// The admin's tooling refreshes the token.
	if err := os.WriteFile(tokenFile, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, statuses, "ok", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
	waitFor(t, "the report", func() bool { return len(r.reports()) == 1 })
	waitFor(t, "the move", func() bool { return mua.count("INBOX") == 0 && mua.count("secinbox-filed") == 1 })
}
