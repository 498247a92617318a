package templates_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

type component interface {
	Render(ctx context.Context, w io.Writer) error
}

// render renders c and parses it as HTML.
func render(t *testing.T, c component) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), doc
}

// find returns the elements with data-testid id.
func find(doc *html.Node, id string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && attr(n, "data-testid") == id {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(text(c))
	}
	return b.String()
}

const payload = `<script>alert(1)</script><img src=x onerror=alert(1)>`

func TestBoard(t *testing.T) {
	v := templates.BoardView{
		Nav:    templates.StaffNav{Email: "v@example.com", Role: "viewer"},
		Now:    "2026-03-10 12:00:00 UTC",
		CanAct: true,
		Rows: []templates.BoardRow{
			{ID: 2, TrackingID: "SEC-2026-0002", URL: "javascript:alert(1)", Title: "second", Tier: "breached", Group: "Breached", SevClass: "sev-unscored",
				Next: templates.ClockView{Name: "First response", Short: "Reply", Key: "first_response", State: "breached", Text: "overdue by 2h 05m", Class: "clock-overdue", Remaining: -7500, Live: true}},
			{ID: 1, TrackingID: "SEC-2026-0001", URL: "/reports/1", Title: payload, ResearcherName: payload, ResearcherEmail: "r@example.org", Tier: "open", Group: "Open",
				Labels: []string{payload}, Status: "new", Severity: "high 7.5", SevClass: "sev-high",
				Icons:  []templates.Icon{{Kind: "lock", Label: "encrypted"}, {Kind: "signed", Label: "signed: good"}},
				Badges: []templates.Badge{{Label: "signed: unknown key", Class: "badge-warn"}},
				Next:   templates.ClockView{Name: "First response", Short: "Reply", Key: "first_response", State: "running", Text: "23h 12m left", Class: "clock-ok", Remaining: 83520, Live: true}},
		},
	}
	out, doc := render(t, templates.Board(v))
	rows := find(doc, "board-row")
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	if got := text(find(doc, "board-title")[1]); got != payload {
		t.Errorf("title = %q", got)
	}
	if strings.Contains(out, "<img") || strings.Contains(out, "<script>alert") {
		t.Error("payload rendered as markup")
	}
	// The title is the link; the tracking id is text beside it.
	links := find(doc, "board-title")
	if attr(links[1], "href") != "/reports/1" || strings.HasPrefix(attr(links[0], "href"), "javascript:") {
		t.Errorf("links %q %q", attr(links[0], "href"), attr(links[1], "href"))
	}
	if ids := find(doc, "board-tracking"); len(ids) != 2 || text(ids[0]) != "SEC-2026-0002" || ids[0].Data == "a" {
		t.Errorf("tracking ids %d", len(ids))
	}
	clocks := find(doc, "board-clock")
	if len(clocks) != 2 {
		t.Fatalf("%d clocks, want one per row", len(clocks))
	}
	if c := clocks[0]; attr(c, "data-remaining") != "-7500" || attr(c, "data-live") != "true" || text(c) != "overdue by 2h 05m" {
		t.Errorf("clock %q %q %q", attr(c, "data-remaining"), attr(c, "data-live"), text(c))
	}
	if groups := find(doc, "board-group"); len(groups) != 2 || text(groups[0]) != "Breached" {
		t.Errorf("group headings %d", len(groups))
	}
	if n := len(find(doc, "badge")); n != 1 {
		t.Errorf("%d badges, want 1 (only what needs a look)", n)
	}
	if icons := find(doc, "board-icon"); len(icons) != 2 || strings.TrimSpace(text(icons[0])) != "encrypted" {
		t.Errorf("icons %d, want 2 with words for screen readers", len(icons))
	}
	if n := len(find(doc, "bulk-select")); n != 2 || len(find(doc, "bulk-form")) != 1 {
		t.Errorf("%d row checkboxes, want 2 and the bulk form", n)
	}
	if len(find(doc, "sign-out")) != 1 || len(find(doc, "quick-dialog")) != 1 || len(find(doc, "shortcuts-help")) != 1 {
		t.Error("no sign-out button, quick dialog or shortcuts help")
	}
	// Only our own scripts, from the binary, and no inline script.
	var scripts func(*html.Node)
	scripts = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			if src := attr(n, "src"); !strings.HasPrefix(src, "/static/") || n.FirstChild != nil {
				t.Errorf("script %q with content %v", src, n.FirstChild != nil)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			scripts(c)
		}
	}
	scripts(doc)

	_, doc = render(t, templates.Board(templates.BoardView{}))
	if len(find(doc, "board-empty")) != 1 || len(find(doc, "board-row")) != 0 || len(find(doc, "quick-dialog")) != 0 {
		t.Error("empty board has no empty state, or a viewer gets the quick dialog")
	}
}

func TestReportPage(t *testing.T) {
	body := "line 1\n  " + payload + "\n\tline 3"
	v := templates.ReportView{
		TrackingID: "SEC-2026-0001", Title: payload, Body: body,
		ResearcherName: payload, ResearcherEmail: "m@example.org",
		Signature:   templates.SignatureView{Label: "Good signature", Class: "badge-ok", Fingerprint: "0123 4567"},
		Attachments: []templates.AttachmentRow{{Name: payload, ContentType: "text/html", Size: "1 B", SHA256: "ab", URL: "/reports/1/attachments/2"}},
		RawURL:      "/reports/1/raw", BoardURL: "/board",
	}
	out, doc := render(t, templates.ReportPage(v))
	if strings.Contains(out, "<script>") || strings.Contains(out, "<img") {
		t.Error("payload rendered as markup")
	}
	pre := find(doc, "report-body")
	if len(pre) != 1 || pre[0].Data != "pre" || text(pre[0]) != body {
		t.Fatalf("body element: %v", pre)
	}
	if got := text(find(doc, "report-title")[0]); got != payload {
		t.Errorf("title = %q", got)
	}
	if got := text(find(doc, "report-signature-fingerprint")[0]); got != "0123 4567" {
		t.Errorf("fingerprint = %q", got)
	}
	if got := attr(find(doc, "report-raw-link")[0], "href"); got != "/reports/1/raw" {
		t.Errorf("raw link = %q", got)
	}
	if got := attr(find(doc, "attachment-link")[0], "href"); got != "/reports/1/attachments/2" {
		t.Errorf("attachment link = %q", got)
	}
	if len(find(doc, "report-decrypt-error")) != 0 {
		t.Error("decrypt error shown for a decrypted report")
	}

	_, doc = render(t, templates.ReportPage(templates.ReportView{DecryptError: "no key " + payload}))
	if e := find(doc, "report-decrypt-error"); len(e) != 1 || !strings.Contains(text(e[0]), "no key "+payload) {
		t.Error("decrypt error missing")
	}
	if len(find(doc, "report-body")) != 0 || len(find(doc, "report-body-empty")) != 1 {
		t.Error("empty body not shown as such")
	}
}

func TestPublicPages(t *testing.T) {
	_, doc := render(t, templates.Policy(templates.PolicyView{
		Contact: "security@example.com", KeyURL: "https://example.com/pgp-key.asc", Fingerprint: "AAAA BBBB", ResponseWindow: "24 hours",
	}))
	if got := text(find(doc, "response-promise")[0]); !strings.Contains(got, "24 hours") {
		t.Errorf("promise = %q", got)
	}
	if got := text(find(doc, "gpg-example")[0]); !strings.Contains(got, "--locate-keys security@example.com\ngpg --encrypt") {
		t.Errorf("gpg example = %q", got)
	}
	if got := text(find(doc, "key-fingerprint")[0]); got != "AAAA BBBB" {
		t.Errorf("fingerprint = %q", got)
	}
	if len(find(doc, "safe-harbor")) != 1 {
		t.Error("no safe harbor")
	}
	_, doc = render(t, templates.Policy(templates.PolicyView{Contact: "security@example.com"}))
	if len(find(doc, "key-fingerprint")) != 0 {
		t.Error("fingerprint shown without one")
	}

	out, doc := render(t, templates.HallOfFame(templates.HallOfFameView{}))
	if len(find(doc, "hall-of-fame-empty")) != 1 || !strings.Contains(out, "No researchers credited yet") {
		t.Error("no empty state")
	}
	_, doc = render(t, templates.HallOfFame(templates.HallOfFameView{Years: []templates.HallOfFameYear{{
		Year: "2026", Anchor: "y2026", Entries: []templates.HallOfFameEntry{
			{Name: payload, URL: "javascript:alert(1)", Reports: "1 report"}, {Name: "Alice", Reports: "2 reports"},
		},
	}}}))
	entries := find(doc, "hall-of-fame-entry")
	if len(entries) != 2 || !strings.Contains(text(entries[0]), payload) {
		t.Fatalf("entries %v", entries)
	}
	if a := find(entries[0], "hall-name"); len(a) != 1 || strings.HasPrefix(attr(a[0], "href"), "javascript:") {
		t.Error("javascript: URL rendered")
	}

	_, doc = render(t, templates.Landing(templates.LandingView{Contact: "security@example.com"}))
	if c := find(doc, "contact"); len(c) != 1 || attr(c[0], "href") != "mailto:security@example.com" {
		t.Error("contact link")
	}

	_, doc = render(t, templates.Login(templates.LoginView{Email: `"><script>`, Error: "Wrong email or password."}))
	if got := text(find(doc, "login-error")[0]); got != "Wrong email or password." {
		t.Errorf("login error = %q", got)
	}
}

// TestUserText: text someone else chose is shown without invisible
// characters and isolated in <bdi>: a right-to-left override cannot
// turn "Invoice ‮fdp.exe" into "Invoice exe.pdf", nor reorder the page.
func TestUserText(t *testing.T) {
	const rlo = "\u202E"
	v := templates.BoardView{Rows: []templates.BoardRow{{ID: 1, TrackingID: "SEC-2026-0001", URL: "/reports/1", Tier: "open",
		Title: "Invoice " + rlo + "fdp.exe", ResearcherName: "\u2067Eve\u2069\u200b", ResearcherEmail: "eve@example.org"}}}
	out, doc := render(t, templates.Board(v))
	if strings.ContainsFunc(out, triage.Invisible) {
		t.Errorf("the board holds an invisible character:\n%s", out)
	}
	for id, want := range map[string][]string{
		"board-title":      {"Invoice fdp.exe"},
		"board-researcher": {"Eve", "eve@example.org"},
	} {
		var got []string
		for _, n := range find(doc, id) {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "bdi" {
					got = append(got, text(c))
				}
			}
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("[data-testid=%s] isolates %q, want %q", id, got, want)
		}
	}
	if got := text(find(doc, "board-researcher")[0]); got != "Eve <eve@example.org>" {
		t.Errorf("researcher reads %q", got)
	}
}

func TestRichText(t *testing.T) {
	in := "Our scope:\r\n\r\n- *.example.com and https://app.example.com.\n* <b>not</b> html\n\nSee http://x.example/a?b=<c>, or javascript:alert(1)\nthanks"
	blocks := templates.RichText(in)
	if len(blocks) != 3 || len(blocks[1].Items) != 2 || len(blocks[2].Lines) != 2 {
		t.Fatalf("blocks %+v", blocks)
	}
	if l := blocks[1].Items[0]; len(l) != 3 || l[1].URL != "https://app.example.com" || l[2].Text != "." {
		t.Errorf("link %+v", l)
	}
	out, doc := render(t, templates.Policy(templates.PolicyView{Contact: "s@example.com", ScopeIn: in}))
	if strings.Contains(out, "<b>not</b>") || !strings.Contains(out, "&lt;b&gt;not&lt;/b&gt;") {
		t.Error("the policy text was rendered as HTML")
	}
	for _, a := range find(doc, "policy-link") {
		if h := attr(a, "href"); !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") {
			t.Errorf("link to %q", h)
		}
	}
	if n := len(find(doc, "policy-link")); n != 2 {
		t.Errorf("%d links, want 2 (javascript: is text)", n)
	}
}
