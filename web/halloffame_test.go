package web_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// offerCredit offers credit for r in the database, as the staff offer
// does, with link token token; expires zero means the default lifetime.
func (e *env) offerCredit(r *triage.Report, token string, expires time.Time) {
	e.t.Helper()
	c := &triage.Credit{ReportID: r.ID, OfferedAt: e.clock.Now(), ExpiresAt: expires}
	mail := &triage.OutMail{To: r.ResearcherEmail, HeaderMessageID: fmt.Sprintf("<credit-%d@localhost>", r.ID)}
	if err := e.db.OfferCredit(context.Background(), c, "nonce-"+token, triage.TokenHash(token), mail, triage.Actor{UserID: e.viewerID}); err != nil {
		e.t.Fatal(err)
	}
}

// postForm posts form to path with c, not following redirects.
func (e *env) postForm(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

// hall is the three public forms of the hall of fame at one moment.
type hall struct {
	html, json, atom string
	doc              map[string]any
	feed             atomFeed
}

type atomFeed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Content string `xml:"content"`
	} `xml:"entry"`
}

func (e *env) hall() hall {
	e.t.Helper()
	c := e.client()
	var h hall
	for _, f := range []struct {
		path, ctype string
		body        *string
	}{
		{"/hall-of-fame", "text/html; charset=utf-8", &h.html},
		{"/hall-of-fame.json", "application/json; charset=utf-8", &h.json},
		{"/hall-of-fame.atom", "application/atom+xml; charset=utf-8", &h.atom},
	} {
		resp, body := e.get(c, f.path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != f.ctype {
			e.t.Fatalf("GET %s: status %d, Content-Type %q", f.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=60" {
			e.t.Errorf("GET %s: Cache-Control %q", f.path, cc)
		}
		*f.body = body
	}
	h.doc = decodeJSON(e.t, h.json)
	if err := xml.Unmarshal([]byte(h.atom), &h.feed); err != nil {
		e.t.Fatalf("Atom feed is not XML: %v\n%s", err, h.atom)
	}
	return h
}

// researchers returns the JSON's researchers of the first year, and its
// anonymous count.
func (h hall) researchers(t *testing.T) ([]map[string]any, int) {
	t.Helper()
	years := h.doc["years"].([]any)
	if len(years) == 0 {
		return nil, 0
	}
	y := years[0].(map[string]any)
	var out []map[string]any
	for _, r := range y["researchers"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out, int(y["anonymous"].(float64))
}

// notAnywhere fails when s is in any of the three forms.
func (h hall) notAnywhere(t *testing.T, what, s string) {
	t.Helper()
	for name, body := range map[string]string{"HTML": h.html, "JSON": h.json, "Atom": h.atom} {
		if strings.Contains(body, s) {
			t.Errorf("%s shows %s %q", name, what, s)
		}
	}
}

// inAll fails unless s is in each of the three forms (in the Atom
// feed's decoded text, in the HTML escaped).
func (h hall) inAll(t *testing.T, what, s string) {
	t.Helper()
	var atomText strings.Builder
	for _, en := range h.feed.Entries {
		atomText.WriteString(en.Content)
	}
	if !strings.Contains(h.html, s) {
		t.Errorf("HTML does not show %s %q", what, s)
	}
	if !strings.Contains(h.json, s) {
		t.Errorf("JSON does not show %s %q", what, s)
	}
	if !strings.Contains(atomText.String(), s) {
		t.Errorf("Atom does not show %s %q", what, s)
	}
}

const secretTitle = "SQLi in billing TOPSECRET"

// TestCredit_ConsentFlow drives a researcher's credit link over HTTP and
// checks what the public hall of fame shows after each choice.
func TestCredit_ConsentFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rep := e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.Title = secretTitle
		r.Body = "TOPSECRET body"
		r.ResearcherEmail = "alice@example.org"
		r.Status = triage.StatusAccepted
	})
	const token = "tok-alice-0123456789abcdefghijklmnopqrstuvwxyz"
	e.offerCredit(rep, token, time.Time{})
	c := e.client()
	path := "/credit/" + token

	resp, body := e.get(c, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
	}
	if !strings.Contains(body, rep.TrackingID) {
		t.Errorf("credit page does not show the tracking id %s", rep.TrackingID)
	}
	if strings.Contains(body, "TOPSECRET") {
		t.Error("credit page shows the report's title or content")
	}
	for _, want := range []string{`value="name"`, `value="handle"`, `value="anonymous"`, `value="none"`, "nothing is published until you do"} {
		if !strings.Contains(body, want) {
			t.Errorf("credit page lacks %q", want)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("credit page Cache-Control %q", resp.Header.Get("Cache-Control"))
	}

	h := e.hall()
	if rs, anon := h.researchers(t); len(rs) != 0 || anon != 0 {
		t.Fatalf("listed before any choice: %v", h.json)
	}
	h.notAnywhere(t, "the title", "TOPSECRET")

	choose := func(form url.Values) {
		t.Helper()
		resp, body := e.postForm(c, path, form)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), path+"?saved=") {
			t.Fatalf("POST %v: %d Location %q\n%s", form, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}

	t.Run("Name", func(t *testing.T) {
		choose(url.Values{"action": {"choose"}, "choice": {"name"}, "name": {"Alice <b>Example</b>"}, "link": {"https://alice.example/about"}})
		_, body := e.get(c, path+"?saved=choice")
		if !strings.Contains(body, "Your choice is saved.") || !strings.Contains(body, "Alice &lt;b&gt;Example&lt;/b&gt;") {
			t.Errorf("credit page after choosing:\n%s", body)
		}
		h := e.hall()
		rs, anon := h.researchers(t)
		if len(rs) != 1 || rs[0]["name"] != "Alice <b>Example</b>" || rs[0]["link"] != "https://alice.example/about" ||
			rs[0]["reports"] != 1.0 || anon != 0 {
			t.Fatalf("JSON researchers %v anonymous %d", rs, anon)
		}
		if len(rs[0]["advisories"].([]any)) != 0 {
			t.Errorf("advisories of an undisclosed report: %v", rs[0]["advisories"])
		}
		if !strings.Contains(h.html, `<a href="https://alice.example/about" rel="nofollow ugc noopener" data-testid="hall-name"><bdi>Alice &lt;b&gt;Example&lt;/b&gt;</bdi></a>`) {
			t.Errorf("HTML entry:\n%s", h.html)
		}
		if strings.Contains(h.html, "<b>Example") {
			t.Error("HTML renders the name unescaped")
		}
		h.inAll(t, "the name", "Example")
		if len(h.feed.Entries) != 1 || !strings.Contains(h.feed.Entries[0].Content, "Alice <b>Example</b>: 1 report") {
			t.Errorf("Atom entries %+v", h.feed.Entries)
		}
		h.notAnywhere(t, "the title", "TOPSECRET")
	})

	t.Run("Anonymous", func(t *testing.T) {
		choose(url.Values{"action": {"choose"}, "choice": {"anonymous"}, "name": {"Alice Example"}})
		h := e.hall()
		rs, anon := h.researchers(t)
		if len(rs) != 0 || anon != 1 {
			t.Fatalf("JSON researchers %v anonymous %d", rs, anon)
		}
		h.notAnywhere(t, "the name", "Alice")
		h.notAnywhere(t, "the title", "TOPSECRET")
		if !strings.Contains(h.html, "And 1 report by a researcher who chose to stay anonymous.") {
			t.Errorf("HTML does not count the anonymous report:\n%s", h.html)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		choose(url.Values{"action": {"choose"}, "choice": {"handle"}, "name": {"al1ce"}})
		if rs, _ := e.hall().researchers(t); len(rs) != 1 || rs[0]["name"] != "al1ce" {
			t.Fatalf("handle not listed: %v", rs)
		}
		choose(url.Values{"action": {"revoke"}})
		_, body := e.get(c, path)
		if !strings.Contains(body, "You withdrew your consent") {
			t.Errorf("credit page after revoking:\n%s", body)
		}
		h := e.hall()
		if rs, anon := h.researchers(t); len(rs) != 0 || anon != 0 {
			t.Fatalf("listed after revoking: %v", h.json)
		}
		h.notAnywhere(t, "the handle", "al1ce")
	})

	t.Run("None", func(t *testing.T) {
		choose(url.Values{"action": {"choose"}, "choice": {"none"}, "name": {"Alice Example"}})
		h := e.hall()
		if rs, anon := h.researchers(t); len(rs) != 0 || anon != 0 {
			t.Fatalf("listed with none: %v", h.json)
		}
		h.notAnywhere(t, "the name", "Alice")
		if !strings.Contains(h.html, "No researchers credited yet") || len(h.feed.Entries) != 0 {
			t.Errorf("not empty:\n%s", h.html)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, tc := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"action": {"choose"}, "choice": {"name"}, "name": {"  "}}, "a display name of 1 to 80 printable characters is required"},
			{url.Values{"action": {"choose"}, "choice": {"name"}, "name": {"Eve"}, "link": {"javascript:alert(1)"}}, "the link must be an http(s) URL"},
			{url.Values{"action": {"choose"}, "choice": {"famous"}}, "Choose one of the four ways to be credited."},
		} {
			resp, body := e.postForm(c, path, tc.form)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
				t.Errorf("POST %v: %d, want 422 with %q\n%s", tc.form, resp.StatusCode, tc.want, body)
			}
		}
		if rs, _ := e.hall().researchers(t); len(rs) != 0 {
			t.Errorf("a refused choice was published: %v", rs)
		}
	})
}

// TestHallOfFame_Disclosure: a report's title never shows while it is
// undisclosed; the advisory title shows once it is disclosed, in all
// three forms; the cache catches up within its 30 seconds when the
// change did not invalidate it.
func TestHallOfFame_Disclosure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rep := e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.Title = secretTitle
		r.ResearcherEmail = "bob@example.org"
		r.Status = triage.StatusFixed
	})
	const token = "tok-bob-0123456789abcdefghijklmnopqrstuvwxyz01"
	e.offerCredit(rep, token, time.Time{})
	ctx := context.Background()
	if err := e.db.SetAdvisoryTitle(ctx, rep.ID, "Billing: SQL injection (fixed in 2.3)", triage.Actor{UserID: e.viewerID}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	if resp, body := e.postForm(c, "/credit/"+token, url.Values{"action": {"choose"}, "choice": {"handle"}, "name": {"b0b"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose: %d\n%s", resp.StatusCode, body)
	}
	h := e.hall()
	h.inAll(t, "the handle", "b0b")
	h.notAnywhere(t, "the title", "TOPSECRET")
	h.notAnywhere(t, "the advisory title", "Billing: SQL injection")

	disclosed := triage.StatusDisclosed
	if _, err := e.db.UpdateReport(ctx, rep.ID, triage.Change{Status: &disclosed}, triage.Actor{UserID: e.viewerID}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Changed behind the site's back: served from the cache until it
	// is 30 seconds old.
	e.hall().notAnywhere(t, "the advisory title", "Billing: SQL injection")
	e.clock.Set(t0.Add(31 * time.Second))
	h = e.hall()
	h.inAll(t, "the advisory title", "Billing: SQL injection (fixed in 2.3)")
	if n := strings.Count(h.html, "Billing: SQL injection (fixed in 2.3)"); n != 1 {
		t.Errorf("HTML shows the advisory %d times, want once", n)
	}
	h.notAnywhere(t, "the title", "TOPSECRET")
}

// TestHallOfFame_Cache: conditional GETs answer 304 with the same ETag
// until the hall changes.
func TestHallOfFame_Cache(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	for _, path := range []string{"/hall-of-fame", "/hall-of-fame.json", "/hall-of-fame.atom"} {
		resp, _ := e.get(c, path)
		etag := resp.Header.Get("ETag")
		if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
			t.Fatalf("%s: ETag %q", path, etag)
		}
		resp, body := e.get(c, path, "If-None-Match", `W/"other", `+etag)
		if resp.StatusCode != http.StatusNotModified || body != "" || resp.Header.Get("ETag") != etag {
			t.Errorf("%s: conditional GET %d %q", path, resp.StatusCode, body)
		}
		if resp, _ := e.get(c, path, "If-None-Match", `"stale"`); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: stale ETag answered %d", path, resp.StatusCode)
		}
	}

	resp, _ := e.get(c, "/hall-of-fame.json")
	before := resp.Header.Get("ETag")
	rep := e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.ResearcherEmail = "carol@example.org"
		r.Status = triage.StatusAccepted
	})
	e.offerCredit(rep, "tok-carol-0123456789abcdefghijklmnopqrstuvwxy", time.Time{})
	e.postForm(c, "/credit/tok-carol-0123456789abcdefghijklmnopqrstuvwxy", url.Values{"action": {"choose"}, "choice": {"name"}, "name": {"Carol"}})
	// The choice invalidated the cache: no waiting for 30 seconds.
	resp, body := e.get(c, "/hall-of-fame.json", "If-None-Match", before)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Carol"`) || resp.Header.Get("ETag") == before {
		t.Errorf("after a choice: %d ETag %q\n%s", resp.StatusCode, resp.Header.Get("ETag"), body)
	}
}

// TestHallOfFame_Atom checks the feed's required elements (RFC 4287).
func TestHallOfFame_Atom(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i, who := range []string{"dave", "erin"} {
		rep := e.fileReport(t0.AddDate(-i, 0, 0), func(r *triage.Report) {
			r.ResearcherEmail = who + "@example.org"
			r.Status = triage.StatusAccepted
		})
		token := "tok-" + who + "-0123456789abcdefghijklmnopqrstuvwxyz"
		e.offerCredit(rep, token, time.Time{})
		e.postForm(e.client(), "/credit/"+token, url.Values{"action": {"choose"}, "choice": {"name"}, "name": {who + " & co"}})
	}
	f := e.hall().feed
	if f.ID != "http://localhost:8080/hall-of-fame" || f.Title == "" || f.Updated != t0.Format(time.RFC3339) {
		t.Errorf("feed id %q title %q updated %q", f.ID, f.Title, f.Updated)
	}
	self := false
	for _, l := range f.Links {
		self = self || l.Rel == "self" && l.Href == "http://localhost:8080/hall-of-fame.atom"
	}
	if !self {
		t.Errorf("no self link: %+v", f.Links)
	}
	if len(f.Entries) != 2 || f.Entries[0].ID != "http://localhost:8080/hall-of-fame#y2026" || f.Entries[1].ID != "http://localhost:8080/hall-of-fame#y2025" {
		t.Fatalf("entries %+v", f.Entries)
	}
	for _, en := range f.Entries {
		if en.Title == "" || en.Updated == "" {
			t.Errorf("entry %+v lacks title or updated", en)
		}
	}
	if !strings.Contains(f.Entries[0].Content, "dave & co: 1 report") || !strings.Contains(f.Entries[1].Content, "erin & co: 1 report") {
		t.Errorf("entries %+v", f.Entries)
	}
}

// TestCredit_Links: unknown and expired links, the per-address limit on
// unknown tokens, and logs that never hold a token.
func TestCredit_Links(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newEnv(t, func(c *web.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	rep := e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.ResearcherEmail = "frank@example.org"
		r.Status = triage.StatusAccepted
	})
	const expired = "tok-expired-0123456789abcdefghijklmnopqrstuv"
	e.offerCredit(rep, expired, t0.Add(-time.Minute))
	c := e.client()

	for _, method := range []string{"GET", "POST"} {
		var resp *http.Response
		var body string
		if method == "GET" {
			resp, body = e.get(c, "/credit/"+expired)
		} else {
			resp, body = e.postForm(c, "/credit/"+expired, url.Values{"action": {"choose"}, "choice": {"name"}, "name": {"Frank"}})
		}
		if resp.StatusCode != http.StatusGone || !strings.Contains(body, "ask the security team for a new one") {
			t.Errorf("%s expired link: %d\n%s", method, resp.StatusCode, body)
		}
	}
	if rs, _ := e.hall().researchers(t); len(rs) != 0 {
		t.Errorf("an expired link published a choice: %v", rs)
	}

	resp, body := e.get(c, "/credit/unknown-token-SECRETVALUE")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link is not valid") {
		t.Errorf("unknown token: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(logs.String(), "SECRETVALUE") || strings.Contains(logs.String(), expired) {
		t.Errorf("a link token was logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "/credit/REDACTED") {
		t.Errorf("refusal not logged (or not redacted):\n%s", logs.String())
	}

	limited := false
	for i := range 30 {
		resp, _ := e.get(c, fmt.Sprintf("/credit/guess-%d", i))
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = resp.Header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Error("30 unknown tokens from one address were not rate-limited")
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var _ io.Writer = (*syncBuffer)(nil)

// TestPublicPages_NeverReportTitle: a report disclosed without an
// advisory title is listed under its tracking id; its own title (the
// protected Subject the researcher encrypted) shows on no public page,
// feed or JSON, nor on the credit and status pages.
func TestPublicPages_NeverReportTitle(t *testing.T) {
	t.Parallel()
	const title = "Encrypted subject TOPSECRET-TITLE"
	e, _ := formEnv(t)
	ctx := context.Background()
	// A web submission, so that it has a status page too.
	raw := &triage.RawMessage{MailFrom: "carol@example.org", Recipients: []string{"security@secinbox.example"},
		RemoteAddr: "192.0.2.7", ReceivedAt: t0.Add(-time.Hour), Data: []byte("-----BEGIN PGP MESSAGE-----\r\n...")}
	nonce := triage.NewNonce()
	if err := e.db.AddWebSubmission(ctx, raw, nonce, func(id int64) []byte {
		return triage.TokenHash(triage.LinkToken(testLinkKey, triage.LinkStatus, id, nonce))
	}); err != nil {
		t.Fatal(err)
	}
	rep := triage.NewReport(t0.Add(-time.Hour))
	rep.MessageID, rep.Title, rep.ResearcherEmail = raw.ID, title, "carol@example.org"
	rep.Body = "The report's text."
	rep.Encrypted, rep.Decrypted = true, true
	rep.Status = triage.StatusDisclosed
	if err := e.db.FileReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	const token = "tok-carol-0123456789abcdefghijklmnopqrstuvwxyz"
	e.offerCredit(rep, token, time.Time{})
	c := e.client()
	if resp, body := e.postForm(c, "/credit/"+token, url.Values{"action": {"choose"}, "choice": {"name"}, "name": {"Carol"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose: %d\n%s", resp.StatusCode, body)
	}

	h := e.hall()
	h.inAll(t, "the researcher", "Carol")
	h.inAll(t, "the tracking id", rep.TrackingID)
	h.notAnywhere(t, "the report's title", "TOPSECRET")
	rs, _ := h.researchers(t)
	if len(rs) != 1 || fmt.Sprint(rs[0]["advisories"]) != "["+rep.TrackingID+"]" {
		t.Errorf("JSON researchers %v, want Carol with the advisory %s", rs, rep.TrackingID)
	}
	for _, path := range []string{"/", "/policy", "/.well-known/security.txt", "/credit/" + token,
		"/status/" + triage.LinkToken(testLinkKey, triage.LinkStatus, raw.ID, nonce)} {
		resp, body := e.get(c, path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		if strings.Contains(body, "TOPSECRET") {
			t.Errorf("GET %s shows the report's title:\n%s", path, body)
		}
	}
}
