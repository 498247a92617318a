package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// TestCLI_OIDCRefusals: single sign-on settings that cannot work stop the
// start, naming the flag.
func TestCLI_OIDCRefusals(t *testing.T) {
	data := t.TempDir()
	issuer := []string{"-oidc-issuer", "https://login.example.com/realms/staff"}
	full := append(append([]string{}, issuer...), "-oidc-client-id", "secinbox", "-oidc-client-secret", "s3cret")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"WithoutIssuer", []string{"-oidc-client-id", "secinbox"}, "-oidc-client-id is set but -oidc-issuer is not"},
		{"RoleMapWithoutIssuer", []string{"-oidc-role-map", "a=admin"}, "-oidc-role-map is set but -oidc-issuer is not"},
		{"HTTPIssuer", []string{"-oidc-issuer", "http://login.example.com"}, "-oidc-issuer must be the provider's https issuer URL"},
		{"NotAURL", []string{"-oidc-issuer", "login.example.com"}, "-oidc-issuer must be"},
		{"NoClientID", issuer, "-oidc-issuer needs -oidc-client-id"},
		{"NoSecret", append(append([]string{}, issuer...), "-oidc-client-id", "x"), "-oidc-issuer needs -oidc-client-secret or -oidc-client-secret-file"},
		{"NoRoleMap", full, "-oidc-issuer needs -oidc-role-map"},
		{"BadRole", append(append([]string{}, full...), "-oidc-role-map", "staff=viewer,boss=owner"), `-oidc-role-map: "boss=owner": unknown role "owner"`},
		{"NotAPair", append(append([]string{}, full...), "-oidc-role-map", "staff"), `-oidc-role-map: "staff" is not group=role`},
		{"Twice", append(append([]string{}, full...), "-oidc-role-map", "staff=viewer,staff=admin"), `-oidc-role-map: "staff" is mapped twice`},
		{"NoOpenIDScope", append(append([]string{}, full...), "-oidc-role-map", "staff=viewer", "-oidc-scopes", "email groups"), "-oidc-scopes must include openid"},
		{"NoRolesClaim", append(append([]string{}, full...), "-oidc-role-map", "staff=viewer", "-oidc-roles-claim", " "), "-oidc-roles-claim must name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			// Cancelled: a start that got past the checks stops at once.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			args := append([]string{"serve", "-data", data, "-http-addr", "127.0.0.1:0", "-smtp-addr", "127.0.0.1:0"}, tc.args...)
			code := Main(ctx, args, strings.NewReader(""), &out, &out)
			if code != 1 || !strings.Contains(out.String(), tc.want) {
				t.Errorf("exit %d; output does not say %q:\n%s", code, tc.want, out.String())
			}
		})
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("a refused start left files in -data: %v", entries)
	}
}

func TestParseRoleMap(t *testing.T) {
	m, err := parseRoleMap(" secinbox-admins=admin, security = Triager ,,staff=viewer,ou=y=viewer")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]triage.Role{"secinbox-admins": triage.RoleAdmin, "security": triage.RoleTriager,
		"staff": triage.RoleViewer, "ou=y": triage.RoleViewer} // a group's name may hold '='
	if len(m) != len(want) {
		t.Fatalf("got %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%q: %q, want %q", k, m[k], v)
		}
	}
}

// TestServe_SSO signs in through a real provider against the real
// process: the -oidc-* settings (the secret from its file) reach the
// site, a triager's password no longer signs in, and the log names the
// redirect URL to register.
func TestServe_SSO(t *testing.T) {
	t.Parallel()
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	secretFile := filepath.Join(t.TempDir(), "oidc-secret")
	if err := os.WriteFile(secretFile, []byte(idp.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	initData(t, data)
	addStaff(t, data, "tina@example.com", triage.RoleTriager)
	p := startProc(t, data,
		"SECINBOX_OIDC_ISSUER="+idp.Issuer(),
		"SECINBOX_OIDC_CLIENT_ID="+idp.ClientID,
		"SECINBOX_OIDC_CLIENT_SECRET_FILE="+secretFile,
		"SECINBOX_OIDC_SCOPES=openid email groups",
		"SECINBOX_OIDC_ROLE_MAP=secinbox-admins=admin,security=triager,staff=viewer")
	p.waitLog(t, "single sign-on is on")
	if strings.Contains(p.logs(), idp.ClientSecret) {
		t.Errorf("the client secret is in the log")
	}
	base := "http://" + p.httpAddr

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) *http.Response {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	// The password of a triager is refused while single sign-on is on.
	resp, err := c.PostForm(base+"/login", url.Values{"email": {"tina@example.com"}, "password": {"whatever it was"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusSeeOther {
		t.Errorf("password sign-in of a triager: status %d", resp.StatusCode)
	}

	idp.QueueUser(&mockoidc.MockUser{Subject: "1", Email: "Tina@example.com", EmailVerified: true, Groups: []string{"staff"}})
	resp = get(base + "/login/oidc")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /login/oidc: status %d", resp.StatusCode)
	}
	resp = get(resp.Header.Get("Location"))
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Path != "/login/oidc/callback" {
		t.Fatalf("the provider sent the browser to %q (status %d)", resp.Header.Get("Location"), resp.StatusCode)
	}
	if !strings.Contains(p.logs(), back.Scheme+"://"+back.Host+back.Path) {
		t.Errorf("the log does not name the redirect URL %s", back.Scheme+"://"+back.Host+back.Path)
	}
	resp = get(base + back.Path + "?" + back.RawQuery)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		t.Fatalf("callback: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp = get(base + "/board"); resp.StatusCode != http.StatusOK {
		t.Errorf("board: status %d", resp.StatusCode)
	}
	p.kill()
	d, err := db.Open(context.Background(), filepath.Join(data, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if u, err := d.UserByEmail(context.Background(), "tina@example.com"); err != nil || u.Role != triage.RoleViewer {
		t.Errorf("the provider's role did not replace the local one: %+v, %v", u, err)
	}
}
