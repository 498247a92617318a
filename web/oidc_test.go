package web_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// The single sign-on tests run a real OpenID Connect provider
// (mockoidc) on loopback, on the test's clock, and walk the browser's
// part of the flow by hand: GET /login/oidc, GET the provider's
// authorize URL (which signs in whoever the test queued), GET the
// callback it redirects to. Each step can be tampered with on the way.

// The role map of every single sign-on test.
var ssoRoleMap = map[string]triage.Role{"secinbox-admins": triage.RoleAdmin, "security": triage.RoleTriager, "staff": triage.RoleViewer}

// idp is the identity provider of one test; tokenCalls counts the
// requests to its token endpoint.
type idp struct {
	*mockoidc.MockOIDC
	tokenCalls atomic.Int64
}

// idpTurn lets one test at a time (with its subtests) run providers:
// mockoidc's clock is a package variable (NowFunc), so the tests that
// set it take turns while the others run in parallel.
var idpTurn = newTurns()

// turns is a lock held by a top-level test and shared by its subtests.
type turns struct {
	mu    sync.Mutex
	free  *sync.Cond // signalled when owner becomes ""
	owner string     // the top-level test holding it, "" for none
	n     int        // how many of its tests hold it
}

func newTurns() *turns {
	tu := &turns{}
	tu.free = sync.NewCond(&tu.mu)
	return tu
}

// take waits until no other top-level test holds tu; t holds it until
// it ends.
func (tu *turns) take(t *testing.T) {
	top, _, _ := strings.Cut(t.Name(), "/")
	tu.mu.Lock()
	defer tu.mu.Unlock()
	for tu.owner != "" && tu.owner != top {
		tu.free.Wait()
	}
	tu.owner = top
	tu.n++
	t.Cleanup(func() {
		tu.mu.Lock()
		defer tu.mu.Unlock()
		if tu.n--; tu.n == 0 {
			tu.owner = ""
			tu.free.Broadcast()
		}
	})
}

// startIdP starts a provider on loopback whose clock is now, stopped at
// the end of the test. Tests that start one take turns (idpTurn).
func startIdP(t *testing.T, now func() time.Time) *idp {
	t.Helper()
	idpTurn.take(t)
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{MockOIDC: m}
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.TokenEndpoint {
				p.tokenCalls.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		t.Fatal(err)
	}
	// mockoidc's clock is a package variable: this test's turn keeps
	// it until the test ends.
	old := mockoidc.NowFunc
	mockoidc.NowFunc = now
	t.Cleanup(func() { mockoidc.NowFunc = old })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

// oidcConfig is the site's configuration for p: roles from the groups
// claim.
func (p *idp) oidcConfig() *web.OIDCConfig {
	return &web.OIDCConfig{
		Issuer:       p.Issuer(),
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Scopes:       []string{"openid", "email", "groups"},
		RolesClaim:   "groups",
		RoleMap:      ssoRoleMap,
	}
}

// newSSOEnv is newEnv with single sign-on through a provider of its own.
func newSSOEnv(t *testing.T) (*env, *idp) {
	t.Helper()
	var e *env
	p := startIdP(t, func() time.Time { return e.clock.Now() })
	e = newEnv(t, func(c *web.Config) {
		c.SecretKey = testSecretKey
		c.OIDC = p.oidcConfig()
	})
	return e, p
}

// staffUser is a provider account.
func staffUser(email string, groups ...string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "sub-" + email, Email: email, EmailVerified: true, Groups: groups}
}

// ssoFlow is one single sign-on as the browser walks it.
type ssoFlow struct {
	authURL     *url.URL     // where /login/oidc sent the browser
	flowCookie  *http.Cookie // the cookie it set
	callbackURL string       // where the provider sent it back (on the test server)
}

// ssoStart GETs /login/oidc with c. The clock moves on a minute first,
// so that the sign-in rate limit (on the test's frozen clock) refills.
func (e *env) ssoStart(c *http.Client) *ssoFlow {
	e.t.Helper()
	e.clock.Set(e.clock.Now().Add(time.Minute))
	resp, body := e.get(c, "/login/oidc")
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("GET /login/oidc: status %d, want 302: %.300s", resp.StatusCode, body)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return &ssoFlow{authURL: u, flowCookie: sessionCookie(resp, "secinbox_oidc")}
}

// ssoSignIn walks a whole sign-in of user with c and returns the
// callback's response.
func (e *env) ssoSignIn(c *http.Client, p *idp, user mockoidc.User) (*http.Response, string) {
	e.t.Helper()
	f := e.ssoStart(c)
	e.authorize(c, p, f, user)
	return e.callback(c, f.callbackURL)
}

// authorize GETs the flow's authorize URL, as the browser does, with the
// provider signing in user, and keeps the callback URL it answers with,
// pointed at the test server.
func (e *env) authorize(c *http.Client, p *idp, f *ssoFlow, user mockoidc.User) {
	e.t.Helper()
	p.QueueUser(user)
	resp, err := c.Get(f.authURL.String())
	if err != nil {
		e.t.Fatal(err)
	}
	body := readBody(e.t, resp)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("provider: status %d, want 302: %.300s", resp.StatusCode, body)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	// The site's public URL is not the test server's.
	if got := back.Scheme + "://" + back.Host + back.Path; got != "http://localhost:8080/login/oidc/callback" {
		e.t.Fatalf("provider sent the browser back to %s", got)
	}
	f.callbackURL = back.Path + "?" + back.RawQuery
}

// callback GETs the callback path (with its query) with c.
func (e *env) callback(c *http.Client, pathQuery string) (*http.Response, string) {
	e.t.Helper()
	return e.get(c, pathQuery)
}

// signedIn reports whether c has a session: the board loads.
func (e *env) signedIn(c *http.Client) bool {
	e.t.Helper()
	resp, _ := e.get(c, "/board")
	return resp.StatusCode == http.StatusOK
}

// auditReason returns the reason of the newest event with action, "" if none.
func (e *env) auditReason(action string) string {
	e.t.Helper()
	evs := e.auditEvents(triage.AuditFilter{Action: action, Limit: 1})
	if len(evs) == 0 {
		return ""
	}
	return evs[0].Detail
}

func TestOIDC_SignIn(t *testing.T) {
	t.Parallel()
	e, p := newSSOEnv(t)

	t.Run("LoginPageOffersSSO", func(t *testing.T) {
		_, body := e.get(e.client(), "/login")
		if !strings.Contains(body, `href="/login/oidc"`) || !strings.Contains(body, "Sign in with SSO") {
			t.Errorf("no SSO button: %.500s", body)
		}
		plain := newEnv(t)
		if _, body := plain.get(plain.client(), "/login"); strings.Contains(body, "/login/oidc") {
			t.Errorf("SSO button without single sign-on configured")
		}
		if resp, _ := plain.get(plain.client(), "/login/oidc"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /login/oidc without single sign-on: status %d, want 404", resp.StatusCode)
		}
	})

	t.Run("AuthorizationRequest", func(t *testing.T) {
		f := e.ssoStart(e.client())
		q := f.authURL.Query()
		if got := f.authURL.Scheme + "://" + f.authURL.Host + f.authURL.Path; got != p.AuthorizationEndpoint() {
			t.Errorf("sent to %s, want the provider's authorization endpoint %s", got, p.AuthorizationEndpoint())
		}
		for k, want := range map[string]string{
			"response_type": "code", "client_id": p.ClientID, "code_challenge_method": "S256",
			"redirect_uri": "http://localhost:8080/login/oidc/callback", "scope": "openid email groups",
		} {
			if q.Get(k) != want {
				t.Errorf("%s = %q, want %q", k, q.Get(k), want)
			}
		}
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			if len(q.Get(k)) < 43 {
				t.Errorf("%s = %q: missing or short", k, q.Get(k))
			}
		}
		if q.Get("state") == q.Get("nonce") {
			t.Errorf("state and nonce are the same value")
		}
		ck := f.flowCookie
		if ck == nil {
			t.Fatal("no flow cookie")
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge <= 0 || ck.MaxAge > 900 {
			t.Errorf("flow cookie flags: %+v", ck)
		}
		for _, k := range []string{"state", "nonce"} {
			if strings.Contains(ck.Value, q.Get(k)) {
				t.Errorf("the flow cookie carries the %s in the clear", k)
			}
		}
	})

	t.Run("LandsWithMappedRole", func(t *testing.T) {
		c := e.client()
		resp, body := e.ssoSignIn(c, p, staffUser("Tina@Example.com", "staff", "security", "engineering"))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
			t.Fatalf("callback: status %d Location %q, want 303 to /board: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		ck := sessionCookie(resp, "secinbox_session")
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || len(ck.Value) < 43 {
			t.Fatalf("session cookie: %+v", ck)
		}
		if fc := sessionCookie(resp, "secinbox_oidc"); fc == nil || fc.MaxAge >= 0 {
			t.Errorf("the callback did not delete the flow cookie: %+v", fc)
		}
		if sessionCookie(resp, "secinbox_device") == nil {
			t.Errorf("no device cookie: the session is not the one a password sign-in makes")
		}
		if resp, body := e.get(c, "/board"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "tina@example.com") {
			t.Errorf("board: status %d", resp.StatusCode)
		}
		u, err := e.db.UserByEmail(context.Background(), "tina@example.com")
		if err != nil {
			t.Fatalf("no account made: %v", err)
		}
		if u.Role != triage.RoleTriager { // the highest of viewer and triager
			t.Errorf("role %s, want triager", u.Role)
		}
		if len(u.PasswordHash) != 0 {
			t.Errorf("an account made by single sign-on has a password hash")
		}
		if !e.hasAudit(triage.AuditLoginOIDC, "tina@example.com", "") || !e.hasAudit(triage.AuditUserCreate, "tina@example.com", "") {
			t.Errorf("sign-in or account creation not audited")
		}
		// A triager's action is allowed: the role is in force.
		if resp, _ := e.get(c, "/reports/"+itoa(e.xss.ID)+"/quick?action=status", "HX-Request", "true"); resp.StatusCode != http.StatusOK {
			t.Errorf("triager route: status %d", resp.StatusCode)
		}
		// No password works for an account made by single sign-on.
		if resp := e.login(e.client(), "tina@example.com", ""); resp.StatusCode == http.StatusSeeOther {
			t.Errorf("password sign-in with an empty password worked")
		}
	})
}

func TestOIDC_Refused(t *testing.T) {
	t.Parallel()
	e, p := newSSOEnv(t)

	// refused checks that c's callback response is a refusal with status
	// and that c is not signed in.
	refused := func(t *testing.T, c *http.Client, resp *http.Response, body string, status int, reason string) {
		t.Helper()
		if resp.StatusCode != status {
			t.Errorf("status %d, want %d: %.300s", resp.StatusCode, status, body)
		}
		if sessionCookie(resp, "secinbox_session") != nil {
			t.Errorf("a session cookie was set")
		}
		if !strings.Contains(body, `data-testid="login-error"`) {
			t.Errorf("no message on the sign-in page: %.300s", body)
		}
		if e.signedIn(c) {
			t.Errorf("signed in")
		}
		if got := e.auditReason(triage.AuditLoginOIDCFail); !strings.Contains(got, reason) {
			t.Errorf("audit reason %q, want %q", got, reason)
		}
	}
	noAccount := func(t *testing.T, email string) {
		t.Helper()
		if _, err := e.db.UserByEmail(context.Background(), email); triage.ErrorCode(err) != triage.ENOTFOUND {
			t.Errorf("an account for %s exists (err %v)", email, err)
		}
	}

	t.Run("NoRoleCreatesNothing", func(t *testing.T) {
		for _, groups := range [][]string{nil, {"engineering", "Staff", "secinbox-admins-not"}} {
			users, _ := e.db.Users(context.Background())
			c := e.client()
			resp, body := e.ssoSignIn(c, p, staffUser("norole@example.com", groups...))
			refused(t, c, resp, body, http.StatusForbidden, "no role granted")
			noAccount(t, "norole@example.com")
			if after, _ := e.db.Users(context.Background()); len(after) != len(users) {
				t.Errorf("%d accounts before, %d after", len(users), len(after))
			}
		}
	})

	t.Run("UnverifiedEmail", func(t *testing.T) {
		c := e.client()
		u := staffUser("unverified@example.com", "secinbox-admins")
		u.EmailVerified = false
		resp, body := e.ssoSignIn(c, p, u)
		refused(t, c, resp, body, http.StatusForbidden, "email not verified")
		noAccount(t, "unverified@example.com")
		// Nor is a known account signed in by an unverified email.
		c = e.client()
		u.Email = viewerEmail
		resp, body = e.ssoSignIn(c, p, u)
		refused(t, c, resp, body, http.StatusForbidden, "email not verified")
	})

	t.Run("State", func(t *testing.T) {
		for name, tamper := range map[string]func(q url.Values){
			"Tampered": func(q url.Values) { q.Set("state", q.Get("state")[1:]+"A") },
			"Missing":  func(q url.Values) { q.Del("state") },
			"Empty":    func(q url.Values) { q.Set("state", "") },
		} {
			t.Run(name, func(t *testing.T) {
				c := e.client()
				f := e.ssoStart(c)
				e.authorize(c, p, f, staffUser("state@example.com", "secinbox-admins"))
				path, raw, _ := strings.Cut(f.callbackURL, "?")
				q, _ := url.ParseQuery(raw)
				tamper(q)
				calls := p.tokenCalls.Load()
				resp, body := e.callback(c, path+"?"+q.Encode())
				refused(t, c, resp, body, http.StatusBadRequest, "state mismatch")
				if p.tokenCalls.Load() != calls {
					t.Errorf("the code was exchanged despite the state")
				}
				noAccount(t, "state@example.com")
			})
		}
		t.Run("NoFlowCookie", func(t *testing.T) {
			c := e.client()
			f := e.ssoStart(c)
			e.authorize(c, p, f, staffUser("state@example.com", "secinbox-admins"))
			other := e.client() // another browser: the right state, but no flow of its own
			resp, body := e.callback(other, f.callbackURL)
			refused(t, other, resp, body, http.StatusBadRequest, "no sign-in in progress")
		})
		t.Run("ForgedFlowCookie", func(t *testing.T) {
			c := e.client()
			f := e.ssoStart(c)
			e.authorize(c, p, f, staffUser("state@example.com", "secinbox-admins"))
			forged := e.client()
			v := []byte(f.flowCookie.Value)
			v[len(v)/2] ^= 1
			forged.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: "secinbox_oidc", Value: string(v), Path: "/"}})
			resp, body := e.callback(forged, f.callbackURL)
			refused(t, forged, resp, body, http.StatusBadRequest, "no sign-in in progress")
		})
		t.Run("Expired", func(t *testing.T) {
			c := e.client()
			f := e.ssoStart(c)
			e.authorize(c, p, f, staffUser("state@example.com", "secinbox-admins"))
			e.clock.Set(e.clock.Now().Add(11 * time.Minute))
			// The cookie outlived its Max-Age (a jar would have dropped it).
			late := e.client()
			late.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: "secinbox_oidc", Value: f.flowCookie.Value, Path: "/"}})
			resp, body := e.callback(late, f.callbackURL)
			refused(t, late, resp, body, http.StatusBadRequest, "no sign-in in progress")
		})
	})

	t.Run("Replay", func(t *testing.T) {
		c := e.client()
		f := e.ssoStart(c)
		e.authorize(c, p, f, staffUser("replay@example.com", "staff"))
		resp, body := e.callback(c, f.callbackURL)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: status %d: %.300s", resp.StatusCode, body)
		}
		// The same callback again, flow cookie and all (a captured or
		// back-buttoned URL): refused by us, before the provider is asked.
		calls := p.tokenCalls.Load()
		again := e.client()
		again.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: "secinbox_oidc", Value: f.flowCookie.Value, Path: "/"}})
		resp, body = e.callback(again, f.callbackURL)
		refused(t, again, resp, body, http.StatusBadRequest, "callback replayed")
		if p.tokenCalls.Load() != calls {
			t.Errorf("a replayed callback reached the provider's token endpoint")
		}
	})

	t.Run("NonceMismatch", func(t *testing.T) {
		c := e.client()
		f := e.ssoStart(c)
		// The provider is asked for a token with another nonce (an ID
		// token minted for another flow).
		q := f.authURL.Query()
		q.Set("nonce", "injected-"+q.Get("nonce"))
		f.authURL.RawQuery = q.Encode()
		e.authorize(c, p, f, staffUser("nonce@example.com", "secinbox-admins"))
		resp, body := e.callback(c, f.callbackURL)
		refused(t, c, resp, body, http.StatusBadRequest, "nonce mismatch")
		noAccount(t, "nonce@example.com")
	})

	t.Run("ProviderError", func(t *testing.T) {
		c := e.client()
		f := e.ssoStart(c)
		q := url.Values{"state": {f.authURL.Query().Get("state")}, "error": {"access_denied"}}
		resp, body := e.callback(c, "/login/oidc/callback?"+q.Encode())
		refused(t, c, resp, body, http.StatusBadRequest, "identity provider error: access_denied")
	})

	t.Run("WrongCodeVerifier", func(t *testing.T) {
		// PKCE: a code the provider issued for another challenge is
		// refused by the provider when our verifier does not match it.
		c := e.client()
		f := e.ssoStart(c)
		q := f.authURL.Query()
		q.Set("code_challenge", strings.Repeat("A", 43))
		f.authURL.RawQuery = q.Encode()
		e.authorize(c, p, f, staffUser("pkce@example.com", "secinbox-admins"))
		resp, body := e.callback(c, f.callbackURL)
		refused(t, c, resp, body, http.StatusBadRequest, "code exchange refused")
		noAccount(t, "pkce@example.com")
	})

	t.Run("Metrics", func(t *testing.T) {
		admin := e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
		cookie, _ := e.newSession(admin.ID)
		n := len(e.auditEvents(triage.AuditFilter{Action: triage.AuditLoginOIDCFail, Limit: 1000}))
		_, body := e.get(e.client(), "/metrics", "Cookie", "secinbox_session="+cookie)
		if want := `secinbox_auth_failures_total{kind="sso"} ` + strconv.Itoa(n) + "\n"; n == 0 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	})
}

func TestOIDC_RoleFromEverySignIn(t *testing.T) {
	t.Parallel()
	e, p := newSSOEnv(t)
	e.addUser("root@localhost", triage.RoleAdmin, "root password 123") // not the last admin
	const email = "dana@example.com"

	c := e.client()
	if resp, body := e.ssoSignIn(c, p, staffUser(email, "secinbox-admins")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in: status %d: %.300s", resp.StatusCode, body)
	}
	u, err := e.db.UserByEmail(context.Background(), email)
	if err != nil || u.Role != triage.RoleAdmin {
		t.Fatalf("after the first sign-in: %+v, %v", u, err)
	}
	token := e.newToken(u.ID)

	t.Run("Downgrade", func(t *testing.T) {
		c2 := e.client()
		if resp, body := e.ssoSignIn(c2, p, staffUser(email, "staff")); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("second sign-in: status %d: %.300s", resp.StatusCode, body)
		}
		if u, _ := e.db.UserByID(context.Background(), u.ID); u.Role != triage.RoleViewer {
			t.Errorf("role %s after the provider made them staff, want viewer", u.Role)
		}
		if !e.hasAudit(triage.AuditUserRole, email, userTarget(u.ID)) {
			t.Errorf("the role change is not audited")
		}
		if resp, _ := e.get(c2, "/admin/users"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("admin page after the downgrade: status %d, want 403", resp.StatusCode)
		}
		if !e.signedIn(c2) {
			t.Errorf("the viewer's board does not load")
		}
	})

	t.Run("NoRoleEndsSessions", func(t *testing.T) {
		if !e.signedIn(c) {
			t.Fatal("the first session is gone already")
		}
		c3 := e.client()
		resp, body := e.ssoSignIn(c3, p, staffUser(email, "alumni"))
		if resp.StatusCode != http.StatusForbidden || sessionCookie(resp, "secinbox_session") != nil {
			t.Fatalf("sign-in without a role: status %d: %.300s", resp.StatusCode, body)
		}
		if e.signedIn(c) || e.signedIn(c3) {
			t.Errorf("a session survived the loss of every role")
		}
		if resp, _ := e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer "+token); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API token after the loss of every role: status %d, want 401", resp.StatusCode)
		}
		if got := e.auditReason(triage.AuditLoginOIDCFail); !strings.Contains(got, "no role granted") {
			t.Errorf("audit reason %q", got)
		}
		// The role comes back with the group.
		c4 := e.client()
		if resp, _ := e.ssoSignIn(c4, p, staffUser(email, "security")); resp.StatusCode != http.StatusSeeOther || !e.signedIn(c4) {
			t.Errorf("sign-in with the group back: status %d", resp.StatusCode)
		}
	})

	t.Run("DisabledStaysDisabled", func(t *testing.T) {
		at := e.clock.Now()
		if err := e.db.SetUserDisabled(context.Background(), u.ID, at, nil); err != nil {
			t.Fatal(err)
		}
		c5 := e.client()
		resp, body := e.ssoSignIn(c5, p, staffUser(email, "secinbox-admins"))
		if resp.StatusCode != http.StatusForbidden || e.signedIn(c5) {
			t.Errorf("disabled account: status %d: %.300s", resp.StatusCode, body)
		}
		after, _ := e.db.UserByID(context.Background(), u.ID)
		if !after.Disabled() || after.Role != triage.RoleTriager {
			t.Errorf("a refused sign-in changed the disabled account: %+v", after)
		}
		if got := e.auditReason(triage.AuditLoginOIDCFail); !strings.Contains(got, "account disabled") {
			t.Errorf("audit reason %q", got)
		}
	})

	t.Run("LastAdminKept", func(t *testing.T) {
		e, p := newSSOEnv(t)
		c := e.client()
		if resp, _ := e.ssoSignIn(c, p, staffUser("solo@example.com", "secinbox-admins")); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first sign-in: status %d", resp.StatusCode)
		}
		resp, body := e.ssoSignIn(e.client(), p, staffUser("solo@example.com", "staff"))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "last active admin") {
			t.Errorf("downgrade of the last admin: status %d: %.300s", resp.StatusCode, body)
		}
		if u, _ := e.db.UserByEmail(context.Background(), "solo@example.com"); u.Role != triage.RoleAdmin {
			t.Errorf("role %s", u.Role)
		}
	})
}

func TestOIDC_PasswordBreakGlass(t *testing.T) {
	t.Parallel()
	e, _ := newSSOEnv(t)
	e.addUser("triager@localhost", triage.RoleTriager, "triager password 1")
	e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")

	for _, who := range [][2]string{{"triager@localhost", "triager password 1"}, {viewerEmail, viewerPassword}} {
		c := e.client()
		resp, err := c.PostForm(e.srv.URL+"/login", url.Values{"email": {who[0]}, "password": {who[1]}})
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden || sessionCookie(resp, "secinbox_session") != nil || e.signedIn(c) {
			t.Errorf("%s: password sign-in while SSO is on: status %d", who[0], resp.StatusCode)
		}
		if !strings.Contains(body, "Sign in with SSO") || !strings.Contains(body, "only admins") {
			t.Errorf("%s: the refusal does not send them to SSO: %.500s", who[0], body)
		}
	}
	if !e.hasAudit(triage.AuditLoginFailure, "triager@localhost", "") {
		t.Errorf("refused password sign-in not audited")
	}
	// A wrong password is still the generic answer, not "use SSO".
	if resp, err := e.client().PostForm(e.srv.URL+"/login", url.Values{"email": {"triager@localhost"}, "password": {"wrong"}}); err != nil {
		t.Fatal(err)
	} else if body := readBody(t, resp); !strings.Contains(body, "Wrong email or password.") {
		t.Errorf("a wrong password tells more than the generic message: %.300s", body)
	}

	c := e.client()
	if resp := e.login(c, "admin@localhost", "admin password 12"); resp.StatusCode != http.StatusSeeOther || !e.signedIn(c) {
		t.Errorf("admin break-glass sign-in: status %d", resp.StatusCode)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func userTarget(id int64) string { return "user:" + itoa(id) }

// TestOIDC_ProviderDown: a provider that cannot be reached is said so on
// the sign-in page, and the admins' password still works (break-glass).
func TestOIDC_ProviderDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/oidc"
	ln.Close() // nothing listens there any more
	e := newEnv(t, func(c *web.Config) {
		c.OIDC = &web.OIDCConfig{Issuer: issuer, ClientID: "secinbox", ClientSecret: "s3cret", RolesClaim: "groups", RoleMap: ssoRoleMap}
	})
	resp, body := e.get(e.client(), "/login/oidc")
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "cannot be reached") ||
		!strings.Contains(body, `data-testid="login-form"`) || sessionCookie(resp, "secinbox_oidc") != nil {
		t.Errorf("status %d: %.500s", resp.StatusCode, body)
	}
	if got := e.auditReason(triage.AuditLoginOIDCFail); !strings.Contains(got, "identity provider unavailable") {
		t.Errorf("audit reason %q", got)
	}
	e.addUser("admin@localhost", triage.RoleAdmin, "admin password 12")
	c := e.client()
	if resp := e.login(c, "admin@localhost", "admin password 12"); resp.StatusCode != http.StatusSeeOther || !e.signedIn(c) {
		t.Errorf("admin password sign-in while the provider is down: status %d", resp.StatusCode)
	}
}
