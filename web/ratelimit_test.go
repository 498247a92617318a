package web_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/secinbox/secinbox/triage"
)

// clientFrom is e.client() whose connections come from the loopback
// address ip (any of 127.0.0.0/8 is this host): a client at another
// address, over real TCP.
func (e *env) clientFrom(ip string) *http.Client {
	c := e.client()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	return c
}

const (
	aliceEmail    = "alice@localhost"
	alicePassword = "alice's long password"
)

// TestLoginRateLimit_OwnerKeepsAccess: someone sending wrong passwords
// for alice is slowed, but does not lock her out: from another address
// she signs in, and from her known device (a browser she signed in with
// before) she signs in even while many addresses guess at once.
func TestLoginRateLimit_OwnerKeepsAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser(aliceEmail, triage.RoleTriager, alicePassword)
	laptop := e.clientFrom("127.0.0.2")
	if resp := e.signIn(laptop, aliceEmail, alicePassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice's first sign-in: status %d", resp.StatusCode)
	}
	if cookieValue(laptop, e.srv.URL, "secinbox_device") == "" {
		t.Fatal("no device cookie after a sign-in")
	}

	// One attacker: slowed after 5 wrong passwords.
	attacker := e.clientFrom("127.0.0.3")
	refused := 0
	for i := range 30 {
		resp := e.signIn(attacker, aliceEmail, "guess "+string(rune('a'+i)))
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			refused++
		case http.StatusOK:
			if refused > 0 {
				t.Fatalf("guess %d checked after a refusal", i+1)
			}
		default:
			t.Fatalf("guess %d: status %d", i+1, resp.StatusCode)
		}
	}
	if refused != 25 {
		t.Errorf("%d of 30 guesses refused, want 25 (5 checked)", refused)
	}
	// Even the right password waits there now.
	if resp := e.signIn(attacker, aliceEmail, alicePassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password from the guessing address: status %d, want 429", resp.StatusCode)
	}
	// Alice, from another address, with no device cookie: fine.
	if resp := e.signIn(e.clientFrom("127.0.0.4"), aliceEmail, alicePassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("alice from another address: status %d, want 303", resp.StatusCode)
	}

	// Many attackers: the account's limit for unknown clients is spent.
	for host := 10; host < 18; host++ {
		c := e.clientFrom("127.0.0." + strconv.Itoa(host))
		for range 5 {
			e.signIn(c, aliceEmail, "another guess")
		}
	}
	if resp := e.signIn(e.clientFrom("127.0.0.5"), aliceEmail, alicePassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("unknown client after a distributed attack: status %d, want 429", resp.StatusCode)
	}
	// A device cookie of another account exempts nothing.
	e.addUser("bob@localhost", triage.RoleViewer, "bob's long password")
	bobs := e.clientFrom("127.0.0.6")
	if resp := e.signIn(bobs, "bob@localhost", "bob's long password"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob: status %d", resp.StatusCode)
	}
	if resp := e.signIn(bobs, aliceEmail, alicePassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("alice's password from bob's device: status %d, want 429", resp.StatusCode)
	}
	// A forged device cookie is no known device.
	forged := e.clientFrom("127.0.0.7")
	u, _ := url.Parse(e.srv.URL)
	v := cookieValue(laptop, e.srv.URL, "secinbox_device")
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: "secinbox_device", Value: v[:len(v)-2] + "AA", Path: "/"}})
	if resp := e.signIn(forged, aliceEmail, alicePassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("forged device cookie: status %d, want 429", resp.StatusCode)
	}
	// Alice's laptop is a known device: it signs in.
	if resp := e.signIn(laptop, aliceEmail, alicePassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("alice from her known device: status %d, want 303", resp.StatusCode)
	}
	// ... and has its own budget for typos.
	for i := range 5 {
		if resp := e.signIn(laptop, aliceEmail, "typo"); resp.StatusCode != http.StatusOK {
			t.Fatalf("typo %d on the known device: status %d", i+1, resp.StatusCode)
		}
	}
	if resp := e.signIn(laptop, aliceEmail, "typo"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("6th typo on the known device: status %d, want 429", resp.StatusCode)
	}
}

// TestTwoFactor_OwnerKeepsAccess: someone who has alice's password and
// guesses her code is slowed, while alice's right code still signs her
// in, from another address and from her known device.
func TestTwoFactor_OwnerKeepsAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSecret)
	e.addUser(aliceEmail, triage.RoleTriager, alicePassword)
	laptop := e.clientFrom("127.0.0.2")
	e.signIn(laptop, aliceEmail, alicePassword)
	secret, _ := e.enrolWith(laptop, alicePassword)
	step := 0
	nextCode := func() string {
		step++
		e.clock.Set(t0.Add(time.Duration(step) * 30 * time.Second))
		code, err := totp.GenerateCode(secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	defer e.clock.Set(t0)
	signInWithCode := func(c *http.Client, code string) int {
		t.Helper()
		if resp := e.signIn(c, aliceEmail, alicePassword); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/2fa" {
			t.Fatalf("password step: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ := e.do(c, "POST", "/login/2fa", url.Values{"code": {code}})
		return resp.StatusCode
	}

	// The attacker, from one address: 5 wrong codes, then refused.
	attacker := e.clientFrom("127.0.0.3")
	e.signIn(attacker, aliceEmail, alicePassword)
	for i := range triage.MaxChallengeFailures {
		if resp, _ := e.do(attacker, "POST", "/login/2fa", url.Values{"code": {"000000"}}); resp.StatusCode != http.StatusOK {
			t.Fatalf("wrong code %d: status %d", i+1, resp.StatusCode)
		}
	}
	if code := signInWithCode(attacker, "000000"); code != http.StatusTooManyRequests {
		t.Errorf("6th wrong code from one address: status %d, want 429", code)
	}
	// Alice, from another address: her right code works.
	if code := signInWithCode(e.clientFrom("127.0.0.4"), nextCode()); code != http.StatusSeeOther {
		t.Errorf("alice's right code from another address: status %d, want 303", code)
	}

	// Many addresses guessing spend the user's limit for unknown clients.
	for host := 10; host < 13; host++ {
		c := e.clientFrom("127.0.0." + strconv.Itoa(host))
		e.signIn(c, aliceEmail, alicePassword)
		for range triage.MaxChallengeFailures {
			e.do(c, "POST", "/login/2fa", url.Values{"code": {"000000"}})
		}
	}
	if code := signInWithCode(e.clientFrom("127.0.0.5"), nextCode()); code != http.StatusTooManyRequests {
		t.Errorf("unknown client after a distributed attack: status %d, want 429", code)
	}
	// From her laptop, alice's right code still signs her in.
	if code := signInWithCode(laptop, nextCode()); code != http.StatusSeeOther {
		t.Errorf("alice's right code from her known device: status %d, want 303", code)
	}
	if resp, body := e.get(laptop, "/board"); resp.StatusCode != http.StatusOK || !strings.Contains(body, aliceEmail) {
		t.Errorf("board: status %d", resp.StatusCode)
	}
}
