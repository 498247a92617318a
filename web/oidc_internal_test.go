package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func testSSO(t *testing.T, rolesClaim string) *sso {
	t.Helper()
	o, err := newSSO(&OIDCConfig{
		Issuer: "https://idp.example.com/realms/team", ClientID: "secinbox", ClientSecret: "s3cret",
		RolesClaim: rolesClaim,
		RoleMap:    map[string]triage.Role{"secinbox-admins": triage.RoleAdmin, "security": triage.RoleTriager, "staff": triage.RoleViewer},
	}, "https://security.example.com", []byte("0123456789abcdef0123456789abcdef"), true, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func claimsOf(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSSO_Role(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		claim, claims string
		want          triage.Role
	}{
		{"groups", `{"groups": ["staff", "security"]}`, triage.RoleTriager},
		{"groups", `{"groups": ["security", "secinbox-admins", "staff"]}`, triage.RoleAdmin},
		{"groups", `{"groups": ["staff"]}`, triage.RoleViewer},
		{"groups", `{"groups": "security"}`, triage.RoleTriager},  // one value as a string
		{"groups", `{"groups": ["Security", "engineering"]}`, ""}, // exact match only
		{"groups", `{"groups": []}`, ""},
		{"groups", `{}`, ""},
		{"groups", `{"groups": {"security": true}}`, ""},
		{"groups", `{"groups": [1, null, ["security"]]}`, ""},
		{"groups", `{"roles": ["secinbox-admins"]}`, ""}, // another claim
		{"roles", `{"roles": ["secinbox-admins"]}`, triage.RoleAdmin},
		// Keycloak realm roles: a dotted path into nested objects.
		{"realm_access.roles", `{"realm_access": {"roles": ["offline_access", "security"]}}`, triage.RoleTriager},
		{"realm_access.roles", `{"realm_access": ["security"]}`, ""},
		{"resource_access.secinbox.roles", `{"resource_access": {"secinbox": {"roles": ["staff"]}}}`, triage.RoleViewer},
		// A namespaced claim (Auth0) is a top-level name with dots.
		{"https://example.com/roles", `{"https://example.com/roles": ["secinbox-admins"]}`, triage.RoleAdmin},
	} {
		o := testSSO(t, tc.claim)
		if got := o.role(claimsOf(t, tc.claims)); got != tc.want {
			t.Errorf("%s in %s: role %q, want %q", tc.claim, tc.claims, got, tc.want)
		}
	}
	// Bounded: a huge claim is not walked whole, a huge value ignored.
	o := testSSO(t, "groups")
	many := make([]any, 5000)
	for i := range many {
		many[i] = "nobody"
	}
	many[4999] = "secinbox-admins"
	if got := o.role(map[string]any{"groups": many}); got != "" {
		t.Errorf("a value past the first 1000 counted: %q", got)
	}
	if got := o.role(map[string]any{"groups": []any{strings.Repeat("x", 300), "staff"}}); got != triage.RoleViewer {
		t.Errorf("role %q, want viewer", got)
	}
}

func TestSSO_EmailVerified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		claims string
		want   bool
	}{
		{`{"email_verified": true}`, true},
		{`{"email_verified": "true"}`, true},
		{`{"email_verified": false}`, false},
		{`{"email_verified": "false"}`, false},
		{`{"email_verified": 1}`, false},
		{`{}`, false},
		// Microsoft Entra ID: no email_verified, xms_edov instead.
		{`{"xms_edov": true}`, true},
		{`{"xms_edov": false}`, false},
		{`{"email_verified": false, "xms_edov": true}`, false},
	} {
		if got := emailVerified(claimsOf(t, tc.claims)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.claims, got, tc.want)
		}
	}
}

func TestSSO_PlausibleEmail(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"tina@example.com": true, "": false, "tina": false, "@example.com": false, "tina@": false,
		"a@b@example.com": false, "tina @example.com": false, "tina@exa\nmple.com": false,
		strings.Repeat("a", 250) + "@example.com": false, "tina\u202e@example.com": false,
	} {
		if got := plausibleEmail(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
}

func TestSSO_FlowCookie(t *testing.T) {
	t.Parallel()
	o := testSSO(t, "groups")
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := ssoFlow{State: "state-1", Nonce: "nonce-1", Verifier: "verifier-1", Expires: now.Add(oidcFlowLifetime).Unix()}
	v := o.seal(f)
	for _, secret := range []string{f.State, f.Nonce, f.Verifier} {
		if strings.Contains(v, secret) {
			t.Errorf("the sealed flow shows %q", secret)
		}
	}
	if got, err := o.open(v, now); err != nil || got != f {
		t.Fatalf("open: %+v, %v", got, err)
	}
	if v == o.seal(f) {
		t.Errorf("sealing twice gives the same value")
	}
	if _, err := o.open(v, now.Add(oidcFlowLifetime)); err == nil {
		t.Errorf("an expired flow opened")
	}
	b := []byte(v)
	b[len(b)-3] ^= 1
	if _, err := o.open(string(b), now); err == nil {
		t.Errorf("a tampered flow opened")
	}
	other := testSSO(t, "groups") // same secret, same key: still opens
	if _, err := other.open(v, now); err != nil {
		t.Errorf("another process with the same secret cannot open it: %v", err)
	}
	o2, err := newSSO(&OIDCConfig{Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", RolesClaim: "groups",
		RoleMap: map[string]triage.Role{"a": triage.RoleViewer}}, "https://x.example", []byte("another secret, 32 bytes or more!!"), true, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o2.open(v, now); err == nil {
		t.Errorf("a flow sealed under another secret opened")
	}
	for _, junk := range []string{"", "%%%", "AAAA", strings.Repeat("A", 100)} {
		if _, err := o.open(junk, now); err == nil {
			t.Errorf("%q opened", junk)
		}
	}
}

func TestSSO_Spend(t *testing.T) {
	t.Parallel()
	o := testSSO(t, "groups")
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	exp := now.Add(oidcFlowLifetime)
	if !o.spend("a", exp, now) {
		t.Fatal("first use refused")
	}
	if o.spend("a", exp, now) {
		t.Fatal("second use accepted")
	}
	// Full: live flows are not forgotten to make room (a replay would
	// pass); a new one is refused instead, until the old ones expire.
	for i := len(o.used); i < oidcMaxFlows; i++ {
		o.spend("flow-"+itoa(int64(i)), exp, now)
	}
	if o.spend("b", exp, now) {
		t.Errorf("a flow was accepted while the memory is full of live ones")
	}
	if !o.spend("b", exp.Add(time.Minute), exp) || len(o.used) != 1 {
		t.Errorf("expired flows were not forgotten: %d remembered", len(o.used))
	}
}

func TestNewSSO_Checks(t *testing.T) {
	t.Parallel()
	good := OIDCConfig{Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", RolesClaim: "groups",
		RoleMap: map[string]triage.Role{"a": triage.RoleViewer}}
	for name, change := range map[string]func(*OIDCConfig){
		"Issuer":       func(c *OIDCConfig) { c.Issuer = "idp.example.com" },
		"ClientID":     func(c *OIDCConfig) { c.ClientID = "" },
		"ClientSecret": func(c *OIDCConfig) { c.ClientSecret = "" },
		"RolesClaim":   func(c *OIDCConfig) { c.RolesClaim = "" },
		"RoleMap":      func(c *OIDCConfig) { c.RoleMap = nil },
		"Role":         func(c *OIDCConfig) { c.RoleMap = map[string]triage.Role{"a": "owner"} },
		"Scopes":       func(c *OIDCConfig) { c.Scopes = []string{"email"} },
	} {
		c := good
		change(&c)
		if _, err := newSSO(&c, "https://x.example", nil, false, time.Now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if o, err := newSSO(&good, "https://x.example", nil, true, time.Now); err != nil || o.cookieName != "__Host-secinbox_oidc" ||
		o.redirectURL != "https://x.example/login/oidc/callback" || strings.Join(o.scopes, " ") != "openid email" {
		t.Errorf("good config: %+v, %v", o, err)
	}
}
