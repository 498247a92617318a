package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestCrossSite_AuditedGETs: every GET that writes an audit event (views
// of decrypted content, downloads, the audit export) refuses a request
// another site made, writing nothing, and offers a link to open it from
// here; from our own pages (or typed by the user) it works and is
// recorded.
func TestCrossSite_AuditedGETs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	cookie, _ := e.newSession(admin.ID)
	id, aid := e.xss.ID, e.xss.Attachments[0].ID
	routes := []struct{ path, action string }{
		{fmt.Sprintf("/reports/%d", id), triage.AuditReportView},
		{fmt.Sprintf("/reports/%d/raw", id), triage.AuditRawDownload},
		{fmt.Sprintf("/reports/%d/attachments/%d", id, aid), triage.AuditAttachment},
		{fmt.Sprintf("/reports/%d/attachments/%d/source", id, e.xss.Attachments[1].ID), "attachment.view_source"},
		{"/admin/audit/export", triage.AuditAuditExport},
	}
	count := func(action string) int {
		return len(e.auditEvents(triage.AuditFilter{Action: action, Limit: 1000}))
	}
	refused := [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "cross-site", "Referer", e.srv.URL + "/board"}, // a forged Referer does not help
		{"Sec-Fetch-Site", "same-site"},
		{"Referer", "https://evil.example/page"}, // an older browser: no Sec-Fetch-Site
		{"Origin", "null"},
	}
	allowed := [][]string{
		{"Sec-Fetch-Site", "same-origin"},
		{"Sec-Fetch-Site", "none"}, // typed or bookmarked
		{"Referer", e.srv.URL + "/reports/1"},
		{}, // no browser: curl with a cookie
	}
	for _, rt := range routes {
		for _, hdr := range refused {
			before := count(rt.action)
			resp, body := e.get(e.client(), rt.path, append([]string{"Cookie", "secinbox_session=" + cookie}, hdr...)...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %v: status %d, want 403", rt.path, hdr, resp.StatusCode)
			}
			if n := count(rt.action); n != before {
				t.Errorf("%s %v: %s recorded", rt.path, hdr, rt.action)
			}
			if strings.Contains(body, "alert(1)") || strings.Contains(body, "Steps:") || resp.Header.Get("Content-Disposition") != "" {
				t.Errorf("%s %v: content served", rt.path, hdr)
			}
			if !strings.Contains(body, `href="`+rt.path+`" data-testid="cross-site-continue"`) {
				t.Errorf("%s %v: no link to open it from here:\n%.500s", rt.path, hdr, body)
			}
		}
		for _, hdr := range allowed {
			before := count(rt.action)
			resp, _ := e.get(e.client(), rt.path, append([]string{"Cookie", "secinbox_session=" + cookie}, hdr...)...)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %v: status %d, want 200", rt.path, hdr, resp.StatusCode)
			}
			if n := count(rt.action); n != before+1 {
				t.Errorf("%s %v: %d %s events added, want 1", rt.path, hdr, n-before, rt.action)
			}
		}
	}
}
