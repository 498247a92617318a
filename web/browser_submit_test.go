package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// formSite is a site whose web form works (a team key, a link key), with
// every POST /report body recorded as the server received it.
type formSite struct {
	*site
	key *openpgp.Entity
	// skew moves the server's clock from the real one, so that a test
	// can send the form "too fast" or "later" without waiting.
	skew atomic.Int64

	mu    sync.Mutex
	posts [][]byte
}

func newFormSite(t *testing.T) *formSite {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, newDBFile(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	fs := &formSite{site: &site{t: t, db: d, url: base}, key: teamKey(t, time.Now())}
	h, err := web.New(web.Config{
		Store:            d,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		Domain:           "secinbox.example",
		PublicURL:        base,
		SecretKey:        testSecretKey,
		LinkKey:          testLinkKey,
		PublicKeyArmored: armoredPublic(t, fs.key),
		Now:              func() time.Time { return time.Now().Add(time.Duration(fs.skew.Load())) },
		PasswordCost:     bcrypt.MinCost, // as newEnv's
	})
	if err != nil {
		t.Fatal(err)
	}
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/report" {
			body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
			if err != nil {
				t.Errorf("recording POST /report: %v", err)
			}
			fs.mu.Lock()
			fs.posts = append(fs.posts, body)
			fs.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h.ServeHTTP(w, r)
	})
	srv := httptest.NewUnstartedServer(record)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return fs
}

// testWebFormEncrypts fills the web form in the browser and checks that
// only ciphertext reached the server, that the team key reads the typed
// report back from what was stored, and that the status link works.
func testWebFormEncrypts(t *testing.T, browser context.Context) {
	s := newFormSite(t)
	const (
		title       = "Open redirect in /login?next= ünïcode"
		asset       = "https://shop.example.com/login"
		description = "The next parameter is not checked.\nAn attacker sends victims anywhere."
		steps       = "1. Visit /login?next=https://evil.example\n2. Sign in."
		creditName  = "Zoë Researcher"
		fileData    = "secret proof of concept bytes"
	)
	poc := filepath.Join(t.TempDir(), "poc.txt")
	if err := os.WriteFile(poc, []byte(fileData), 0o600); err != nil {
		t.Fatal(err)
	}
	b := newTab(t, browser, s.site)
	b.open("/report")
	b.waitFor("submit.js to load", `document.querySelector("[data-testid=submit-form]").dataset.encrypting === "browser"`)
	b.checkAccessibility("web form")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#title"), title),
		chromedp.SendKeys(chromedp.CSS("#asset"), asset),
		chromedp.SendKeys(chromedp.CSS("#description"), description),
		chromedp.SendKeys(chromedp.CSS("#steps"), steps),
		chromedp.SetUploadFiles(chromedp.CSS("#attachments"), []string{poc}),
		chromedp.SendKeys(chromedp.CSS("#email"), "zoe@example.org"),
		chromedp.SetValue(chromedp.CSS("#credit"), "name"),
		chromedp.SendKeys(chromedp.CSS("#credit_name"), creditName),
	)
	// Sooner than 3 s after the form was served is a robot's pace: the
	// refusal shows on the form, which keeps what was typed. (The server's
	// clock is moved back an hour for it, then on a minute.)
	s.skew.Store(int64(-time.Hour))
	servedToken := eval[string](b, `document.querySelector("[name=form_token]").value`)
	b.do(chromedp.Click(chromedp.CSS("[data-testid=submit-button]")))
	b.waitFor("the refusal", `!document.querySelector("[data-testid=submit-error]").hidden`)
	if got := b.text("[data-testid=submit-error]"); !strings.Contains(got, "Wait a few seconds") {
		t.Errorf("refusal %q", got)
	}
	if got := eval[string](b, `document.querySelector("#title").value`); got != title {
		t.Errorf("after the refusal the title field holds %q", got)
	}
	// The refusal's fresh form token is taken, so sending again works
	// without a reload.
	if eval[string](b, `document.querySelector("[name=form_token]").value`) == servedToken {
		t.Error("the form kept its old token after the refusal")
	}
	s.skew.Store(int64(time.Minute))
	b.do(chromedp.Click(chromedp.CSS("[data-testid=submit-button]")))
	b.waitFor("the confirmation", `document.querySelector("[data-testid=status-link]")`)
	link := b.text("[data-testid=status-link]")
	if !strings.HasPrefix(link, s.url+"/status/") {
		t.Fatalf("status link %q", link)
	}
	if b.path() != "/report" {
		t.Errorf("the page moved to %s", b.path())
	}

	// What the server received: ciphertext, the contact, the honeypot
	// and the form token; nothing typed in the clear.
	s.mu.Lock()
	posts := s.posts
	s.mu.Unlock()
	if len(posts) != 2 {
		t.Fatalf("%d posts to /report, want 2 (refused, then taken)", len(posts))
	}
	got := string(posts[0]) + string(posts[1])
	if !strings.Contains(got, "-----BEGIN PGP MESSAGE-----") {
		t.Errorf("the post holds no PGP message:\n%.400s", got)
	}
	for _, clear := range []string{"Open redirect", "ünïcode", "not checked", "evil.example", "shop.example.com", "Zoë", "secret proof", "poc.txt"} {
		if strings.Contains(got, clear) {
			t.Errorf("the post holds %q in the clear", clear)
		}
	}
	for _, name := range []string{`name="title"`, `name="description"`, `name="steps"`, `name="asset"`, `name="credit"`, `name="attachments"`} {
		if strings.Contains(got, name) {
			t.Errorf("the post has a field %s", name)
		}
	}
	if !strings.Contains(got, "zoe@example.org") {
		t.Errorf("the post lacks the contact address")
	}

	// What was stored decrypts, with the team key, to what was typed.
	token := strings.TrimPrefix(link, s.url+"/status/")
	rawID, _, err := s.db.StatusLink(context.Background(), triage.TokenHash(token))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.db.RawMessage(context.Background(), rawID)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := pgp.ParseMessage(raw.Data, pgp.Keys(openpgp.EntityList{s.key}, nil), pgp.DefaultLimits(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !msg.Decrypted {
		t.Fatalf("the team key does not decrypt the stored message: %s", msg.DecryptError)
	}
	if msg.Title() != title {
		t.Errorf("title %q, want %q", msg.Title(), title)
	}
	text := strings.ReplaceAll(msg.Text, "\r\n", "\n")
	for _, want := range []string{"Affected asset: " + asset, "Contact: zoe@example.org", "Credit: by name: " + creditName,
		"Description:\n" + description, "Steps to reproduce:\n" + steps} {
		if !strings.Contains(text, want) {
			t.Errorf("decrypted text lacks %q:\n%s", want, text)
		}
	}
	if len(msg.Attachments) != 1 || msg.Attachments[0].Name != "poc.txt" || string(msg.Attachments[0].Data) != fileData {
		t.Errorf("attachments %+v", msg.Attachments)
	}

	// The status link opens.
	b.do(chromedp.Click(chromedp.CSS("[data-testid=status-link]")))
	b.waitFor("the status page", `document.querySelector("[data-testid=status-pending]")`)
	b.checkAccessibility("status page (pending)")
}

// testWebFormNoScript sends the form with JavaScript off: the plain
// fields reach the server, which encrypts them before storing.
func testWebFormNoScript(t *testing.T, browser context.Context) {
	s := newFormSite(t)
	b := newTab(t, browser, s.site)
	b.noScript()
	b.open("/report")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#title"), "CSRF on /settings"),
		chromedp.SendKeys(chromedp.CSS("#description"), "No token on the settings form."),
		chromedp.SendKeys(chromedp.CSS("#email"), "nojs@example.org"),
	)
	s.skew.Store(int64(time.Minute))
	b.do(chromedp.Click(chromedp.CSS("[data-testid=submit-button]")))
	b.waitFor("the confirmation", `document.querySelector("[data-testid=status-link]")`)
	token := strings.TrimPrefix(b.text("[data-testid=status-link]"), s.url+"/status/")
	rawID, _, err := s.db.StatusLink(context.Background(), triage.TokenHash(token))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.db.RawMessage(context.Background(), rawID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw.Data), "CSRF") || strings.Contains(string(raw.Data), "No token") {
		t.Error("the stored message holds the report in the clear")
	}
	msg, err := pgp.ParseMessage(raw.Data, pgp.Keys(openpgp.EntityList{s.key}, nil), pgp.DefaultLimits(), time.Now())
	if err != nil || !msg.Decrypted || msg.Title() != "CSRF on /settings" || !strings.Contains(msg.Text, "No token on the settings form.") {
		t.Errorf("stored message: err %v, title %q, text %q", err, msg.Title(), msg.Text)
	}
}
