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

// TestQuarantine_Pages: an admin quarantines a sender from one of their
// reports in one form post; the report and the sender's other open ones
// leave the board for the quarantine view; the report page shows the
// sender's history; new mail from them is held without acknowledgement;
// the release (API) moves them back and acknowledges them.
func TestQuarantine_Pages(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	ctx := context.Background()
	_, admin := ce.staffCookie("boss@localhost", triage.RoleAdmin)
	_, tri := ce.staffCookie("tri@localhost", triage.RoleTriager)
	spam := func(title string, at time.Time) *triage.Report {
		return ce.fileReport(at, func(r *triage.Report) { r.Title, r.ResearcherEmail = title, "bot@junk.example" })
	}
	first := spam("Cheap pills", t0.Add(-3*time.Hour))
	second := spam("Cheaper pills", t0.Add(-2*time.Hour))
	if _, err := ce.db.UpdateReport(ctx, first.ID, triage.Change{Status: ptr(triage.StatusSpam)}, triage.Actor{}, t0); err != nil {
		t.Fatal(err)
	}

	_, page := ce.do(ce.client(), "GET", fmt.Sprintf("/reports/%d", second.ID), nil, admin...)
	if got := byTestID(t, page, "sender-address-total"); len(got) != 1 || got[0] != "1 other report" {
		t.Errorf("sender history %q", got)
	}
	if got := byTestID(t, page, "sender-by-address"); len(got) != 1 || !strings.Contains(got[0], first.TrackingID) || !strings.Contains(got[0], "spam") {
		t.Errorf("sender's reports %q", got)
	}
	if n := len(byTestID(t, page, "quarantine-form")); n != 1 {
		t.Fatalf("%d quarantine forms for an admin", n)
	}
	_, page = ce.do(ce.client(), "GET", fmt.Sprintf("/reports/%d", second.ID), nil, tri...)
	if n := len(byTestID(t, page, "quarantine-form")); n != 0 {
		t.Error("a triager is offered the quarantine")
	}

	resp, _ := ce.do(ce.client(), "POST", "/quarantine", url.Values{"rule": {"address:bot@junk.example"}, "report": {fmt.Sprint(second.ID)}}, admin...)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), fmt.Sprintf("/reports/%d?quarantined=", second.ID)) {
		t.Fatalf("quarantine: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = ce.do(ce.client(), "GET", resp.Header.Get("Location"), nil, admin...)
	if len(byTestID(t, page, "held-banner")) != 1 || len(byTestID(t, page, "release-form")) != 1 || len(byTestID(t, page, "sender-notice")) != 1 {
		t.Error("the held report does not say it is held, or offers no release")
	}
	if resp, _ := ce.do(ce.client(), "POST", "/quarantine", url.Values{"rule": {"address:bot@junk.example"}}, tri...); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a triager quarantined: %d", resp.StatusCode)
	}

	_, page = ce.do(ce.client(), "GET", "/board", nil, tri...)
	if got := strings.Join(byTestID(t, page, "board-tracking"), " "); strings.Contains(got, second.TrackingID) {
		t.Errorf("held report on the board: %s", got)
	}
	_, page = ce.do(ce.client(), "GET", "/quarantine", nil, tri...)
	if got := byTestID(t, page, "board-tracking"); len(got) != 1 || got[0] != second.TrackingID {
		t.Errorf("quarantine view %q", got)
	}
	if got := byTestID(t, page, "quarantine-rule"); len(got) != 1 || !strings.Contains(got[0], "bot@junk.example") || !strings.Contains(got[0], "1 held") {
		t.Errorf("rules %q", got)
	}

	// New mail from them: held, no acknowledgement.
	r := triage.NewReport(t0)
	r.MessageID, r.Title, r.ResearcherEmail = first.MessageID+1000, "More pills", "bot@junk.example"
	raw := &triage.RawMessage{MailFrom: "bot@junk.example", ReceivedAt: t0, Data: []byte("Subject: x\r\n\r\ny\r\n")}
	if err := ce.db.AddRawMessage(ctx, raw); err != nil {
		t.Fatal(err)
	}
	r.MessageID = raw.ID
	var err error
	if r.Quarantine, err = ce.db.QuarantineFor(ctx, r); err != nil || r.Quarantine == 0 {
		t.Fatalf("quarantine for: %d %v", r.Quarantine, err)
	}
	ack := &triage.OutMail{Kind: triage.MailAck, To: "bot@junk.example", HeaderMessageID: triage.NewMessageID("localhost"), CreatedAt: t0}
	if err := ce.db.FileReportAck(ctx, r, ack); err != nil {
		t.Fatal(err)
	}
	code, m := ce.sendJSON("GET", "/api/v1/reports?quarantined=true", viewerToken, nil)
	if list, _ := m["reports"].([]any); code != http.StatusOK || len(list) != 2 {
		t.Errorf("API quarantined=true: %d %d reports", code, len(list))
	}
	code, m = ce.sendJSON("GET", "/api/v1/quarantine", viewerToken, nil)
	rules, _ := m["quarantine"].([]any)
	if code != http.StatusOK || len(rules) != 1 {
		t.Fatalf("API rules %d %v", code, m)
	}
	id := int64(rules[0].(map[string]any)["id"].(float64))

	code, m = ce.sendJSON("DELETE", fmt.Sprintf("/api/v1/quarantine/%d", id), ce.adminToken, nil)
	if code != http.StatusOK || m["released"] != float64(2) || m["acknowledged"] != float64(1) {
		t.Errorf("release: %d %v", code, m)
	}
	if mails := ce.outbox(r.ID); len(mails) != 1 || mails[0].Kind != triage.MailAck {
		t.Errorf("acknowledgement after the release: %+v", mails)
	}
	_, page = ce.do(ce.client(), "GET", "/board", nil, tri...)
	if got := strings.Join(byTestID(t, page, "board-tracking"), " "); !strings.Contains(got, second.TrackingID) || !strings.Contains(got, r.TrackingID) {
		t.Errorf("released reports not on the board: %s", got)
	}
	if !ce.hasAudit(triage.AuditQuarantineAdd, "boss@localhost", "") || !ce.hasAudit(triage.AuditQuarantineRelease, "root@localhost", "") {
		t.Error("quarantine not audited")
	}
}
