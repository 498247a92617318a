package web_test

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// byTestID returns the text content of the elements with data-testid id.
func byTestID(t *testing.T, page, id string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "data-testid" && a.Val == id {
					out = append(out, textOf(n))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

func TestXSS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	for _, path := range []string{"/board", fmt.Sprintf("/reports/%d", e.xss.ID)} {
		t.Run(path, func(t *testing.T) {
			resp, body := e.get(c, path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			// No page of ours has images or inline scripts (only our own
			// files from /static/), so any is injected.
			for _, raw := range []string{"<script>", "<img"} {
				if strings.Contains(strings.ToLower(body), raw) {
					t.Errorf("raw %q in page", raw)
				}
			}
			if strings.Contains(body, xssScript) || strings.Contains(body, xssImg) {
				t.Errorf("unescaped payload in page")
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("escaped script payload missing")
			}
			if !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
				t.Errorf("escaped img payload missing")
			}
			// The payload is text, not markup, after parsing.
			doc, _ := html.Parse(strings.NewReader(body))
			var bad func(*html.Node)
			bad = func(n *html.Node) {
				ours := n.Data == "script" && strings.HasPrefix(attrOf(n, "src"), "/static/") && n.FirstChild == nil
				if n.Type == html.ElementNode && (n.Data == "script" && !ours || n.Data == "img") {
					t.Errorf("page has a <%s> element", n.Data)
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					bad(c)
				}
			}
			bad(doc)
		})
	}
	t.Run("ReportBody", func(t *testing.T) {
		_, body := e.get(c, fmt.Sprintf("/reports/%d", e.xss.ID))
		got := byTestID(t, body, "report-body")
		if len(got) != 1 || got[0] != e.xss.Body {
			t.Errorf("report body = %q, want %q", got, e.xss.Body)
		}
		if title := byTestID(t, body, "report-title"); len(title) != 1 || title[0] != e.xss.Title {
			t.Errorf("title = %q", title)
		}
	})
}

func TestBoard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, body := e.get(e.viewerClient(), "/board")
	rows := byTestID(t, body, "board-row")
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	// The overdue report first (breached), then the fresh one; each with
	// the one clock due next, to the minute.
	if !strings.Contains(rows[0], "Undecryptable report") {
		t.Errorf("first row %q, want the breached report", rows[0])
	}
	if clocks := byTestID(t, body, "board-clock"); strings.Join(clocks, "|") != "overdue by 2h 05m|23h 10m left" {
		t.Errorf("clocks %q", clocks)
	}
	// Badges only for what needs a look; the usual as icons with words
	// for screen readers.
	if badges := strings.Join(byTestID(t, body, "badge"), ","); badges != "undecryptable" {
		t.Errorf("badges %q, want only undecryptable", badges)
	}
	icons := strings.Join(byTestID(t, body, "board-icon"), ",")
	for _, i := range []string{"encrypted", "signed: good", "unsigned"} {
		if !strings.Contains(icons, i) {
			t.Errorf("icon %q missing from %s", i, icons)
		}
	}
	if !strings.Contains(rows[0]+rows[1], "2026-03-10 11:10 UTC") {
		t.Errorf("received time not formatted in UTC: %q", rows)
	}
}

func TestReportPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	_, body := e.get(c, fmt.Sprintf("/reports/%d", e.overdue.ID))
	if got := byTestID(t, body, "report-decrypt-error"); len(got) != 1 || !strings.Contains(got[0], "no key to decrypt this message") {
		t.Errorf("decrypt error = %q", got)
	}
	_, body = e.get(c, fmt.Sprintf("/reports/%d", e.xss.ID))
	if got := byTestID(t, body, "report-signature-fingerprint"); len(got) != 1 || got[0] != "0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567" {
		t.Errorf("fingerprint = %q", got)
	}
	if got := byTestID(t, body, "attachment-row"); len(got) != 2 {
		t.Errorf("%d attachment rows, want 2", len(got))
	}
	for _, want := range []string{
		fmt.Sprintf(`href="/reports/%d/raw"`, e.xss.ID),
		fmt.Sprintf(`href="/reports/%d/attachments/%d"`, e.xss.ID, e.xss.Attachments[0].ID),
		strings.Repeat("ab", 32),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("report page lacks %s", want)
		}
	}
}

func TestDownloads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	tests := []struct {
		path, filename, body string
	}{
		{fmt.Sprintf("/reports/%d/raw", e.xss.ID), e.xss.TrackingID + ".eml", "Subject: hi"},
		{fmt.Sprintf("/reports/%d/attachments/%d", e.xss.ID, e.xss.Attachments[0].ID), "poc.html", "<script>alert(1)</script>"},
		{fmt.Sprintf("/reports/%d/attachments/%d", e.xss.ID, e.xss.Attachments[1].ID), "evil _name_.html", "hi"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := e.get(c, tt.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("Content-Type = %q", ct)
			}
			disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
			if err != nil || disp != "attachment" || params["filename"] != tt.filename {
				t.Errorf("Content-Disposition = %q (%v), want attachment; filename %q", resp.Header.Get("Content-Disposition"), err, tt.filename)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body = %q", body)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	staff := e.viewerClient()
	anon := e.client()
	bearer := []string{"Authorization", "Bearer " + viewerToken}
	tests := []struct {
		name    string
		c       *http.Client
		path    string
		hdr     []string
		noStore bool
	}{
		{"public landing", anon, "/", nil, false},
		{"public policy", anon, "/policy", nil, false},
		{"public security.txt", anon, "/.well-known/security.txt", nil, false},
		{"public 404", anon, "/no-such-page", nil, false},
		{"login form", anon, "/login", nil, true},
		{"staff redirect", anon, "/board", nil, true},
		{"staff board", staff, "/board", nil, true},
		{"staff report", staff, fmt.Sprintf("/reports/%d", e.xss.ID), nil, true},
		{"staff download", staff, fmt.Sprintf("/reports/%d/raw", e.xss.ID), nil, true},
		{"staff 404", staff, "/reports/999999", nil, true},
		{"api list", anon, "/api/v1/reports", bearer, true},
		{"api 401", anon, "/api/v1/reports", nil, true},
		{"api 404", anon, "/api/v1/reports/999999", bearer, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := e.get(tt.c, tt.path, tt.hdr...)
			h := resp.Header
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP %q lacks %q", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows unsafe: %q", csp)
			}
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tt.noStore && h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", h.Get("Cache-Control"))
			}
		})
	}
}

// TestNoInlineStyleOrScript checks the pages obey their own CSP: no
// style attributes, no <style> elements, no <script> but our own files
// from /static/ (no inline code), no htmx hx-on (it needs eval).
func TestNoInlineStyleOrScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	staff := e.viewerClient()
	for _, path := range []string{"/board", fmt.Sprintf("/reports/%d", e.xss.ID), "/team/metrics", "/login", "/policy", "/hall-of-fame", "/no-such-page"} {
		_, body := e.get(staff, path)
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				ours := n.Data == "script" && strings.HasPrefix(attrOf(n, "src"), "/static/") && n.FirstChild == nil
				if n.Data == "style" || n.Data == "script" && !ours {
					t.Errorf("%s: <%s> element", path, n.Data)
				}
				for _, a := range n.Attr {
					if a.Key == "style" || strings.HasPrefix(a.Key, "on") || strings.HasPrefix(a.Key, "hx-on") {
						t.Errorf("%s: %s attribute on <%s>", path, a.Key, n.Data)
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
	}
}
