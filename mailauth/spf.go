package mailauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/secinbox/secinbox/triage"
)

// Resolver is the DNS the checks use. *net.Resolver implements it.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	// LookupIP looks up host's addresses; network is "ip", "ip4" or "ip6".
	LookupIP(ctx context.Context, network, host string) ([]net.IP, error)
}

// Limits of RFC 7208 section 4.6.4: DNS-querying terms per check, MX
// names per mx mechanism, lookups that find nothing ("void").
const (
	maxSPFLookups = 10
	maxMXNames    = 10
	maxVoid       = 2
)

// errPerm and errTemp end an evaluation with permerror or temperror.
var (
	errPerm = errors.New("permerror")
	errTemp = errors.New("temperror")
)

// spfCheck is one evaluation of check_host() (RFC 7208 section 4): the
// counters are shared by the include and redirect it follows.
type spfCheck struct {
	ctx     context.Context
	r       Resolver
	ip      net.IP
	sender  string // local@domain of the MAIL FROM (or postmaster@helo)
	helo    string
	lookups int
	void    int
}

// CheckSPF evaluates the SPF policy of the sender's domain for a message
// from ip (RFC 7208): sender is the MAIL FROM address; when it is empty
// (a bounce) the HELO name is checked instead. It returns the result
// (triage.AuthPass and the others) and the domain checked. The ptr
// mechanism never matches (it counts as a lookup): deprecated, and slow.
func CheckSPF(ctx context.Context, r Resolver, ip net.IP, sender, helo string) (result, domain string) {
	sender = strings.TrimSpace(sender)
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		domain = sender[i+1:]
	} else if helo != "" {
		domain, sender = helo, "postmaster@"+helo
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if !validDomain(domain) || ip == nil {
		return triage.AuthNone, domain // RFC 7208 section 4.3
	}
	if strings.IndexByte(sender, '@') == 0 {
		sender = "postmaster" + sender
	}
	c := &spfCheck{ctx: ctx, r: r, ip: ip, sender: sender, helo: helo}
	return c.checkHost(domain, 0), domain
}

// checkHost returns the result for domain; depth guards include and
// redirect loops (the lookup limit ends them too).
func (c *spfCheck) checkHost(domain string, depth int) string {
	if depth > maxSPFLookups || !validDomain(domain) {
		return triage.AuthPermError // a malformed include or redirect target
	}
	record, res := c.record(domain)
	if res != "" {
		return res
	}
	terms := strings.Fields(record)[1:]
	var redirect string
	for _, t := range terms {
		name, value, isMod := modifier(t)
		if isMod {
			if name == "redirect" {
				if redirect != "" {
					return triage.AuthPermError
				}
				redirect = value
			}
			continue
		}
		qual := triage.AuthPass
		switch t[0] {
		case '+':
			t = t[1:]
		case '-':
			qual, t = triage.AuthFail, t[1:]
		case '~':
			qual, t = triage.AuthSoftFail, t[1:]
		case '?':
			qual, t = triage.AuthNeutral, t[1:]
		}
		match, err := c.mechanism(domain, t, depth)
		switch {
		case errors.Is(err, errTemp):
			return triage.AuthTempError
		case err != nil:
			return triage.AuthPermError
		case match:
			return qual
		}
	}
	if redirect != "" {
		target, err := c.expand(redirect, domain)
		if err != nil {
			return triage.AuthPermError
		}
		if c.lookups++; c.lookups > maxSPFLookups {
			return triage.AuthPermError
		}
		res := c.checkHost(target, depth+1)
		if res == triage.AuthNone {
			return triage.AuthPermError
		}
		return res
	}
	return triage.AuthNeutral
}

// record returns domain's one SPF record, or a result when there is
// none (none), several (permerror) or DNS failed (temperror).
func (c *spfCheck) record(domain string) (string, string) {
	txts, err := c.r.LookupTXT(c.ctx, domain)
	if err != nil {
		if notFound(err) {
			return "", triage.AuthNone
		}
		return "", triage.AuthTempError
	}
	var found []string
	for _, t := range txts {
		if l := strings.ToLower(t); l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ") {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return "", triage.AuthNone
	case 1:
		return found[0], ""
	}
	return "", triage.AuthPermError
}

// modifier splits name=value; isMod false for a mechanism.
func modifier(t string) (name, value string, isMod bool) {
	i := strings.IndexByte(t, '=')
	if i <= 0 || strings.ContainsAny(t[:i], ":/") {
		return "", "", false
	}
	return strings.ToLower(t[:i]), t[i+1:], true
}

// mechanism tells whether one mechanism (without its qualifier) matches.
func (c *spfCheck) mechanism(domain, t string, depth int) (bool, error) {
	name, arg := t, ""
	if i := strings.IndexAny(t, ":/"); i >= 0 {
		name, arg = t[:i], t[i:]
	}
	name = strings.ToLower(name)
	switch name {
	case "all":
		if arg != "" {
			return false, errPerm
		}
		return true, nil
	case "ip4", "ip6":
		if !strings.HasPrefix(arg, ":") {
			return false, errPerm
		}
		return c.ipMatch(name, arg[1:])
	case "include", "exists":
		if !strings.HasPrefix(arg, ":") || len(arg) < 2 {
			return false, errPerm
		}
		target, err := c.expand(arg[1:], domain)
		if err != nil {
			return false, err
		}
		if c.lookups++; c.lookups > maxSPFLookups {
			return false, errPerm
		}
		if name == "exists" {
			ips, err := c.r.LookupIP(c.ctx, "ip4", target)
			if err != nil && !notFound(err) {
				return false, errTemp
			}
			if len(ips) == 0 {
				return false, c.voidLookup()
			}
			return true, nil
		}
		switch c.checkHost(target, depth+1) {
		case triage.AuthPass:
			return true, nil
		case triage.AuthTempError:
			return false, errTemp
		case triage.AuthPermError, triage.AuthNone:
			return false, errPerm
		}
		return false, nil
	case "a", "mx", "ptr":
		host, cidr4, cidr6, err := c.hostAndCIDR(arg, domain)
		if err != nil {
			return false, err
		}
		if c.lookups++; c.lookups > maxSPFLookups {
			return false, errPerm
		}
		switch name {
		case "ptr":
			return false, nil // never matches: see CheckSPF
		case "a":
			return c.hostMatch(host, cidr4, cidr6)
		}
		mxs, err := c.r.LookupMX(c.ctx, host)
		if err != nil && !notFound(err) {
			return false, errTemp
		}
		if len(mxs) == 0 {
			return false, c.voidLookup()
		}
		if len(mxs) > maxMXNames {
			return false, errPerm
		}
		for _, mx := range mxs {
			if ok, err := c.hostMatch(strings.TrimSuffix(mx.Host, "."), cidr4, cidr6); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return false, errPerm // unknown mechanism
}

func (c *spfCheck) voidLookup() error {
	if c.void++; c.void > maxVoid {
		return errPerm
	}
	return nil
}

// hostAndCIDR reads [:domain-spec][/cidr4][//cidr6].
func (c *spfCheck) hostAndCIDR(arg, domain string) (host string, cidr4, cidr6 int, err error) {
	cidr4, cidr6 = 32, 128
	spec := arg
	if i := strings.IndexByte(arg, '/'); i >= 0 {
		spec = arg[:i]
		lengths := arg[i:]
		if j := strings.Index(lengths, "//"); j >= 0 {
			if cidr6, err = prefixLen(lengths[j+2:], 128); err != nil {
				return
			}
			lengths = lengths[:j]
		}
		if lengths != "" {
			if cidr4, err = prefixLen(lengths[1:], 32); err != nil {
				return
			}
		}
	}
	host = domain
	if spec != "" {
		if !strings.HasPrefix(spec, ":") || len(spec) < 2 {
			return "", 0, 0, errPerm
		}
		if host, err = c.expand(spec[1:], domain); err != nil {
			return
		}
	}
	return host, cidr4, cidr6, nil
}

func prefixLen(s string, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max || (len(s) > 1 && s[0] == '0') {
		return 0, errPerm
	}
	return n, nil
}

// hostMatch tells whether one of host's addresses, under the prefix
// lengths, covers the client's.
func (c *spfCheck) hostMatch(host string, cidr4, cidr6 int) (bool, error) {
	network, bits := "ip6", cidr6
	if c.ip.To4() != nil {
		network, bits = "ip4", cidr4
	}
	ips, err := c.r.LookupIP(c.ctx, network, host)
	if err != nil && !notFound(err) {
		return false, errTemp
	}
	if len(ips) == 0 {
		return false, c.voidLookup()
	}
	for _, ip := range ips {
		if inPrefix(c.ip, ip, bits) {
			return true, nil
		}
	}
	return false, nil
}

// ipMatch is ip4:addr[/len] and ip6:addr[/len].
func (c *spfCheck) ipMatch(kind, v string) (bool, error) {
	addr, bits := v, -1
	if i := strings.IndexByte(v, '/'); i >= 0 {
		max := 32
		if kind == "ip6" {
			max = 128
		}
		n, err := prefixLen(v[i+1:], max)
		if err != nil {
			return false, err
		}
		addr, bits = v[:i], n
	}
	ip := net.ParseIP(addr)
	if ip == nil || (kind == "ip4") != (ip.To4() != nil && !strings.Contains(addr, ":")) {
		return false, errPerm
	}
	if bits < 0 {
		bits = 32
		if kind == "ip6" {
			bits = 128
		}
	}
	return inPrefix(c.ip, ip, bits), nil
}

// inPrefix tells whether client is in the network net/bits of the same
// family (an IPv4-mapped client counts as IPv4).
func inPrefix(client, network net.IP, bits int) bool {
	c4, n4 := client.To4(), network.To4()
	if (c4 != nil) != (n4 != nil) {
		return false
	}
	size := 128
	if c4 != nil {
		client, network, size = c4, n4, 32
	} else {
		client, network = client.To16(), network.To16()
	}
	mask := net.CIDRMask(bits, size)
	return client.Mask(mask).Equal(network.Mask(mask))
}

// expand expands the macros of a domain-spec (RFC 7208 section 7): s, l,
// o, d, i, h and v, with digits, r and delimiters; p (ptr) expands to
// "unknown". The result is cut to 253 bytes from the left.
func (c *spfCheck) expand(spec, domain string) (string, error) {
	if !strings.Contains(spec, "%") {
		return strings.TrimSuffix(spec, "."), nil
	}
	var b strings.Builder
	for i := 0; i < len(spec); i++ {
		if spec[i] != '%' {
			b.WriteByte(spec[i])
			continue
		}
		if i+1 >= len(spec) {
			return "", errPerm
		}
		i++
		switch spec[i] {
		case '%':
			b.WriteByte('%')
		case '_':
			b.WriteByte(' ')
		case '-':
			b.WriteString("%20")
		case '{':
			end := strings.IndexByte(spec[i:], '}')
			if end < 2 {
				return "", errPerm
			}
			v, err := c.macro(spec[i+1:i+end], domain)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += end
		default:
			return "", errPerm
		}
	}
	out := strings.TrimSuffix(b.String(), ".")
	for len(out) > 253 {
		j := strings.IndexByte(out, '.')
		if j < 0 {
			return "", errPerm
		}
		out = out[j+1:]
	}
	return out, nil
}

func (c *spfCheck) macro(m, domain string) (string, error) {
	local, senderDomain, _ := strings.Cut(c.sender, "@")
	var v string
	switch m[0] | 0x20 {
	case 's':
		v = c.sender
	case 'l':
		v = local
	case 'o':
		v = senderDomain
	case 'd':
		v = domain
	case 'i':
		if ip4 := c.ip.To4(); ip4 != nil {
			v = ip4.String()
		} else {
			var parts []string
			for _, by := range c.ip.To16() {
				parts = append(parts, fmt.Sprintf("%x", by>>4), fmt.Sprintf("%x", by&0xf))
			}
			v = strings.Join(parts, ".")
		}
	case 'h':
		v = c.helo
	case 'v':
		v = "in-addr"
		if c.ip.To4() == nil {
			v = "ip6"
		}
	case 'p':
		v = "unknown"
	default:
		return "", errPerm
	}
	rest := m[1:]
	digits := 0
	for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
		digits = digits*10 + int(rest[0]-'0')
		if digits > 128 {
			return "", errPerm
		}
		rest = rest[1:]
	}
	reverse := false
	if len(rest) > 0 && (rest[0]|0x20) == 'r' {
		reverse, rest = true, rest[1:]
	}
	delims := "."
	if rest != "" {
		if strings.Trim(rest, ".-+,/_=") != "" {
			return "", errPerm
		}
		delims = rest
	}
	parts := strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if digits > 0 && digits < len(parts) {
		parts = parts[len(parts)-digits:]
	}
	return strings.Join(parts, "."), nil
}

// validDomain is a plausible DNS name: labels of 1 to 63 bytes, at most
// 253 in all, at least two labels.
func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if len(l) == 0 || len(l) > 63 {
			return false
		}
	}
	return true
}

// notFound tells a DNS "no such name" or "no such record" from a failure.
func notFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
