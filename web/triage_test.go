package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/secinbox/secinbox/triage"
)

// attrOf is n's attribute key, "" if it has none.
func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// staffCookie signs in a new user of role with a session made in the
// database and returns the Cookie header pair for e.do.
func (e *env) staffCookie(email string, role triage.Role) (*triage.User, []string) {
	e.t.Helper()
	u := e.addUser(email, role, "a long test password 1")
	cookie, _ := e.newSession(u.ID)
	return u, []string{"Cookie", "secinbox_session=" + cookie}
}

// TestActions_WithoutJavaScript posts the report page's forms as a
// browser without JavaScript does: a change redirects back to the
// report, a refusal shows the page again with the domain's error and
// its status code.
func TestActions_WithoutJavaScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)
	id := e.xss.ID
	post := func(action string, form url.Values) (*http.Response, string) {
		t.Helper()
		form.Set("from", "report")
		return e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/%s", id, action), form, hdr...)
	}

	resp, _ := post("status", url.Values{"status": {"triaging"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/reports/%d?done=status#triage", id) {
		t.Fatalf("status change: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := e.do(e.client(), "GET", fmt.Sprintf("/reports/%d?done=status", id), nil, hdr...)
	if got := byTestID(t, page, "report-status"); len(got) != 1 || got[0] != "triaging" {
		t.Errorf("status shown %q", got)
	}
	if got := byTestID(t, page, "action-notice"); len(got) != 1 || got[0] != "Status changed." {
		t.Errorf("notice %q", got)
	}

	resp, page = post("status", url.Values{"status": {"fixed"}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("illegal move: status %d, want 409", resp.StatusCode)
	}
	if got := byTestID(t, page, "action-error"); len(got) != 1 || got[0] != fmt.Sprintf("cannot move %s from triaging to fixed", e.xss.TrackingID) {
		t.Errorf("error %q", got)
	}
	if got := byTestID(t, page, "report-title"); len(got) != 1 {
		t.Error("the refusal is not the report page")
	}

	resp, page = post("cvss", url.Values{"vector": {"CVSS:3.1/AV:N/AC:X"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("invalid vector: status %d, want 422", resp.StatusCode)
	}
	if got := byTestID(t, page, "action-error"); len(got) != 1 || !strings.Contains(got[0], "invalid CVSS v3.1 vector") {
		t.Errorf("error %q", got)
	}
	if !strings.Contains(page, `value="CVSS:3.1/AV:N/AC:X"`) {
		t.Error("the vector typed is not shown again")
	}
	if resp, _ := post("cvss", url.Values{"vector": {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("valid vector: status %d", resp.StatusCode)
	}

	if resp, _ := post("labels", url.Values{"labels": {"Web, auth,, web"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("labels: status %d", resp.StatusCode)
	}
	if resp, _ := post("notes", url.Values{"body": {"Looks real. " + xssScript}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("note: status %d", resp.StatusCode)
	}
	resp, page = post("duplicate", url.Values{"original": {"SEC-1999-0001"}})
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(strings.Join(byTestID(t, page, "action-error"), ""), "no report SEC-1999-0001") {
		t.Errorf("duplicate of a missing report: %d %q", resp.StatusCode, byTestID(t, page, "action-error"))
	}

	r, err := e.db.Report(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.CVSS.Score != 9.8 || strings.Join(r.Labels, ",") != "auth,web" || r.Status != triage.StatusTriaging {
		t.Errorf("stored: cvss %v labels %v status %s", r.CVSS, r.Labels, r.Status)
	}
	_, page = e.do(e.client(), "GET", fmt.Sprintf("/reports/%d", id), nil, hdr...)
	notes := byTestID(t, page, "note-body")
	if len(notes) != 1 || notes[0] != "Looks real. "+xssScript {
		t.Errorf("notes %q", notes)
	}
	if strings.Contains(page, xssScript) {
		t.Error("the note is rendered as markup")
	}
	if !e.hasAudit("report.status", "tri@localhost", fmt.Sprintf("report:%d", id)) || !e.hasAudit("report.note", "tri@localhost", "") {
		t.Error("actions not audited")
	}

	// Merge the undecryptable report into this one, by tracking id.
	if resp, _ := e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/duplicate", e.overdue.ID),
		url.Values{"original": {strings.ToLower(e.xss.TrackingID)}}, hdr...); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("duplicate: status %d", resp.StatusCode)
	}
	if d, _ := e.db.Report(context.Background(), e.overdue.ID); d.Status != triage.StatusDuplicate || d.DuplicateOf != id {
		t.Errorf("duplicate stored as %s of %d", d.Status, d.DuplicateOf)
	}
}

// TestActions_HTMX checks the in-place answers: the triage panel with
// the header status out of band, and refusals swapped in with their
// status code; from the board, the quick form and a refresh trigger.
func TestActions_HTMX(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)
	hx := append([]string{"HX-Request", "true"}, hdr...)
	resp, body := e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/status", e.xss.ID), url.Values{"status": {"needs-info"}, "from": {"report"}}, hx...)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") {
		t.Fatalf("status %d, whole page %v", resp.StatusCode, strings.Contains(body, "<html"))
	}
	if !strings.Contains(body, `id="report-status" hx-swap-oob="true"`) || !strings.Contains(body, `id="triage"`) {
		t.Error("no panel or out-of-band status")
	}
	if got := byTestID(t, body, "sla-state"); len(got) < 1 || got[0] != "paused" {
		t.Errorf("clock states %q after needs-info", got)
	}
	resp, body = e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/status", e.xss.ID), url.Values{"status": {"disclosed"}, "from": {"board"}}, hx...)
	if resp.StatusCode != http.StatusConflict || len(byTestID(t, body, "quick-error")) != 1 || resp.Header.Get("HX-Trigger") != "" {
		t.Errorf("illegal from the board: %d %q trigger %q", resp.StatusCode, byTestID(t, body, "quick-error"), resp.Header.Get("HX-Trigger"))
	}
	resp, body = e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/status", e.xss.ID), url.Values{"status": {"triaging"}, "from": {"board"}}, hx...)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Trigger") != "board-refresh" || len(byTestID(t, body, "quick-notice")) != 1 {
		t.Errorf("from the board: %d trigger %q", resp.StatusCode, resp.Header.Get("HX-Trigger"))
	}
	// A refusal naming a report that does not exist is still swapped in:
	// htmx (templates' htmxConfig) swaps only 400, 409 and 422.
	resp, body = e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/duplicate", e.xss.ID), url.Values{"original": {"SEC-1999-0001"}, "from": {"report"}}, hx...)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(byTestID(t, body, "action-error"), ""), "no report SEC-1999-0001") {
		t.Errorf("duplicate of a missing report with htmx: %d %q", resp.StatusCode, byTestID(t, body, "action-error"))
	}
	// The quick form offers only legal moves.
	_, body = e.do(e.client(), "GET", fmt.Sprintf("/reports/%d/quick?action=status", e.xss.ID), nil, hx...)
	if !strings.Contains(body, `value="accepted"`) || strings.Contains(body, `value="fixed"`) || strings.Contains(body, `value="new"`) {
		t.Errorf("quick status options: %s", body)
	}
}

func TestCVSSScore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	for _, tc := range []struct {
		vector string
		status int
		want   string
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 200, "9.8"},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 200, "9.3"},
		{"CVSS:3.1/AV:N", 422, "invalid CVSS v3.1 vector"},
		{"<script>alert(1)</script>", 422, "starts with"},
		{"", 200, "Enter or build a vector"},
	} {
		resp, body := e.get(c, "/cvss/score?vector="+url.QueryEscape(tc.vector))
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%q: %d %s", tc.vector, resp.StatusCode, body)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("%q echoed as markup", tc.vector)
		}
	}
}

func TestBoard_Filters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)
	get := func(path string, extra ...string) (*http.Response, string) {
		return e.do(e.client(), "GET", path, nil, append(extra, hdr...)...)
	}
	_, body := get("/board?breached=yes")
	if rows := byTestID(t, body, "board-tracking"); len(rows) != 1 || rows[0] != e.overdue.TrackingID {
		t.Errorf("breached: %q", rows)
	}
	_, body = get("/board?q=" + url.QueryEscape(e.overdue.TrackingID))
	if rows := byTestID(t, body, "board-tracking"); len(rows) != 1 || rows[0] != e.overdue.TrackingID {
		t.Errorf("search by tracking id: %q", rows)
	}
	resp, body := get("/board?severity=catastrophic&page=0")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(strings.Join(byTestID(t, body, "board-error"), ""), `unknown severity "catastrophic"`) {
		t.Errorf("bad filter: %d %q", resp.StatusCode, byTestID(t, body, "board-error"))
	}
	resp, body = get("/board?status=all", "HX-Request", "true", "HX-Target", "board-results")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") || len(byTestID(t, body, "board-row")) != 2 {
		t.Errorf("htmx results: %d, %d rows", resp.StatusCode, len(byTestID(t, body, "board-row")))
	}
	if _, body = get("/board?status=closed"); len(byTestID(t, body, "board-row")) != 0 {
		t.Error("closed shows open reports")
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, hdr := e.staffCookie("boss@localhost", triage.RoleAdmin)
	form := url.Values{
		"first_response_hours": {"8"}, "triage_hours": {"16"},
		"remediation_critical": {"40"}, "remediation_high": {"160"}, "remediation_medium": {"480"}, "remediation_low": {"960"},
		"business_hours": {"on"}, "time_zone": {"Europe/Berlin"}, "days": {"mon", "tue", "wed", "thu", "fri"},
		"start": {"09:00"}, "end": {"17:00"}, "holidays": {"2026-12-25\r\n2026-12-24\r\n"},
	}
	resp, _ := e.do(e.client(), "POST", "/admin/settings", form, hdr...)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/settings?saved=") {
		t.Fatalf("save: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	p, err := e.db.SLAPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.FirstResponse != 8*time.Hour || p.Calendar == nil || p.Calendar.Location.String() != "Europe/Berlin" || len(p.Calendar.Holidays) != 2 {
		t.Errorf("stored policy %+v", p)
	}
	if !e.hasAudit(triage.AuditSettingsChange, admin.Email, "") {
		t.Error("not audited")
	}
	_, body := e.do(e.client(), "GET", "/admin/settings?saved=2", nil, hdr...)
	for id, want := range map[string]string{"settings-time-zone": "Europe/Berlin", "settings-holidays": "2026-12-24\n2026-12-25"} {
		if got := byTestID(t, body, id); id == "settings-holidays" && (len(got) != 1 || got[0] != want) {
			t.Errorf("%s %q", id, got)
		}
	}
	if !strings.Contains(body, `value="Europe/Berlin"`) || !strings.Contains(body, "clocks of 2 open reports") {
		t.Error("the form does not show the stored policy and notice")
	}
	form.Set("time_zone", "Mars/Olympus")
	resp, body = e.do(e.client(), "POST", "/admin/settings", form, hdr...)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(strings.Join(byTestID(t, body, "settings-error"), ""), `unknown zone "Mars/Olympus"`) {
		t.Errorf("bad zone: %d %q", resp.StatusCode, byTestID(t, body, "settings-error"))
	}
	form.Set("first_response_hours", "soon")
	if _, body = e.do(e.client(), "POST", "/admin/settings", form, hdr...); !strings.Contains(body, "First response: enter a number of hours") {
		t.Error("bad number not explained")
	}
}

func TestTeamMetricsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, body := e.get(e.viewerClient(), "/team/metrics")
	if got := byTestID(t, body, "metrics-received"); len(got) != 2 || got[0] != "2" || got[1] != "2" {
		t.Errorf("received %q", got)
	}
	// One breached (the overdue report), one still running: 0 % within.
	if got := byTestID(t, body, "metrics-within"); len(got) != 2 || got[0] != "0 %" {
		t.Errorf("within SLA %q", got)
	}
	if got := byTestID(t, body, "metrics-open-unscored"); len(got) != 1 || got[0] != "2" {
		t.Errorf("open unscored %q", got)
	}
	if n := len(byTestID(t, body, "chart-bar")); n != triage.ChartWeeks {
		t.Errorf("%d bars", n)
	}
}

// TestBoard_Bulk: several reports assigned, labelled and closed as spam
// at once, each change audited on its report; the workflow's refusals
// listed; viewers and other sites refused.
func TestBoard_Bulk(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tri, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)
	ctx := context.Background()
	labels := []string{"old"}
	if _, err := e.db.UpdateReport(ctx, e.xss.ID, triage.Change{Labels: &labels}, triage.Actor{UserID: tri.ID}, t0); err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values, extra ...string) (*http.Response, string) {
		t.Helper()
		form.Set("back", "/board?status=all")
		return e.do(e.client(), "POST", "/board/bulk", form, append(extra, hdr...)...)
	}
	ids := []string{fmt.Sprint(e.xss.ID), fmt.Sprint(e.overdue.ID)}

	resp, _ := post(url.Values{"id": ids, "action": {"assign"}, "assignee": {fmt.Sprint(tri.ID)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board?bulk=2&refused=0&status=all" {
		t.Fatalf("assign: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = post(url.Values{"id": ids, "action": {"label"}, "label": {"Wave-3"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("label: %d", resp.StatusCode)
	}
	for _, id := range []int64{e.xss.ID, e.overdue.ID} {
		r, _ := e.db.Report(ctx, id)
		if r.Assignee != tri.ID || !strings.Contains(strings.Join(r.Labels, ","), "wave-3") {
			t.Errorf("report %d: assignee %d labels %v", id, r.Assignee, r.Labels)
		}
		if !e.hasAudit("report.assignee", tri.Email, fmt.Sprintf("report:%d", id)) || !e.hasAudit("report.labels", tri.Email, fmt.Sprintf("report:%d", id)) {
			t.Errorf("report %d: bulk change not audited on the report", id)
		}
	}
	if r, _ := e.db.Report(ctx, e.xss.ID); strings.Join(r.Labels, ",") != "old,wave-3" {
		t.Errorf("a label added replaced the others: %v", r.Labels)
	}

	// Close as spam with htmx: one accepted report is refused, by name.
	if _, err := e.db.UpdateReport(ctx, e.xss.ID, triage.Change{Status: ptr(triage.StatusAccepted)}, triage.Actor{UserID: tri.ID}, t0); err != nil {
		t.Fatal(err)
	}
	resp, body := post(url.Values{"id": ids, "action": {"spam"}}, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") {
		t.Fatalf("spam with htmx: %d", resp.StatusCode)
	}
	if got := byTestID(t, body, "bulk-notice"); len(got) != 1 || !strings.Contains(got[0], "1 report changed. 1 refused.") {
		t.Errorf("notice %q", got)
	}
	if got := strings.Join(byTestID(t, body, "bulk-refused"), ""); !strings.Contains(got, e.xss.TrackingID+": cannot move") {
		t.Errorf("refusals %q", got)
	}
	if r, _ := e.db.Report(ctx, e.overdue.ID); r.Status != triage.StatusSpam {
		t.Errorf("overdue report %s, want spam", r.Status)
	}

	// Nothing selected, an unknown action: refused with the reason.
	if resp, _ := post(url.Values{"action": {"spam"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("nothing selected: %d", resp.StatusCode)
	}
	if resp, _ := post(url.Values{"id": ids, "action": {"delete"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown action: %d", resp.StatusCode)
	}
	// A viewer may not; another site may not.
	_, vh := e.staffCookie("view2@localhost", triage.RoleViewer)
	if resp, _ := e.do(e.client(), "POST", "/board/bulk", url.Values{"id": ids, "action": {"spam"}}, vh...); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer: %d", resp.StatusCode)
	}
	if resp, _ := post(url.Values{"id": ids, "action": {"assign"}, "assignee": {"0"}}, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d", resp.StatusCode)
	}
}
