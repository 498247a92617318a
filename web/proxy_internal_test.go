package web

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestForwardedClient(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	isTrusted := func(ip netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		name   string
		header http.Header
		want   string // "" : no client (the proxy's address stands)
	}{
		{"XFFOne", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7"},
		// The client wrote the first entry itself; our proxy appended the real one.
		{"XFFSpoofedLeft", http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.7"}}, "203.0.113.7"},
		{"XFFThroughTwoProxies", http.Header{"X-Forwarded-For": {"203.0.113.7, 10.1.2.3"}}, "203.0.113.7"},
		{"XFFSeveralHeaders", http.Header{"X-Forwarded-For": {"198.51.100.1", "203.0.113.7, 10.1.2.3"}}, "203.0.113.7"},
		{"XFFAllTrusted", http.Header{"X-Forwarded-For": {"10.9.9.9, 10.1.2.3"}}, "10.9.9.9"},
		{"XFFGarbage", http.Header{"X-Forwarded-For": {"not-an-ip"}}, ""},
		{"XFFGarbageBeyondClient", http.Header{"X-Forwarded-For": {"junk, 203.0.113.7"}}, "203.0.113.7"},
		{"XFFIPv6", http.Header{"X-Forwarded-For": {"2001:db9::1, 2001:db8::5"}}, "2001:db9::1"},
		{"XFFMapped", http.Header{"X-Forwarded-For": {"::ffff:203.0.113.7"}}, "203.0.113.7"},
		{"Forwarded", http.Header{"Forwarded": {`for=198.51.100.1, for="203.0.113.7:4711";proto=https`}}, "203.0.113.7"},
		{"ForwardedIPv6", http.Header{"Forwarded": {`for="[2001:db9::1]:4711"`}}, "2001:db9::1"},
		{"ForwardedWinsOverXFF", http.Header{"Forwarded": {"for=203.0.113.7"}, "X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.7"},
		{"ForwardedUnknown", http.Header{"Forwarded": {"for=unknown"}}, ""},
		{"ForwardedObfuscated", http.Header{"Forwarded": {"for=_hidden, for=10.1.1.1"}}, ""},
		{"None", http.Header{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ip, ok := forwardedClient(tc.header, isTrusted)
			got := ""
			if ok {
				got = ip.String()
			}
			if got != tc.want {
				t.Errorf("client %q, want %q", got, tc.want)
			}
		})
	}
}

func TestForwardedProto(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]string{"https": "https", "HTTP": "http", "http, https": "https", "ftp": "", "": ""} {
		if got := forwardedProto(http.Header{"X-Forwarded-Proto": {h}}); got != want {
			t.Errorf("X-Forwarded-Proto %q: %q, want %q", h, got, want)
		}
	}
	if got := forwardedProto(http.Header{"Forwarded": {"for=1.2.3.4;proto=http, for=5.6.7.8;proto=https"}, "X-Forwarded-Proto": {"http"}}); got != "https" {
		t.Errorf("Forwarded proto: %q", got)
	}
}
