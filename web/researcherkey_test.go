package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

const (
	triagerEmail    = "triager@localhost"
	triagerPassword = "another correct horse battery"
	triagerToken    = "sit_test_triager_token_0123456789"
	aliceFpr        = "0123456789ABCDEF0123456789ABCDEF01234567"
	htmlSource      = `<p>Hello <script>alert(1)</script><img src=x onerror=alert(1)></p>`
)

// addTriager adds a triager with a password and an API token.
func (e *env) addTriager() {
	e.t.Helper()
	ctx := context.Background()
	u := &triage.User{Email: triagerEmail, Role: triage.RoleTriager, PasswordHash: passwordHash(e.t, triagerPassword), CreatedAt: t0}
	if err := e.db.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID, Name: "test", TokenHash: sha256Sum(triagerToken), ExpiresAt: farFuture}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) triagerClient() *http.Client {
	e.t.Helper()
	c := e.client()
	if resp := e.login(c, triagerEmail, triagerPassword); resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("triager login: status %d", resp.StatusCode)
	}
	return c
}

// fileSigned files the "Johnny, you are fired" shape: an unsigned
// preamble, a part signed by Alice, a part signed by a key whose user IDs
// do not carry the From address, a part by an unknown key, and an HTML
// part whose source is kept as body.html.
func (e *env) fileSigned() *triage.Report {
	return e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.Title = "Partly signed"
		r.ResearcherEmail = "alice@example.org"
		r.Encrypted, r.Decrypted = true, true
		r.Signature = triage.Signature{Status: triage.SignaturePartial, Fingerprint: aliceFpr}
		r.Signatures = []triage.Signature{
			{Status: triage.SignatureGood, Fingerprint: aliceFpr, KeyID: aliceFpr[24:],
				SignerUserID: "Alice <alice@example.org>", FromMatches: true, Hash: "SHA256", Parts: []string{"2"}},
			{Status: triage.SignatureGood, Fingerprint: strings.Repeat("B", 40), SignerUserID: "Bob <bob@elsewhere.example>",
				FromMatches: false, Parts: []string{"3"}},
			{Status: triage.SignatureUnknownKey, KeyID: "FEDCBA9876543210", Reason: "no key for issuer FEDCBA9876543210", Parts: []string{"4"}},
		}
		r.Parts = []triage.BodyPart{
			{Path: "1", ContentType: "text/plain", Text: "Unsigned preamble: please wire the money " + xssScript},
			{Path: "2", ContentType: "text/plain", Text: "Alice's signed report text.", Encrypted: true, Signature: 1},
			{Path: "3", ContentType: "text/plain", Text: "Bob's forwarded text.", Encrypted: true, Signature: 2},
			{Path: "4", ContentType: "text/plain", Text: "Stranger's text.", Encrypted: true, Signature: 3},
			{Path: "5", ContentType: "text/html", Text: "Hello alert(1)", FromHTML: true, Encrypted: true, Source: 2},
		}
		r.Body = "joined parts"
		r.Attachments = []triage.Attachment{
			{Name: "poc.bin", ContentType: "application/octet-stream", Size: 3, SHA256: strings.Repeat("01", 32), Data: []byte{0, 1, 2}},
			{Name: "body.html", ContentType: "text/html", Size: int64(len(htmlSource)), SHA256: strings.Repeat("02", 32), Data: []byte(htmlSource)},
		}
	})
}

// partMarks returns, per report-part element, its signature label,
// warning and text.
func partMarks(t *testing.T, page string) (labels, warnings, texts []string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var parts []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "data-testid" && a.Val == "report-part" {
					parts = append(parts, n)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, p := range parts {
		var b strings.Builder
		html.Render(&b, p)
		one := func(id string) string {
			if got := byTestID(t, b.String(), id); len(got) > 0 {
				return strings.TrimSpace(got[0])
			}
			return ""
		}
		labels = append(labels, one("part-signature"))
		warnings = append(warnings, one("part-signature-warning"))
		texts = append(texts, one("part-text"))
	}
	return labels, warnings, texts
}

func TestReportPage_Parts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.fileSigned()
	c := e.viewerClient()
	_, page := e.get(c, fmt.Sprintf("/reports/%d", r.ID))

	labels, warnings, texts := partMarks(t, page)
	wantLabels := []string{"Not signed", "Signed by Alice <alice@example.org>", "Signed by Bob <bob@elsewhere.example>",
		"Signed by an unknown key", "Not signed"}
	if strings.Join(labels, "|") != strings.Join(wantLabels, "|") {
		t.Errorf("part marks\n got %q\nwant %q", labels, wantLabels)
	}
	if warnings[1] != "" || !strings.Contains(warnings[2], "Signer is not the sender") {
		t.Errorf("warnings %q", warnings)
	}
	if texts[0] != "Unsigned preamble: please wire the money "+xssScript || texts[1] != "Alice's signed report text." {
		t.Errorf("texts %q", texts)
	}
	if got := byTestID(t, page, "part-signature-fingerprint"); len(got) < 1 || got[0] != "0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567" {
		t.Errorf("fingerprints %q", got)
	}
	if got := byTestID(t, page, "part-signature-keyid"); len(got) != 1 || got[0] != "FEDCBA9876543210" {
		t.Errorf("key ids %q", got)
	}
	if got := byTestID(t, page, "part-signature-reason"); len(got) != 1 || !strings.Contains(got[0], "no key for issuer") {
		t.Errorf("reasons %q", got)
	}
	if got := byTestID(t, page, "headers-unsigned"); len(got) != 1 {
		t.Error("no note that the headers are unsigned")
	}
	if got := strings.Join(byTestID(t, page, "badge"), ","); !strings.Contains(got, "partly signed") {
		t.Errorf("summary badges %q lack partly signed", got)
	}
	if len(byTestID(t, page, "report-body")) != 0 {
		t.Error("the joined body is shown besides the parts")
	}
	if strings.Contains(page, xssScript) {
		t.Error("unescaped script in the page")
	}

	// The HTML part says so and links to its source, shown escaped.
	if got := byTestID(t, page, "part-from-html"); len(got) != 1 || !strings.Contains(got[0], "Text extracted from HTML") {
		t.Fatalf("from-html note %q", got)
	}
	srcURL := fmt.Sprintf("/reports/%d/attachments/%d/source", r.ID, r.Attachments[1].ID)
	if !strings.Contains(page, `href="`+srcURL+`"`) {
		t.Fatalf("no link to %s", srcURL)
	}
	resp, src := e.get(c, srcURL)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("source page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := byTestID(t, src, "source-text"); len(got) != 1 || got[0] != htmlSource {
		t.Errorf("source text %q", got)
	}
	if bad := injected(t, src); len(bad) > 0 {
		t.Errorf("the HTML source is rendered, not escaped: %v", bad)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if !e.hasAudit("attachment.view_source", viewerEmail, fmt.Sprintf("report:%d", r.ID)) {
		t.Error("viewing the source is not in the audit log")
	}
	// A binary attachment is not shown as text.
	_, bin := e.get(c, fmt.Sprintf("/reports/%d/attachments/%d/source", r.ID, r.Attachments[0].ID))
	if len(byTestID(t, bin, "source-binary")) != 1 || len(byTestID(t, bin, "source-text")) != 0 {
		t.Error("binary attachment shown as text")
	}
	// Another report's attachment is not found through this one.
	if resp, _ := e.get(c, fmt.Sprintf("/reports/%d/attachments/%d/source", e.xss.ID, r.Attachments[1].ID)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another report's attachment: %d", resp.StatusCode)
	}

	// A report filed without parts still shows its body.
	_, old := e.get(c, fmt.Sprintf("/reports/%d", e.xss.ID))
	if got := byTestID(t, old, "report-body"); len(got) != 1 || got[0] != e.xss.Body {
		t.Errorf("body of a report without parts: %q", got)
	}
}

func TestAPI_Content(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.fileSigned()
	bearer := []string{"Authorization", "Bearer " + viewerToken}
	_, body := e.get(e.client(), fmt.Sprintf("/api/v1/reports/%d", r.ID), bearer...)
	m := decodeJSON(t, body)
	sigs, _ := m["signatures"].([]any)
	parts, _ := m["parts"].([]any)
	if len(sigs) != 3 || len(parts) != 5 {
		t.Fatalf("signatures %v parts %v", m["signatures"], m["parts"])
	}
	s0 := sigs[0].(map[string]any)
	if s0["status"] != "good" || s0["fingerprint"] != aliceFpr || s0["signer_user_id"] != "Alice <alice@example.org>" ||
		s0["from_matches"] != true || s0["hash"] != "SHA256" || fmt.Sprint(s0["parts"]) != "[2]" {
		t.Errorf("signature 0 = %v", s0)
	}
	if s1 := sigs[1].(map[string]any); s1["from_matches"] != false {
		t.Errorf("signature 1 = %v", s1)
	}
	p0, p1, p4 := parts[0].(map[string]any), parts[1].(map[string]any), parts[4].(map[string]any)
	if p0["signature"] != nil || p0["path"] != "1" || p0["encrypted"] != false || !strings.Contains(p0["text"].(string), xssScript) {
		t.Errorf("part 0 = %v", p0)
	}
	if p1["signature"] != float64(0) || p1["encrypted"] != true || p1["content_type"] != "text/plain" {
		t.Errorf("part 1 = %v", p1)
	}
	if p4["from_html"] != true || p4["signature"] != nil {
		t.Errorf("part 4 = %v", p4)
	}
	res := m["researcher"].(map[string]any)
	if res["key_fingerprint"] != "" || res["key_source"] != "" {
		t.Errorf("researcher without keys = %v", res)
	}

	// A report without content has empty lists, not null.
	_, body = e.get(e.client(), fmt.Sprintf("/api/v1/reports/%d", e.overdue.ID), bearer...)
	if m := decodeJSON(t, body); fmt.Sprint(m["signatures"]) != "[]" || fmt.Sprint(m["parts"]) != "[]" {
		t.Errorf("empty content: %v %v", m["signatures"], m["parts"])
	}

	// List items carry neither content nor keys.
	_, body = e.get(e.client(), "/api/v1/reports", bearer...)
	for _, it := range decodeJSON(t, body)["reports"].([]any) {
		item := it.(map[string]any)
		if _, ok := item["parts"]; ok {
			t.Error("list item has parts")
		}
		if _, ok := item["signatures"]; ok {
			t.Error("list item has signatures")
		}
		if _, ok := item["researcher"].(map[string]any)["key_fingerprint"]; ok {
			t.Error("list item has a key")
		}
	}
}

// wkdServer serves key for every WKD advanced-method request.
func wkdServer(t *testing.T, key []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/wkd/") || !strings.Contains(r.URL.Path, "/hu/") {
			http.NotFound(w, r)
			return
		}
		w.Write(key)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLookupKey(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	key, err := pgp.GenerateKey("Mallory", "mallory@example.org", now.Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := pgp.PublicKeyBytes(key)
	fpr := pgp.Fingerprint(key)
	srv := wkdServer(t, pub)
	lookup, err := inbox.NewKeyLookup(inbox.KeyLookupConfig{
		WKDAdvancedURL: srv.URL + "/wkd/{domain}",
		WKDDirectURL:   "off",
		VKSURL:         "off",
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *web.Config) {
		c.KeyFinder = lookup
		c.Now = func() time.Time { return now }
	})
	e.addTriager()
	reportPath := fmt.Sprintf("/reports/%d", e.xss.ID)

	// A viewer sees no button and may not press it.
	viewer := e.viewerClient()
	_, page := e.get(viewer, reportPath)
	if len(byTestID(t, page, "key-lookup")) != 0 {
		t.Error("a viewer sees the lookup button")
	}
	if len(byTestID(t, page, "researcher-keys-empty")) != 1 {
		t.Error("no 'no key' note before the lookup")
	}
	if resp, _ := e.do(viewer, "POST", reportPath+"/lookup-key", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer lookup: %d, want 403", resp.StatusCode)
	}
	if resp, _ := e.do(e.client(), "POST", fmt.Sprintf("/api/v1/reports/%d/lookup-key", e.xss.ID), nil, "Authorization", "Bearer "+viewerToken); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer API lookup: %d, want 403", resp.StatusCode)
	}

	// A triager presses it: the key is found in WKD and shown.
	triager := e.triagerClient()
	_, page = e.get(triager, reportPath)
	if len(byTestID(t, page, "key-lookup")) != 1 || !strings.Contains(page, `action="`+reportPath+`/lookup-key"`) {
		t.Fatal("the triager sees no lookup button")
	}
	resp, _ := e.do(triager, "POST", reportPath+"/lookup-key", nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Path != reportPath || loc.Query().Get("lookup") != "found" {
		t.Fatalf("lookup: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !e.hasAudit("researcher_key.lookup", triagerEmail, fmt.Sprintf("report:%d", e.xss.ID)) {
		t.Error("the lookup is not in the audit log")
	}
	_, page = e.get(triager, loc.RequestURI())
	if got := byTestID(t, page, "key-notice"); len(got) != 1 || !strings.Contains(got[0], "found the key") {
		t.Errorf("notice %q", got)
	}
	if got := byTestID(t, page, "researcher-key-fingerprint"); len(got) != 1 || !strings.HasPrefix(got[0], fpr[:4]+" "+fpr[4:8]) {
		t.Errorf("key rows %q (fingerprint %s)", got, fpr)
	}
	if got := byTestID(t, page, "researcher-key-source"); len(got) != 1 || strings.TrimSpace(got[0]) != "wkd" {
		t.Errorf("source %q", got)
	}
	if len(byTestID(t, page, "researcher-key-best")) != 1 {
		t.Error("the key is not marked as the one in use")
	}
	row := byTestID(t, page, "researcher-key")[0]
	if !strings.Contains(row, formatUTC(now)) || !strings.Contains(row, "never") {
		t.Errorf("row lacks first/last seen or expiry: %q", row)
	}
	// A notice value that is not ours prints nothing.
	_, page = e.get(triager, reportPath+"?lookup="+url.QueryEscape(xssScript))
	if len(byTestID(t, page, "key-notice")) != 0 || strings.Contains(page, xssScript) {
		t.Error("an unknown notice is shown")
	}

	// The API names the key.
	bearer := []string{"Authorization", "Bearer " + viewerToken}
	_, body := e.get(e.client(), fmt.Sprintf("/api/v1/reports/%d", e.xss.ID), bearer...)
	res := decodeJSON(t, body)["researcher"].(map[string]any)
	if res["key_fingerprint"] != fpr || res["key_source"] != "wkd" || res["email"] != "mallory@example.org" {
		t.Errorf("researcher = %v", res)
	}

	// The API twin, as a triager.
	resp, body = e.do(e.client(), "POST", fmt.Sprintf("/api/v1/reports/%d/lookup-key", e.xss.ID), nil, "Authorization", "Bearer "+triagerToken)
	m := decodeJSON(t, body)
	if resp.StatusCode != http.StatusOK || m["found"] != float64(1) || m["failed"] != false {
		t.Fatalf("API lookup: %d %v", resp.StatusCode, m)
	}
	k := m["keys"].([]any)[0].(map[string]any)
	if k["fingerprint"] != fpr || k["source"] != "wkd" || k["user_id"] != "Mallory <mallory@example.org>" {
		t.Errorf("API key %v", k)
	}

	// An address with no key: the lookup says so.
	other := e.fileReport(t0, func(r *triage.Report) { r.Title = "x"; r.ResearcherEmail = "nobody@nowhere.example" })
	srv.Close() // now every lookup fails
	resp, _ = e.do(triager, "POST", fmt.Sprintf("/reports/%d/lookup-key", other.ID), nil)
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("lookup") != "failed" {
		t.Errorf("failed lookup: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func formatUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// TestLookupKey_NotConfigured: without a KeyFinder the button is absent
// and the route answers 404.
func TestLookupKey_NotConfigured(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addTriager()
	c := e.triagerClient()
	_, page := e.get(c, fmt.Sprintf("/reports/%d", e.xss.ID))
	if len(byTestID(t, page, "key-lookup")) != 0 {
		t.Error("lookup button without a key finder")
	}
	if resp, _ := e.do(c, "POST", fmt.Sprintf("/reports/%d/lookup-key", e.xss.ID), nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST: %d, want 404", resp.StatusCode)
	}
}

// fileFixture files a pgp/testdata message through the real Processor
// (no team keys: the fixtures used here are not encrypted).
func (e *env) fileFixture(name string) *triage.Report {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "pgp", "testdata", name))
	if err != nil {
		e.t.Fatal(err)
	}
	return e.fileMessage(data)
}

// fileMessage files the raw message data as the SMTP intake would.
func (e *env) fileMessage(data []byte) *triage.Report {
	e.t.Helper()
	ctx := context.Background()
	raw := &triage.RawMessage{MailFrom: "envelope@example.org", Recipients: []string{"security@localhost"}, ReceivedAt: t0, Data: data}
	if err := e.db.AddRawMessage(ctx, raw); err != nil {
		e.t.Fatal(err)
	}
	p, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: e.db, Conversation: e.db,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := p.File(ctx, raw.ID); err != nil {
		e.t.Fatal(err)
	}
	list, err := e.db.Reports(ctx, triage.ReportFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range list {
		if r.MessageID == raw.ID {
			return r
		}
	}
	e.t.Fatalf("message %d was not filed", raw.ID)
	return nil
}

// TestReportPage_RealMessages goes from GnuPG-made messages through pgp,
// the Processor and the database to the page: only the signed part of a
// wrapped message is marked signed, and an HTML body links to its
// escaped source.
func TestReportPage_RealMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()

	// Alice's key is known (say from WKD): her signature verifies.
	el, err := pgp.ReadPublicKeys(readFixture(t, "researcher.pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	alice := el[0]
	pub, _ := pgp.PublicKeyBytes(alice)
	ids := []string{fmt.Sprintf("%016X", alice.PrimaryKey.KeyId)}
	for _, s := range alice.Subkeys {
		ids = append(ids, fmt.Sprintf("%016X", s.PublicKey.KeyId))
	}
	if err := e.db.AddResearcherKeys(context.Background(), []triage.ResearcherKey{{
		Email: "alice@researcher.example", Fingerprint: pgp.Fingerprint(alice), UserID: pgp.PrimaryUserID(alice),
		Source: triage.KeySourceWKD, KeyIDs: ids, Public: pub}}); err != nil {
		t.Fatal(err)
	}
	r := e.fileFixture("wrapped-signed.eml")
	_, page := e.get(c, fmt.Sprintf("/reports/%d", r.ID))
	labels, warnings, texts := partMarks(t, page)
	want := []string{"Not signed", "Signed by Alice Researcher <alice@researcher.example>", "Not signed"}
	if strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Fatalf("marks %q, want %q", labels, want)
	}
	if !strings.HasPrefix(texts[0], "UNSIGNED") || !strings.HasPrefix(texts[1], "The only signed sentence") || warnings[1] != "" {
		t.Errorf("texts %q warnings %q", texts, warnings)
	}
	if got := strings.Join(byTestID(t, page, "badge"), ","); !strings.Contains(got, "partly signed") {
		t.Errorf("summary badges %q", got)
	}

	// An HTML-only mail: the extracted text, and its source one click away.
	r = e.fileFixture("html-only.eml")
	_, page = e.get(c, fmt.Sprintf("/reports/%d", r.ID))
	if got := byTestID(t, page, "part-text"); len(got) != 1 || !strings.Contains(got[0], `The "export" button leaks every invoice.`) {
		t.Fatalf("html part text %q", got)
	}
	doc, _ := html.Parse(strings.NewReader(page))
	href := ""
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key == "data-testid" && a.Val == "part-html-source" {
					for _, a := range n.Attr {
						if a.Key == "href" {
							href = a.Val
						}
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if href == "" {
		t.Fatal("no link to the HTML source")
	}
	_, src := e.get(c, href)
	if got := byTestID(t, src, "source-text"); len(got) != 1 || !strings.Contains(got[0], "<script>alert(1)</script>") {
		t.Errorf("source %q", got)
	}
	if bad := injected(t, src); len(bad) > 0 {
		t.Errorf("HTML source rendered: %v", bad)
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "pgp", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// injected lists the elements of page that none of our pages has: any
// <img>, and <script> other than our own files under /static/.
func injected(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "img" || n.Data == "script") {
			src := ""
			for _, a := range n.Attr {
				if a.Key == "src" {
					src = a.Val
				}
			}
			if n.Data == "img" || !strings.HasPrefix(src, "/static/") || n.FirstChild != nil {
				bad = append(bad, n.Data+" "+src)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return bad
}
