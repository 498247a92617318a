package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// The browser tests drive the real site (web.New on a real SQLite file,
// real time) from headless Chromium with chromedp, and assert on what a
// person sees. They skip only when no Chromium is installed; CI installs
// it. When one fails, a full-page screenshot is saved under
// $BROWSER_ARTIFACTS (or the test's artifact directory: go test
// -artifacts) and its path is logged.

// chromiumPath finds Chromium, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Skip("Chromium is not installed (Debian: apt-get install chromium; or set CHROMIUM): browser tests skipped")
	return ""
}

// chromium is the one headless Chromium of the package's browser tests,
// started by the first of them (startBrowser) and stopped by TestMain.
// Each test opens its tabs in browser contexts of their own (newTab):
// no cookies, storage or cache pass from one test to another.
var chromium struct {
	once    sync.Once
	ctx     context.Context
	err     error
	profile string // its user data dir
	stop    func() // closes it and waits for it to exit
}

// startBrowser returns the package's Chromium, starting it with a fresh
// profile if no test has yet.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	chromium.once.Do(func() {
		chromium.profile, chromium.err = os.MkdirTemp("", "secinbox-chromium-")
		if chromium.err != nil {
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			// Tabs of tests running side by side are all in the
			// foreground: no timer or rendering throttling.
			chromedp.Flag("disable-background-timer-throttling", true),
			chromedp.Flag("disable-backgrounding-occluded-windows", true),
			chromedp.Flag("disable-renderer-backgrounding", true),
			chromedp.UserDataDir(chromium.profile),
			chromedp.WindowSize(1280, 1000),
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		chromium.stop = func() {
			cancel()
			cancelAlloc()
			os.RemoveAll(chromium.profile)
		}
		if err := chromedp.Do(ctx); err != nil { // starts the browser
			chromium.err = err
			return
		}
		chromium.ctx = ctx
	})
	if chromium.err != nil {
		t.Fatalf("starting Chromium: %v", chromium.err)
	}
	return chromium.ctx
}

// scenarios bounds the browser scenarios that run at once: each keeps
// Chromium and the site (under the race detector) busy, and more than
// the machine has cores only makes each slower.
var scenarios = make(chan struct{}, goruntime.GOMAXPROCS(0)+1)

// scenario waits for a turn among the browser scenarios running side by
// side (t.Parallel); the turn ends with t.
func scenario(t *testing.T) {
	t.Helper()
	scenarios <- struct{}{}
	t.Cleanup(func() { <-scenarios })
}

// stopBrowser stops the package's Chromium, if a test started it.
func stopBrowser() {
	if chromium.stop != nil {
		chromium.stop()
	} else if chromium.profile != "" {
		os.RemoveAll(chromium.profile)
	}
}

// site is the real web handler on a real database, served on loopback,
// with the real clock.
type site struct {
	t   *testing.T
	db  *db.DB
	url string
	// triager and admin are staff accounts; password is theirs.
	triager, admin *triage.User
}

const browserPassword = "a long browser-test password"

func newSite(t *testing.T) *site {
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
	h, err := web.New(web.Config{
		Store:        d,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Domain:       "localhost",
		PublicURL:    base,
		SecretKey:    testSecretKey,
		PasswordCost: bcrypt.MinCost, // as the users' (see newEnv)
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	s := &site{t: t, db: d, url: base}
	s.triager = s.user("tina@localhost", triage.RoleTriager)
	s.admin = s.user("ada@localhost", triage.RoleAdmin)
	return s
}

func (s *site) user(email string, role triage.Role) *triage.User {
	s.t.Helper()
	u := &triage.User{Email: email, Role: role, PasswordHash: passwordHash(s.t, browserPassword), CreatedAt: time.Now()}
	if err := s.db.CreateUser(context.Background(), u); err != nil {
		s.t.Fatal(err)
	}
	return u
}

// report files a report received age ago, scored by vector ("" for
// none), as intake would.
func (s *site) report(age time.Duration, title, vector string) *triage.Report {
	s.t.Helper()
	ctx := context.Background()
	received := time.Now().Add(-age)
	raw := &triage.RawMessage{MailFrom: "researcher@example.org", Recipients: []string{"security@localhost"},
		RemoteAddr: "192.0.2.1:1234", ReceivedAt: received, Data: []byte("Subject: " + title + "\r\n\r\nbody\r\n")}
	if err := s.db.AddRawMessage(ctx, raw); err != nil {
		s.t.Fatal(err)
	}
	r := triage.NewReport(received)
	r.MessageID, r.Title, r.ResearcherEmail = raw.ID, title, "researcher@example.org"
	r.Body = "Steps to reproduce " + title + ".\n"
	if err := s.db.FileReport(ctx, r); err != nil {
		s.t.Fatal(err)
	}
	if vector != "" {
		if _, err := s.db.UpdateReport(ctx, r.ID, triage.Change{CVSSVector: &vector}, triage.Actor{}, time.Now()); err != nil {
			s.t.Fatal(err)
		}
	}
	return r
}

// move changes a report's status behind the browser's back, as another
// triager would.
func (s *site) move(id int64, to triage.Status) {
	s.t.Helper()
	if _, err := s.db.UpdateReport(context.Background(), id, triage.Change{Status: &to}, triage.Actor{UserID: s.admin.ID, Email: s.admin.Email}, time.Now()); err != nil {
		s.t.Fatal(err)
	}
}

// tab is one browser tab, in its own browser context (its own cookies).
type tab struct {
	t          *testing.T
	ctx        context.Context
	site       *site
	scriptsOff bool // noScript was called
}

// newTab opens a tab on browser for site, and saves a screenshot if the
// test fails.
func newTab(t *testing.T, browser context.Context, s *site) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("opening a tab: %v", err)
	}
	b := &tab{t: t, ctx: ctx, site: s}
	// Only one window has the focus while tests run side by side: each
	// tab behaves as the focused one, as it would alone.
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	// The strict CSP blocks an inline script or style silently: the page
	// just lacks it. Chromium reports each block in the console; so do
	// uncaught script errors. Either fails the test.
	var mu sync.Mutex
	var problems []string
	listen := func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if strings.Contains(ev.Entry.Text, "Content Security Policy") {
				p = ev.Entry.Text
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			p = fmt.Sprintf("uncaught: %s at %s:%d", d.Text, d.URL, d.LineNumber+1)
			if d.Exception != nil && d.Exception.Description != "" {
				p += ": " + d.Exception.Description
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	}
	if err := chromedp.Listen(ctx, listen); err != nil {
		t.Fatalf("listening to the tab: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		for _, p := range problems {
			t.Errorf("browser console: %s", p)
		}
		mu.Unlock()
		if t.Failed() {
			b.screenshot()
		}
	})
	return b
}

// screenshot saves the page as a PNG and logs where.
func (b *tab) screenshot() {
	dir := os.Getenv("BROWSER_ARTIFACTS")
	if dir == "" {
		dir = b.t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshot: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot: %v", err)
		return
	}
	name := filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(b.t.Name(), "_")+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		b.t.Logf("screenshot: %v", err)
		return
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	b.t.Logf("screenshot of %s saved to %s", loc, name)
}

// do runs steps, failing the test on error.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// run runs one action and returns its value.
func run[T any](b *tab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	return run(b, chromedp.Evaluate[T](js))
}

// waitJS looks at the expression EXPR in the page until it is truthy,
// for up to LIMIT ms, on the page's own timer (no round trip per look):
// {ok, err}, err the exception of the last look if it threw. A page
// still being parsed is not looked at: a navigation's new location
// shows before its content does.
const waitJS = `new Promise((resolve) => {
	const end = Date.now() + LIMIT;
	const look = () => {
		let ok = false, err = "";
		try { ok = document.readyState !== "loading" && !!(EXPR); } catch (e) { err = String(e); }
		if (ok || Date.now() >= end) resolve({ok, err}); else setTimeout(look, 10);
	};
	look();
})`

// waitFor waits until the expression is truthy, and fails the test when
// it never is. It asks again while a page loads (navigation destroys the
// context an evaluation runs in). With scripts off (noScript) the page
// runs no timers: it is asked every 20 ms instead.
func (b *tab) waitFor(what, js string) {
	b.t.Helper()
	limit, pause := "1000", time.Duration(0)
	if b.scriptsOff {
		limit, pause = "0", 20*time.Millisecond
	}
	expr := strings.NewReplacer("LIMIT", limit, "EXPR", js).Replace(waitJS)
	deadline := time.Now().Add(30 * time.Second) // a safety net only
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		r, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			OK  bool   `json:"ok"`
			Err string `json:"err"`
		}](expr, chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && r.OK {
			return
		}
		if err == nil && r.Err != "" {
			last = errors.New(r.Err)
		} else if err != nil {
			// The page went away (a navigation) and the next one may
			// not be there yet: a moment before asking it.
			last, pause = err, max(pause, 10*time.Millisecond)
		}
		time.Sleep(pause)
	}
	b.t.Fatalf("waiting for %s: never true (last error: %v): %s", what, last, js)
}

// open navigates to path on the site.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.site.url + path))
}

// text is the trimmed text of the first element matching css ("" if none).
func (b *tab) text(css string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").trim().replace(/\s+/g, " ")`, css))
}

// texts are the trimmed texts of every element matching css.
func (b *tab) texts(css string) []string {
	b.t.Helper()
	return eval[[]string](b, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.textContent.trim().replace(/\s+/g, " "))`, css))
}

// clear empties an input field.
func clear(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).value = "", true)`, css))(ctx, t)
		return err
	})
}

// path is the page's path and query.
func (b *tab) path() string {
	b.t.Helper()
	return eval[string](b, `location.pathname + location.search`)
}

// signIn signs in with the password form (no second factor).
func (b *tab) signIn(u *triage.User) {
	b.t.Helper()
	b.open("/login")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#email"), u.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), browserPassword),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
	)
	b.waitFor("the board after sign-in", `location.pathname === "/board" && document.readyState === "complete"`)
}

// noScript turns JavaScript off in the tab, for the pages as they work
// without it.
func (b *tab) noScript() {
	b.scriptsOff = true
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// totpCode is the current code of a base32 secret shown grouped, at at.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// boardIDs are the tracking ids on the board, in the order shown.
func (b *tab) boardIDs() []string {
	b.t.Helper()
	return b.texts("[data-testid=board-row] [data-testid=board-tracking]")
}

// TestBrowser runs every browser scenario against one Chromium, each in
// its own browser context and on its own site.
func TestBrowser(t *testing.T) {
	t.Parallel()
	browser := startBrowser(t)
	for _, sc := range []struct {
		name string
		test func(*testing.T, context.Context)
	}{
		{"LoginWithTwoFactor", testLoginWithTwoFactor},
		{"BoardOrderAndCountdown", testBoardOrder},
		{"StatusChange", testStatusChange},
		{"StatusChangeWithoutJavaScript", testStatusChangeNoScript},
		{"CVSSCalculator", testCVSSCalculator},
		{"Search", testSearch},
		{"PauseAndBreach", testPauseAndBreach},
		{"KeyboardShortcuts", testKeyboard},
		{"DoneWhen", testDoneWhen},
		{"AccessibilityCheck", testAccessibilityCheck},
		{"Accessibility", testAccessibility},
		{"ReplyFromReportPage", testReplyFromReportPage},
		{"WebFormEncryptsInBrowser", testWebFormEncrypts},
		{"WebFormWithoutJavaScript", testWebFormNoScript},
		{"HallOfFameOnPhone", testHallOfFameOnPhone},
		{"RightToLeftOverride", testRightToLeftOverride},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			scenario(t)
			sc.test(t, browser)
		})
	}
}

// enrollTwoFactor turns on TOTP for the signed-in user through the
// account pages and returns the secret.
func (b *tab) enrollTwoFactor() string {
	b.t.Helper()
	b.open("/account")
	b.do(chromedp.Click(chromedp.CSS("[data-testid=twofactor-start]")))
	b.waitFor("the enrolment page", `document.querySelector("[data-testid=twofactor-secret]")`)
	secret := b.text("[data-testid=twofactor-secret]")
	if secret == "" {
		b.t.Fatal("no secret shown")
	}
	b.waitFor("the QR code to load", `document.querySelector("[data-testid=twofactor-qr]").naturalWidth > 0`)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#enrol-password"), browserPassword),
		chromedp.SendKeys(chromedp.CSS("#code"), totpCode(b.t, secret, time.Now())),
		chromedp.Click(chromedp.CSS("[data-testid=twofactor-confirm-form] button[type=submit]")),
	)
	b.waitFor("the recovery codes", `document.querySelectorAll("[data-testid=recovery-code]").length === 10`)
	return secret
}

// signInTwoFactor signs in with the password and then a TOTP code. The
// code is the next time step's, so it is never one the enrolment (or an
// earlier sign-in) used: each step is accepted once.
func (b *tab) signInTwoFactor(u *triage.User, secret string) {
	b.t.Helper()
	b.open("/login")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#email"), u.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), browserPassword),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
	)
	b.waitFor("the code form", `location.pathname === "/login/2fa"`)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#code"), totpCode(b.t, secret, time.Now().Add(30*time.Second))),
		chromedp.Click(chromedp.CSS("[data-testid=login-2fa-form] button[type=submit]")),
	)
	b.waitFor("the board after the second factor", `location.pathname === "/board" && document.readyState === "complete"`)
}

func testLoginWithTwoFactor(t *testing.T, browser context.Context) {
	s := newSite(t)
	s.report(time.Hour, "Stored XSS in the profile page", "")
	b := newTab(t, browser, s)
	b.signIn(s.triager)
	secret := b.enrollTwoFactor()
	b.do(chromedp.Click(chromedp.CSS("[data-testid=sign-out]")))
	b.waitFor("signed out", `!document.querySelector("[data-testid=sign-out]")`)

	// A wrong code is refused, a right one lets the user in.
	b.open("/login")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#email"), s.triager.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), browserPassword),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
	)
	b.waitFor("the code form", `location.pathname === "/login/2fa"`)
	wrong := "000000"
	if wrong == totpCode(t, secret, time.Now()) {
		wrong = "111111"
	}
	b.do(
		chromedp.SendKeys(chromedp.CSS("#code"), wrong),
		chromedp.Click(chromedp.CSS("[data-testid=login-2fa-form] button[type=submit]")),
	)
	b.waitFor("the refusal", `document.querySelector("[data-testid=login-error]")`)
	if p := b.path(); p == "/board" {
		t.Fatal("a wrong code signed in")
	}
	b.signInTwoFactor(s.triager, secret)
	if got := b.text("[data-testid=nav-user]"); !strings.Contains(got, s.triager.Email) {
		t.Errorf("signed in as %q", got)
	}
	if ids := b.boardIDs(); len(ids) != 1 {
		t.Errorf("board shows %v", ids)
	}
}

func testBoardOrder(t *testing.T, browser context.Context) {
	s := newSite(t)
	h := time.Hour
	low := s.report(2*h, "Verbose server header", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N")
	crit := s.report(1*h, "Remote code execution in the upload API", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	unscored := s.report(30*time.Minute, "Something odd in the login", "")
	medium := s.report(3*h, "Open redirect after logout", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N")
	soon := s.report(23*h, "Session fixation", "")
	breached := s.report(25*h, "Token leak in the referrer", "")
	breachedHigh := s.report(30*h, "IDOR on invoices", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N")

	b := newTab(t, browser, s)
	b.signIn(s.triager)
	want := []string{breachedHigh.TrackingID, breached.TrackingID, soon.TrackingID, crit.TrackingID, medium.TrackingID, unscored.TrackingID, low.TrackingID}
	if got := b.boardIDs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("board order\n got %v\nwant %v (breached, then due within 2 h, then by score)", got, want)
	}
	if got := b.texts("[data-testid=board-group]"); strings.Join(got, "|") != "Breached|Due within 2 hours|Open" {
		t.Errorf("groups %v", got)
	}
	// Each breached row says so in its clock, not only by its group.
	clocks := b.texts("[data-testid=board-row] [data-testid=board-clock]")
	if !strings.HasPrefix(clocks[0], "overdue by") || !strings.HasPrefix(clocks[1], "overdue by") || strings.HasPrefix(clocks[2], "overdue") {
		t.Errorf("clocks %v", clocks)
	}
	// The breached rows look different, not only in words.
	bg := eval[[]string](b, `Array.from(document.querySelectorAll("[data-testid=board-row]")).map(r => getComputedStyle(r).backgroundColor)`)
	if bg[0] == bg[3] || bg[2] == bg[3] {
		t.Errorf("breached, due-soon and open rows share a background: %v", bg)
	}
	if got := b.texts("[data-testid=board-severity]"); got[3] != "critical 9.8" || !strings.Contains(got[5], "unscored") {
		t.Errorf("severities %v", got)
	}

	// The clock due next is shown, to the minute; the countdown runs.
	crit1 := fmt.Sprintf(`document.querySelector("[data-id='%d'] [data-testid=clock-first_response] [data-testid=board-clock]")`, crit.ID)
	before := eval[string](b, crit1+".textContent")
	if !regexp.MustCompile(`^22h 5\dm left$`).MatchString(before) {
		t.Errorf("first response of a report received 1 h ago: %q", before)
	}
	left := eval[string](b, crit1+".dataset.left")
	b.waitFor("the countdown to move", crit1+`.dataset.left !== `+fmt.Sprintf("%q", left))
	if n := len(b.texts(fmt.Sprintf(`[data-id="%d"] [data-testid=board-clock]`, crit.ID))); n != 1 {
		t.Errorf("%d clocks on a fresh report, want 1 (the one due next)", n)
	}
	over := b.text(fmt.Sprintf(`[data-id="%d"] [data-testid=clock-first_response] [data-testid=board-clock]`, breached.ID))
	if !strings.HasPrefix(over, "overdue by 1h") {
		t.Errorf("breached clock %q", over)
	}
}

func testStatusChange(t *testing.T, browser context.Context) {
	s := newSite(t)
	r := s.report(time.Hour, "CSRF on the settings form", "")
	b := newTab(t, browser, s)
	b.signIn(s.triager)
	b.open(fmt.Sprintf("/reports/%d", r.ID))

	// Only the legal moves are offered.
	opts := eval[[]string](b, `Array.from(document.querySelectorAll("#status-select option")).map(o => o.value)`)
	if strings.Join(opts, ",") != "triaging,needs-info,accepted,not-applicable,informative,spam" {
		t.Errorf("moves from new: %v", opts)
	}
	b.do(
		chromedp.SetValue(chromedp.CSS("#status-select"), "triaging"),
		chromedp.Click(chromedp.CSS("[data-testid=status-submit]")),
	)
	b.waitFor("the new status in place", `document.querySelector("[data-testid=report-status]").textContent.trim() === "triaging"`)
	if got := b.text("[data-testid=action-notice]"); !strings.Contains(got, "from new to triaging") {
		t.Errorf("notice %q", got)
	}
	if got := b.text("[data-testid=triage-status]"); got != "triaging" {
		t.Errorf("panel status %q", got)
	}
	if got := b.texts("[data-testid=event]"); len(got) != 1 || !strings.Contains(got[0], "status new → triaging") || !strings.Contains(got[0], s.triager.Email) {
		t.Errorf("history %v", got)
	}
	if p := b.path(); p != fmt.Sprintf("/reports/%d", r.ID) {
		t.Errorf("the page navigated to %s: the change was not made in place", p)
	}

	// Someone else closes it as spam meanwhile: the move this page still
	// offers is now illegal, and the domain's error is shown.
	s.move(r.ID, triage.StatusSpam)
	b.do(
		chromedp.SetValue(chromedp.CSS("#status-select"), "accepted"),
		chromedp.Click(chromedp.CSS("[data-testid=status-submit]")),
	)
	b.waitFor("the refusal", `document.querySelector("[data-testid=action-error]")`)
	want := fmt.Sprintf("cannot move %s from spam to accepted", r.TrackingID)
	if got := b.text("[data-testid=action-error]"); got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if got := b.text("[data-testid=report-status]"); got != "spam" {
		t.Errorf("status shown %q, want spam", got)
	}
	if opts := eval[[]string](b, `Array.from(document.querySelectorAll("#status-select option")).map(o => o.value)`); strings.Join(opts, ",") != "triaging" {
		t.Errorf("moves from spam: %v, want only reopening", opts)
	}
}

func testStatusChangeNoScript(t *testing.T, browser context.Context) {
	s := newSite(t)
	r := s.report(time.Hour, "Clickjacking on the payment page", "")
	b := newTab(t, browser, s)
	b.noScript()
	b.signIn(s.triager)
	b.open(fmt.Sprintf("/reports/%d", r.ID))
	if eval[bool](b, `!!window.htmx`) {
		t.Fatal("scripts ran")
	}
	b.do(
		chromedp.SetValue(chromedp.CSS("#status-select"), "accepted"),
		chromedp.Click(chromedp.CSS("[data-testid=status-submit]")),
	)
	b.waitFor("the report again", `location.search === "?done=status" && document.readyState === "complete"`)
	if got := b.text("[data-testid=report-status]"); got != "accepted" {
		t.Errorf("status %q", got)
	}
	if got := b.text("[data-testid=action-notice]"); got != "Status changed." {
		t.Errorf("notice %q", got)
	}
	// A vector typed by hand is saved the same way.
	b.do(
		chromedp.SendKeys(chromedp.CSS("#cvss-vector"), "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:N"),
		chromedp.Click(chromedp.CSS("[data-testid=cvss-submit]")),
	)
	b.waitFor("the report again", `location.search === "?done=cvss" && document.readyState === "complete"`)
	if got := b.text("[data-testid=cvss-stored-score]"); got != "8.1 high" {
		t.Errorf("stored score %q", got)
	}
	// Illegal: the page is stale.
	s.move(r.ID, triage.StatusFixing)
	s.move(r.ID, triage.StatusFixed)
	b.do(
		chromedp.SetValue(chromedp.CSS("#status-select"), "needs-info"),
		chromedp.Click(chromedp.CSS("[data-testid=status-submit]")),
	)
	b.waitFor("the refusal", `document.querySelector("[data-testid=action-error]")`)
	if got, want := b.text("[data-testid=action-error]"), fmt.Sprintf("cannot move %s from fixed to needs-info", r.TrackingID); got != want {
		t.Errorf("error %q, want %q", got, want)
	}
}

func testCVSSCalculator(t *testing.T, browser context.Context) {
	s := newSite(t)
	r := s.report(time.Hour, "SQL injection in search", "")
	b := newTab(t, browser, s)
	b.signIn(s.triager)
	b.open(fmt.Sprintf("/reports/%d", r.ID))
	b.waitFor("the calculator", `!document.querySelector('[data-cvss-version="3.1"]').hidden`)
	// It starts folded: the panel is for acting, the calculator on demand.
	b.openCalculator()

	click := func(ver, metric, value string) {
		b.t.Helper()
		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="cvss-%s-%s-%s"]`, ver, metric, value))))
	}
	for _, m := range [][2]string{{"AV", "N"}, {"AC", "L"}, {"PR", "N"}, {"UI", "N"}, {"S", "U"}, {"C", "H"}, {"I", "H"}} {
		click("3.1", m[0], m[1])
	}
	// One metric short: the server says what is wrong.
	b.waitFor("the reason", `document.querySelector("[data-testid=cvss-error]")`)
	if got := b.text("[data-testid=cvss-error]"); !strings.Contains(got, "Invalid") {
		t.Errorf("incomplete vector: %q", got)
	}
	click("3.1", "A", "H")
	b.waitFor("the score", `document.querySelector("[data-testid=cvss-score]")?.textContent === "9.8"`)
	if got := run(b, chromedp.Value(chromedp.CSS("#cvss-vector"))); got != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" {
		t.Errorf("vector built %q", got)
	}
	if got := b.text("[data-testid=cvss-severity]"); got != "critical" {
		t.Errorf("severity %q", got)
	}
	click("3.1", "UI", "R")
	b.waitFor("the new score", `document.querySelector("[data-testid=cvss-score]")?.textContent === "8.8"`)

	// A pasted v4.0 vector switches the calculator and is scored.
	v4 := "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
	b.do(clear("#cvss-vector"), chromedp.SendKeys(chromedp.CSS("#cvss-vector"), v4))
	b.waitFor("the v4 score", `document.querySelector("[data-testid=cvss-score]")?.textContent === "9.3"`)
	if !eval[bool](b, `document.querySelector('[data-testid="cvss-4.0-VC-H"]').checked && !document.querySelector('[data-cvss-version="4.0"]').hidden`) {
		t.Error("the pasted vector did not set the v4.0 radios")
	}
	// A nonsense vector shows why (once the whole of it is typed: its
	// first keys get a reason of their own).
	b.do(clear("#cvss-vector"), chromedp.SendKeys(chromedp.CSS("#cvss-vector"), "CVSS:2.0/AV:N"))
	b.waitFor("the reason", `document.querySelector("[data-testid=cvss-error]")?.textContent.includes('"2.0"')`)
	if got := b.text("[data-testid=cvss-error]"); !strings.Contains(got, `CVSS version "2.0" is not supported`) {
		t.Errorf("error %q", got)
	}
	// Saving a bad vector is refused with the reason; a good one is stored.
	b.do(chromedp.Click(chromedp.CSS("[data-testid=cvss-submit]")))
	b.waitFor("the refusal", `document.querySelector("[data-testid=action-error]")`)
	b.do(clear("#cvss-vector"), chromedp.SendKeys(chromedp.CSS("#cvss-vector"), v4))
	b.waitFor("the v4 score", `document.querySelector("[data-testid=cvss-score]")?.textContent === "9.3"`)
	b.do(chromedp.Click(chromedp.CSS("[data-testid=cvss-submit]")))
	b.waitFor("the stored score", `document.querySelector("[data-testid=cvss-stored-score]").textContent.includes("9.3 critical")`)
	if got := b.text("[data-testid=cvss-stored-vector]"); got != v4 {
		t.Errorf("stored %q", got)
	}
	// The triage clock is met: a severity was set.
	if got := eval[string](b, `document.querySelector("[data-testid=sla-triage]").dataset.state`); got != "met" {
		t.Errorf("triage clock %q after scoring", got)
	}
}

func testSearch(t *testing.T, browser context.Context) {
	s := newSite(t)
	sqli := s.report(time.Hour, "SQL injection in the search box", "")
	s.report(2*time.Hour, "Open redirect after logout", "")
	xss := s.report(3*time.Hour, "Reflected XSS in the error page", "")
	b := newTab(t, browser, s)
	b.signIn(s.triager)
	if n := len(b.boardIDs()); n != 3 {
		t.Fatalf("%d reports", n)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#q"), "injection"))
	// The board searches as the keys come: wait for the whole word's
	// answer (the URL says which), not one for its first letters.
	b.waitFor("the search results", `document.querySelectorAll("[data-testid=board-row]").length === 1 && new URLSearchParams(location.search).get("q") === "injection"`)
	if got := b.boardIDs(); len(got) != 1 || got[0] != sqli.TrackingID {
		t.Errorf("search for injection: %v", got)
	}
	if p := b.path(); !strings.HasPrefix(p, "/board?") || !strings.Contains(p, "q=injection") {
		t.Errorf("URL %s does not keep the search", p)
	}
	// A tracking id finds its report; nothing found says so.
	b.do(clear("#q"), chromedp.SendKeys(chromedp.CSS("#q"), xss.TrackingID))
	b.waitFor("the report by id", fmt.Sprintf(`document.querySelector("[data-testid=board-tracking]")?.textContent === %q`, xss.TrackingID))
	b.do(clear("#q"), chromedp.SendKeys(chromedp.CSS("#q"), "nothinglikethis"))
	b.waitFor("the empty state", `document.querySelector("[data-testid=board-empty]") && new URLSearchParams(location.search).get("q") === "nothinglikethis"`)
	// The page reloaded at that URL shows the same.
	b.do(chromedp.Reload())
	if got := run(b, chromedp.Value(chromedp.CSS("#q"))); got != "nothinglikethis" {
		t.Errorf("search field after reload: %q", got)
	}
}

func testPauseAndBreach(t *testing.T, browser context.Context) {
	s := newSite(t)
	fresh := s.report(2*time.Hour, "Weak password policy", "")
	old := s.report(25*time.Hour, "Subdomain takeover of docs", "")
	b := newTab(t, browser, s)
	b.signIn(s.triager)
	if ids := b.boardIDs(); ids[0] != old.TrackingID {
		t.Errorf("first on the board: %s, want the report received 25 h ago", ids[0])
	}
	if got := b.text("[data-testid=board-group]"); got != "Breached" {
		t.Errorf("first group %q", got)
	}

	// Needs-info pauses the clocks; the page says so and stops counting.
	b.open(fmt.Sprintf("/reports/%d", fresh.ID))
	b.do(
		chromedp.SetValue(chromedp.CSS("#status-select"), "needs-info"),
		chromedp.Click(chromedp.CSS("[data-testid=status-submit]")),
	)
	b.waitFor("the pause", `document.querySelector("[data-testid=sla-first_response]")?.dataset.state === "paused"`)
	left := b.text("[data-testid=sla-first_response] [data-testid=sla-left]")
	if !strings.HasPrefix(left, "paused, 21h 59m") && !strings.HasPrefix(left, "paused, 22h 00m") {
		t.Errorf("paused clock %q", left)
	}
	if live := eval[string](b, `document.querySelector("[data-testid=sla-first_response] [data-testid=sla-left]").dataset.live`); live != "false" {
		t.Errorf("a paused clock counts (data-live %s)", live)
	}
	// The breached report's page says when it breached.
	b.open(fmt.Sprintf("/reports/%d", old.ID))
	if st := eval[string](b, `document.querySelector("[data-testid=sla-first_response]").dataset.state`); st != "breached" {
		t.Errorf("state %q", st)
	}
	if when := b.text("[data-testid=sla-first_response] [data-testid=sla-when]"); !strings.HasPrefix(when, "breached ") || !strings.HasSuffix(when, "UTC") {
		t.Errorf("when %q", when)
	}
	if due := b.text("[data-testid=sla-first_response] [data-testid=sla-due]"); !strings.HasSuffix(due, " UTC") {
		t.Errorf("due %q has no time zone", due)
	}
	// The paused report is open but no longer counting: on the board it
	// sorts after the breached one and shows paused.
	b.open("/board")
	if got := b.text(fmt.Sprintf(`[data-id="%d"] [data-testid=clock-first_response] [data-testid=board-clock]`, fresh.ID)); !strings.HasPrefix(got, "paused") {
		t.Errorf("board clock of the paused report %q", got)
	}
}

// quickReady is true once the board's quick dialog is open with its
// form focused and taken over by htmx: a click on Save before that
// submits the plain form, which reloads the whole board (and loses the
// keyboard selection) instead of refreshing it.
const quickReady = `document.querySelector("#quick").open && document.activeElement.id === "quick-select" &&
	document.querySelector("#quick-body form")?.["htmx-internal-data"] !== undefined`

func testKeyboard(t *testing.T, browser context.Context) {
	s := newSite(t)
	first := s.report(25*time.Hour, "Breached one", "")
	second := s.report(time.Hour, "Second one", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	third := s.report(2*time.Hour, "Third one", "")
	b := newTab(t, browser, s)
	b.signIn(s.triager)
	if got := b.boardIDs(); strings.Join(got, " ") != strings.Join([]string{first.TrackingID, second.TrackingID, third.TrackingID}, " ") {
		t.Fatalf("board %v", got)
	}
	selected := func() string {
		return eval[string](b, `document.querySelector("tr.selected [data-testid=board-tracking]")?.textContent ?? ""`)
	}
	b.do(chromedp.KeyEvent("j"))
	if got := selected(); got != first.TrackingID {
		t.Errorf("after j: %q", got)
	}
	b.do(chromedp.KeyEvent("jj"))
	if got := selected(); got != third.TrackingID {
		t.Errorf("after jjj: %q", got)
	}
	b.do(chromedp.KeyEvent("k"))
	if got := selected(); got != second.TrackingID {
		t.Errorf("after k: %q", got)
	}
	if focus := eval[string](b, `document.activeElement.closest("tr")?.querySelector("[data-testid=board-tracking]")?.textContent + " " + document.activeElement.dataset.testid`); focus != second.TrackingID+" board-title" {
		t.Errorf("focus on %q, want the selected report's link", focus)
	}

	// ? opens the help, Esc closes it.
	b.do(chromedp.KeyEvent("?"))
	b.waitFor("the help", `document.querySelector("#shortcuts").open`)
	b.do(chromedp.KeyEvent(kb.Escape))
	b.waitFor("the help to close", `!document.querySelector("#shortcuts").open`)

	// s changes the selected report's status in a dialog.
	b.do(chromedp.KeyEvent("s"))
	b.waitFor("the status dialog", quickReady)
	if got := b.text("#quick-title"); got != "Change the status of "+second.TrackingID {
		t.Errorf("dialog title %q", got)
	}
	b.do(chromedp.SetValue(chromedp.CSS("#quick-select"), "triaging"), chromedp.Click(chromedp.CSS("[data-testid=quick-save]")))
	b.waitFor("the board to show it", fmt.Sprintf(`!document.querySelector("#quick").open && document.querySelector('[data-id="%d"] [data-testid=board-status]').textContent === "triaging"`, second.ID))
	b.waitFor("the selection kept across the refresh", fmt.Sprintf(`document.querySelector("tr.selected")?.dataset.id === "%d"`, second.ID))

	// a assigns it.
	b.do(chromedp.KeyEvent("a"))
	b.waitFor("the assign dialog", quickReady)
	b.do(chromedp.SetValue(chromedp.CSS("#quick-select"), fmt.Sprint(s.triager.ID)), chromedp.Click(chromedp.CSS("[data-testid=quick-save]")))
	b.waitFor("the assignee on the board", fmt.Sprintf(`document.querySelector('[data-id="%d"] [data-testid=board-assignee]').textContent.trim() === %q`, second.ID, s.triager.Email))

	// / goes to the search field, Esc leaves it.
	b.do(chromedp.KeyEvent("/"))
	b.waitFor("focus in the search", `document.activeElement.id === "q"`)
	if got := run(b, chromedp.Value(chromedp.CSS("#q"))); got != "" {
		t.Errorf("search field %q: the / was typed", got)
	}
	b.do(chromedp.KeyEvent(kb.Escape))
	b.waitFor("focus out of the search", `document.activeElement.id !== "q"`)
	// Typing in a field is not a shortcut.
	b.do(chromedp.Click(chromedp.CSS("#f-label")), chromedp.KeyEvent("jk"))
	if got := run(b, chromedp.Value(chromedp.CSS("#f-label"))); got != "jk" {
		t.Errorf("label field %q: the keys went elsewhere", got)
	}
	if got := selected(); got != second.TrackingID {
		t.Errorf("typing moved the selection to %q", got)
	}
	b.do(clear("#f-label"))
	eval[bool](b, `(document.activeElement.blur(), true)`)

	// o opens the selected report, once the board has settled: clearing
	// the filter may reload it, and a key pressed meanwhile is lost.
	b.waitFor("the board settled with the report selected", fmt.Sprintf(
		`!document.querySelector(".htmx-request") && document.activeElement === document.body && document.querySelector("tr.selected [data-testid=board-tracking]")?.textContent === %q`,
		second.TrackingID))
	b.do(chromedp.KeyEvent("o"))
	b.waitFor("the report page", fmt.Sprintf(`location.pathname === "/reports/%d"`, second.ID))
}

// testDoneWhen is the "done when", as a new user would try it:
// sign in with 2FA, triage ten reports (CVSS, states), watch clocks run,
// pause and breach.
func testDoneWhen(t *testing.T, browser context.Context) {
	s := newSite(t)
	newcomer := s.user("nina@localhost", triage.RoleTriager)
	var reports []*triage.Report
	for i := range 10 {
		reports = append(reports, s.report(time.Duration(i+1)*37*time.Minute, fmt.Sprintf("Finding number %d", i+1), ""))
	}
	late := s.report(25*time.Hour, "The one nobody answered", "")

	b := newTab(t, browser, s)
	b.signIn(newcomer)
	secret := b.enrollTwoFactor()
	b.do(chromedp.Click(chromedp.CSS("[data-testid=sign-out]")))
	b.waitFor("signed out", `location.pathname === "/login" || location.pathname === "/"`)
	b.signInTwoFactor(newcomer, secret)

	if ids := b.boardIDs(); len(ids) != 11 || ids[0] != late.TrackingID {
		t.Fatalf("board %v: want 11 reports, the late one first", ids)
	}
	// Clocks run on the board.
	clock := `document.querySelectorAll("[data-testid=board-row]")[2].querySelector("[data-testid=board-clock]").dataset.left`
	before := eval[string](b, clock)
	b.waitFor("a clock to run", clock+" !== "+fmt.Sprintf("%q", before))

	vectors := []string{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N",
	}
	for i, r := range reports {
		b.open(fmt.Sprintf("/reports/%d", r.ID))
		b.waitFor("the calculator", `document.querySelector("#cvss-vector")`)
		// Score: by clicking for the first, by pasting for the others.
		if i == 0 {
			b.openCalculator()
			for _, m := range []string{"AV-N", "AC-L", "PR-N", "UI-N", "S-U", "C-H", "I-H", "A-H"} {
				b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="cvss-3.1-%s"]`, m))))
			}
		} else {
			b.do(chromedp.SendKeys(chromedp.CSS("#cvss-vector"), vectors[i%len(vectors)]))
		}
		b.waitFor("the live score", `document.querySelector("[data-testid=cvss-score]")`)
		b.do(chromedp.Click(chromedp.CSS("[data-testid=cvss-submit]")))
		b.waitFor("the stored score", `!document.querySelector("[data-testid=cvss-stored-score]").textContent.includes("No vector")`)
		// Then through the states; which ones depends on the report.
		path := []string{"triaging", "accepted"}
		switch {
		case i == 3:
			path = []string{"triaging", "needs-info"}
		case i == 4:
			path = []string{"triaging", "accepted", "fixing", "fixed", "disclosed"}
		case i == 5:
			path = []string{"spam"}
		case i%2 == 0:
			path = append(path, "fixing")
		}
		for _, st := range path {
			b.do(
				chromedp.SetValue(chromedp.CSS("#status-select"), st),
				chromedp.Click(chromedp.CSS("[data-testid=status-submit]")),
			)
			b.waitFor("status "+st, fmt.Sprintf(`document.querySelector("[data-testid=report-status]").textContent.trim() === %q`, st))
		}
		if i == 3 {
			if st := eval[string](b, `document.querySelector("[data-testid=sla-first_response]").dataset.state`); st != "paused" {
				t.Errorf("needs-info: first response %s, want paused", st)
			}
		}
		if i == 0 {
			// Accepted with a critical score: the 7-day remediation clock runs.
			if got := b.text("[data-testid=sla-remediation] [data-testid=sla-left]"); !strings.HasPrefix(got, "6d 23h") {
				t.Errorf("remediation clock %q", got)
			}
		}
	}
	b.open("/board")
	ids := b.boardIDs()
	if len(ids) != 9 || ids[0] != late.TrackingID {
		t.Errorf("open board %v: want 9 open reports (one disclosed, one spam), the breached first", ids)
	}
	statuses := strings.Join(b.texts("[data-testid=board-status]"), " ")
	for _, st := range []string{"new", "accepted", "fixing", "needs-info"} {
		if !strings.Contains(statuses, st) {
			t.Errorf("no %s report on the board: %s", st, statuses)
		}
	}
	b.open("/board?status=closed")
	if n := len(b.boardIDs()); n != 2 {
		t.Errorf("%d closed reports, want 2", n)
	}
	// The metrics page sees the work.
	b.open("/team/metrics")
	if got := b.texts("[data-testid=metrics-received]"); len(got) != 2 || got[0] != "11" {
		t.Errorf("received %v", got)
	}
}

// openCalculator unfolds the report page's CVSS calculator.
func (b *tab) openCalculator() {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS("[data-testid=cvss-calculator] > summary")))
	b.waitFor("the calculator to unfold", `document.querySelector("[data-testid=cvss-calculator]").open`)
}

// accessibilityJS lists what a page gets wrong for people who read it
// with low vision or a screen reader: text below the WCAG 2.x contrast
// minimum (4.5:1, 3:1 for large text) against the background it is
// painted on, and controls, links, images and pages without a name.
// Backgrounds are composited up the ancestors (translucent tints over
// the page), the page counting as white when nothing paints it.
const accessibilityJS = `(() => {
	const problems = [];
	const parse = (s) => {
		const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,\/]\s*([\d.]+)(%?))?\s*\)$/.exec(s);
		if (!m) return null;
		let a = m[4] === undefined ? 1 : parseFloat(m[4]);
		if (m[5] === "%") a /= 100;
		return [parseFloat(m[1]), parseFloat(m[2]), parseFloat(m[3]), a];
	};
	const over = (top, under) => {
		const a = top[3];
		return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
	};
	const hex = (c) => "#" + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, "0")).join("");
	const lum = (c) => {
		const [r, g, b] = c.slice(0, 3).map(v => {
			v /= 255;
			return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
		});
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const describe = (el) => {
		let d = el.tagName.toLowerCase();
		if (el.id) d += "#" + el.id;
		const tid = el.getAttribute("data-testid");
		if (tid) d += "[data-testid=" + tid + "]";
		if (typeof el.className === "string" && el.className.trim()) d += "." + el.className.trim().split(/\s+/).join(".");
		return d;
	};
	const short = (s) => { s = s.trim().replace(/\s+/g, " "); return s.length > 60 ? s.slice(0, 57) + "..." : s; };
	const background = (el) => {
		const layers = [];
		for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
			const raw = getComputedStyle(e).backgroundColor;
			const c = parse(raw);
			if (!c) { problems.push("contrast: cannot read the background " + raw + " of " + describe(e)); return null; }
			if (c[3] > 0) layers.push(c);
			if (c[3] >= 1) break;
		}
		let bg = [255, 255, 255, 1];
		for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
		return bg;
	};
	const visible = (el) => {
		if (!el.getClientRects().length) return false;
		const cs = getComputedStyle(el);
		if (cs.visibility !== "visible" || parseFloat(cs.opacity) === 0) return false;
		const r = el.getBoundingClientRect();
		// Screen-reader-only text (1px, clipped) and off-screen skip links.
		if (r.width <= 1 || r.height <= 1 || r.right <= 0 || r.bottom <= 0) return false;
		return true;
	};
	for (const el of document.body.querySelectorAll("*")) {
		if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "OPTION", "TITLE"].includes(el.tagName)) continue;
		const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join("");
		if (!own.trim() || !visible(el)) continue;
		const cs = getComputedStyle(el);
		const raw = el instanceof SVGElement ? cs.fill : cs.color;
		const fg0 = parse(raw);
		const bg = background(el);
		if (!fg0) { problems.push("contrast: cannot read the text colour " + raw + " of " + describe(el)); continue; }
		if (!bg) continue;
		const fg = over(fg0, bg);
		const l1 = lum(fg), l2 = lum(bg);
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(cs.fontSize), weight = parseInt(cs.fontWeight, 10) || 400;
		const large = size >= 24 || (size >= 18.66 && weight >= 700);
		const min = large ? 3 : 4.5;
		if (ratio < min) {
			problems.push("contrast " + ratio.toFixed(2) + ":1 < " + min + ":1: " + describe(el) + " " + JSON.stringify(short(own)) +
				" " + hex(fg) + " on " + hex(bg) + " (" + size + "px, weight " + weight + ")");
		}
	}

	const textOf = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : ""; };
	const labelledBy = (el) => (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean).map(textOf).join(" ").trim();
	const named = (el) => {
		if ((el.getAttribute("aria-label") || "").trim()) return true;
		if (labelledBy(el)) return true;
		return false;
	};
	for (const el of document.querySelectorAll("input, select, textarea")) {
		const type = (el.getAttribute("type") || "").toLowerCase();
		if (type === "hidden") continue;
		if (named(el)) continue;
		if (["submit", "reset", "button"].includes(type) && (el.value || "").trim()) continue;
		if (type === "image" && (el.getAttribute("alt") || "").trim()) continue;
		if (el.labels && Array.from(el.labels).some(l => l.textContent.trim())) continue;
		problems.push("name: " + describe(el) + " has no label (label for, wrapping label, aria-label or aria-labelledby)");
	}
	for (const el of document.querySelectorAll("button, a[href]")) {
		if (named(el) || el.textContent.trim()) continue;
		if (Array.from(el.querySelectorAll("img[alt]")).some(i => i.alt.trim())) continue;
		problems.push("name: " + describe(el) + " has no text or aria-label");
	}
	for (const el of document.querySelectorAll("img")) {
		if (!el.hasAttribute("alt")) problems.push("name: " + describe(el) + " has no alt");
	}
	const h1 = document.querySelectorAll("h1").length;
	if (h1 !== 1) problems.push("page: " + h1 + " h1 elements, want one");
	if (!document.documentElement.lang.trim()) problems.push("page: no lang attribute on html");
	return problems;
})()`

// accessibilityProblems runs accessibilityJS on the page shown.
func (b *tab) accessibilityProblems() []string {
	b.t.Helper()
	return eval[[]string](b, accessibilityJS)
}

// checkAccessibility fails the test for each accessibility problem on the
// page shown, in the light and the dark colour scheme; page names it in
// the failure.
func (b *tab) checkAccessibility(page string) {
	b.t.Helper()
	b.waitFor(page+" to load", `document.readyState === "complete"`)
	for _, scheme := range []string{"light", "dark"} {
		b.colorScheme(scheme)
		for _, p := range b.accessibilityProblems() {
			b.t.Errorf("%s (%s): %s", page, scheme, p)
		}
	}
	b.colorScheme("")
}

// colorScheme makes the tab prefer the scheme ("light", "dark"; "" for
// the browser's own).
func (b *tab) colorScheme(scheme string) {
	b.t.Helper()
	var features []*emulation.MediaFeature
	if scheme != "" {
		features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features})
		return err
	}))
}

// testAccessibilityCheck shows the check can fail: on a page made to be
// wrong, it reports each fault, and nothing on the parts made right.
func testAccessibilityCheck(t *testing.T, browser context.Context) {
	s := newSite(t)
	b := newTab(t, browser, s)
	b.do(chromedp.Navigate("about:blank"))
	eval[bool](b, `(() => {
		document.documentElement.lang = "";
		const add = (tag, text, style, attrs) => {
			const e = document.createElement(tag);
			if (text) e.textContent = text;
			Object.assign(e.style, style || {});
			for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
			document.body.appendChild(e);
			return e;
		};
		add("p", "too light", {color: "#aaaaaa"}, {id: "light"});
		add("p", "large enough", {color: "#888888", fontSize: "24px"}, {id: "large"});
		add("p", "fine", {color: "#595959"}, {id: "fine"});
		const tint = add("div", "", {background: "rgba(0, 0, 0, 0.5)"});
		const onTint = document.createElement("span");
		onTint.id = "tinted"; onTint.textContent = "dark on dim"; onTint.style.color = "#333333";
		tint.appendChild(onTint);
		add("input", "", {}, {id: "nameless"});
		add("button", "", {}, {id: "empty"});
		add("img", "", {}, {id: "noalt"});
		const l = add("label", "Named", {}, {for: "named"});
		add("input", "", {}, {id: "named"});
		return true;
	})()`)
	got := strings.Join(b.accessibilityProblems(), "\n")
	for _, want := range []string{
		`contrast 2.32:1 < 4.5:1: p#light "too light" #aaaaaa on #ffffff`,
		`span#tinted "dark on dim" #333333 on #808080`,
		"name: input#nameless has no label",
		"name: button#empty has no text",
		"name: img#noalt has no alt",
		"page: 0 h1 elements",
		"page: no lang",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the check missed %q; it said:\n%s", want, got)
		}
	}
	for _, ok := range []string{"#large", "#fine", "input#named"} {
		if strings.Contains(got, ok+" ") || strings.Contains(got, ok+`"`) {
			t.Errorf("the check flagged %s, which is fine:\n%s", ok, got)
		}
	}
}

// testAccessibility visits every staff page a person works in, with the
// states that change its colours (breached, due-soon and open rows, every
// severity, a closed report, signed and unsigned parts, notes, errors),
// and checks each.
func testAccessibility(t *testing.T, browser context.Context) {
	s := newSite(t)
	h := time.Hour
	s.report(30*h, "IDOR on invoices", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N")
	s.report(25*h, "Token leak in the referrer", "")
	s.report(23*h, "Session fixation", "")
	s.report(h, "Remote code execution in the upload API", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	s.report(3*h, "Open redirect after logout", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N")
	s.report(2*h, "Verbose server header", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N")
	closed := s.report(4*h, "Spam about crypto", "")
	s.move(closed.ID, triage.StatusSpam)
	labels := []string{"web", "auth"}
	assignee := s.triager.ID
	signed := s.signedReport()
	if _, err := s.db.UpdateReport(context.Background(), signed.ID, triage.Change{Labels: &labels, Assignee: &assignee},
		triage.Actor{UserID: s.admin.ID, Email: s.admin.Email}, time.Now()); err != nil {
		t.Fatal(err)
	}

	b := newTab(t, browser, s)
	for _, p := range []string{"/", "/policy", "/hall-of-fame"} {
		b.open(p)
		b.checkAccessibility("public page " + p)
	}
	b.open("/login")
	b.checkAccessibility("sign-in")
	b.signIn(s.admin)
	b.checkAccessibility("board")
	b.open("/board?status=closed")
	b.checkAccessibility("board of closed reports")

	b.open(fmt.Sprintf("/reports/%d", signed.ID))
	b.do(chromedp.SendKeys(chromedp.CSS("#note-body"), "Asked the vendor."), chromedp.Click(chromedp.CSS("[data-testid=note-form] button[type=submit]")))
	b.waitFor("the note", `document.querySelector("[data-testid=note-body]")`)
	// A refused change shows its error; a vector its live score.
	b.do(chromedp.SendKeys(chromedp.CSS("#cvss-vector"), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))
	b.waitFor("the live score", `document.querySelector("[data-testid=cvss-score]")`)
	b.checkAccessibility("report page")
	b.do(clear("#cvss-vector"), chromedp.SendKeys(chromedp.CSS("#cvss-vector"), "CVSS:2.0/AV:N"))
	b.waitFor("the reason", `document.querySelector("[data-testid=cvss-error]")`)
	b.do(chromedp.Click(chromedp.CSS("[data-testid=cvss-submit]")))
	b.waitFor("the refusal", `document.querySelector("[data-testid=action-error]")`)
	b.checkAccessibility("report page with errors")

	b.open("/team/metrics")
	b.checkAccessibility("metrics")
	b.open("/admin/users")
	b.checkAccessibility("users")
	b.open("/admin/audit")
	b.checkAccessibility("audit log")
	b.open("/admin/settings")
	b.checkAccessibility("settings")
	b.open("/account")
	b.checkAccessibility("account")
	b.do(chromedp.Click(chromedp.CSS("[data-testid=twofactor-start]")))
	b.waitFor("the enrolment page", `document.querySelector("[data-testid=twofactor-qr]")?.naturalWidth > 0`)
	b.checkAccessibility("two-factor enrolment")
	secret := b.text("[data-testid=twofactor-secret]")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#enrol-password"), browserPassword),
		chromedp.SendKeys(chromedp.CSS("#code"), totpCode(t, secret, time.Now())),
		chromedp.Click(chromedp.CSS("[data-testid=twofactor-confirm-form] button[type=submit]")),
	)
	b.waitFor("the recovery codes", `document.querySelectorAll("[data-testid=recovery-code]").length === 10`)
	b.checkAccessibility("recovery codes")
	b.do(chromedp.Click(chromedp.CSS("[data-testid=sign-out]")))
	b.waitFor("signed out", `!document.querySelector("[data-testid=sign-out]")`)
	b.open("/login")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#email"), s.admin.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
	)
	b.waitFor("the refusal", `document.querySelector("[data-testid=login-error]")`)
	b.checkAccessibility("sign-in refused")
	b.do(
		clear("#email"),
		chromedp.SendKeys(chromedp.CSS("#email"), s.admin.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), browserPassword),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
	)
	b.waitFor("the code form", `location.pathname === "/login/2fa"`)
	b.checkAccessibility("two-factor sign-in")
}

// signedReport files a report whose parts are unsigned, signed by the
// sender, signed by someone else and signed by an unknown key, with an
// HTML part, as intake would after decrypting it.
func (s *site) signedReport() *triage.Report {
	s.t.Helper()
	ctx := context.Background()
	received := time.Now().Add(-time.Hour)
	raw := &triage.RawMessage{MailFrom: "alice@example.org", Recipients: []string{"security@localhost"},
		RemoteAddr: "192.0.2.1:1234", ReceivedAt: received, Data: []byte("Subject: signed\r\n\r\nbody\r\n")}
	if err := s.db.AddRawMessage(ctx, raw); err != nil {
		s.t.Fatal(err)
	}
	fpr := "0123456789ABCDEF0123456789ABCDEF01234567"
	r := triage.NewReport(received)
	r.MessageID, r.Title, r.ResearcherEmail = raw.ID, "Partly signed report", "alice@example.org"
	r.Encrypted, r.Decrypted = true, true
	r.Signature = triage.Signature{Status: triage.SignaturePartial, Fingerprint: fpr}
	r.Signatures = []triage.Signature{
		{Status: triage.SignatureGood, Fingerprint: fpr, KeyID: fpr[24:], SignerUserID: "Alice <alice@example.org>", FromMatches: true, Hash: "SHA256", Parts: []string{"2"}},
		{Status: triage.SignatureGood, Fingerprint: strings.Repeat("B", 40), SignerUserID: "Bob <bob@elsewhere.example>", Parts: []string{"3"}},
		{Status: triage.SignatureUnknownKey, KeyID: "FEDCBA9876543210", Reason: "no key for issuer FEDCBA9876543210", Parts: []string{"4"}},
	}
	r.Parts = []triage.BodyPart{
		{Path: "1", ContentType: "text/plain", Text: "Unsigned preamble."},
		{Path: "2", ContentType: "text/plain", Text: "Alice's signed text.", Encrypted: true, Signature: 1},
		{Path: "3", ContentType: "text/plain", Text: "Bob's forwarded text.", Encrypted: true, Signature: 2},
		{Path: "4", ContentType: "text/plain", Text: "Stranger's text.", Encrypted: true, Signature: 3},
		{Path: "5", ContentType: "text/html", Text: "Hello from HTML", FromHTML: true, Encrypted: true, Source: 2},
	}
	r.Body = "Unsigned preamble.\n"
	html := "<p>Hello from HTML</p>"
	r.Attachments = []triage.Attachment{
		{Name: "poc.bin", ContentType: "application/octet-stream", Size: 3, SHA256: strings.Repeat("01", 32), Data: []byte{0, 1, 2}},
		{Name: "body.html", ContentType: "text/html", Size: int64(len(html)), SHA256: strings.Repeat("02", 32), Data: []byte(html)},
	}
	if err := s.db.FileReport(ctx, r); err != nil {
		s.t.Fatal(err)
	}
	return r
}

// testReplyFromReportPage replies to the researcher from the report page
// (htmx swaps the conversation in place) and finds the reply in the
// timeline, waiting in the outbox, and on the outbox page.
func testReplyFromReportPage(t *testing.T, browser context.Context) {
	s := newSite(t)
	rep := s.report(time.Hour, "Open redirect after logout", "")
	b := newTab(t, browser, s)
	b.signIn(s.triager)
	b.open(fmt.Sprintf("/reports/%d", rep.ID))
	if got := b.text("[data-testid=reply-protection]"); !strings.Contains(got, "not encrypted") {
		t.Errorf("the reply form says %q", got)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#reply-body"), "Thanks, we reproduced it."), chromedp.Click(chromedp.CSS("#reply-submit")))
	b.waitFor("the reply in the timeline", `document.querySelector("[data-testid=timeline-entry][data-kind=out] [data-testid=entry-body]")?.textContent === "Thanks, we reproduced it."`)
	if got := b.text("[data-testid=entry-delivery]"); !strings.Contains(got, "no relay configured: waiting in the outbox") {
		t.Errorf("delivery %q", got)
	}
	if got := b.text("[data-testid=conversation-notice]"); got != "Reply queued." {
		t.Errorf("notice %q", got)
	}
	if v := eval[string](b, `document.querySelector("#reply-body").value`); v != "" {
		t.Errorf("the reply field still holds %q", v)
	}
	b.open("/outbox")
	if got := b.texts("[data-testid=outbox-state]"); len(got) != 1 || got[0] != "queued" {
		t.Errorf("outbox %q", got)
	}
	b.checkAccessibility("outbox")
}
