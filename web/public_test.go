package web_test

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/web"
)

// parseSecurityTxt returns the fields of a security.txt, failing on lines
// that are not "Field: value".
func parseSecurityTxt(t *testing.T, body string) map[string][]string {
	t.Helper()
	fields := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		fields[k] = append(fields[k], v)
	}
	return fields
}

func TestSecurityTxt(t *testing.T) {
	t.Parallel()
	keyExpiry := t0.Add(30 * 24 * time.Hour)
	tests := []struct {
		name       string
		keyExpires time.Time
		want       time.Time
	}{
		{"NoKeyExpiry", time.Time{}, t0.Add(365 * 24 * time.Hour)},
		{"KeyExpiresFirst", keyExpiry, keyExpiry},
		{"KeyExpiresLater", t0.Add(3 * 365 * 24 * time.Hour), t0.Add(365 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *web.Config) { c.KeyExpires = tt.keyExpires })
			resp, body := e.get(e.client(), "/.well-known/security.txt")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			f := parseSecurityTxt(t, body)
			for k, want := range map[string]string{
				"Contact":             "mailto:security@localhost",
				"Encryption":          "http://localhost:8080/pgp-key.asc",
				"Acknowledgments":     "http://localhost:8080/hall-of-fame",
				"Policy":              "http://localhost:8080/policy",
				"Canonical":           "http://localhost:8080/.well-known/security.txt",
				"Preferred-Languages": "en",
			} {
				if len(f[k]) != 1 || f[k][0] != want {
					t.Errorf("%s = %q, want %q", k, f[k], want)
				}
			}
			if len(f["Expires"]) != 1 {
				t.Fatalf("Expires = %q, want exactly one", f["Expires"])
			}
			exp, err := time.Parse(time.RFC3339, f["Expires"][0])
			if err != nil {
				t.Fatal(err)
			}
			if !exp.Equal(tt.want) {
				t.Errorf("Expires = %v, want %v", exp, tt.want)
			}
			if !exp.After(t0) || exp.After(t0.AddDate(1, 0, 0)) {
				t.Errorf("Expires %v not within a year of %v", exp, t0)
			}
			if !tt.keyExpires.IsZero() && exp.After(tt.keyExpires) {
				t.Errorf("Expires %v after the key expires %v", exp, tt.keyExpires)
			}
		})
	}

	t.Run("LegacyRedirect", func(t *testing.T) {
		e := newEnv(t)
		resp, _ := e.get(e.client(), "/security.txt")
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/.well-known/security.txt" {
			t.Errorf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestPublicKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := e.get(e.client(), "/pgp-key.asc")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pgp-keys" {
		t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if body != string(testKeyArmored) {
		t.Errorf("body = %q", body)
	}
}

func TestWKD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	const (
		security = "t5s8ztdbon8yzntexy6oz5y48etqsnbb" // wkdHash("security")
		bugs     = "8ahqmu1noxag53fa8meuihrbixn6n34y" // wkdHash("bugs")
		joeDoe   = "iy9q119eutrkn8s1mk4r39qejnbu3n5q" // wkdHash("joe.doe")
		abuse    = "88fb3b9rrzeapqdf3kodtkfenu7c41b7" // wkdHash("abuse"), an address of another domain
	)
	tests := []struct {
		path string
		ok   bool
	}{
		{"/.well-known/openpgpkey/hu/" + security, true},
		{"/.well-known/openpgpkey/hu/" + security + "?l=security", true},
		{"/.well-known/openpgpkey/hu/" + security + "?l=Security", true},
		{"/.well-known/openpgpkey/hu/" + bugs, true},
		{"/.well-known/openpgpkey/hu/" + security + "?l=bugs", false},
		{"/.well-known/openpgpkey/hu/" + joeDoe, false},
		{"/.well-known/openpgpkey/hu/" + abuse, false},
		{"/.well-known/openpgpkey/hu/" + strings.ToUpper(security), false},
		{"/.well-known/openpgpkey/hu/", false},
	}
	for _, tt := range tests {
		resp, body := e.get(c, tt.path)
		switch {
		case tt.ok && (resp.StatusCode != http.StatusOK || body != string(testKeyBinary) || resp.Header.Get("Content-Type") != "application/octet-stream"):
			t.Errorf("GET %s: status %d, Content-Type %q, %d bytes; want the binary key", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		case !tt.ok && resp.StatusCode != http.StatusNotFound:
			t.Errorf("GET %s: status %d, want 404", tt.path, resp.StatusCode)
		}
	}
	resp, body := e.get(c, "/.well-known/openpgpkey/policy")
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("policy: status %d, body %q", resp.StatusCode, body)
	}
}

func TestPublicPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	tests := []struct {
		path string
		want []string
	}{
		{"/", []string{"security@localhost", `href="/policy"`, `href="/.well-known/security.txt"`, `href="/pgp-key.asc"`}},
		{"/policy", []string{"24 hours", "Safe harbor", "good faith", "http://localhost:8080/pgp-key.asc",
			"0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567", "gpg --auto-key-locate clear,wkd --locate-keys security@localhost",
			"only with their consent", "Steps to reproduce"}},
		{"/hall-of-fame", []string{"No researchers credited yet"}},
		{"/healthz", []string{"ok"}},
		{"/login", []string{`name="email"`, `name="password"`, `<label for="password">`}},
	}
	for _, tt := range tests {
		resp, body := e.get(c, tt.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", tt.path, resp.StatusCode)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tt.path, w)
			}
		}
		for _, leak := range []string{e.xss.TrackingID, "mallory", "alert(1)"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s leaks %q", tt.path, leak)
			}
		}
	}
	resp, body := e.get(c, "/static/style.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, "pre-wrap") {
		t.Errorf("style.css: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
