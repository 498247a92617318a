package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/smtp"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// researcherReport is the part of the API's report this test reads.
type researcherReport struct {
	ID        int64 `json:"id"`
	Signature struct {
		Status      string `json:"status"`
		Fingerprint string `json:"fingerprint"`
		KeyID       string `json:"key_id"`
	} `json:"signature"`
	Signatures []struct {
		Status      string   `json:"status"`
		Fingerprint string   `json:"fingerprint"`
		FromMatches bool     `json:"from_matches"`
		Parts       []string `json:"parts"`
	} `json:"signatures"`
	Parts []struct {
		Path      string `json:"path"`
		Text      string `json:"text"`
		Encrypted bool   `json:"encrypted"`
		Signature *int   `json:"signature"`
	} `json:"parts"`
	Researcher struct {
		Email          string `json:"email"`
		KeyFingerprint string `json:"key_fingerprint"`
		KeySource      string `json:"key_source"`
	} `json:"researcher"`
}

// TestEndToEnd_ResearcherKeyLookup: a researcher signs an encrypted report
// with a key secinbox does not know. A triager presses "Look up key" on
// the report page; the key is fetched from the researcher's Web Key
// Directory (a local server standing in for it), the message is verified
// again, and the page and the API show the good signature and the key.
func TestEndToEnd_ResearcherKeyLookup(t *testing.T) {
	t.Parallel()
	const alice = "alice@researcher.example"
	key, err := pgp.GenerateKey("Alice Researcher", alice, time.Now().Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := pgp.PublicKeyBytes(key)
	if err != nil {
		t.Fatal(err)
	}
	fpr := pgp.Fingerprint(key)

	// The researcher's Web Key Directory, advanced method.
	wantPath := "/wkd/researcher.example/hu/" + pgp.WKDHash("alice")
	var wkdHits atomic.Int32
	wkd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != wantPath || r.URL.Query().Get("l") != "alice" {
			http.NotFound(w, r)
			return
		}
		wkdHits.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(pub)
	}))
	defer wkd.Close()

	data := t.TempDir()
	p := startProc(t, data,
		"SECINBOX_WKD_ADVANCED_URL="+wkd.URL+"/wkd/{domain}",
		"SECINBOX_WKD_DIRECT_URL=off",
		"SECINBOX_VKS_URL=off")

	inner := crlf("Content-Type: text/plain; charset=utf-8\n\nThe export endpoint leaks every invoice.\n")
	armored, err := pgp.Encrypt([]byte(inner), teamKeyFrom(t, p), key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg := pgpMIME("Alice Researcher <"+alice+">", "Invoice export leak", armored)
	if err := smtp.SendMail(p.smtpAddr, nil, alice, []string{"security@localhost"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	token := apiToken(t, data)
	id := p.waitReports(token, 1)[0].ID
	get := func() researcherReport {
		t.Helper()
		var r researcherReport
		if code := p.getJSON(token, fmt.Sprintf("/api/v1/reports/%d", id), &r); code != 200 {
			t.Fatalf("GET report: %d", code)
		}
		return r
	}

	r := get()
	if r.Signature.Status != "unknown_key" || r.Signature.KeyID == "" || r.Researcher.KeyFingerprint != "" {
		t.Fatalf("before the lookup: signature %+v, key %q", r.Signature, r.Researcher.KeyFingerprint)
	}

	// A triager signs in and presses the button on the report page.
	addStaff(t, data, "lead@example.com", triage.RoleTriager)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(p.url("/login"), url.Values{"email": {"lead@example.com"}, "password": {staffPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reportPath := fmt.Sprintf("/reports/%d", id)
	page := fetch(t, c, "GET", p.url(reportPath))
	if !strings.Contains(page, `action="`+reportPath+`/lookup-key"`) || !strings.Contains(page, "Signed by an unknown key") {
		t.Fatalf("report page before the lookup lacks the button or the unknown-key mark:\n%s", page)
	}
	page = fetch(t, c, "POST", p.url(reportPath+"/lookup-key")) // follows the redirect back
	if wkdHits.Load() == 0 {
		t.Fatal("the WKD server was never asked")
	}
	for _, want := range []string{
		"the message&#39;s signatures were checked again",
		"Signed by Alice Researcher &lt;" + alice + "&gt;",
		"The export endpoint leaks every invoice.",
		fpr[:4] + " " + fpr[4:8],
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report page after the lookup lacks %q", want)
		}
	}

	// The API shows the verified signature and the key.
	r = get()
	if r.Signature.Status != "good" || r.Signature.Fingerprint != fpr {
		t.Errorf("signature after the lookup: %+v", r.Signature)
	}
	if len(r.Signatures) != 1 || !r.Signatures[0].FromMatches || len(r.Parts) == 0 ||
		r.Parts[0].Signature == nil || *r.Parts[0].Signature != 0 || !r.Parts[0].Encrypted {
		t.Errorf("signatures %+v parts %+v", r.Signatures, r.Parts)
	}
	// Found in WKD, then seen making a good signature: the strongest
	// provenance is the signature.
	if r.Researcher.Email != alice || r.Researcher.KeyFingerprint != fpr || r.Researcher.KeySource != "signature" {
		t.Errorf("researcher %+v, want key %s from signature", r.Researcher, fpr)
	}
	if !strings.Contains(page, "seen from signature, wkd") {
		t.Error("the page does not show both provenances")
	}
}

// fetch sends a request with c, following redirects, and returns the body
// of a 200 answer.
func fetch(t *testing.T, c *http.Client, method, u string) string {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d\n%s", method, u, resp.StatusCode, body)
	}
	return string(body)
}
