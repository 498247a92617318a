package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

func withSecret(c *web.Config) { c.SecretKey = testSecretKey }

// signIn posts the password form with c and returns the response.
func (e *env) signIn(c *http.Client, email, password string) *http.Response {
	e.t.Helper()
	resp, _ := e.do(c, "POST", "/login", url.Values{"email": {email}, "password": {password}})
	return resp
}

// enrol turns on two-factor sign-in for the viewer signed in with c, at
// the env's clock, and returns the TOTP secret and the recovery codes.
func (e *env) enrol(c *http.Client) (string, []string) {
	e.t.Helper()
	return e.enrolWith(c, viewerPassword)
}

// enrolWith is enrol for the user signed in with c, whose password is
// password (turning two-factor sign-in on asks for it).
func (e *env) enrolWith(c *http.Client, password string) (string, []string) {
	e.t.Helper()
	resp, _ := e.do(c, "POST", "/account/2fa/start", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/2fa" {
		e.t.Fatalf("start: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := e.get(c, "/account/2fa")
	m := regexp.MustCompile(`data-testid="twofactor-secret">([A-Z2-7 ]+)<`).FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no secret on the enrolment page:\n%s", page)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	code, err := totp.GenerateCode(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	resp, body := e.do(c, "POST", "/account/2fa/confirm", url.Values{"code": {code}, "password": {password}})
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("confirm: status %d: %s", resp.StatusCode, body)
	}
	var codes []string
	for _, m := range regexp.MustCompile(`data-testid="recovery-code">([a-z2-7-]+)<`).FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	return secret, codes
}

func cookieValue(c *http.Client, base, name string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func TestTwoFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSecret)
	c := e.viewerClient()

	t.Run("QRCode", func(t *testing.T) {
		e.do(c, "POST", "/account/2fa/start", nil)
		resp, body := e.get(c, "/account/2fa/qr.png")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		img, err := png.Decode(strings.NewReader(body))
		if err != nil || img.Bounds().Dx() != 256 {
			t.Fatalf("not a 256px PNG: %v", err)
		}
		_, page := e.get(c, "/account/2fa")
		if !strings.Contains(page, `src="/account/2fa/qr.png"`) || strings.Contains(page, "data:") {
			t.Error("the QR code is not a same-origin image")
		}
		// A wrong first code does not turn it on.
		resp, _ = e.do(c, "POST", "/account/2fa/confirm", url.Values{"code": {"000000"}, "password": {viewerPassword}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("wrong confirmation code: status %d", resp.StatusCode)
		}
		if u, _ := e.db.UserByID(t.Context(), e.viewerID); u.TwoFactor {
			t.Error("on before a right code")
		}
	})

	secret, codes := e.enrol(c)
	if len(codes) != triage.RecoveryCodeCount {
		t.Fatalf("%d recovery codes, want %d", len(codes), triage.RecoveryCodeCount)
	}
	if !e.hasAudit(triage.AuditTwoFactorEnable, viewerEmail, "") {
		t.Error("enrolment not audited")
	}

	t.Run("SecretSealed", func(t *testing.T) {
		tf, err := e.db.TwoFactor(t.Context(), e.viewerID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(tf.Sealed), secret) || len(tf.Sealed) < 40 {
			t.Errorf("the stored secret is not sealed: %q", tf.Sealed)
		}
	})

	t.Run("PasswordThenCode", func(t *testing.T) {
		c := e.client()
		resp := e.signIn(c, viewerEmail, viewerPassword)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/2fa" {
			t.Fatalf("password step: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if cookieValue(c, e.srv.URL, "secinbox_session") != "" {
			t.Fatal("a session before the second factor")
		}
		// The pending cookie is not a session.
		pending := cookieValue(c, e.srv.URL, "secinbox_pending")
		if resp, _ := e.get(withCookie(e, pending), "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("pending cookie as a session: status %d", resp.StatusCode)
		}
		if resp, body := e.get(c, "/login/2fa"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="login-2fa-form"`) {
			t.Errorf("code form: status %d", resp.StatusCode)
		}

		// The code that confirmed the enrolment was used: a replay.
		code, _ := totp.GenerateCode(secret, e.clock.Now())
		resp, body := e.do(c, "POST", "/login/2fa", url.Values{"code": {code}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "already used") {
			t.Errorf("replayed code: status %d", resp.StatusCode)
		}
		// Half a minute on, the next code works.
		e.clock.Set(t0.Add(30 * time.Second))
		defer e.clock.Set(t0)
		code, _ = totp.GenerateCode(secret, e.clock.Now())
		resp, _ = e.do(c, "POST", "/login/2fa", url.Values{"code": {code[:3] + " " + code[3:]}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
			t.Fatalf("right code: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusOK {
			t.Errorf("board after 2FA: status %d", resp.StatusCode)
		}
		if !e.hasAudit(triage.AuditTwoFactorOK, viewerEmail, "") || !e.hasAudit(triage.AuditTwoFactorFail, viewerEmail, "") {
			t.Error("2FA success and failure not both audited")
		}
		// The same code again, in a new sign-in, is refused.
		c2 := e.client()
		e.signIn(c2, viewerEmail, viewerPassword)
		if resp, body := e.do(c2, "POST", "/login/2fa", url.Values{"code": {code}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, "already used") {
			t.Errorf("code reused in another sign-in: status %d", resp.StatusCode)
		}
	})

	t.Run("RecoveryCode", func(t *testing.T) {
		c := e.client()
		e.signIn(c, viewerEmail, viewerPassword)
		resp, _ := e.do(c, "POST", "/login/2fa", url.Values{"code": {strings.ToUpper(codes[0])}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("recovery code: status %d", resp.StatusCode)
		}
		if !e.hasAudit(triage.AuditRecoveryUsed, viewerEmail, "") {
			t.Error("recovery code use not audited")
		}
		c = e.client()
		e.signIn(c, viewerEmail, viewerPassword)
		if resp, _ := e.do(c, "POST", "/login/2fa", url.Values{"code": {codes[0]}}); resp.StatusCode == http.StatusSeeOther {
			t.Error("a recovery code worked twice")
		}
	})

	t.Run("Disable", func(t *testing.T) {
		code, _ := totp.GenerateCode(secret, t0.Add(time.Minute))
		e.clock.Set(t0.Add(time.Minute))
		defer e.clock.Set(t0)
		resp, body := e.do(c, "POST", "/account/2fa/disable", url.Values{"password": {"wrong"}, "code": {code}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "still on") {
			t.Errorf("wrong password: status %d", resp.StatusCode)
		}
		resp, _ = e.do(c, "POST", "/account/2fa/disable", url.Values{"password": {viewerPassword}, "code": {code}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: status %d", resp.StatusCode)
		}
		if u, _ := e.db.UserByID(t.Context(), e.viewerID); u.TwoFactor {
			t.Error("still on")
		}
		if resp := e.signIn(e.client(), viewerEmail, viewerPassword); resp.Header.Get("Location") != "/board" {
			t.Errorf("password-only sign-in after disabling: Location %q", resp.Header.Get("Location"))
		}
	})
}

// TestTwoFactor_EnableAsksPassword: turning two-factor sign-in on takes
// the password again, checked by the server: a session left open is not
// enough to put another phone on the account. Wrong passwords are
// limited as on the other account forms.
func TestTwoFactor_EnableAsksPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSecret)
	c := e.viewerClient()
	e.do(c, "POST", "/account/2fa/start", nil)
	_, page := e.get(c, "/account/2fa")
	if !strings.Contains(page, `name="password" type="password" autocomplete="current-password" required`) {
		t.Error("the enrolment form has no password field")
	}
	m := regexp.MustCompile(`data-testid="twofactor-secret">([A-Z2-7 ]+)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no secret on the enrolment page")
	}
	code, _ := totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), e.clock.Now())
	for _, pw := range []string{"", "wrong password"} {
		resp, body := e.do(c, "POST", "/account/2fa/confirm", url.Values{"code": {code}, "password": {pw}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Wrong password") {
			t.Errorf("password %q: status %d, want 422", pw, resp.StatusCode)
		}
	}
	if u, _ := e.db.UserByID(t.Context(), e.viewerID); u.TwoFactor {
		t.Fatal("turned on without the password")
	}
	for range 3 {
		e.do(c, "POST", "/account/2fa/confirm", url.Values{"code": {code}, "password": {"wrong"}})
	}
	if resp, _ := e.do(c, "POST", "/account/2fa/confirm", url.Values{"code": {code}, "password": {viewerPassword}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after 5 wrong passwords: status %d, want 429", resp.StatusCode)
	}
	e.clock.Set(t0.Add(time.Minute))
	defer e.clock.Set(t0)
	code, _ = totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), e.clock.Now())
	if resp, body := e.do(c, "POST", "/account/2fa/confirm", url.Values{"code": {code}, "password": {viewerPassword}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, "recovery-code") {
		t.Errorf("right password and code: status %d", resp.StatusCode)
	}
	if u, _ := e.db.UserByID(t.Context(), e.viewerID); !u.TwoFactor {
		t.Error("not on after the right password and code")
	}
}

// TestTwoFactor_Failures: wrong codes end the pending sign-in after
// triage.MaxChallengeFailures, and then the user's limit answers 429.
func TestTwoFactor_Failures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSecret)
	e.enrol(e.viewerClient())
	c := e.client()
	e.signIn(c, viewerEmail, viewerPassword)
	for i := 1; i <= triage.MaxChallengeFailures; i++ {
		resp, body := e.do(c, "POST", "/login/2fa", url.Values{"code": {"999999"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("wrong code %d: status %d", i, resp.StatusCode)
		}
		if i == triage.MaxChallengeFailures && !strings.Contains(body, "sign in again") {
			t.Errorf("pending sign-in not ended after %d wrong codes", i)
		}
	}
	if resp, _ := e.get(c, "/login/2fa"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("pending sign-in still there: status %d", resp.StatusCode)
	}
	// A new password step is fine, but the user's code limit is spent.
	e.signIn(c, viewerEmail, viewerPassword)
	resp, _ := e.do(c, "POST", "/login/2fa", url.Values{"code": {"999999"}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 60 || ra > 15*60 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if n := len(e.auditEvents(triage.AuditFilter{Action: triage.AuditTwoFactorFail})); n != triage.MaxChallengeFailures {
		t.Errorf("%d failures audited, want %d", n, triage.MaxChallengeFailures)
	}
}

// TestTwoFactor_OtherServerSecret: a secret sealed under another server
// secret does not open: the code is refused (fail closed) and no session
// starts; without any secret, enrolment is refused.
func TestTwoFactor_OtherServerSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSecret)
	secret, _ := e.enrol(e.viewerClient())
	other, err := web.New(web.Config{Store: e.db, Domain: "localhost", PublicURL: "http://localhost:8080",
		Now: e.clock.Now, SecretKey: []byte("another server secret, 32 bytes or more")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(other)
	defer srv.Close()
	e2 := *e
	e2.srv = srv
	c := e2.client()
	e2.signIn(c, viewerEmail, viewerPassword)
	code, _ := totp.GenerateCode(secret, t0.Add(time.Minute))
	e.clock.Set(t0.Add(time.Minute))
	defer e.clock.Set(t0)
	resp, _ := e2.do(c, "POST", "/login/2fa", url.Values{"code": {code}})
	if resp.StatusCode == http.StatusSeeOther || cookieValue(c, srv.URL, "secinbox_session") != "" {
		t.Errorf("signed in with a secret sealed under another key: status %d", resp.StatusCode)
	}

	noKey := newEnv(t)
	resp, body := noKey.do(noKey.viewerClient(), "POST", "/account/2fa/start", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "secret key") {
		t.Errorf("enrolment without a server secret: status %d", resp.StatusCode)
	}
}

// TestTwoFactor_DisableLimits: turning two-factor sign-in off asks for
// the password and a code, so a stolen session must not be able to
// guess either without limit: wrong passwords count against the
// account's sign-in limit, wrong codes against the user's code limit.
func TestTwoFactor_DisableLimits(t *testing.T) {
	t.Parallel()
	t.Run("Password", func(t *testing.T) {
		e := newEnv(t, withSecret)
		c := e.viewerClient()
		e.enrol(c)
		for i := range 5 {
			resp, _ := e.do(c, "POST", "/account/2fa/disable", url.Values{"password": {"wrong"}, "code": {"123456"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("wrong password %d: status %d", i+1, resp.StatusCode)
			}
		}
		resp, _ := e.do(c, "POST", "/account/2fa/disable", url.Values{"password": {"wrong"}, "code": {"123456"}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("6th wrong password: status %d, want 429", resp.StatusCode)
		}
	})
	t.Run("Code", func(t *testing.T) {
		e := newEnv(t, withSecret)
		c := e.viewerClient()
		e.enrol(c)
		for i := range 5 {
			resp, _ := e.do(c, "POST", "/account/2fa/disable", url.Values{"password": {viewerPassword}, "code": {"999999"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("wrong code %d: status %d", i+1, resp.StatusCode)
			}
		}
		resp, _ := e.do(c, "POST", "/account/2fa/disable", url.Values{"password": {viewerPassword}, "code": {"999999"}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("6th wrong code: status %d, want 429", resp.StatusCode)
		}
		// Each wrong code is audited as one at sign-in is; the refused
		// 6th checked no code.
		evs := e.auditEvents(triage.AuditFilter{Action: triage.AuditTwoFactorFail})
		if len(evs) != 5 {
			t.Errorf("%d %s events, want 5", len(evs), triage.AuditTwoFactorFail)
		}
		for _, ev := range evs {
			if ev.ActorEmail != viewerEmail || ev.Target != "user:"+strconv.FormatInt(e.viewerID, 10) || !strings.Contains(ev.Detail, "2fa.disable") {
				t.Errorf("event %+v", ev)
			}
		}
		if u, _ := e.db.UserByID(t.Context(), e.viewerID); !u.TwoFactor {
			t.Error("two-factor sign-in went off without a right code")
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	t.Run("PerAddressAndAccount", func(t *testing.T) {
		e := newEnv(t)
		for i := range 5 {
			if resp := e.signIn(e.client(), viewerEmail, "wrong"); resp.StatusCode != http.StatusOK {
				t.Fatalf("attempt %d: status %d", i+1, resp.StatusCode)
			}
		}
		// Even the right password waits now, from this address: its
		// limit for this account is spent (TestLoginRateLimit_OwnerKeepsAccess:
		// not from elsewhere).
		resp, body := e.do(e.client(), "POST", "/login", url.Values{"email": {strings.ToUpper(viewerEmail)}, "password": {viewerPassword}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("6th attempt: status %d, want 429", resp.StatusCode)
		}
		if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 60 {
			t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		if !strings.Contains(body, "Too many attempts") {
			t.Errorf("no message: %s", body)
		}
		if n := len(e.auditEvents(triage.AuditFilter{Action: triage.AuditLoginFailure})); n != 5 {
			t.Errorf("%d failures audited, want 5", n)
		}
		if ev := e.auditEvents(triage.AuditFilter{Action: triage.AuditLoginFailure})[0]; ev.ActorEmail != viewerEmail ||
			ev.ActorID != 0 || ev.RemoteAddr != "127.0.0.1" || !strings.Contains(ev.Detail, "wrong email or password") {
			t.Errorf("failure event %+v", ev)
		}
		// A minute later one more try is allowed, and it works.
		e.clock.Set(t0.Add(time.Minute))
		if resp := e.signIn(e.client(), viewerEmail, viewerPassword); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after waiting: status %d", resp.StatusCode)
		}
		if !e.hasAudit(triage.AuditLoginSuccess, viewerEmail, "") {
			t.Error("success not audited")
		}
	})
	t.Run("PerAddress", func(t *testing.T) {
		e := newEnv(t)
		var emails []string
		for i := range 5 {
			u := e.addUser("staff"+strconv.Itoa(i)+"@localhost", triage.RoleViewer, "a good long password")
			emails = append(emails, u.Email)
		}
		for i := range 20 {
			if resp := e.signIn(e.client(), emails[i%5], "wrong"); resp.StatusCode != http.StatusOK {
				t.Fatalf("attempt %d: status %d", i+1, resp.StatusCode)
			}
		}
		resp := e.signIn(e.client(), "someone-else@localhost", "x")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
			t.Errorf("21st attempt from one address: status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
	t.Run("APIToken", func(t *testing.T) {
		e := newEnv(t)
		for i := range 20 {
			resp, _ := e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer guess-"+strconv.Itoa(i))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("guess %d: status %d", i, resp.StatusCode)
			}
		}
		resp, body := e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer "+viewerToken)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("after 20 bad tokens: status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if m := decodeJSON(t, body); m["error"] == nil {
			t.Errorf("no JSON error: %s", body)
		}
		if n := len(e.auditEvents(triage.AuditFilter{Action: triage.AuditAPIAuthFailure})); n != 20 {
			t.Errorf("%d token failures audited, want 20", n)
		}
		e.clock.Set(t0.Add(3 * time.Second))
		if resp, _ := e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer "+viewerToken); resp.StatusCode != http.StatusOK {
			t.Errorf("after waiting: status %d", resp.StatusCode)
		}
	})
}

func TestPasswordChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	other := e.viewerClient()
	change := func(current, next, confirm string) (*http.Response, string) {
		return e.do(c, "POST", "/account/password", url.Values{"current": {current}, "new": {next}, "confirm": {confirm}})
	}
	for _, tc := range []struct{ current, next, confirm, want string }{
		{"wrong", "a brand new password", "a brand new password", "current password is wrong"},
		{viewerPassword, "short", "short", "at least 12"},
		{viewerPassword, "a brand new password", "another one entirely", "differ"},
		{viewerPassword, viewerPassword, viewerPassword, "is the current one"},
	} {
		resp, body := change(tc.current, tc.next, tc.confirm)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("%q → %q: status %d, want 422 with %q", tc.current, tc.next, resp.StatusCode, tc.want)
		}
	}
	resp, _ := change(viewerPassword, "a brand new password", "a brand new password")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account?done=password" {
		t.Fatalf("change: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := e.get(c, "/account?done=password"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "password was changed") {
		t.Errorf("this session after the change: status %d", resp.StatusCode)
	}
	if resp, _ := e.get(other, "/board"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("other session survived the change: status %d", resp.StatusCode)
	}
	if resp := e.signIn(e.client(), viewerEmail, viewerPassword); resp.StatusCode == http.StatusSeeOther {
		t.Error("the old password still works")
	}
	if resp := e.signIn(e.client(), viewerEmail, "a brand new password"); resp.StatusCode != http.StatusSeeOther {
		t.Error("the new password does not work")
	}
	evs := e.auditEvents(triage.AuditFilter{Action: triage.AuditPasswordChange})
	if len(evs) != 2 || !strings.Contains(evs[0].Detail, "changed") || !strings.Contains(evs[1].Detail, "wrong current") {
		t.Errorf("audit: %+v", evs)
	}
	for _, ev := range e.auditEvents(triage.AuditFilter{Limit: 1000}) {
		if strings.Contains(ev.Detail, "brand new") || strings.Contains(ev.Detail, viewerPassword) {
			t.Errorf("a password in the audit log: %+v", ev)
		}
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	phone := e.client()
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"email": {viewerEmail}, "password": {viewerPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Phone <script>alert(1)</script>")
	if resp, err := phone.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("phone sign-in: %v", err)
	}
	third := e.viewerClient()

	_, page := e.get(c, "/account")
	if n := strings.Count(page, `data-testid="session-row"`); n != 3 {
		t.Errorf("%d sessions listed, want 3", n)
	}
	if strings.Count(page, `data-testid="session-current"`) != 1 || !strings.Contains(page, "Phone &lt;script&gt;") {
		t.Errorf("current marker or escaped user agent missing")
	}
	sessions, _ := e.db.Sessions(t.Context(), e.viewerID, t0)
	var phoneID int64
	for _, s := range sessions {
		if strings.HasPrefix(s.UserAgent, "Phone") {
			phoneID = s.ID
		}
	}
	resp, _ := e.do(c, "POST", "/account/sessions/"+strconv.FormatInt(phoneID, 10)+"/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	if resp, _ := e.get(phone, "/board"); resp.StatusCode != http.StatusSeeOther {
		t.Error("revoked session still works")
	}
	// Another user's session cannot be revoked by id.
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	_, adminSID := e.newSession(admin.ID)
	if resp, _ := e.do(c, "POST", "/account/sessions/"+strconv.FormatInt(adminSID, 10)+"/revoke", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("someone else's session: status %d, want 404", resp.StatusCode)
	}
	resp, _ = e.do(c, "POST", "/account/sessions/revoke-others", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke others: status %d", resp.StatusCode)
	}
	if resp, _ := e.get(third, "/board"); resp.StatusCode != http.StatusSeeOther {
		t.Error("other session survived sign out everywhere else")
	}
	if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusOK {
		t.Error("this session was signed out too")
	}
	if !e.hasAudit(triage.AuditSessionRevoke, viewerEmail, "") || !e.hasAudit(triage.AuditSessionsRevoke, viewerEmail, "") {
		t.Error("revocations not audited")
	}
	// Logout is audited too.
	e.do(c, "POST", "/logout", nil)
	if !e.hasAudit(triage.AuditLogout, viewerEmail, "") {
		t.Error("logout not audited")
	}
}

func TestAdminUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	c := e.client()
	if resp := e.signIn(c, admin.Email, "admin password 12"); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("admin sign-in")
	}
	_, page := e.get(c, "/board")
	if !strings.Contains(page, `data-testid="nav-users"`) || !strings.Contains(page, `data-testid="nav-audit"`) {
		t.Error("admin nav links missing")
	}
	if _, page := e.get(e.viewerClient(), "/board"); strings.Contains(page, `data-testid="nav-users"`) {
		t.Error("a viewer sees the admin nav")
	}

	resp, body := e.do(c, "POST", "/admin/users", url.Values{"email": {"new@localhost"}, "role": {"triager"}})
	m := regexp.MustCompile(`data-testid="new-password-value">([A-Za-z0-9_-]+)<`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: status %d, no password shown", resp.StatusCode)
	}
	newUser, err := e.db.UserByEmail(t.Context(), "new@localhost")
	if err != nil || newUser.Role != triage.RoleTriager {
		t.Fatalf("created %+v %v", newUser, err)
	}
	nc := e.client()
	if resp := e.signIn(nc, "new@localhost", m[1]); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("the new user cannot sign in with the shown password")
	}
	for _, bad := range []url.Values{{"email": {"new@localhost"}, "role": {"viewer"}}, {"email": {"Name <x@localhost>"}, "role": {"viewer"}}, {"email": {"x@localhost"}, "role": {"root"}}, {"email": {"x@y"}, "role": {"viewer"}}} {
		if resp, _ := e.do(c, "POST", "/admin/users", bad); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("create %v: status %d, want 422", bad, resp.StatusCode)
		}
	}

	uid := strconv.FormatInt(newUser.ID, 10)
	if resp, _ := e.do(c, "POST", "/admin/users/"+uid+"/role", url.Values{"role": {"viewer"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("role: status %d", resp.StatusCode)
	}
	tok := e.newToken(newUser.ID)
	if resp, _ := e.do(c, "POST", "/admin/users/"+uid+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("disable: status %d", resp.StatusCode)
	}
	if resp, _ := e.get(nc, "/board"); resp.StatusCode != http.StatusSeeOther {
		t.Error("a disabled user's session still works")
	}
	if resp := e.signIn(e.client(), "new@localhost", m[1]); resp.StatusCode == http.StatusSeeOther {
		t.Error("a disabled user can sign in")
	}
	if resp, _ := e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer "+tok); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a disabled user's token: status %d", resp.StatusCode)
	}
	if resp, _ := e.do(c, "POST", "/admin/users/"+uid+"/enable", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("enable: status %d", resp.StatusCode)
	}
	if resp, _ := e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer "+tok); resp.StatusCode != http.StatusOK {
		t.Errorf("token after enable: status %d", resp.StatusCode)
	}

	// The last admin cannot be demoted, nor disable themselves.
	aid := strconv.FormatInt(admin.ID, 10)
	if resp, _ := e.do(c, "POST", "/admin/users/"+aid+"/role", url.Values{"role": {"viewer"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("demote the last admin: status %d, want 409", resp.StatusCode)
	}
	if resp, _ := e.do(c, "POST", "/admin/users/"+aid+"/disable", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("disable yourself: status %d, want 409", resp.StatusCode)
	}
	if resp, _ := e.do(c, "POST", "/admin/users/999999/disable", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown user: status %d", resp.StatusCode)
	}
	target := "user:" + uid
	for _, a := range []string{triage.AuditUserCreate, triage.AuditUserRole, triage.AuditUserDisable, triage.AuditUserEnable} {
		if !e.hasAudit(a, admin.Email, "") {
			t.Errorf("%s not audited", a)
		}
	}
	if !e.hasAudit(triage.AuditUserDisable, admin.Email, target) {
		t.Error("disable audited without its target")
	}
}

func TestAdminResetTwoFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSecret)
	e.enrol(e.viewerClient())
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	cookie, _ := e.newSession(admin.ID)
	resp, _ := e.do(e.client(), "POST", "/admin/users/"+strconv.FormatInt(e.viewerID, 10)+"/reset-2fa", nil, "Cookie", "secinbox_session="+cookie)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: status %d", resp.StatusCode)
	}
	if resp := e.signIn(e.client(), viewerEmail, viewerPassword); resp.Header.Get("Location") != "/board" {
		t.Errorf("after reset: Location %q, want the board", resp.Header.Get("Location"))
	}
	if !e.hasAudit(triage.AuditTwoFactorReset, admin.Email, "user:"+strconv.FormatInt(e.viewerID, 10)) {
		t.Error("reset not audited")
	}
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	token := e.newToken(admin.ID)
	c := e.client()
	e.signIn(c, admin.Email, "admin password 12")

	// What staff see of decrypted content is audited, by whom.
	v := e.viewerClient()
	e.get(v, "/reports/"+strconv.FormatInt(e.xss.ID, 10))
	e.get(v, "/reports/"+strconv.FormatInt(e.xss.ID, 10)+"/raw")
	e.get(v, "/reports/"+strconv.FormatInt(e.xss.ID, 10)+"/attachments/"+strconv.FormatInt(e.xss.Attachments[0].ID, 10))
	rep := "report:" + strconv.FormatInt(e.xss.ID, 10)
	for _, a := range []string{triage.AuditReportView, triage.AuditRawDownload, triage.AuditAttachment} {
		if !e.hasAudit(a, viewerEmail, rep) {
			t.Errorf("%s on %s by the viewer not audited", a, rep)
		}
	}
	for i := range 150 {
		e.db.AddAudit(t.Context(), &triage.AuditEvent{ActorEmail: "bulk@localhost", Action: "test.bulk", Target: "n:" + strconv.Itoa(i)})
	}

	t.Run("Page", func(t *testing.T) {
		resp, body := e.get(c, "/admin/audit")
		if resp.StatusCode != http.StatusOK || strings.Count(body, `data-testid="audit-row"`) != 100 {
			t.Fatalf("status %d, %d rows", resp.StatusCode, strings.Count(body, `data-testid="audit-row"`))
		}
		m := regexp.MustCompile(`href="(/admin/audit\?before=\d+)" data-testid="audit-next"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no next page link")
		}
		_, body = e.get(c, m[1])
		if n := strings.Count(body, `data-testid="audit-row"`); n == 0 || strings.Contains(body, `n:149<`) {
			t.Errorf("second page: %d rows, or repeats the first", n)
		}
		_, body = e.get(c, "/admin/audit?action=report.&actor="+url.QueryEscape(viewerEmail))
		if n := strings.Count(body, `data-testid="audit-row"`); n != 2 {
			t.Errorf("filtered: %d rows, want 2 (report.view, report.raw.download)", n)
		}
		if resp, body := e.get(c, "/admin/audit?since=yesterday"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "since") {
			t.Errorf("bad filter: status %d", resp.StatusCode)
		}
	})
	t.Run("Export", func(t *testing.T) {
		resp, body := e.get(c, "/admin/audit/export?action=test.bulk")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("status %d disposition %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		sc := bufio.NewScanner(strings.NewReader(body))
		n := 0
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("line %d: %v", n+1, err)
			}
			if ev["action"] != "test.bulk" {
				t.Errorf("line %d: %v", n+1, ev)
			}
			n++
		}
		if n != 150 {
			t.Errorf("%d lines, want 150", n)
		}
		if !e.hasAudit(triage.AuditAuditExport, admin.Email, "") {
			t.Error("the export is not audited")
		}
	})
	t.Run("API", func(t *testing.T) {
		auth := []string{"Authorization", "Bearer " + token}
		resp, body := e.get(e.client(), "/api/v1/audit?action=report.view&limit=10", auth...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var out struct {
			Events []struct {
				Action, ActorEmail, Target, At string
			} `json:"events"`
			NextBefore int64 `json:"next_before"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 1 || out.Events[0].Action != "report.view" || out.NextBefore != 0 {
			t.Errorf("events %+v next %d", out.Events, out.NextBefore)
		}
		_, body = e.get(e.client(), "/api/v1/audit?actor=bulk@localhost&limit=100", auth...)
		if json.Unmarshal([]byte(body), &out); len(out.Events) != 100 || out.NextBefore == 0 {
			t.Errorf("page of 100: %d events, next %d", len(out.Events), out.NextBefore)
		}
		_, body = e.get(e.client(), "/api/v1/audit?since="+t0.Add(time.Hour).Format(time.RFC3339), auth...)
		if json.Unmarshal([]byte(body), &out); len(out.Events) != 0 {
			t.Errorf("since the future: %d events", len(out.Events))
		}
		for _, q := range []string{"since=x", "action=DROP%20TABLE", "limit=0", "before=-1"} {
			if resp, body := e.get(e.client(), "/api/v1/audit?"+q, auth...); resp.StatusCode != http.StatusBadRequest || decodeJSON(t, body)["error"] == nil {
				t.Errorf("%s: status %d", q, resp.StatusCode)
			}
		}
		if resp, _ := e.get(e.client(), "/api/v1/audit", "Authorization", "Bearer "+viewerToken); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer token: status %d", resp.StatusCode)
		}
	})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	var latency triage.Histogram
	latency.Observe(30 * time.Millisecond)
	latency.Observe(2 * time.Second)
	e := newEnv(t, func(c *web.Config) { c.FilingLatency = &latency })
	admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	token := e.newToken(admin.ID)
	e.signIn(e.client(), viewerEmail, "wrong")
	high := triage.SeverityHigh
	if _, err := e.db.UpdateReport(context.Background(), e.xss.ID, triage.Change{Severity: &high}, triage.Actor{UserID: admin.ID, Email: admin.Email}, t0); err != nil {
		t.Fatal(err)
	}

	resp, body := e.get(e.client(), "/metrics", "Authorization", "Bearer "+token)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"# TYPE secinbox_reports gauge\n",
		`secinbox_reports{status="new"} 1` + "\n",
		`secinbox_reports{status="undecryptable"} 1` + "\n",
		"secinbox_reports_filed_total 2\n",
		"# TYPE secinbox_reports_open gauge\n",
		`secinbox_reports_open{severity="critical"} 0` + "\n",
		`secinbox_reports_open{severity="high"} 1` + "\n",
		`secinbox_reports_open{severity="medium"} 0` + "\n",
		`secinbox_reports_open{severity="low"} 0` + "\n",
		`secinbox_reports_open{severity="none"} 0` + "\n",
		`secinbox_reports_open{severity="unscored"} 1` + "\n",
		"secinbox_messages_received_total 2\n",
		"secinbox_intake_backlog 0\n",
		"# TYPE secinbox_intake_filing_seconds histogram\n",
		`secinbox_intake_filing_seconds_bucket{le="0.025"} 0` + "\n",
		`secinbox_intake_filing_seconds_bucket{le="0.05"} 1` + "\n",
		`secinbox_intake_filing_seconds_bucket{le="2.5"} 2` + "\n",
		`secinbox_intake_filing_seconds_bucket{le="+Inf"} 2` + "\n",
		"secinbox_intake_filing_seconds_sum 2.03\n",
		"secinbox_intake_filing_seconds_count 2\n",
		`secinbox_users{role="admin"} 1` + "\n",
		`secinbox_users{role="viewer"} 1` + "\n",
		`secinbox_auth_failures_total{kind="password"} 1` + "\n",
		"# TYPE secinbox_rate_limited_total counter\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Every sample line is "name{labels} number".
	sample := regexp.MustCompile(`^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?\d+(\.\d+)?$`)
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.HasPrefix(line, "# ") && !sample.MatchString(line) {
			t.Errorf("bad sample line %q", line)
		}
	}
	if strings.Contains(body, e.xss.Title) || strings.Contains(body, viewerEmail) {
		t.Error("metrics leak report or staff data")
	}
	if resp, _ := e.get(e.client(), "/metrics", "Authorization", "Bearer "+viewerToken); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer token: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := e.get(e.client(), "/metrics"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no credentials: status %d, want 401 (not a redirect: Prometheus follows those)", resp.StatusCode)
	}
	cookie, _ := e.newSession(admin.ID)
	if resp, _ := e.get(e.client(), "/metrics", "Cookie", "secinbox_session="+cookie); resp.StatusCode != http.StatusOK {
		t.Errorf("admin session: status %d", resp.StatusCode)
	}
}

// TestAudit_APIReport: reading a report through the API is a view of
// decrypted content like the page, recorded with the token's user.
func TestAudit_APIReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := strconv.FormatInt(e.xss.ID, 10)
	if resp, _ := e.get(e.client(), "/api/v1/reports/"+id, "Authorization", "Bearer "+viewerToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	evs := e.auditEvents(triage.AuditFilter{Action: triage.AuditReportView})
	if len(evs) != 1 || evs[0].ActorEmail != viewerEmail || evs[0].Target != "report:"+id || !strings.Contains(evs[0].Detail, "api") {
		t.Errorf("events %+v", evs)
	}
	// The list shows no body: not a view of content.
	e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer "+viewerToken)
	if n := len(e.auditEvents(triage.AuditFilter{Action: triage.AuditReportView})); n != 1 {
		t.Errorf("%d view events after listing, want 1", n)
	}
}

// failingAudit is the real store whose audit log cannot be written.
type failingAudit struct{ web.Store }

func (failingAudit) AddAudit(context.Context, *triage.AuditEvent) error {
	return errors.New("audit log: disk full")
}

// TestAudit_UnrecordedViewNotServed: every route that shows decrypted
// content or hands out a file refuses when its audit event cannot be
// written, before any of the content goes out.
func TestAudit_UnrecordedViewNotServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *web.Config) { c.Store = failingAudit{c.Store} })
	cookie, _ := e.newSession(e.viewerID)
	id, aid := e.xss.ID, e.xss.Attachments[0].ID
	for _, tc := range []struct{ path, auth string }{
		{fmt.Sprintf("/reports/%d", id), "Cookie"},
		{fmt.Sprintf("/reports/%d/raw", id), "Cookie"},
		{fmt.Sprintf("/reports/%d/attachments/%d", id, aid), "Cookie"},
		{fmt.Sprintf("/reports/%d/attachments/%d/source", id, aid), "Cookie"},
		{fmt.Sprintf("/api/v1/reports/%d", id), "Authorization"},
	} {
		cred := "secinbox_session=" + cookie
		if tc.auth == "Authorization" {
			cred = "Bearer " + viewerToken
		}
		resp, body := e.get(e.client(), tc.path, tc.auth, cred)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s: status %d, want 500", tc.path, resp.StatusCode)
		}
		if strings.Contains(body, "alert(1)") || strings.Contains(body, "Steps:") {
			t.Errorf("%s: content served without an audit event: %.200s", tc.path, body)
		}
	}
}
