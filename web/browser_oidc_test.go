package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// TestBrowser_SSO: in Chromium, "Sign in with SSO" on the sign-in page
// goes through the provider (mockoidc on loopback, real time) and lands
// on the board, signed in with the role the provider's groups map to.
func TestBrowser_SSO(t *testing.T) {
	t.Parallel()
	scenario(t)
	browser := startBrowser(t)
	p := startIdP(t, time.Now)
	d, err := db.Open(context.Background(), newDBFile(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	h, err := web.New(web.Config{
		Store:        d,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Domain:       "localhost",
		PublicURL:    base,
		SecretKey:    testSecretKey,
		OIDC:         p.oidcConfig(),
		PasswordCost: bcrypt.MinCost, // as newEnv's
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	b := newTab(t, browser, &site{t: t, db: d, url: base})
	p.QueueUser(staffUser("sam@example.com", "security"))
	b.open("/login")
	if got := b.text("[data-testid=login-sso]"); got != "Sign in with SSO" {
		t.Fatalf("SSO button: %q", got)
	}
	b.do(chromedp.Click(chromedp.CSS("[data-testid=login-sso]")))
	b.waitFor("the board after single sign-on", `location.pathname === "/board" && document.readyState === "complete"`)
	if body := b.text("body"); !strings.Contains(body, "sam@example.com") {
		t.Errorf("the board does not show who is signed in: %.300s", body)
	}
	u, err := d.UserByEmail(context.Background(), "sam@example.com")
	if err != nil || u.Role != triage.RoleTriager {
		t.Errorf("account: %+v, %v", u, err)
	}
}
