package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestReportAuthentication: the sender checks show on the report page
// and in the API; a report whose message was not checked shows none.
func TestReportAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	checked := e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.Title = "Checked sender"
		r.Authentication = triage.Authentication{Checked: true, SPF: triage.AuthFail, SPFDomain: "evil.example",
			DKIM: triage.AuthNone, FromDomain: "researcher.example", ClaimsReplyTo: "SEC-2026-0001"}
	})
	code, doc := e.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d", checked.ID), viewerToken, nil)
	if code != http.StatusOK {
		t.Fatalf("GET report: %d", code)
	}
	auth, _ := doc["authentication"].(map[string]any)
	if auth["spf"] != "fail" || auth["dkim"] != "none" || auth["dmarc_aligned"] != false || auth["claims_to_answer"] != "SEC-2026-0001" {
		t.Errorf("authentication %v", doc["authentication"])
	}
	if code, doc := e.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d", e.xss.ID), viewerToken, nil); code != http.StatusOK || doc["authentication"] != nil {
		t.Errorf("unchecked report: %d, authentication %v", code, doc["authentication"])
	}

	cookie, _ := e.newSession(e.viewerID)
	_, body := e.get(e.client(), fmt.Sprintf("/reports/%d", checked.ID), "Cookie", "secinbox_session="+cookie)
	for _, want := range []string{`data-testid="auth-claims"`, "Claims to answer SEC-2026-0001", "not aligned with researcher.example",
		`data-testid="auth-spf">fail<`, `data-testid="auth-dkim">none<`} {
		if !strings.Contains(body, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	_, body = e.get(e.client(), fmt.Sprintf("/reports/%d", e.xss.ID), "Cookie", "secinbox_session="+cookie)
	if strings.Contains(body, `data-testid="authentication"`) {
		t.Error("an unchecked report shows sender checks")
	}
}
