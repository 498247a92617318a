package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// The real services' addresses, the defaults of KeyLookupConfig. In the
// WKD templates {domain} stands for the researcher's mail domain
// (draft-koch-openpgp-webkey-service section 3.1); "/hu/<hash>?l=<local>"
// is appended.
const (
	DefaultWKDAdvancedURL = "https://openpgpkey.{domain}/.well-known/openpgpkey/{domain}"
	DefaultWKDDirectURL   = "https://{domain}/.well-known/openpgpkey"
	DefaultVKSURL         = "https://keys.openpgp.org"
)

// Bounds of a key lookup. The answers come from servers the researcher
// (or whoever forged their From) controls.
const (
	defaultLookupTimeout = 20 * time.Second // one whole FindKeys call
	requestTimeout       = 10 * time.Second // one HTTP request, redirects included
	maxLookupBytes       = 256 << 10        // one answer
	maxLookupKeys        = 5                // keys in one answer; more is refused
	maxRedirects         = 3
	maxMessageKeys       = 10 // keys taken from one message
)

var (
	// ErrSecretKey: an answer or attachment carried secret key material.
	// Nothing of it is kept.
	ErrSecretKey = errors.New("inbox: secret key material where a public key was expected")
	// ErrLookupRefused: the address or the server is not one we may ask.
	ErrLookupRefused = errors.New("inbox: key lookup refused")
)

// KeyLookupConfig configures a KeyLookup. Empty URLs take the defaults;
// "off" disables a method.
type KeyLookupConfig struct {
	// WKDAdvancedURL and WKDDirectURL are templates of the Web Key
	// Directory base URLs, with {domain} for the address's domain.
	WKDAdvancedURL string
	WKDDirectURL   string
	// VKSURL is the base URL of a verifying keyserver speaking the VKS
	// API (keys.openpgp.org).
	VKSURL  string
	Timeout time.Duration // a whole FindKeys call; default 20 s
	Logger  *slog.Logger
	Now     func() time.Time
}

// KeyLookup finds a researcher's OpenPGP keys on the network: the Web Key
// Directory of their domain (advanced method, then direct) and a
// verifying keyserver. Every answer is hostile: it is size-capped,
// time-bounded, and only public keys with a valid user ID carrying the
// address, neither revoked nor expired, are kept. Only https is used,
// except towards a host fixed in a configured URL (an operator's choice,
// used by tests); hosts derived from the address must resolve to public
// IP addresses, so a forged From cannot point the server at its own
// network. It is safe for concurrent use.
type KeyLookup struct {
	advanced, direct, vks string // "" when disabled
	timeout               time.Duration
	log                   *slog.Logger
	now                   func() time.Time
	// trusted are the hosts written literally in the configured URLs:
	// they may be reached over http and at any address.
	trusted map[string]bool
	client  *http.Client
}

// NewKeyLookup returns a KeyLookup, or an error when a URL is not an
// absolute http(s) URL, or a template puts {domain} in the host of a
// plain-http URL.
func NewKeyLookup(cfg KeyLookupConfig) (*KeyLookup, error) {
	l := &KeyLookup{timeout: cfg.Timeout, log: cfg.Logger, now: cfg.Now, trusted: map[string]bool{}}
	if l.timeout <= 0 {
		l.timeout = defaultLookupTimeout
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.now == nil {
		l.now = time.Now
	}
	for _, u := range []struct {
		dst        *string
		val, def   string
		name       string
		isTemplate bool
	}{
		{&l.advanced, cfg.WKDAdvancedURL, DefaultWKDAdvancedURL, "WKD advanced URL", true},
		{&l.direct, cfg.WKDDirectURL, DefaultWKDDirectURL, "WKD direct URL", true},
		{&l.vks, cfg.VKSURL, DefaultVKSURL, "VKS URL", false},
	} {
		v := strings.TrimSpace(u.val)
		switch v {
		case "":
			v = u.def
		case "off":
			continue
		}
		v = strings.TrimRight(v, "/")
		pu, err := url.Parse(strings.ReplaceAll(v, "{domain}", "example.org"))
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || pu.RawQuery != "" || pu.Fragment != "" {
			return nil, fmt.Errorf("inbox: %s %q: want an absolute http(s) URL without query", u.name, v)
		}
		if !u.isTemplate && strings.Contains(v, "{domain}") {
			return nil, fmt.Errorf("inbox: %s %q: {domain} is only for the WKD URLs", u.name, v)
		}
		if hostPart(v) == "" || strings.Contains(hostPart(v), "{domain}") {
			if pu.Scheme != "https" {
				return nil, fmt.Errorf("inbox: %s %q: a host taken from the address must be reached over https", u.name, v)
			}
		} else {
			l.trusted[strings.ToLower(pu.Hostname())] = true
		}
		*u.dst = v
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	l.client = &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:                  nil, // a proxy would bypass the address check
			DialContext:            l.dialer(dialer),
			TLSHandshakeTimeout:    5 * time.Second,
			ResponseHeaderTimeout:  requestTimeout,
			MaxResponseHeaderBytes: 32 << 10,
			MaxIdleConns:           4,
			IdleConnTimeout:        30 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("%w: more than %d redirects", ErrLookupRefused, maxRedirects)
			}
			return l.checkURL(req.URL)
		},
	}
	return l, nil
}

// hostPart is the authority of URL template v as written: between "://"
// and the next "/".
func hostPart(v string) string {
	_, rest, ok := strings.Cut(v, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// checkURL refuses plain http except towards a trusted host.
func (l *KeyLookup) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && l.trusted[strings.ToLower(u.Hostname())]:
		return nil
	}
	return fmt.Errorf("%w: %s is not https", ErrLookupRefused, u.Redacted())
}

// dialer connects to trusted hosts as configured, and to any other host
// only when every address it resolves to is public.
func (l *KeyLookup) dialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if l.trusted[strings.ToLower(host)] {
			return d.DialContext(ctx, network, addr)
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%w: %s has no address", ErrLookupRefused, host)
		}
		for _, ip := range ips {
			if !publicIP(ip) {
				return nil, fmt.Errorf("%w: %s resolves to the non-public address %s", ErrLookupRefused, host, ip)
			}
		}
		var firstErr error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		return nil, firstErr
	}
}

// nonPublic are special-purpose ranges (RFC 6890 and friends) on top of
// what netip classifies: shared address space, benchmarking, reserved.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// publicIP reports whether ip is a globally routable unicast address.
func publicIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || !ip.IsGlobalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// FindKeys looks up the keys of address email: the Web Key Directory of
// its domain (advanced method; the direct method when the advanced one
// finds nothing) and the keyserver. Keys come back with Source wkd or vks,
// FirstSeen and LastSeen now, and the same key may come from both. It
// returns no error when nothing is found; an error only when nothing was
// found and some method failed (unreachable, refused, hostile answer).
func (l *KeyLookup) FindKeys(ctx context.Context, email string) ([]triage.ResearcherKey, error) {
	local, domain, err := splitAddress(email)
	if err != nil {
		return nil, err
	}
	email = local + "@" + domain
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()

	var (
		keys []triage.ResearcherKey
		errs []error
	)
	hu := "/hu/" + pgp.WKDHash(local) + "?l=" + url.QueryEscape(local)
	for _, tmpl := range []string{l.advanced, l.direct} {
		if tmpl == "" {
			continue
		}
		found, err := l.fetch(ctx, strings.ReplaceAll(tmpl, "{domain}", domain)+hu, email, triage.KeySourceWKD)
		if err != nil {
			errs = append(errs, err)
		}
		if len(found) > 0 {
			keys = append(keys, found...)
			break // the direct method is only a fallback
		}
	}
	if l.vks != "" {
		found, err := l.fetch(ctx, l.vks+"/vks/v1/by-email/"+strings.ReplaceAll(url.QueryEscape(email), "+", "%20"), email, triage.KeySourceVKS)
		if err != nil {
			errs = append(errs, err)
		}
		keys = append(keys, found...)
	}
	l.log.Info("researcher key lookup", "domain", domain, "keys", len(keys), "errors", len(errs))
	if len(keys) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("inbox: key lookup: %w", errors.Join(errs...))
	}
	return keys, nil
}

// fetch GETs one URL and returns the acceptable keys in the answer. Not
// found (404, 410) is no keys and no error.
func (l *KeyLookup) fetch(ctx context.Context, rawURL, email string, src triage.KeySource) ([]triage.ResearcherKey, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if err := l.checkURL(u); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	req.Header.Set("Accept", "application/octet-stream, application/pgp-keys")
	req.Header.Set("User-Agent", "secinbox")
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %s answered %d", src, u.Host, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLookupBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w", src, err)
	}
	if len(data) > maxLookupBytes {
		return nil, fmt.Errorf("%s: %w: answer larger than %d bytes", src, ErrLookupRefused, maxLookupBytes)
	}
	now := l.now().UTC()
	keys, err := acceptKeys(data, email, src, now, maxLookupKeys)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	for i := range keys {
		keys[i].FirstSeen, keys[i].LastSeen = now, now
	}
	return keys, nil
}

// splitAddress splits email into its local part and its lower-cased
// domain, which must be a plausible public DNS name: ASCII letters,
// digits and hyphens, at least two labels, not an IP address.
func splitAddress(email string) (local, domain string, err error) {
	email = strings.TrimSpace(email)
	i := strings.LastIndexByte(email, '@')
	if i <= 0 || i == len(email)-1 || len(email) > 320 {
		return "", "", fmt.Errorf("%w: %q is not an address", ErrLookupRefused, email)
	}
	local, domain = email[:i], strings.ToLower(strings.TrimSuffix(email[i+1:], "."))
	if len(local) > 64 || strings.ContainsAny(local, "\x00\r\n") {
		return "", "", fmt.Errorf("%w: %q is not an address", ErrLookupRefused, email)
	}
	labels := strings.Split(domain, ".")
	if len(domain) > 253 || len(labels) < 2 {
		return "", "", fmt.Errorf("%w: %q is not a public domain", ErrLookupRefused, domain)
	}
	for _, lb := range labels {
		if lb == "" || len(lb) > 63 || lb[0] == '-' || lb[len(lb)-1] == '-' {
			return "", "", fmt.Errorf("%w: %q is not a public domain", ErrLookupRefused, domain)
		}
		for _, c := range lb {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", "", fmt.Errorf("%w: %q is not a public domain", ErrLookupRefused, domain)
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", "", fmt.Errorf("%w: %q is an IP address, not a domain", ErrLookupRefused, domain)
	}
	return local, domain, nil
}

// acceptKeys reads data (armored or binary keys) and returns those fit
// to store for address email, with Source src: public keys whose primary
// key is valid at now (self-signed, not revoked, not expired) and that
// have a valid user ID carrying the address. Keys that do not qualify are
// left out. It fails when data does not parse, holds secret key material
// (ErrSecretKey), or holds more than max keys.
func acceptKeys(data []byte, email string, src triage.KeySource, now time.Time, max int) ([]triage.ResearcherKey, error) {
	el, err := pgp.ReadPublicKeys(data)
	if err != nil {
		return nil, err
	}
	if len(el) > max {
		return nil, fmt.Errorf("%w: %d keys, at most %d", ErrLookupRefused, len(el), max)
	}
	var keys []triage.ResearcherKey
	for _, e := range el {
		if hasSecretKey(e) {
			return nil, ErrSecretKey
		}
		if k, ok := acceptEntity(e, email, src, now); ok {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// maxResearcherKeyBytes bounds one key we keep (serialized, public).
const maxResearcherKeyBytes = 256 << 10

// acceptEntity returns e as a key of address email when e qualifies (see
// acceptKeys). e must hold no secret key material.
func acceptEntity(e *openpgp.Entity, email string, src triage.KeySource, now time.Time) (triage.ResearcherKey, bool) {
	if e == nil || e.PrimaryKey == nil || hasSecretKey(e) {
		return triage.ResearcherKey{}, false
	}
	if _, err := e.VerifyPrimaryKey(now, nil); err != nil {
		return triage.ResearcherKey{}, false
	}
	uid := ""
	primary := pgp.PrimaryUserID(e)
	for name, id := range e.Identities {
		if !strings.EqualFold(uidAddress(name), email) {
			continue
		}
		if _, err := id.Verify(now, nil); err != nil {
			continue
		}
		if uid == "" || name == primary || (uid != primary && name < uid) {
			uid = name // the primary user ID when it carries the address; else a stable choice
		}
	}
	if uid == "" {
		return triage.ResearcherKey{}, false
	}
	pub, err := pgp.PublicKeyBytes(e)
	if err != nil || len(pub) > maxResearcherKeyBytes {
		return triage.ResearcherKey{}, false
	}
	ids := []string{fmt.Sprintf("%016X", e.PrimaryKey.KeyId)}
	for _, s := range e.Subkeys {
		if s.PublicKey != nil {
			ids = append(ids, fmt.Sprintf("%016X", s.PublicKey.KeyId))
		}
	}
	return triage.ResearcherKey{
		Email:       strings.ToLower(email),
		Fingerprint: pgp.Fingerprint(e),
		UserID:      uid,
		Source:      src,
		Sources:     []triage.KeySource{src},
		KeyIDs:      ids,
		Public:      pub,
		ExpiresAt:   pgp.KeyExpiry(e),
	}, true
}

// hasSecretKey reports whether e carries any secret key packet at all
// (GnuPG's stubs included: a public key answer has none).
func hasSecretKey(e *openpgp.Entity) bool {
	if e.PrivateKey != nil {
		return true
	}
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil {
			return true
		}
	}
	return false
}

// uidAddress is the address in an OpenPGP user ID: between the last
// angle brackets, or the whole user ID when it is a bare address.
func uidAddress(uid string) string {
	uid = strings.TrimSpace(uid)
	if i := strings.LastIndexByte(uid, '<'); i >= 0 {
		if j := strings.IndexByte(uid[i:], '>'); j > 0 {
			return strings.TrimSpace(uid[i+1 : i+j])
		}
		return ""
	}
	if strings.Contains(uid, "@") && !strings.ContainsAny(uid, " \t") {
		return uid
	}
	return ""
}
