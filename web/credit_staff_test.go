package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestSetCredit: staff set the advisory title later, and record the
// choice a researcher made by mail, expired link or not; both audited.
func TestSetCredit(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	ctx := context.Background()
	path := fmt.Sprintf("/api/v1/reports/%d/credit", ce.rep.ID)

	if code, _ := ce.sendJSON("PUT", path, ce.triagerToken, `{"advisory_title": "Open redirect"}`); code != http.StatusNotFound {
		t.Errorf("before an offer: %d, want 404", code)
	}
	if code, _ := ce.sendJSON("POST", path+"-offer", ce.triagerToken, `{}`); code != http.StatusCreated {
		t.Fatalf("offer: %d", code)
	}
	for name, tc := range map[string]struct {
		token, body string
		want        int
	}{
		"viewer":          {viewerToken, `{"advisory_title": "x"}`, http.StatusForbidden},
		"nothing":         {ce.triagerToken, `{}`, http.StatusUnprocessableEntity},
		"unknown choice":  {ce.triagerToken, `{"choice": "famous"}`, http.StatusUnprocessableEntity},
		"name without it": {ce.triagerToken, `{"choice": "name"}`, http.StatusUnprocessableEntity},
		"bad link":        {ce.triagerToken, `{"choice": "name", "display_name": "Rita", "link": "javascript:alert(1)"}`, http.StatusUnprocessableEntity},
	} {
		if code, m := ce.sendJSON("PUT", path, tc.token, tc.body); code != tc.want {
			t.Errorf("%s: %d %v, want %d", name, code, m, tc.want)
		}
	}

	// The researcher answered by mail instead of through the link.
	code, m := ce.sendJSON("PUT", path, ce.triagerToken,
		`{"choice": "name", "display_name": "Rita Levi", "link": "https://rita.example.org", "advisory_title": "Open redirect in login"}`)
	if code != http.StatusOK || m["choice"] != "name" || m["display_name"] != "Rita Levi" || m["advisory_title"] != "Open redirect in login" {
		t.Fatalf("set credit: %d %v", code, m)
	}
	c, err := ce.db.Credit(ctx, ce.rep.ID)
	if err != nil || c.Choice != triage.CreditName || c.Link != "https://rita.example.org" {
		t.Fatalf("stored %+v %v", c, err)
	}
	// Long after the link expired, only staff can still record a choice.
	late := t0.Add(3 * triage.CreditLinkLifetime)
	if err := ce.db.ChooseCredit(ctx, ce.rep.ID, triage.CreditAnonymous, "", "", late); triage.ErrorCode(err) != triage.EFORBIDDEN {
		t.Errorf("the researcher chose through an expired link: %v", err)
	}
	if err := ce.db.RecordCredit(ctx, ce.rep.ID, triage.CreditAnonymous, "", "", triage.Actor{UserID: 1}, late); err != nil {
		t.Errorf("staff recording after the link expired: %v", err)
	}
	events, err := ce.db.AuditEvents(ctx, triage.AuditFilter{Action: triage.AuditCreditChoice})
	if err != nil || len(events) != 2 || events[0].ActorEmail == triage.ActorResearcher || events[0].ActorID == 0 {
		t.Errorf("audit of the recorded choice: %+v %v", events, err)
	}
}

// TestSetCredit_Page: the report page's form records the answer by mail
// and the advisory title; a bad choice is refused on the page.
func TestSetCredit_Page(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	ctx := context.Background()
	if code, _ := ce.sendJSON("POST", fmt.Sprintf("/api/v1/reports/%d/credit-offer", ce.rep.ID), ce.triagerToken, `{}`); code != http.StatusCreated {
		t.Fatalf("offer: %d", code)
	}
	_, hdr := ce.staffCookie("tri@localhost", triage.RoleTriager)
	_, page := ce.do(ce.client(), "GET", reportURL(ce.rep.ID), nil, hdr...)
	if len(byTestID(t, page, "credit-set-submit")) != 1 {
		t.Fatal("the report page has no form to record the researcher's answer")
	}
	path := fmt.Sprintf("/reports/%d/credit", ce.rep.ID)
	resp, _ := ce.do(ce.client(), "POST", path, url.Values{"choice": {"name"}, "display_name": {""}}, hdr...)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a name choice without a name: %d, want 422", resp.StatusCode)
	}
	resp, _ = ce.do(ce.client(), "POST", path, url.Values{"choice": {"handle"}, "display_name": {"r1ta"},
		"advisory_title": {"Open redirect in login"}}, hdr...)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("record by page: %d, want 303 back to the report", resp.StatusCode)
	}
	c, err := ce.db.Credit(ctx, ce.rep.ID)
	if err != nil || c.Choice != triage.CreditHandle || c.DisplayName != "r1ta" || c.AdvisoryTitle != "Open redirect in login" {
		t.Errorf("stored %+v %v", c, err)
	}
	// Only the title: the choice stays.
	if resp, _ := ce.do(ce.client(), "POST", path, url.Values{"choice": {""}, "advisory_title": {"CVE-2026-0002"}}, hdr...); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("title only: %d", resp.StatusCode)
	}
	if c, _ := ce.db.Credit(ctx, ce.rep.ID); c.Choice != triage.CreditHandle || c.AdvisoryTitle != "CVE-2026-0002" {
		t.Errorf("after setting the title only: %+v", c)
	}
}
