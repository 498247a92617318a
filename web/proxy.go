package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Behind a reverse proxy (nginx, Caddy, a CDN) every connection comes
// from the proxy. Only when the peer is one of Config.TrustedProxies does
// secinbox take the client's address from the headers the proxy adds, and
// the scheme the client used: so that rate limits, sessions and the audit
// log see the client, and nobody else can claim an address by sending the
// headers themselves.

// realClient rewrites r.RemoteAddr to the address of the client that a
// trusted proxy forwarded r for, and notes the scheme it forwarded. With
// no trusted proxies it is next itself: forwarded headers are ignored.
func (s *server) realClient(next http.Handler) http.Handler {
	if len(s.trustedProxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := addrIP(r.RemoteAddr)
		if !ok || !s.trustedProxy(peer) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if proto := forwardedProto(r.Header); proto != "" {
			ctx = context.WithValue(ctx, forwardedProtoKey, proto)
		}
		r = r.WithContext(ctx)
		if client, ok := forwardedClient(r.Header, s.trustedProxy); ok {
			r.RemoteAddr = net.JoinHostPort(client.String(), "0")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) trustedProxy(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

type proxyCtxKey int

const forwardedProtoKey proxyCtxKey = 0

// viaHTTPS reports whether the client reached us over HTTPS: directly,
// or through a trusted proxy that said so.
func viaHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	p, _ := r.Context().Value(forwardedProtoKey).(string)
	return p == "https"
}

// addrIP parses the IP of a host:port (or bare host) address.
func addrIP(hostport string) (netip.Addr, bool) {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// maxForwardedHops bounds how many addresses of a forwarded chain are
// looked at: a header longer than that is someone's invention.
const maxForwardedHops = 32

// forwardedClient is the client address in the Forwarded header (RFC
// 7239), or else in X-Forwarded-For: the rightmost address that is not a
// trusted proxy, since each proxy appends the address it saw and only
// those appended by our own proxies can be believed. With every address
// trusted it is the leftmost. An address that does not parse where the
// walk needs it (a client-made value, "unknown", an obfuscated name)
// gives no client: the proxy's own address stands.
func forwardedClient(h http.Header, trusted func(netip.Addr) bool) (netip.Addr, bool) {
	chain := forwardedFor(h)
	if chain == nil {
		chain = headerList(h, "X-Forwarded-For")
	}
	if len(chain) == 0 || len(chain) > maxForwardedHops {
		return netip.Addr{}, false
	}
	var ip netip.Addr
	for i := len(chain) - 1; i >= 0; i-- {
		a, ok := addrIP(chain[i])
		if !ok {
			return netip.Addr{}, false
		}
		ip = a
		if !trusted(a) {
			break
		}
	}
	return ip, true
}

// forwardedFor returns the for= values of the Forwarded header's
// elements in order, or nil when there is no Forwarded header.
func forwardedFor(h http.Header) []string {
	vs := h.Values("Forwarded")
	if len(vs) == 0 {
		return nil
	}
	var out []string
	for _, elem := range strings.Split(strings.Join(vs, ","), ",") {
		v, ok := forwardedParam(elem, "for")
		if !ok {
			// An element without for= breaks the chain: nothing left of
			// it can be placed. Keep a marker that does not parse.
			v = "unknown"
		}
		out = append(out, v)
	}
	return out
}

// forwardedParam returns the value of parameter name in one element of
// a Forwarded header ("for=192.0.2.1;proto=https"), unquoted.
func forwardedParam(elem, name string) (string, bool) {
	for _, pair := range strings.Split(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(k, name) {
			return strings.Trim(v, `"`), true
		}
	}
	return "", false
}

// forwardedProto is the scheme the last proxy says the client used:
// proto= of the Forwarded header's last element, or else the last value
// of X-Forwarded-Proto; "" when neither says http or https.
func forwardedProto(h http.Header) string {
	var p string
	if vs := h.Values("Forwarded"); len(vs) > 0 {
		elems := strings.Split(strings.Join(vs, ","), ",")
		p, _ = forwardedParam(elems[len(elems)-1], "proto")
	} else if l := headerList(h, "X-Forwarded-Proto"); len(l) > 0 {
		p = l[len(l)-1]
	}
	p = strings.ToLower(p)
	if p != "http" && p != "https" {
		return ""
	}
	return p
}

// headerList splits every value of a comma-separated header into its
// trimmed items, in order.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, item := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(item))
		}
	}
	return out
}
