package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestDeadlines_ReportPage drives the report page's disclosure panel
// without JavaScript: the disclosure deadline shows in UTC in a <time>
// the script can read; moving it needs a reason; an embargo holds back
// the move to disclosed; an actively exploited report shows the CRA
// clocks.
func TestDeadlines_ReportPage(t *testing.T) {
	t.Parallel()
	te := newTriageEnv(t)
	_, hdr := te.staffCookie("tri@localhost", triage.RoleTriager)
	rep := te.fileReport(t0.Add(-2*time.Hour), func(r *triage.Report) { r.Title = "IDOR on invoices" })
	page := func() string {
		t.Helper()
		resp, body := te.do(te.client(), "GET", fmt.Sprintf("/reports/%d", rep.ID), nil, hdr...)
		if resp.StatusCode != 200 {
			t.Fatalf("report page: %d", resp.StatusCode)
		}
		return body
	}
	if got := byTestID(t, page(), "deadlines-none"); len(got) != 1 {
		t.Errorf("before acceptance: %q", got)
	}
	te.update(rep.ID, triage.Change{Status: ptr(triage.StatusAccepted)}, t0.Add(-time.Hour))
	due := rep.ReceivedAt.Add(90 * 24 * time.Hour)
	body := page()
	if got := byTestID(t, body, "deadline-due"); len(got) != 1 || got[0] != due.Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("disclosure due shown %q, want %s UTC", got, due)
	}
	if want := `<time datetime="` + due.Format(time.RFC3339) + `" data-local="true"`; !strings.Contains(body, want) {
		t.Errorf("no %s in the page", want)
	}

	post := func(form url.Values) (*http.Response, string) {
		t.Helper()
		return te.do(te.client(), "POST", fmt.Sprintf("/reports/%d/deadlines", rep.ID), form, hdr...)
	}
	later := due.Add(30 * 24 * time.Hour)
	resp, body := post(url.Values{"action": {"extend"}, "disclosure_due_at": {later.Format("2006-01-02T15:04")}})
	if resp.StatusCode != http.StatusBadRequest || len(byTestID(t, body, "deadlines-error")) != 1 {
		t.Errorf("without a reason: %d %q", resp.StatusCode, byTestID(t, body, "deadlines-error"))
	}
	resp, _ = post(url.Values{"action": {"extend"}, "disclosure_due_at": {later.Format("2006-01-02T15:04")}, "reason": {"the vendor asked for 30 more days"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/reports/%d?done=deadlines#deadlines", rep.ID) {
		t.Fatalf("extend: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	body = page()
	if got := byTestID(t, body, "deadline-due"); len(got) != 1 || got[0] != later.Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("moved deadline shown %q", got)
	}
	if len(byTestID(t, body, "deadline-extended")) != 1 {
		t.Error("the page does not say the deadline was moved")
	}

	until := t0.Add(10 * 24 * time.Hour)
	if resp, body := post(url.Values{"action": {"embargo"}, "embargo_until": {until.Format("2006-01-02T15:04")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("embargo: %d %q", resp.StatusCode, byTestID(t, body, "deadlines-error"))
	}
	te.update(rep.ID, triage.Change{Status: ptr(triage.StatusFixed)}, t0)
	resp, body = te.do(te.client(), "POST", fmt.Sprintf("/reports/%d/status", rep.ID), url.Values{"status": {"disclosed"}, "from": {"report"}}, hdr...)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(strings.Join(byTestID(t, body, "action-error"), ""), "under embargo until") {
		t.Errorf("disclosed under embargo: %d %q", resp.StatusCode, byTestID(t, body, "action-error"))
	}
	if got := byTestID(t, body, "deadline-embargo-until"); len(got) != 1 || got[0] != until.Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("embargo shown %q", got)
	}

	aware := t0.Add(-30 * time.Minute)
	if resp, body := post(url.Values{"action": {"exploited"}, "aware_at": {aware.Format("2006-01-02T15:04")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("exploited: %d %q", resp.StatusCode, byTestID(t, body, "deadlines-error"))
	}
	sent := t0.Add(-10 * time.Minute)
	if resp, body := post(url.Values{"action": {"cra-sent"}, "report": {"early_warning"}, "sent_at": {sent.Format("2006-01-02T15:04")}, "reference": {"CSIRT-DE 2026-4711"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("early warning sent: %d %q", resp.StatusCode, byTestID(t, body, "deadlines-error"))
	}
	body = page()
	if got := byTestID(t, body, "deadline-state"); strings.Join(got, " ") != "running met running running" {
		t.Errorf("states (disclosure, early warning, notification, final report) %q", got)
	}
	if got := strings.Join(byTestID(t, body, "deadline-done"), "|"); !strings.Contains(got, "sent "+sent.Format("2006-01-02 15:04")+" UTC, CSIRT-DE 2026-4711") {
		t.Errorf("early warning done %q", got)
	}

	// A viewer sees the panel without its forms, and may not post them.
	viewer := te.viewerClient()
	_, body = te.get(viewer, fmt.Sprintf("/reports/%d", rep.ID), "Sec-Fetch-Site", "same-origin")
	if len(byTestID(t, body, "deadlines-panel")) != 1 || strings.Contains(body, `data-testid="deadline-extend-form"`) {
		t.Error("viewer: panel missing or forms shown")
	}
	if resp, _ := te.do(viewer, "POST", fmt.Sprintf("/reports/%d/deadlines", rep.ID), url.Values{"action": {"lift-embargo"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer posting: %d", resp.StatusCode)
	}
}

// TestDeadlines_API: the report JSON's disclosure and cra, and PATCH's
// deadline fields.
func TestDeadlines_API(t *testing.T) {
	t.Parallel()
	te := newTriageEnv(t)
	rep := te.fileReport(t0.Add(-2*time.Hour), func(r *triage.Report) { r.Title = "Auth bypass" })
	path := fmt.Sprintf("/api/v1/reports/%d", rep.ID)
	code, m := te.sendJSON("PATCH", path, te.triagerToken, map[string]any{"status": "accepted", "actively_exploited": true, "aware_at": t0.Add(-time.Hour).Format(time.RFC3339)})
	if code != 200 {
		t.Fatalf("PATCH: %d %v", code, m)
	}
	disc := m["disclosure"].(map[string]any)
	due := rep.ReceivedAt.Add(90 * 24 * time.Hour)
	if disc["due_at"] != due.Format(time.RFC3339) || disc["extended"] != false || disc["embargo_until"] != nil || disc["state"] != "running" {
		t.Errorf("disclosure %v", disc)
	}
	cra := m["cra"].(map[string]any)
	ew := cra["early_warning"].(map[string]any)
	if cra["aware_at"] != t0.Add(-time.Hour).Format(time.RFC3339) || ew["due_at"] != t0.Add(23*time.Hour).Format(time.RFC3339) ||
		ew["state"] != "running" || ew["sent_at"] != nil || cra["final_report"].(map[string]any)["state"] != "waiting" {
		t.Errorf("cra %v", cra)
	}
	if ids, ok := m["cve_ids"].([]any); !ok || len(ids) != 0 {
		t.Errorf("cve_ids %v", m["cve_ids"])
	}

	later := due.Add(14 * 24 * time.Hour).Format(time.RFC3339)
	if code, m := te.sendJSON("PATCH", path, te.triagerToken, map[string]any{"disclosure_due_at": later}); code != 422 {
		t.Errorf("without a reason: %d %v", code, m)
	}
	if code, m := te.sendJSON("PATCH", path, viewerToken, map[string]any{"disclosure_due_at": later, "reason": "x"}); code != 403 {
		t.Errorf("viewer: %d %v", code, m)
	}
	code, m = te.sendJSON("PATCH", path, te.triagerToken, map[string]any{"disclosure_due_at": later, "reason": "coordinated with another vendor",
		"embargo_until": t0.Add(48 * time.Hour).Format(time.RFC3339),
		"cra_sent":      []map[string]string{{"report": "early_warning", "sent_at": t0.Format(time.RFC3339), "reference": "ENISA SRP-1"}}})
	if code != 200 {
		t.Fatalf("extend: %d %v", code, m)
	}
	disc = m["disclosure"].(map[string]any)
	if disc["due_at"] != later || disc["extended"] != true || disc["embargo_until"] != t0.Add(48*time.Hour).Format(time.RFC3339) || disc["embargoed"] != true {
		t.Errorf("after extend: %v", disc)
	}
	ew = m["cra"].(map[string]any)["early_warning"].(map[string]any)
	if ew["state"] != "met" || ew["reference"] != "ENISA SRP-1" {
		t.Errorf("early warning %v", ew)
	}
	code, m = te.sendJSON("PATCH", path, te.triagerToken, map[string]any{"embargo_until": nil})
	if code != 200 || m["disclosure"].(map[string]any)["embargo_until"] != nil {
		t.Errorf("lift: %d %v", code, m["disclosure"])
	}
	if code, m := te.sendJSON("PATCH", path, te.triagerToken, `{"embargo_until": 7}`); code != 400 {
		t.Errorf("embargo_until 7: %d %v", code, m)
	}

	// The list carries them too.
	code, m = te.sendJSON("GET", "/api/v1/reports", viewerToken, nil)
	if code != 200 {
		t.Fatal(code)
	}
	found := false
	for _, r := range m["reports"].([]any) {
		r := r.(map[string]any)
		if r["tracking_id"] == rep.TrackingID {
			found = r["disclosure"].(map[string]any)["due_at"] == later && r["cra"].(map[string]any)["actively_exploited"] == true
		}
	}
	if !found {
		t.Error("list: the report's disclosure or cra is missing")
	}
	// The history has the reason-less event, the audit log the reason.
	evs, _ := te.db.ReportEvents(context.Background(), rep.ID)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, string(e.Kind))
	}
	if got := strings.Join(kinds, " "); got != "status disclosure_due actively_exploited disclosure_due embargo cra_sent embargo" {
		t.Errorf("history %s", got)
	}

	// The metrics count the clocks.
	resp, metrics := te.get(te.client(), "/metrics", "Authorization", "Bearer "+te.adminToken)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`secinbox_deadlines{clock="disclosure",state="running"} 1`,
		`secinbox_deadlines{clock="cra_early_warning",state="running"} 0`,
		`secinbox_deadlines{clock="cra_notification",state="running"} 1`,
		`secinbox_deadlines{clock="cra_final_report",state="running"} 0`,
		`secinbox_reports_actively_exploited 1`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	te.clock.Set(t0.Add(80 * time.Hour))
	if _, metrics := te.get(te.client(), "/metrics", "Authorization", "Bearer "+te.adminToken); !strings.Contains(metrics, `secinbox_deadlines{clock="cra_notification",state="breached"} 1`) {
		t.Error("metrics: the notification clock is not breached after 80 hours")
	}
}

// TestDeadlines_BoardAndStatusPage: the board's due-soon group and the
// researcher's status page.
func TestDeadlines_BoardAndStatusPage(t *testing.T) {
	t.Parallel()
	e, _ := formEnv(t)
	ctx := context.Background()
	raw := &triage.RawMessage{MailFrom: "carol@example.org", Recipients: []string{"security@secinbox.example"},
		RemoteAddr: "192.0.2.7", ReceivedAt: t0.Add(-80 * 24 * time.Hour), Data: []byte("-----BEGIN PGP MESSAGE-----\r\n...")}
	nonce := triage.NewNonce()
	if err := e.db.AddWebSubmission(ctx, raw, nonce, func(id int64) []byte {
		return triage.TokenHash(triage.LinkToken(testLinkKey, triage.LinkStatus, id, nonce))
	}); err != nil {
		t.Fatal(err)
	}
	rep := triage.NewReport(raw.ReceivedAt)
	rep.MessageID, rep.Title, rep.ResearcherEmail = raw.ID, "Open redirect", "carol@example.org"
	if err := e.db.FileReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	status := "/status/" + triage.LinkToken(testLinkKey, triage.LinkStatus, raw.ID, nonce)
	_, body := e.get(e.client(), status)
	if len(byTestID(t, body, "status-disclosure")) != 0 {
		t.Error("status page shows a disclosure deadline before acceptance")
	}
	accepted := triage.StatusAccepted
	if _, err := e.db.UpdateReport(ctx, rep.ID, triage.Change{Status: &accepted, Deadlines: &triage.DeadlineChange{EmbargoUntil: ptr(t0.Add(5 * 24 * time.Hour))}},
		triage.Actor{Email: "tri@localhost"}, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	due := raw.ReceivedAt.Add(90 * 24 * time.Hour)
	_, body = e.get(e.client(), status)
	if got := byTestID(t, body, "status-disclosure-time"); len(got) != 1 || got[0] != due.Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("status page deadline %q", got)
	}
	if !strings.Contains(body, `<time datetime="`+due.Format(time.RFC3339)+`" data-local="true"`) || !strings.Contains(body, `<script src="/static/app.js" defer>`) {
		t.Error("status page: no <time> for the script, or no script")
	}
	if got := byTestID(t, body, "status-embargo-time"); len(got) != 1 {
		t.Errorf("status page embargo %q", got)
	}

	_, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)
	_, body = e.do(e.client(), "GET", "/board", nil, hdr...)
	rows := byTestID(t, body, "due-soon-row")
	if len(rows) != 1 || !strings.Contains(rows[0], rep.TrackingID) || !strings.Contains(rows[0], "disclosure deadline") {
		t.Errorf("board due-soon group %q", rows)
	}
}
