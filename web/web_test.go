package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// t0 is "now" in every test unless a test moves the clock.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// farFuture is the expiry of the fixtures' API tokens.
var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	viewerEmail    = "viewer@localhost"
	viewerPassword = "correct horse battery staple"
	viewerToken    = "sit_test_viewer_token_0123456789"
	xssScript      = `<script>alert(1)</script>`
	xssImg         = `<img src=x onerror=alert(1)>`
)

var (
	testKeyArmored = []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ...test\n-----END PGP PUBLIC KEY BLOCK-----\n")
	testKeyBinary  = []byte{0x99, 0x01, 0x0d, 0x04, 0x65, 0x00}
)

// clock is a settable time source safe to read from handler goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// env is a site on a real SQLite database in a temp dir, with one viewer
// (password and API token) and two reports: a fresh one whose title and
// body carry XSS payloads and two attachments, and an overdue one that
// could not be decrypted.
type env struct {
	t        *testing.T
	db       *db.DB
	clock    *clock
	handler  http.Handler
	srv      *httptest.Server
	xss      *triage.Report
	overdue  *triage.Report
	viewerID int64
	path     string           // the database file
	uses     *web.UseRecorder // the site's; tests call Flush
}

type envOption func(*web.Config)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	path := newDBFile(t)
	clk := &clock{t: t0}
	d, err := db.OpenWith(ctx, path, db.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	e := &env{t: t, db: d, clock: clk, path: path, uses: web.NewUseRecorder(d, nil)}

	viewer := &triage.User{Email: viewerEmail, Role: triage.RoleViewer, PasswordHash: passwordHash(t, viewerPassword), CreatedAt: t0}
	if err := d.CreateUser(ctx, viewer); err != nil {
		t.Fatal(err)
	}
	e.viewerID = viewer.ID
	// Some tests run the site on the real clock: this token outlives any.
	if err := d.CreateAPIToken(ctx, &triage.APIToken{UserID: viewer.ID, Name: "test", TokenHash: sha256Sum(viewerToken), ExpiresAt: farFuture}); err != nil {
		t.Fatal(err)
	}

	e.xss = e.fileReport(t0.Add(-50*time.Minute), func(r *triage.Report) {
		r.Title = "XSS " + xssScript + " " + xssImg
		r.ResearcherEmail = "mallory@example.org"
		r.ResearcherName = "Mallory " + xssImg
		r.Encrypted, r.Decrypted = true, true
		r.Signature = triage.Signature{Status: triage.SignatureGood, Fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567", KeyID: "89ABCDEF01234567"}
		r.Body = "Steps:\n  1. " + xssScript + "\n  2. " + xssImg + "\n"
		r.Attachments = []triage.Attachment{
			{Name: "poc.html", ContentType: "text/html", Size: 25, SHA256: strings.Repeat("ab", 32), Data: []byte("<script>alert(1)</script>")},
			{Name: `evil "name".html`, ContentType: "text/html", Size: 2, SHA256: strings.Repeat("cd", 32), Data: []byte("hi")},
		}
	})
	e.overdue = e.fileReport(t0.Add(-26*time.Hour-5*time.Minute), func(r *triage.Report) {
		r.Title = "Undecryptable report"
		r.ResearcherEmail = "alice@example.org"
		r.Status = triage.StatusUndecryptable
		r.Encrypted = true
		r.DecryptError = "no key to decrypt this message"
	})

	cfg := web.Config{
		Store:            d,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		Domain:           "localhost",
		Addresses:        []string{"security@localhost", "bugs@localhost", "abuse@other.example"},
		PublicURL:        "http://localhost:8080",
		PublicKeyArmored: testKeyArmored,
		PublicKeyBinary:  testKeyBinary,
		KeyFingerprint:   "0123456789abcdef0123456789abcdef01234567",
		Now:              e.clock.Now,
		Uses:             e.uses,
		// Passwords set through the site, and the hash a sign-in with an
		// unknown email is compared against, cost what the fixtures'
		// do: cost 12 takes seconds under the race detector.
		PasswordCost: bcrypt.MinCost,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.handler, err = web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.handler)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) fileReport(received time.Time, fill func(*triage.Report)) *triage.Report {
	e.t.Helper()
	ctx := context.Background()
	raw := &triage.RawMessage{
		MailFrom:   "researcher@example.org",
		Recipients: []string{"security@localhost"},
		RemoteAddr: "192.0.2.1:1234",
		ReceivedAt: received,
		Data:       []byte("From: researcher@example.org\r\nSubject: hi\r\n\r\n" + xssScript + "\r\n"),
	}
	if err := e.db.AddRawMessage(ctx, raw); err != nil {
		e.t.Fatal(err)
	}
	r := triage.NewReport(received)
	r.MessageID = raw.ID
	fill(r)
	if err := e.db.FileReport(ctx, r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// client returns a client with a cookie jar that does not follow redirects.
func (e *env) client() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// login signs c in with password and returns the POST /login response.
func (e *env) login(c *http.Client, email, password string) *http.Response {
	e.t.Helper()
	resp, err := c.PostForm(e.srv.URL+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		e.t.Fatal(err)
	}
	readBody(e.t, resp)
	return resp
}

// viewerClient returns a client signed in as the viewer.
func (e *env) viewerClient() *http.Client {
	e.t.Helper()
	c := e.client()
	if resp := e.login(c, viewerEmail, viewerPassword); resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login: status %d, want 303", resp.StatusCode)
	}
	return c
}

// get fetches path with c and returns the response and its body.
func (e *env) get(c *http.Client, path string, header ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	return m
}
