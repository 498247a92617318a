package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestAuditExport_DetailIsJSON: the export records its filters in the
// audit detail, which the store cuts at triage.MaxAuditDetail. A since
// or until value is recorded as the time it parsed to, and one too long
// to be a time is refused with 400 before anything is recorded, so the
// detail is always whole JSON.
func TestAuditExport_DetailIsJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	c := e.client()
	e.signIn(c, admin.Email, "admin password 12")

	// Go parses an RFC 3339 fraction of any length: valid, but 5 KiB.
	long := "2026-01-01T00:00:00." + strings.Repeat("0", 5000) + "Z"
	resp, body := e.get(c, "/admin/audit/export?since="+url.QueryEscape(long))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "since") {
		t.Errorf("5 KiB since: status %d", resp.StatusCode)
	}
	if evs := e.auditEvents(triage.AuditFilter{Action: triage.AuditAuditExport}); len(evs) != 0 {
		t.Errorf("refused export audited: %+v", evs)
	}

	resp, _ = e.get(c, "/admin/audit/export?since=2026-01-01T01:00:00%2B01:00&until=2026-02-01")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	evs := e.auditEvents(triage.AuditFilter{Action: triage.AuditAuditExport})
	if len(evs) != 1 {
		t.Fatalf("%d export events, want 1", len(evs))
	}
	var d map[string]string
	if err := json.Unmarshal([]byte(evs[0].Detail), &d); err != nil {
		t.Fatalf("detail %q: %v", evs[0].Detail, err)
	}
	if d["since"] != "2026-01-01T00:00:00Z" || d["until"] != "2026-02-01T00:00:00Z" {
		t.Errorf("detail %v", d)
	}
}
