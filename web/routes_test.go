package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// examplePath fills a route pattern's wildcards with values that exist
// in env, so that a request reaches the handler.
func (e *env) examplePath(pattern string) string {
	r := strings.NewReplacer(
		"{$}", "",
		"{id}", fmt.Sprint(e.xss.ID),
		"{aid}", fmt.Sprint(e.xss.Attachments[0].ID),
		"{adv}", "1", // the advisory TestRoutes_Viewer and TestRoutes_Roles draft
		"{hash}", "t5s8ztdbon8yzntexy6oz5y48etqsnbb", // security (checked in TestWKD)
		"{wkddomain}", "localhost",
		"{wkdfile}", "policy",
		"{file}", "style.css",
		"{mid}", "999999", // an outbox mail: none exists, so a retry is 404
		"{tid}", "999999", // an API token: none of theirs, so a revoke is 404
		"{token}", "no-such-link-token", // credit and status links: unknown, so 404
		"{rid}", "999999", // a canned response: none exists, so 404
		"{qid}", "999999", // a quarantine rule: none exists, so 404
	)
	return r.Replace(pattern)
}

func TestRoutes_Table(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, rt := range web.Routes() {
		key := rt.Method + " " + rt.Pattern
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		if strings.HasPrefix(rt.Pattern, "/api/") != rt.API {
			t.Errorf("%s: API = %v, but the pattern says otherwise", key, rt.API)
		}
		if rt.API && rt.Role == "" {
			t.Errorf("%s: API route without a role", key)
		}
		if rt.Role != "" {
			if _, err := triage.ParseRole(string(rt.Role)); err != nil {
				t.Errorf("%s: %v", key, err)
			}
		}
	}
	for _, want := range []string{"GET /board", "GET /reports/{id}", "GET /api/v1/reports", "POST /login", "GET /.well-known/security.txt"} {
		if !seen[want] {
			t.Errorf("route %s missing", want)
		}
	}
}

// TestRoutes_Viewer checks that a viewer may read everything staff can
// read. Who may use which route is TestRoutes_Roles's job.
func TestRoutes_Viewer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	ids := []int64{e.xss.ID}
	if _, err := e.db.CreateAdvisory(context.Background(), triage.AdvisoryChange{ReportIDs: &ids, Title: ptr("An advisory")}, triage.Actor{}, t0); err != nil {
		t.Fatal(err)
	}
	// Pages that show something only after a step (two-factor enrolment).
	needsState := map[string]bool{"/account/2fa": true, "/account/2fa/qr.png": true}
	for _, rt := range web.Routes() {
		if rt.Role != triage.RoleViewer || rt.Method != "GET" || needsState[rt.Pattern] {
			continue
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			var hdr []string
			if rt.API {
				hdr = []string{"Authorization", "Bearer " + viewerToken}
			}
			resp, _ := e.get(c, e.examplePath(rt.Pattern), hdr...)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
		})
	}
	t.Run("GET /board shows reports", func(t *testing.T) {
		_, body := e.get(c, "/board")
		for _, want := range []string{e.xss.TrackingID, e.overdue.TrackingID, `data-testid="board-row"`} {
			if !strings.Contains(body, want) {
				t.Errorf("board lacks %q", want)
			}
		}
	})
	t.Run("GET / redirects to board", func(t *testing.T) {
		resp, _ := e.get(c, "/")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
			t.Errorf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestRoutes_NotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	for _, path := range []string{"/reports/999999", "/reports/abc", "/reports/0", "/reports/999999/raw",
		fmt.Sprintf("/reports/%d/attachments/999999", e.xss.ID),
		fmt.Sprintf("/reports/%d/attachments/%d", e.overdue.ID, e.xss.Attachments[0].ID), // another report's attachment
		"/static/missing.css", "/static/..%2fweb.go", "/nope"} {
		resp, body := e.get(c, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
		if strings.Contains(body, "alert(1)") {
			t.Errorf("GET %s: leaks content", path)
		}
	}
}
