package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	t.Run("Unauthorized", func(t *testing.T) {
		for name, hdr := range map[string][]string{
			"NoToken":       nil,
			"BadToken":      bearer("not-a-token"),
			"EmptyBearer":   {"Authorization", "Bearer "},
			"BasicAuth":     {"Authorization", "Basic dmlld2VyOnB3"},
			"SessionCookie": nil, // a signed-in browser is not an API client
		} {
			cl := c
			if name == "SessionCookie" {
				cl = e.viewerClient()
			}
			for _, path := range []string{"/api/v1/reports", fmt.Sprintf("/api/v1/reports/%d", e.xss.ID)} {
				resp, body := e.get(cl, path, hdr...)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s: status %d, want 401", name, path, resp.StatusCode)
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s: WWW-Authenticate = %q", name, resp.Header.Get("WWW-Authenticate"))
				}
				if m := decodeJSON(t, body); m["error"] == nil {
					t.Errorf("%s: body %s", name, body)
				}
				if strings.Contains(body, "alert(1)") {
					t.Errorf("%s: leaks content", name)
				}
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		resp, body := e.get(c, "/api/v1/reports", bearer(viewerToken)...)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		m := decodeJSON(t, body)
		reports, ok := m["reports"].([]any)
		if !ok || len(reports) != 2 {
			t.Fatalf("reports = %v", m["reports"])
		}
		for _, r := range reports {
			item := r.(map[string]any)
			for _, k := range []string{"id", "tracking_id", "title", "status", "received_at", "first_response_due", "encrypted", "decrypted", "signature", "researcher", "attachments"} {
				if _, ok := item[k]; !ok {
					t.Errorf("list item lacks %q: %v", k, item)
				}
			}
		}
	})

	t.Run("Get", func(t *testing.T) {
		resp, body := e.get(c, fmt.Sprintf("/api/v1/reports/%d", e.xss.ID), bearer(viewerToken)...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		m := decodeJSON(t, body)
		want := map[string]any{
			"id":                 float64(e.xss.ID),
			"tracking_id":        e.xss.TrackingID,
			"title":              e.xss.Title,
			"status":             "new",
			"received_at":        "2026-03-10T11:10:00Z",
			"first_response_due": "2026-03-11T11:10:00Z",
			"encrypted":          true,
			"decrypted":          true,
			"body":               e.xss.Body,
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %#v, want %#v", k, m[k], v)
			}
		}
		if _, ok := m["decrypt_error"]; ok {
			t.Error("decrypt_error present on a decrypted report")
		}
		sig, _ := m["signature"].(map[string]any)
		if sig["status"] != "good" || sig["fingerprint"] != "0123456789ABCDEF0123456789ABCDEF01234567" || sig["key_id"] != "89ABCDEF01234567" {
			t.Errorf("signature = %v", sig)
		}
		res, _ := m["researcher"].(map[string]any)
		if res["email"] != "mallory@example.org" || res["name"] != e.xss.ResearcherName {
			t.Errorf("researcher = %v", res)
		}
		atts, _ := m["attachments"].([]any)
		if len(atts) != 2 {
			t.Fatalf("attachments = %v", m["attachments"])
		}
		a := atts[0].(map[string]any)
		if a["id"] != float64(e.xss.Attachments[0].ID) || a["name"] != "poc.html" || a["content_type"] != "text/html" ||
			a["size"] != float64(25) || a["sha256"] != strings.Repeat("ab", 32) {
			t.Errorf("attachment = %v", a)
		}
		if _, ok := a["data"]; ok {
			t.Error("attachment data in JSON")
		}
	})

	t.Run("Undecryptable", func(t *testing.T) {
		_, body := e.get(c, fmt.Sprintf("/api/v1/reports/%d", e.overdue.ID), bearer(viewerToken)...)
		m := decodeJSON(t, body)
		if m["decrypt_error"] != "no key to decrypt this message" || m["decrypted"] != false || m["status"] != "undecryptable" {
			t.Errorf("got %v", m)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		for _, path := range []string{"/api/v1/reports/999999", "/api/v1/reports/abc", "/api/v1/reports/-1"} {
			resp, body := e.get(c, path, bearer(viewerToken)...)
			if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s: status %d, Content-Type %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if m := decodeJSON(t, body); m["error"] == nil || m["error"] == "" {
				t.Errorf("%s: body %s", path, body)
			}
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, q := range []string{"?status=bogus", "?limit=0", "?limit=x", "?offset=-1"} {
			resp, body := e.get(c, "/api/v1/reports"+q, bearer(viewerToken)...)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
			}
			decodeJSON(t, body)
		}
	})
}
