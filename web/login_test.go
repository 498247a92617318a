package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

func sessionCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base, _ := url.Parse(e.srv.URL)

	t.Run("WrongPassword", func(t *testing.T) {
		for _, cred := range [][2]string{{viewerEmail, "wrong"}, {"nobody@localhost", viewerPassword}, {"", ""}} {
			c := e.client()
			resp := e.login(c, cred[0], cred[1])
			if resp.StatusCode == http.StatusSeeOther {
				t.Errorf("%q: redirected to %q", cred[0], resp.Header.Get("Location"))
			}
			if len(resp.Cookies()) != 0 || len(c.Jar.Cookies(base)) != 0 {
				t.Errorf("%q: got a cookie %v", cred[0], resp.Cookies())
			}
			if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("%q: board status %d after failed login", cred[0], resp.StatusCode)
			}
		}
	})

	t.Run("GenericMessage", func(t *testing.T) {
		for _, email := range []string{viewerEmail, "nobody@localhost"} {
			resp, err := e.client().PostForm(e.srv.URL+"/login", url.Values{"email": {email}, "password": {"wrong"}})
			if err != nil {
				t.Fatal(err)
			}
			if body := readBody(t, resp); !strings.Contains(body, "Wrong email or password.") {
				t.Errorf("%s: no generic message", email)
			}
		}
	})

	t.Run("Success", func(t *testing.T) {
		c := e.client()
		// A cookie planted before login (session fixation) must not survive.
		planted := &http.Cookie{Name: "secinbox_session", Value: "planted-by-attacker", Path: "/"}
		c.Jar.SetCookies(base, []*http.Cookie{planted})

		resp := e.login(c, viewerEmail, viewerPassword)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
			t.Fatalf("status %d Location %q, want 303 to /board", resp.StatusCode, resp.Header.Get("Location"))
		}
		ck := sessionCookie(resp, "secinbox_session")
		if ck == nil {
			t.Fatalf("no session cookie in %v", resp.Header["Set-Cookie"])
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
			t.Errorf("cookie flags: %+v", ck)
		}
		if ck.Value == planted.Value || len(ck.Value) < 43 {
			t.Errorf("session id %q not fresh", ck.Value)
		}
		if resp, body := e.get(c, "/board"); resp.StatusCode != http.StatusOK || !strings.Contains(body, viewerEmail) {
			t.Errorf("board: status %d", resp.StatusCode)
		}

		// Signing in again rotates the id and ends the old session.
		old := ck.Value
		resp = e.login(c, viewerEmail, viewerPassword)
		ck2 := sessionCookie(resp, "secinbox_session")
		if ck2 == nil || ck2.Value == old {
			t.Fatalf("second login did not rotate the session: %v", ck2)
		}
		if resp, _ := e.get(withCookie(e, old), "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("old session still valid after re-login: status %d", resp.StatusCode)
		}

		// Logout ends the session server-side, not just in the browser.
		req, _ := http.NewRequest("POST", e.srv.URL+"/logout", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("logout: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if ck := sessionCookie(resp, "secinbox_session"); ck == nil || ck.MaxAge >= 0 {
			t.Errorf("logout did not clear the cookie: %v", ck)
		}
		if resp, _ := e.get(withCookie(e, ck2.Value), "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("session valid after logout: status %d", resp.StatusCode)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		c := e.viewerClient()
		e.clock.Set(t0.Add(triage.SessionLifetime + time.Minute))
		defer e.clock.Set(t0)
		if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("expired session: status %d, want 303", resp.StatusCode)
		}
	})

	t.Run("BodyLimit", func(t *testing.T) {
		big := strings.NewReader("email=a&password=" + strings.Repeat("x", 100<<10))
		resp, err := http.Post(e.srv.URL+"/login", "application/x-www-form-urlencoded", big)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", resp.StatusCode)
		}
	})
}

func TestLogin_SecureCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *web.Config) { c.SecureCookies = true })
	resp := e.login(e.client(), viewerEmail, viewerPassword)
	ck := sessionCookie(resp, "__Host-secinbox_session")
	if ck == nil {
		t.Fatalf("no __Host- cookie in %v", resp.Header["Set-Cookie"])
	}
	if !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("cookie flags: %+v", ck)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over HTTPS")
	}
}

// withCookie returns a client that presents session id value.
func withCookie(e *env, value string) *http.Client {
	c := e.client()
	u, _ := url.Parse(e.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "secinbox_session", Value: value, Path: "/"}})
	return c
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	post := func(t *testing.T, path, site, origin string) *http.Response {
		form := url.Values{"email": {viewerEmail}, "password": {viewerPassword}}
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", site)
		resp, err := e.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp
	}
	t.Run("CrossSite", func(t *testing.T) {
		resp := post(t, "/login", "cross-site", "https://evil.example")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
		if len(resp.Cookies()) != 0 {
			t.Error("cross-site login set a cookie")
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Error("403 without CSP")
		}
	})
	t.Run("SameOrigin", func(t *testing.T) {
		resp := post(t, "/login", "same-origin", e.srv.URL)
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("status %d, want 303", resp.StatusCode)
		}
	})
	t.Run("CrossSiteLogout", func(t *testing.T) {
		c := e.viewerClient()
		req, _ := http.NewRequest("POST", e.srv.URL+"/logout", nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
		if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusOK {
			t.Errorf("session ended by a cross-site request: %d", resp.StatusCode)
		}
	})
}
