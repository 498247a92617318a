package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// postMultipart posts fields and an optional file "logo" as a browser
// does with the site form.
func (e *env) postMultipart(path string, fields map[string]string, logo []byte, header ...string) (*http.Response, string) {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if logo != nil {
		fw, _ := mw.CreateFormFile("logo", "logo.png")
		_, _ = fw.Write(logo)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestSite_Pages: an admin names the organisation, uploads a logo and
// writes the policy's texts; every page's header shows them, the policy
// page renders the texts as text (never HTML), a non-image logo is
// refused next to its field.
func TestSite_Pages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.staffCookie("boss@localhost", triage.RoleAdmin)
	_, tri := e.staffCookie("tri@localhost", triage.RoleTriager)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	fields := map[string]string{
		"organisation": "Example Corp", "scope_in": "- *.example.com\n- https://app.example.com", "scope_out": "<script>alert(1)</script>",
		"languages": "English, German",
	}
	resp, _ := e.postMultipart("/admin/site", fields, png, admin...)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	_, page := e.get(e.client(), "/policy")
	if got := byTestID(t, page, "brand-name"); len(got) != 1 || got[0] != "Example Corp" {
		t.Errorf("public header %q", got)
	}
	if strings.Contains(page, "<script>alert(1)") || !strings.Contains(strings.Join(byTestID(t, page, "policy-scope-out"), ""), "<script>alert(1)</script>") {
		t.Error("the out-of-scope text is not shown as text")
	}
	if got := byTestID(t, page, "policy-link"); len(got) != 1 || got[0] != "https://app.example.com" {
		t.Errorf("links %q", got)
	}
	if got := byTestID(t, page, "policy-languages"); len(got) != 1 || !strings.Contains(got[0], "English, German") {
		t.Errorf("languages %q", got)
	}
	if got := byTestID(t, page, "nav-report"); len(got) != 1 || got[0] != "Report a vulnerability" {
		t.Errorf("public nav %q", got)
	}
	_, page = e.do(e.client(), "GET", "/board", nil, tri...)
	if got := byTestID(t, page, "brand-name"); len(got) != 1 || got[0] != "Example Corp" || len(byTestID(t, page, "brand-logo")) != 1 {
		t.Errorf("staff header %q", got)
	}
	resp, body := e.get(e.client(), "/logo")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || body != string(png) || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("logo: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	resp, page = e.postMultipart("/admin/site", fields, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), admin...)
	if resp.StatusCode != http.StatusBadRequest || len(byTestID(t, page, "field-error")) != 1 {
		t.Errorf("an SVG logo: %d %q", resp.StatusCode, byTestID(t, page, "field-error"))
	}
	if resp, _ := e.postMultipart("/admin/site", fields, nil, tri...); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a triager changed the site: %d", resp.StatusCode)
	}
	if !e.hasAudit(triage.AuditBrandingChange, "boss@localhost", "") {
		t.Error("not audited")
	}
}

// TestNotFoundPage: an unknown address gets the site's page, not Go's
// plain text; the API answers JSON; a wrong method keeps its 405.
func TestNotFoundPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, page := e.get(e.client(), "/no/such/page")
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		len(byTestID(t, page, "error-title")) != 1 || len(byTestID(t, page, "nav-report")) != 1 {
		t.Errorf("404: %d %q %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("the 404 page lacks the security headers")
	}
	code, m := e.sendJSON("GET", "/api/v1/nothing", viewerToken, nil)
	if code != http.StatusNotFound || m["error"] == nil {
		t.Errorf("API 404: %d %v", code, m)
	}
	resp, _ = e.do(e.client(), "DELETE", "/policy", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("wrong method: %d", resp.StatusCode)
	}
}

// TestAuditAndOutbox_Pages: the audit log links what an event names and
// shows its detail as typed; the outbox has a subject column and pages.
func TestAuditAndOutbox_Pages(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	ctx := context.Background()
	_, admin := ce.staffCookie("boss@localhost", triage.RoleAdmin)
	if _, err := ce.db.UpdateReport(ctx, ce.rep.ID, triage.Change{Labels: &[]string{"a<b>"}}, triage.Actor{UserID: ce.admin.ID, Email: "root@localhost"}, t0); err != nil {
		t.Fatal(err)
	}
	_, page := ce.do(ce.client(), "GET", "/admin/audit?action=report.labels", nil, admin...)
	doc := parseHTML(t, page)
	if a := findByTestID(doc, "audit-target-link"); a == nil || attrOf(a, "href") != fmt.Sprintf("/reports/%d", ce.rep.ID) {
		t.Errorf("target link %v", a)
	}
	if got := strings.Join(byTestID(t, page, "audit-detail"), ""); !strings.Contains(got, "a<b>") || strings.Contains(got, `\u003c`) {
		t.Errorf("detail %q", got)
	}

	for i := range 55 {
		m := &triage.OutMail{Kind: triage.MailReply, ReportID: ce.rep.ID, To: "rita@example.org", Subject: fmt.Sprintf("[%s] note %d", ce.rep.TrackingID, i),
			HeaderMessageID: triage.NewMessageID("localhost"), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if err := ce.db.QueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	_, page = ce.do(ce.client(), "GET", "/outbox", nil, admin...)
	if got := byTestID(t, page, "outbox-subject"); len(got) != 50 || !strings.Contains(got[0], "note 54") {
		t.Errorf("first page: %d subjects, first %q", len(got), got[:min(1, len(got))])
	}
	next := findByTestID(parseHTML(t, page), "outbox-next")
	if next == nil {
		t.Fatal("no next page")
	}
	u, _ := url.Parse(attrOf(next, "href"))
	_, page = ce.do(ce.client(), "GET", u.String(), nil, admin...)
	if got := byTestID(t, page, "outbox-subject"); len(got) != 5 || len(byTestID(t, page, "outbox-prev")) != 1 || len(byTestID(t, page, "outbox-next")) != 0 {
		t.Errorf("second page: %d rows", len(got))
	}
}
