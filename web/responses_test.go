package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestResponses_API: admins keep canned responses through the API;
// viewers read them; a reply may name one instead of a body, and goes
// out filled in for the report like any reply.
func TestResponses_API(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	code, m := ce.sendJSON("POST", "/api/v1/responses", ce.adminToken, map[string]any{
		"name": "Acknowledged", "body": "Hello {{researcher}}, we track this as {{tracking_id}} ({{title}}); see {{policy_url}}.",
	})
	if code != http.StatusCreated || m["id"] == nil {
		t.Fatalf("create: %d %v", code, m)
	}
	id := int64(m["id"].(float64))
	if code, _ := ce.sendJSON("POST", "/api/v1/responses", ce.triagerToken, map[string]any{"name": "x", "body": "y"}); code != http.StatusForbidden {
		t.Errorf("a triager created a response: %d", code)
	}
	if code, m := ce.sendJSON("POST", "/api/v1/responses", ce.adminToken, map[string]any{"name": "Bad", "body": "Dear {{name}}"}); code != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(m["error"]), "unknown variable {{name}}") {
		t.Errorf("unknown variable: %d %v", code, m)
	}
	if code, m := ce.sendJSON("PUT", fmt.Sprintf("/api/v1/responses/%d", id), ce.adminToken, map[string]any{
		"name": "Acknowledged", "body": "Hello {{researcher}}, we track this as {{tracking_id}} ({{title}}); see {{policy_url}}.", "default_for": "needs-info",
	}); code != http.StatusOK || m["default_for"] != "needs-info" {
		t.Errorf("replace: %d %v", code, m)
	}
	code, m = ce.sendJSON("GET", "/api/v1/responses", viewerToken, nil)
	if list, _ := m["responses"].([]any); code != http.StatusOK || len(list) != 1 {
		t.Fatalf("list: %d %v", code, m)
	}

	path := fmt.Sprintf("/api/v1/reports/%d/replies", ce.rep.ID)
	code, m = ce.sendJSON("POST", path, ce.triagerToken, map[string]any{"response_id": id})
	want := fmt.Sprintf("Hello rita@example.org, we track this as %s (Open redirect); see http://localhost:8080/policy.", ce.rep.TrackingID)
	if code != http.StatusCreated || m["body"] != want {
		t.Errorf("reply from a response: %d %v\nwant body %q", code, m["body"], want)
	}
	if mails := ce.outbox(ce.rep.ID); len(mails) == 0 || mails[len(mails)-1].Body != want || mails[len(mails)-1].Kind != triage.MailReply {
		t.Errorf("the reply was not queued as any reply: %+v", mails)
	}
	if code, _ := ce.sendJSON("POST", path, ce.triagerToken, map[string]any{"response_id": 999}); code != http.StatusUnprocessableEntity {
		t.Errorf("unknown response: %d", code)
	}
	if code, _ := ce.sendJSON("POST", path, ce.triagerToken, map[string]any{"response_id": id, "body": "also"}); code != http.StatusUnprocessableEntity {
		t.Errorf("both body and response_id: %d", code)
	}
	if a := ce.rawJSON("DELETE", fmt.Sprintf("/api/v1/responses/%d", id), ce.adminToken, ""); a.code != http.StatusNoContent {
		t.Errorf("delete: %d", a.code)
	}
	if a := ce.rawJSON("DELETE", fmt.Sprintf("/api/v1/responses/%d", id), ce.adminToken, ""); a.code != http.StatusNotFound {
		t.Errorf("delete again: %d", a.code)
	}
	if !ce.hasAudit(triage.AuditResponseCreate, "root@localhost", fmt.Sprintf("response:%d", id)) || !ce.hasAudit(triage.AuditResponseDelete, "root@localhost", "") {
		t.Error("response changes not audited")
	}
}

// TestResponses_Pages: the admin page keeps them; the reply form offers
// them, the Insert endpoint fills one in, and a status move with a
// default puts it in the reply box (htmx: out of band when the box was
// empty; without: the redirect names it).
func TestResponses_Pages(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	_, admin := ce.staffCookie("boss@localhost", triage.RoleAdmin)
	_, tri := ce.staffCookie("tri@localhost", triage.RoleTriager)
	resp, _ := ce.do(ce.client(), "POST", "/admin/responses", url.Values{"name": {"More please"}, "body": {"Could you send a PoC for {{tracking_id}}?"}, "default_for": {"needs-info"}}, admin...)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	resp, page := ce.do(ce.client(), "POST", "/admin/responses", url.Values{"name": {"More please"}, "body": {"again"}}, admin...)
	if resp.StatusCode != http.StatusConflict || len(byTestID(t, page, "field-error")) != 1 {
		t.Errorf("same name: %d %q", resp.StatusCode, byTestID(t, page, "field-error"))
	}
	rs, _ := ce.db.Responses(t.Context())
	if len(rs) != 1 {
		t.Fatalf("%d responses", len(rs))
	}
	rid := rs[0].ID
	filled := fmt.Sprintf("Could you send a PoC for %s?", ce.rep.TrackingID)

	_, page = ce.do(ce.client(), "GET", fmt.Sprintf("/reports/%d", ce.rep.ID), nil, tri...)
	if got := byTestID(t, page, "response-select"); len(got) != 1 || !strings.Contains(got[0], "More please") {
		t.Errorf("reply form's responses %q", got)
	}
	resp, body := ce.do(ce.client(), "GET", fmt.Sprintf("/reports/%d/responses/%d", ce.rep.ID, rid), nil, tri...)
	if resp.StatusCode != http.StatusOK || body != filled || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("insert: %d %q", resp.StatusCode, body)
	}
	// Without JavaScript, Insert reloads the page with it in the box.
	_, page = ce.do(ce.client(), "GET", fmt.Sprintf("/reports/%d?response=%d", ce.rep.ID, rid), nil, tri...)
	if got := byTestID(t, page, "reply-input"); len(got) != 1 || got[0] != filled {
		t.Errorf("reply box after Insert without JavaScript %q", got)
	}

	// The move to needs-info suggests it.
	hx := append([]string{"HX-Request", "true"}, tri...)
	_, body = ce.do(ce.client(), "POST", fmt.Sprintf("/reports/%d/status", ce.rep.ID), url.Values{"status": {"needs-info"}, "from": {"report"}, "body": {""}}, hx...)
	doc := parseHTML(t, body)
	if n := findByID(doc, "reply-body"); n == nil || attrOf(n, "hx-swap-oob") != "true" || textOf(n) != filled {
		t.Errorf("no suggested reply out of band after the move: %v", n)
	}
	// Not over what was typed.
	_, body = ce.do(ce.client(), "POST", fmt.Sprintf("/reports/%d/status", ce.rep.ID), url.Values{"status": {"triaging"}, "from": {"report"}, "body": {"typed"}}, hx...)
	if findByID(parseHTML(t, body), "reply-body") != nil {
		t.Error("a move replaced the reply being typed")
	}
	resp, _ = ce.do(ce.client(), "POST", fmt.Sprintf("/reports/%d/status", ce.rep.ID), url.Values{"status": {"needs-info"}, "from": {"report"}}, tri...)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != fmt.Sprintf("/reports/%d?done=status&response=%d#reply-body", ce.rep.ID, rid) {
		t.Errorf("move without JavaScript: %d %q", resp.StatusCode, loc)
	}
}
