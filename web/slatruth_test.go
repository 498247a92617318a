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

// findByTestID returns the first element with data-testid id under n.
func findByTestID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode && attrOf(n, "data-testid") == id {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findByTestID(c, id); f != nil {
			return f
		}
	}
	return nil
}

// findByID returns the element with id under n.
func findByID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode && attrOf(n, "id") == id {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findByID(c, id); f != nil {
			return f
		}
	}
	return nil
}

func parseHTML(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSLATruth_ClosedWithoutReply: a report closed without a reply shows
// its first-response clock as closed on the page, in the API and in the
// metrics, never as met.
func TestSLATruth_ClosedWithoutReply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, _ := e.staffCookie("boss@localhost", triage.RoleAdmin)
	orig := e.xss.ID
	dup := e.fileReport(t0.Add(-30*time.Minute), func(r *triage.Report) { r.Title = "Same XSS again" })
	if _, err := e.db.UpdateReport(context.Background(), dup.ID, triage.Change{DuplicateOf: &orig},
		triage.Actor{UserID: admin.ID, Email: admin.Email}, t0); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(t0.Add(48 * time.Hour))
	_, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)

	resp, page := e.do(e.client(), "GET", fmt.Sprintf("/reports/%d", dup.ID), nil, hdr...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report page: %d %s", resp.StatusCode, page)
	}
	doc := parseHTML(t, page)
	row := findByTestID(doc, "sla-first_response")
	if row == nil || attrOf(row, "data-state") != "closed" {
		t.Errorf("SLA table: first response %v, want closed", row)
	}
	if got := byTestID(t, page, "report-clock"); len(got) != 1 || !strings.Contains(got[0], "closed") || strings.Contains(got[0], "met") {
		t.Errorf("header clock %q, want closed", got)
	}

	code, body := e.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d", dup.ID), viewerToken, nil)
	sla, _ := body["sla"].(map[string]any)
	fr, _ := sla["first_response"].(map[string]any)
	if code != http.StatusOK || fr["state"] != "closed" || fr["met_at"] != nil {
		t.Errorf("API: %d first_response %v, want state closed and no met_at", code, fr)
	}

	_, page = e.get(e.viewerClient(), "/team/metrics")
	// xss: breached (48 h unanswered), overdue: breached, dup: closed.
	if got := byTestID(t, page, "metrics-met"); len(got) != 2 || got[0] != "0" {
		t.Errorf("met %q, want 0", got)
	}
	if got := byTestID(t, page, "metrics-closed"); len(got) != 2 || got[0] != "1" {
		t.Errorf("closed without a reply %q, want 1", got)
	}
	if got := byTestID(t, page, "metrics-responded"); len(got) != 2 || got[0] != "0" {
		t.Errorf("answered %q", got)
	}
}

// TestSLATruth_Wording: the metrics page words the promise as the
// acknowledgement does.
func TestSLATruth_Wording(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := triage.DefaultSLAPolicy()
	p.FirstResponse = 15 * time.Minute
	if _, err := e.db.SetSLAPolicy(context.Background(), p, triage.Actor{}, t0); err != nil {
		t.Fatal(err)
	}
	_, page := e.get(e.viewerClient(), "/team/metrics")
	if !strings.Contains(page, "First response within 15 minutes") || strings.Contains(page, "0.25") {
		t.Errorf("metrics policy line: %q", byTestID(t, page, "metrics-policy"))
	}
}

// TestSLATruth_ReplyRefreshesState: after a reply made in place, every
// part of the page that shows the first-response clock or the history
// comes with the answer (out of band), saying met.
func TestSLATruth_ReplyRefreshesState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)
	hx := append([]string{"HX-Request", "true"}, hdr...)
	resp, body := e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/replies", e.xss.ID), url.Values{"body": {"Thanks, we are on it."}}, hx...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	doc := parseHTML(t, body)
	for _, id := range []string{"report-first-response", "sla", "history"} {
		n := findByID(doc, id)
		if n == nil || attrOf(n, "hx-swap-oob") != "true" {
			t.Errorf("no out-of-band %s in the answer to a reply", id)
		}
	}
	if n := findByID(doc, "report-first-response"); n != nil && !strings.Contains(textOf(n), "met") {
		t.Errorf("header clock after the reply: %q", textOf(n))
	}
	if n := findByTestID(doc, "sla-first_response"); n == nil || attrOf(n, "data-state") != "met" {
		t.Errorf("SLA table after the reply: %v", n)
	}
	if got := byTestID(t, body, "event"); len(got) == 0 || !strings.Contains(got[len(got)-1], "replied to the researcher") {
		t.Errorf("history after the reply: %q", got)
	}
	// A triage action refreshes the same parts.
	resp, body = e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/status", e.xss.ID), url.Values{"status": {"triaging"}, "from": {"report"}}, hx...)
	doc = parseHTML(t, body)
	for _, id := range []string{"report-first-response", "sla", "history", "report-status"} {
		if n := findByID(doc, id); n == nil || attrOf(n, "hx-swap-oob") != "true" {
			t.Errorf("status change (%d): no out-of-band %s", resp.StatusCode, id)
		}
	}
}

// TestSLATruth_ErrorNextToField: a refusal is shown inside the form whose
// field caused it, tied to the field for screen readers.
func TestSLATruth_ErrorNextToField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)
	for _, js := range []bool{true, false} {
		h := hdr
		if js {
			h = append([]string{"HX-Request", "true"}, hdr...)
		}
		for _, tc := range []struct {
			action, field, form, input string
			value                      string
		}{
			{"duplicate", "original", "duplicate-form", "duplicate-input", "SEC-1999-0001"},
			{"labels", "labels", "labels-form", "labels-input", strings.Repeat("x", 40)},
			{"cvss", "vector", "cvss-form", "cvss-vector", "CVSS:3.1/AV:N/AC:X"},
		} {
			_, body := e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/%s", e.xss.ID, tc.action),
				url.Values{tc.field: {tc.value}, "from": {"report"}}, h...)
			doc := parseHTML(t, body)
			form := findByTestID(doc, tc.form)
			if form == nil {
				t.Fatalf("%s (js %v): no form %s", tc.action, js, tc.form)
			}
			errEl := findByTestID(form, "field-error")
			in := findByTestID(form, tc.input)
			if errEl == nil || in == nil {
				t.Errorf("%s (js %v): the error is not in its form", tc.action, js)
				continue
			}
			if attrOf(in, "aria-invalid") != "true" || !strings.Contains(attrOf(in, "aria-describedby"), attrOf(errEl, "id")) || attrOf(errEl, "id") == "" {
				t.Errorf("%s (js %v): field not tied to its error: invalid %q describedby %q error id %q", tc.action, js,
					attrOf(in, "aria-invalid"), attrOf(in, "aria-describedby"), attrOf(errEl, "id"))
			}
		}
		// The reply form's own refusal is next to the reply field.
		_, body := e.do(e.client(), "POST", fmt.Sprintf("/reports/%d/replies", e.xss.ID), url.Values{"body": {"  "}}, h...)
		doc := parseHTML(t, body)
		if form := findByTestID(doc, "reply-form"); form == nil || findByTestID(form, "field-error") == nil {
			t.Errorf("reply (js %v): the refusal is not in the reply form", js)
		}
	}
}
