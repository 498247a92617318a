package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestAPITokens_Account: staff make, list and revoke their own API
// tokens on the account page; tokens expire (90 days unless asked
// otherwise) and expired or revoked ones get 401; creation and
// revocation are audited; the list shows the last use.
func TestAPITokens_Account(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	api := func(token string) int {
		resp, _ := e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer "+token)
		return resp.StatusCode
	}

	resp, page := e.do(c, "POST", "/account/tokens", url.Values{"name": {"ci"}, "expires_days": {"7"}})
	m := regexp.MustCompile(`data-testid="new-token-value">(secinbox_[A-Za-z0-9_-]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: status %d, no token shown", resp.StatusCode)
	}
	token := m[1]
	if code := api(token); code != http.StatusOK {
		t.Fatalf("new token: status %d", code)
	}
	if !e.hasAudit(triage.AuditTokenCreate, viewerEmail, "user:"+strconv.FormatInt(e.viewerID, 10)) {
		t.Error("creation not audited")
	}
	toks, _ := e.db.APITokens(t.Context(), e.viewerID)
	if len(toks) != 2 || toks[0].Name != "ci" || !toks[0].ExpiresAt.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("tokens %+v", toks)
	}
	id := strconv.FormatInt(toks[0].ID, 10)

	// The list: both tokens, with their expiry and last use (not yet
	// written: the recorder holds it).
	_, page = e.get(c, "/account")
	if n := strings.Count(page, `data-testid="token-row"`); n != 2 {
		t.Errorf("%d tokens listed, want 2", n)
	}
	if strings.Contains(page, token) {
		t.Error("the token is shown again")
	}
	if !strings.Contains(page, t0.Add(7*24*time.Hour).Format("2006-01-02 15:04 UTC")) ||
		!strings.Contains(page, `data-testid="token-last-used">`+t0.Format("2006-01-02 15:04 UTC")) {
		t.Errorf("expiry or last use not shown:\n%s", page)
	}

	// Expired: refused.
	e.clock.Set(t0.Add(7 * 24 * time.Hour))
	if code := api(token); code != http.StatusUnauthorized {
		t.Errorf("expired token: status %d, want 401", code)
	}
	e.clock.Set(t0)

	// Revoked: refused; someone else's token cannot be revoked by id.
	other := e.addUser("other@localhost", triage.RoleViewer, "other password 12")
	otherToken := e.newToken(other.ID)
	otherToks, _ := e.db.APITokens(t.Context(), other.ID)
	if resp, _ := e.do(c, "POST", "/account/tokens/"+strconv.FormatInt(otherToks[0].ID, 10)+"/revoke", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("someone else's token: status %d, want 404", resp.StatusCode)
	}
	if code := api(otherToken); code != http.StatusOK {
		t.Errorf("the other user's token after a refused revoke: status %d", code)
	}
	resp, _ = e.do(c, "POST", "/account/tokens/"+id+"/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account?done=token" {
		t.Fatalf("revoke: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code := api(token); code != http.StatusUnauthorized {
		t.Errorf("revoked token: status %d, want 401", code)
	}
	if !e.hasAudit(triage.AuditTokenRevoke, viewerEmail, "token:"+id) {
		t.Error("revocation not audited")
	}
	_, page = e.get(c, "/account")
	if !strings.Contains(page, `data-testid="token-state">revoked<`) || strings.Count(page, `data-testid="token-revoke"`) != 1 {
		t.Errorf("revoked token not shown as such")
	}

	// A token made without an expiry lasts the default 90 days.
	def := e.newToken(e.viewerID)
	e.clock.Set(t0.Add(triage.APITokenLifetime - time.Minute))
	if code := api(def); code != http.StatusOK {
		t.Errorf("default token before 90 days: status %d", code)
	}
	e.clock.Set(t0.Add(triage.APITokenLifetime))
	if code := api(def); code != http.StatusUnauthorized {
		t.Errorf("default token after 90 days: status %d, want 401", code)
	}
	e.clock.Set(t0)

	for _, bad := range []url.Values{{"expires_days": {"400"}}, {"expires_days": {"0"}}, {"name": {strings.Repeat("x", 65)}}} {
		if resp, _ := e.do(c, "POST", "/account/tokens", bad); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422", bad, resp.StatusCode)
		}
	}
}
