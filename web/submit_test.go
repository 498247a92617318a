package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

var testLinkKey = []byte("0123456789abcdef0123456789abcdef")

// teamKey is a fresh team key (secret) valid at t and the real clock.
func teamKey(t *testing.T, at time.Time) *openpgp.Entity {
	t.Helper()
	e, err := pgp.GenerateKey("Security Team", "security@localhost", at.Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func armoredPublic(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	a, err := pgp.ArmorPublicKey(e)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// formEnv is a site whose web form works: a real team key and a link key.
func formEnv(t *testing.T, opts ...envOption) (*env, *openpgp.Entity) {
	t.Helper()
	key := teamKey(t, t0)
	pub := armoredPublic(t, key)
	opts = append([]envOption{func(c *web.Config) {
		c.PublicKeyArmored, c.LinkKey = pub, testLinkKey
		// Not localhost, the default: the stored envelope shows it.
		c.Domain = "secinbox.example"
	}}, opts...)
	return newEnv(t, opts...), key
}

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// formToken fetches /report and returns its form token.
func (e *env) formToken() string {
	e.t.Helper()
	resp, body := e.get(http.DefaultClient, "/report")
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /report: %d\n%s", resp.StatusCode, body)
	}
	m := formTokenRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no form token on /report:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

type formFile struct{ name, ctype, data string }

// postReport posts fields and files to /report as multipart/form-data.
func (e *env) postReport(fields map[string]string, files ...formFile) (*http.Response, string) {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, f := range files {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="attachments"; filename="%s"`, f.name)}
		h["Content-Type"] = []string{f.ctype}
		w, err := mw.CreatePart(h)
		if err != nil {
			e.t.Fatal(err)
		}
		w.Write([]byte(f.data))
	}
	mw.Close()
	resp, err := http.Post(e.srv.URL+"/report", mw.FormDataContentType(), &buf)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

var statusLinkRE = regexp.MustCompile(`data-testid="status-link">(http://localhost:8080/status/[A-Za-z0-9_-]+)<`)

// statusToken is the token of the status link on a confirmation page.
func statusToken(t *testing.T, body string) string {
	t.Helper()
	m := statusLinkRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no status link on the page:\n%s", body)
	}
	return strings.TrimPrefix(m[1], "http://localhost:8080/status/")
}

// pending are the raw messages stored and not filed.
func (e *env) pending() []int64 {
	e.t.Helper()
	ids, err := e.db.PendingRawMessages(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

func plainFields(token string) map[string]string {
	return map[string]string{
		"title":       "Stored XSS in the profile page " + xssScript,
		"asset":       "https://app.example.com/profile",
		"description": "The display name is rendered unescaped.\nImpact: account takeover.",
		"steps":       "1. Set the name to " + xssImg + "\n2. Open the profile.",
		"email":       "Researcher@Example.ORG",
		"credit":      "handle",
		"credit_name": "r3search",
		"website":     "",
		"form_token":  token,
	}
}

func TestSubmit_WithoutJavaScript(t *testing.T) {
	t.Parallel()
	var wakes int
	e, key := formEnv(t, func(c *web.Config) { c.Intake = triage.WakeFunc(func() { wakes++ }) })
	token := e.formToken()
	e.clock.Set(t0.Add(10 * time.Second))
	f := plainFields(token)
	resp, body := e.postReport(f, formFile{"poc.html", "text/html", "<svg onload=alert(1)>"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /report: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "Save this link") {
		t.Errorf("confirmation does not say to save the link:\n%s", body)
	}
	stok := statusToken(t, body)

	rawID, reportID, err := e.db.StatusLink(context.Background(), triage.TokenHash(stok))
	if err != nil || reportID != 0 {
		t.Fatalf("StatusLink = %d, %d, %v", rawID, reportID, err)
	}
	if wakes != 1 {
		t.Errorf("intake woken %d times for message %d, want once", wakes, rawID)
	}
	if stok != triage.LinkToken(testLinkKey, triage.LinkStatus, rawID, mustNonce(t, e, rawID)) {
		t.Errorf("the status token is not LinkToken(key, status, raw id, nonce)")
	}
	raw, err := e.db.RawMessage(context.Background(), rawID)
	if err != nil {
		t.Fatal(err)
	}
	if raw.MailFrom != "Researcher@example.org" || len(raw.Recipients) != 1 || raw.Recipients[0] != "security@secinbox.example" {
		t.Errorf("raw envelope = %q -> %q", raw.MailFrom, raw.Recipients)
	}
	data := string(raw.Data)
	if !strings.Contains(data, "multipart/encrypted") || !strings.Contains(data, "-----BEGIN PGP MESSAGE-----") {
		t.Errorf("stored message is not PGP/MIME encrypted:\n%.500s", data)
	}
	for _, clear := range []string{"Stored XSS", "rendered unescaped", "Open the profile", "r3search", "app.example.com", "svg onload", "poc.html"} {
		if strings.Contains(data, clear) {
			t.Errorf("stored message holds %q in the clear", clear)
		}
	}
	msg, err := pgp.ParseMessage(raw.Data, pgp.Keys(openpgp.EntityList{key}, nil), pgp.DefaultLimits(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if !msg.Decrypted {
		t.Fatalf("the team key does not decrypt it: %s", msg.DecryptError)
	}
	if got := msg.Title(); got != f["title"] {
		t.Errorf("title = %q, want %q", got, f["title"])
	}
	for _, want := range []string{
		"Title: " + f["title"], "Affected asset: https://app.example.com/profile", "Contact: Researcher@example.org",
		"Credit: by handle: r3search", "Description:\nThe display name is rendered unescaped.\nImpact: account takeover.",
		"Steps to reproduce:\n1. Set the name to " + xssImg,
	} {
		if !strings.Contains(strings.ReplaceAll(msg.Text, "\r\n", "\n"), want) {
			t.Errorf("decrypted text lacks %q:\n%s", want, msg.Text)
		}
	}
	if len(msg.Attachments) != 1 || msg.Attachments[0].Name != "poc.html" || string(msg.Attachments[0].Data) != "<svg onload=alert(1)>" {
		t.Errorf("attachments = %+v", msg.Attachments)
	}
}

func mustNonce(t *testing.T, e *env, rawID int64) string {
	t.Helper()
	n, err := e.db.StatusLinkNonce(context.Background(), rawID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// encryptedFields are what submit.js posts.
func encryptedFields(t *testing.T, key *openpgp.Entity, token string) map[string]string {
	t.Helper()
	entity, err := pgp.MIMEEntity("From the browser", "Title: From the browser\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	armored, err := pgp.Encrypt(entity, openpgp.EntityList{key}, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"ciphertext": string(armored), "email": "r@example.org", "website": "", "form_token": token}
}

func TestSubmit_Encrypted(t *testing.T) {
	t.Parallel()
	e, key := formEnv(t)
	token := e.formToken()
	e.clock.Set(t0.Add(time.Minute))
	f := encryptedFields(t, key, token)
	resp, body := e.postReport(f)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /report: %d\n%s", resp.StatusCode, body)
	}
	rawID, _, err := e.db.StatusLink(context.Background(), triage.TokenHash(statusToken(t, body)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := e.db.RawMessage(context.Background(), rawID)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := pgp.ParseMessage(raw.Data, pgp.Keys(openpgp.EntityList{key}, nil), pgp.DefaultLimits(), t0)
	if err != nil || !msg.Decrypted || msg.Title() != "From the browser" {
		t.Fatalf("stored message: %v, decrypted %v, title %q", err, msg != nil && msg.Decrypted, msg.Title())
	}

	t.Run("NotArmored", func(t *testing.T) {
		f := encryptedFields(t, key, token)
		f["ciphertext"] = "Title: in the clear, pretending"
		resp, body := e.postReport(f)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not an OpenPGP message") {
			t.Errorf("status %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("TwoBlocks", func(t *testing.T) {
		f := encryptedFields(t, key, token)
		f["ciphertext"] = f["ciphertext"] + "\n-----BEGIN PGP MESSAGE-----\n\nxx\n-----END PGP MESSAGE-----"
		if resp, _ := e.postReport(f); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("BadEmail", func(t *testing.T) {
		f := encryptedFields(t, key, token)
		f["email"] = "a@b.example\r\nBcc: x@y.example"
		resp, body := e.postReport(f)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "email address") {
			t.Errorf("status %d\n%s", resp.StatusCode, body)
		}
	})
	// An address mail.ParseAddress takes but the stored mail's From
	// cannot carry is refused on the form, not a 500 after the work.
	t.Run("NonASCIIEmail", func(t *testing.T) {
		before := len(e.pending())
		for _, addr := range []string{"zoë@example.org", "r@exämple.org"} {
			f := encryptedFields(t, key, token)
			f["email"] = addr
			resp, body := e.postReport(f)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "email address") {
				t.Errorf("%s: status %d\n%.300s", addr, resp.StatusCode, body)
			}
		}
		if n := len(e.pending()); n != before {
			t.Errorf("refused posts stored %d raw messages", n-before)
		}
	})
}

func TestSubmit_Refusals(t *testing.T) {
	t.Parallel()
	e, key := formEnv(t)
	token := e.formToken()
	before := len(e.pending())

	t.Run("TooFast", func(t *testing.T) {
		e.clock.Set(t0.Add(time.Second))
		resp, body := e.postReport(plainFields(token))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Wait a few seconds") {
			t.Errorf("status %d\n%s", resp.StatusCode, body)
		}
		// The form comes back with what was typed, escaped.
		if !strings.Contains(body, "r3search") || strings.Contains(body, xssImg) {
			t.Errorf("the refused form does not keep the (escaped) values:\n%s", body)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		e.clock.Set(t0.Add(25 * time.Hour))
		resp, body := e.postReport(plainFields(token))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "expired") {
			t.Errorf("status %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("Forged", func(t *testing.T) {
		e.clock.Set(t0.Add(time.Minute))
		f := plainFields(token)
		f["form_token"] = strings.Split(token, ".")[0] + ".AAAA"
		if resp, _ := e.postReport(f); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("MissingDescription", func(t *testing.T) {
		e.clock.Set(t0.Add(time.Minute))
		f := plainFields(token)
		f["description"] = " \n"
		resp, body := e.postReport(f)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Describe the vulnerability") {
			t.Errorf("status %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("HeaderInTitle", func(t *testing.T) {
		e.clock.Set(t0.Add(time.Minute))
		f := plainFields(token)
		f["title"] = "a\r\nBcc: x@example.org"
		if resp, _ := e.postReport(f); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("TooManyFiles", func(t *testing.T) {
		e.clock.Set(t0.Add(time.Minute))
		var files []formFile
		for i := range 6 {
			files = append(files, formFile{fmt.Sprintf("f%d.txt", i), "text/plain", "x"})
		}
		resp, body := e.postReport(plainFields(token), files...)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at most 5 files") {
			t.Errorf("status %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("FilesTooLarge", func(t *testing.T) {
		e.clock.Set(t0.Add(time.Minute))
		big := strings.Repeat("A", 6<<20)
		resp, body := e.postReport(plainFields(token), formFile{"a.bin", "application/octet-stream", big}, formFile{"b.bin", "application/octet-stream", big})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "10 MiB") {
			t.Errorf("status %d\n%.300s", resp.StatusCode, body)
		}
	})
	t.Run("Oversized", func(t *testing.T) {
		e.clock.Set(t0.Add(time.Minute))
		f := encryptedFields(t, key, token)
		f["ciphertext"] = "-----BEGIN PGP MESSAGE-----\n\n" + strings.Repeat("QUFB\n", 5<<20) + "-----END PGP MESSAGE-----"
		resp, body := e.postReport(f)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413\n%.300s", resp.StatusCode, body)
		}
	})
	if n := len(e.pending()); n != before {
		t.Errorf("refused posts stored %d raw messages", n-before)
	}
}

func TestSubmit_Honeypot(t *testing.T) {
	t.Parallel()
	e, _ := formEnv(t)
	token := e.formToken()
	e.clock.Set(t0.Add(time.Minute))
	before := len(e.pending())
	f := plainFields(token)
	f["website"] = "http://spam.example"
	resp, body := e.postReport(f)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Report received") {
		t.Fatalf("a filled honeypot must look like success: %d\n%s", resp.StatusCode, body)
	}
	if n := len(e.pending()); n != before {
		t.Errorf("a filled honeypot stored %d raw messages", n-before)
	}
	if resp, _ := e.get(http.DefaultClient, "/status/"+statusToken(t, body)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the honeypot's status link answers %d, want 404", resp.StatusCode)
	}
}

func TestSubmit_RateLimit(t *testing.T) {
	t.Parallel()
	e, key := formEnv(t)
	token := e.formToken()
	// Refused posts do not count: a person may correct the form.
	e.clock.Set(t0.Add(time.Second))
	for i := range 6 {
		if resp, _ := e.postReport(encryptedFields(t, key, token)); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("too fast post %d: %d, want 400", i+1, resp.StatusCode)
		}
	}
	e.clock.Set(t0.Add(time.Minute))
	for i := range 5 {
		if resp, body := e.postReport(encryptedFields(t, key, token)); resp.StatusCode != http.StatusOK {
			t.Fatalf("submission %d: %d\n%s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := e.postReport(encryptedFields(t, key, token))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth submission in an hour: %d (Retry-After %q)\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if len(e.pending()) != 5 {
		t.Errorf("%d raw messages stored, want 5", len(e.pending()))
	}
	e.clock.Set(t0.Add(time.Minute + 13*time.Minute))
	if resp, _ := e.postReport(encryptedFields(t, key, token)); resp.StatusCode != http.StatusOK {
		t.Errorf("after 13 minutes: %d, want 200", resp.StatusCode)
	}
}

func TestSubmit_Unavailable(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]envOption{
		"NoLinkKey":  func(c *web.Config) { c.LinkKey = nil },
		"KeyExpired": func(c *web.Config) { c.KeyExpires = t0.Add(-time.Minute) },
	} {
		t.Run(name, func(t *testing.T) {
			e, key := formEnv(t, opt)
			resp, body := e.get(http.DefaultClient, "/report")
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "submit-unavailable") || strings.Contains(body, "form_token") {
				t.Errorf("GET /report: %d\n%s", resp.StatusCode, body)
			}
			if resp, _ := e.postReport(encryptedFields(t, key, "1.x")); resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("POST /report: %d, want 503", resp.StatusCode)
			}
		})
	}
}

func TestStatusPage(t *testing.T) {
	t.Parallel()
	e, key := formEnv(t)
	token := e.formToken()
	e.clock.Set(t0.Add(time.Minute))
	resp, body := e.postReport(encryptedFields(t, key, token))
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	stok := statusToken(t, body)
	path := "/status/" + stok

	resp, body = e.get(http.DefaultClient, path)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "being filed") || resp.Header.Get("Refresh") == "" {
		t.Fatalf("before filing: %d, Refresh %q\n%s", resp.StatusCode, resp.Header.Get("Refresh"), body)
	}
	if got := resp.Header.Get("X-Robots-Tag"); !strings.Contains(got, "noindex") {
		t.Errorf("X-Robots-Tag = %q", got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
	// A reply before filing has nowhere to go.
	if resp, err := http.PostForm(e.srv.URL+path+"/reply", url.Values{"body": {"hello"}}); err != nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("reply before filing: %v %v", resp.StatusCode, err)
	}

	// Intake files it, as it would from the decrypted message.
	rawID, _, err := e.db.StatusLink(context.Background(), triage.TokenHash(stok))
	if err != nil {
		t.Fatal(err)
	}
	rep := triage.NewReport(t0.Add(time.Minute))
	rep.MessageID, rep.Title, rep.ResearcherEmail = rawID, "From the browser", "r@example.org"
	rep.Body = "My report " + xssScript
	rep.Encrypted, rep.Decrypted = true, true
	if err := e.db.FileReport(context.Background(), rep); err != nil {
		t.Fatal(err)
	}

	e.clock.Set(t0.Add(2 * time.Hour))
	resp, body = e.get(http.DefaultClient, path)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Refresh") != "" {
		t.Fatalf("after filing: %d, Refresh %q\n%s", resp.StatusCode, resp.Header.Get("Refresh"), body)
	}
	for _, want := range []string{rep.TrackingID, "waiting for the security team", `data-state="waiting"`, "A person will answer by 2026-03-11 12:01 UTC", "My report &lt;script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, xssScript) {
		t.Error("status page prints report text unescaped")
	}

	// The researcher replies from the page.
	c := e.client()
	resp, err = c.PostForm(e.srv.URL+path+"/reply", url.Values{"body": {"More detail " + xssImg}})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path+"?sent=1" {
		t.Fatalf("reply: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	msgs, err := e.db.Messages(context.Background(), rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Direction != triage.DirectionIn || msgs[0].Via != triage.ViaWeb || msgs[0].From != "r@example.org" {
		t.Fatalf("messages = %+v", msgs)
	}
	_, body = e.get(c, path+"?sent=1")
	if !strings.Contains(body, "Your reply was sent") || !strings.Contains(body, "More detail &lt;img") || strings.Contains(body, xssImg) {
		t.Errorf("after the reply:\n%s", body)
	}

	// The team answers; an internal note stays internal; the answer
	// stops the first-response clock.
	ctx := context.Background()
	staff := triage.Actor{UserID: e.viewerID, Email: viewerEmail}
	at := t0.Add(3 * time.Hour)
	mid := triage.NewMessageID("secinbox.example")
	reply := &triage.Message{ReportID: rep.ID, Direction: triage.DirectionOut, Via: triage.ViaMail, At: at,
		From: "security@secinbox.example", Subject: triage.ReplySubject(rep.TrackingID), Body: "Thanks, we reproduced it.",
		HeaderMessageID: mid}
	mail := &triage.OutMail{Kind: triage.MailReply, ReportID: rep.ID, To: "r@example.org", Subject: reply.Subject,
		Body: reply.Body, HeaderMessageID: mid, CreatedAt: at, State: triage.DeliveryQueued, NextAttempt: at}
	if err := e.db.AddReply(ctx, reply, mail, staff); err != nil {
		t.Fatal(err)
	}
	if err := e.db.AddNote(ctx, &triage.Note{ReportID: rep.ID, AuthorID: e.viewerID, At: at, Body: "INTERNAL: probably a duplicate"}, staff); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(t0.Add(4 * time.Hour))
	_, body = e.get(c, path)
	if !strings.Contains(body, "Thanks, we reproduced it.") || !strings.Contains(body, `data-team="true"`) {
		t.Errorf("the team's reply is not shown:\n%s", body)
	}
	if strings.Contains(body, "INTERNAL") {
		t.Error("the status page shows an internal note")
	}
	if !strings.Contains(body, `data-state="answered"`) || !strings.Contains(body, "Answered 2026-03-10 15:00 UTC") {
		t.Errorf("the first response is not shown as answered:\n%s", body)
	}
	// An empty reply is refused on the page.
	resp, err = c.PostForm(e.srv.URL+path+"/reply", url.Values{"body": {"  "}})
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "status-error") {
		t.Errorf("empty reply: %d\n%s", resp.StatusCode, body)
	}

	t.Run("Unknown", func(t *testing.T) {
		for _, p := range []string{"/status/" + strings.Repeat("A", 43), "/status/" + strings.Repeat("A", 65), "/status/a%20b", "/status/" + stok[:42]} {
			if resp, _ := e.get(http.DefaultClient, p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
			}
		}
	})
}

// TestStatusPage_ClosedWithoutReply: closing a report stops its
// first-response clock, but the page must not claim the team answered.
func TestStatusPage_ClosedWithoutReply(t *testing.T) {
	t.Parallel()
	e, key := formEnv(t)
	token := e.formToken()
	e.clock.Set(t0.Add(time.Minute))
	resp, body := e.postReport(encryptedFields(t, key, token))
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	stok := statusToken(t, body)
	ctx := context.Background()
	rawID, _, err := e.db.StatusLink(ctx, triage.TokenHash(stok))
	if err != nil {
		t.Fatal(err)
	}
	rep := triage.NewReport(t0.Add(time.Minute))
	rep.MessageID, rep.Title, rep.ResearcherEmail = rawID, "From the browser", "r@example.org"
	if err := e.db.FileReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	spam := triage.StatusSpam
	if _, err := e.db.UpdateReport(ctx, rep.ID, triage.Change{Status: &spam}, triage.Actor{}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(t0.Add(2 * time.Hour))
	_, body = e.get(http.DefaultClient, "/status/"+stok)
	if strings.Contains(body, "Answered") || !strings.Contains(body, `data-state="closed"`) {
		t.Errorf("a report closed without a reply:\n%s", body)
	}
}
