package certs_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/certs"
)

// TestRedirect: plain HTTP goes to HTTPS on our own names only, and the
// ACME challenge path is not redirected.
func TestRedirect(t *testing.T) {
	m, err := certs.New(certs.Config{Dir: t.TempDir(), HTTPSHost: webHost, MXHost: mxHost,
		Hosts: []string{"mta-sts.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, host, target string
		httpsPort                  string
		code                       int
		location                   string
	}{
		{"Web", "GET", webHost, "/report?x=1", "", 301, "https://security.example.com/report?x=1"},
		{"WithPort", "GET", webHost + ":80", "/", "8443", 301, "https://security.example.com:8443/"},
		{"MTASTS", "GET", "mta-sts.example.com", "/.well-known/mta-sts.txt", "443", 301, "https://mta-sts.example.com/.well-known/mta-sts.txt"},
		{"Stranger", "HEAD", "evil.example.net", "/login", "", 301, "https://security.example.com/login"},
		{"Post", "POST", webHost, "/login", "", 400, ""},
		{"UnknownChallenge", "GET", webHost, "/.well-known/acme-challenge/nope", "", 404, ""},
		{"ChallengeForStranger", "GET", "evil.example.net", "/.well-known/acme-challenge/nope", "", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://"+tc.host+tc.target, strings.NewReader(""))
			w := httptest.NewRecorder()
			m.HTTPHandler(tc.httpsPort).ServeHTTP(w, r)
			if w.Code != tc.code || w.Header().Get("Location") != tc.location {
				t.Errorf("%s %s%s: %d %q, want %d %q", tc.method, tc.host, tc.target, w.Code, w.Header().Get("Location"), tc.code, tc.location)
			}
		})
	}
}
