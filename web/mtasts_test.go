package web_test

import (
	"net/http"
	"testing"

	"github.com/secinbox/secinbox/web"
)

// TestMTASTS: the policy cmd gives is served as text/plain at the
// well-known path; without one (no TLS) the path is 404.
func TestMTASTS(t *testing.T) {
	t.Parallel()
	const policy = "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 604800\r\n"
	e := newEnv(t, func(c *web.Config) { c.MTASTSPolicy = func() []byte { return []byte(policy) } })
	resp, body := e.get(e.client(), "/.well-known/mta-sts.txt")
	if resp.StatusCode != http.StatusOK || body != policy || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("mta-sts.txt: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	t.Run("NoTLS", func(t *testing.T) {
		e := newEnv(t)
		if resp, _ := e.get(e.client(), "/.well-known/mta-sts.txt"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("without a policy: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("NoPolicyYet", func(t *testing.T) {
		e := newEnv(t, func(c *web.Config) { c.MTASTSPolicy = func() []byte { return nil } })
		if resp, _ := e.get(e.client(), "/.well-known/mta-sts.txt"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("policy func returns nil: %d, want 404", resp.StatusCode)
		}
	})
}

// TestWKDAdvanced: the advanced method's paths (a client asks
// https://openpgpkey.DOMAIN/ first) answer like the direct method's, for
// our mail domain only.
func TestWKDAdvanced(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	const security = "t5s8ztdbon8yzntexy6oz5y48etqsnbb" // wkdHash("security")
	for _, tt := range []struct {
		path string
		code int
		body string
	}{
		{"/.well-known/openpgpkey/localhost/hu/" + security, 200, string(testKeyBinary)},
		{"/.well-known/openpgpkey/localhost/hu/" + security + "?l=security", 200, string(testKeyBinary)},
		{"/.well-known/openpgpkey/other.example/hu/" + security, 404, ""},
		{"/.well-known/openpgpkey/localhost/hu/8ahqmu1noxag53fa8meuihrbixn6n34z", 404, ""},
		{"/.well-known/openpgpkey/localhost/policy", 200, ""},
		{"/.well-known/openpgpkey/other.example/policy", 404, ""},
		{"/.well-known/openpgpkey/localhost/submission-address", 404, ""},
	} {
		resp, body := e.get(c, tt.path)
		if resp.StatusCode != tt.code || (tt.code == 200 && body != tt.body) {
			t.Errorf("GET %s: %d, %d bytes; want %d", tt.path, resp.StatusCode, len(body), tt.code)
		}
	}
}
