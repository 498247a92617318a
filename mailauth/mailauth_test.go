package mailauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/secinbox/secinbox/triage"
)

// fakeDNS is an offline resolver: records by name; a name in fail
// answers a server failure; any other name does not exist.
type fakeDNS struct {
	txt     map[string][]string
	mx      map[string][]string
	ip      map[string][]string
	fail    map[string]bool
	queries int
}

func (f *fakeDNS) err(name string) error {
	if f.fail[name] {
		return &net.DNSError{Err: "server failure", Name: name, IsTemporary: true}
	}
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	f.queries++
	if v, ok := f.txt[name]; ok {
		return v, nil
	}
	return nil, f.err(name)
}

func (f *fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	f.queries++
	var out []*net.MX
	for _, h := range f.mx[name] {
		out = append(out, &net.MX{Host: h + ".", Pref: 10})
	}
	if len(out) == 0 {
		return nil, f.err(name)
	}
	return out, nil
}

func (f *fakeDNS) LookupIP(_ context.Context, network, host string) ([]net.IP, error) {
	f.queries++
	var out []net.IP
	for _, s := range f.ip[host] {
		ip := net.ParseIP(s)
		if (network == "ip4" && ip.To4() == nil) || (network == "ip6" && ip.To4() != nil) {
			continue
		}
		out = append(out, ip)
	}
	if len(out) == 0 {
		return nil, f.err(host)
	}
	return out, nil
}

func TestCheckSPF(t *testing.T) {
	dns := &fakeDNS{
		txt: map[string][]string{
			"example.org":          {"some other text", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.mailer.net a:web.example.org mx -all"},
			"_spf.mailer.net":      {"v=spf1 ip4:198.51.100.7 ~all"},
			"soft.example":         {"v=spf1 ~all"},
			"neutral.example":      {"v=spf1 ?all"},
			"redir.example":        {"v=spf1 redirect=example.org"},
			"redir-none.example":   {"v=spf1 redirect=nothing.example"},
			"two.example":          {"v=spf1 -all", "v=spf1 +all"},
			"loop.example":         {"v=spf1 include:loop.example -all"},
			"bad.example":          {"v=spf1 ip4:300.1.1.1 -all"},
			"unknown.example":      {"v=spf1 foo:bar -all"},
			"exists.example":       {"v=spf1 exists:%{i}.allow.exists.example -all"},
			"ptr.example":          {"v=spf1 ptr -all"},
			"void.example":         {"v=spf1 a:v1.example a:v2.example a:v3.example ip4:192.0.2.1 -all"},
			"temp-include.example": {"v=spf1 include:broken.example -all"},
			"many.example": {"v=spf1 a:1.example a:2.example a:3.example a:4.example a:5.example " +
				"a:6.example a:7.example a:8.example a:9.example a:10.example a:11.example ip4:192.0.2.1 -all"},
		},
		mx: map[string][]string{"example.org": {"mx1.example.org"}},
		ip: map[string][]string{
			"web.example.org":                   {"203.0.113.5"},
			"mx1.example.org":                   {"203.0.113.25", "2001:db8:ffff::25"},
			"203.0.113.99.allow.exists.example": {"127.0.0.2"},
		},
		fail: map[string]bool{"broken.example": true, "tempfail.example": true},
	}
	for i := 1; i <= 11; i++ { // resolve, without matching: only the lookup limit ends it
		dns.ip[strconv.Itoa(i)+".example"] = []string{"198.18.0.1"}
	}
	for _, tc := range []struct {
		ip, sender, want string
	}{
		{"192.0.2.10", "alice@example.org", triage.AuthPass},
		{"2001:db8::1", "alice@example.org", triage.AuthPass},
		{"198.51.100.7", "alice@example.org", triage.AuthPass}, // include
		{"203.0.113.5", "alice@example.org", triage.AuthPass},  // a:
		{"203.0.113.25", "alice@example.org", triage.AuthPass}, // mx
		{"2001:db8:ffff::25", "alice@Example.ORG", triage.AuthPass},
		{"203.0.113.6", "alice@example.org", triage.AuthFail},
		{"203.0.113.6", "x@soft.example", triage.AuthSoftFail},
		{"203.0.113.6", "x@neutral.example", triage.AuthNeutral},
		{"192.0.2.10", "x@redir.example", triage.AuthPass},
		{"203.0.113.6", "x@redir.example", triage.AuthFail},
		{"203.0.113.6", "x@redir-none.example", triage.AuthPermError},
		{"203.0.113.6", "x@nothing.example", triage.AuthNone},
		{"203.0.113.6", "x@tempfail.example", triage.AuthTempError},
		{"203.0.113.6", "x@temp-include.example", triage.AuthTempError},
		{"203.0.113.6", "x@two.example", triage.AuthPermError},
		{"203.0.113.6", "x@loop.example", triage.AuthPermError},
		{"203.0.113.6", "x@bad.example", triage.AuthPermError},
		{"203.0.113.6", "x@unknown.example", triage.AuthPermError},
		{"203.0.113.99", "x@exists.example", triage.AuthPass},
		{"203.0.113.98", "x@exists.example", triage.AuthFail},
		{"203.0.113.6", "x@ptr.example", triage.AuthFail},     // ptr never matches
		{"192.0.2.1", "x@many.example", triage.AuthPermError}, // the 11th lookup
		{"192.0.2.1", "x@void.example", triage.AuthPermError}, // the 3rd void lookup
		{"203.0.113.6", "", triage.AuthNone},                  // a bounce, no HELO known
	} {
		got, _ := CheckSPF(context.Background(), dns, net.ParseIP(tc.ip), tc.sender, "")
		if got != tc.want {
			t.Errorf("%s from %s: %s, want %s", tc.sender, tc.ip, got, tc.want)
		}
	}
}

func TestOrganizationalDomain(t *testing.T) {
	for in, want := range map[string]string{
		"mail.example.com": "example.com", "Example.COM.": "example.com", "a.b.example.co.uk": "example.co.uk",
		"example.co.uk": "example.co.uk", "com": "com", "x.y.z.example.net": "example.net",
	} {
		if got := triage.OrganizationalDomain(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// signer is a DKIM key made for the test, published in dns as
// selector._domainkey.domain.
type signer struct {
	domain, selector string
	key              any
}

func newSigner(t *testing.T, dns *fakeDNS, domain, selector string, useRSA bool) *signer {
	t.Helper()
	var rec string
	var key any
	if useRSA {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		rec, key = "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(der), k
	} else {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		rec, key = "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub), priv
	}
	dns.txt[selector+"._domainkey."+domain] = []string{rec}
	return &signer{domain: domain, selector: selector, key: key}
}

func (s *signer) sign(t *testing.T, msg string) []byte {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{Domain: s.domain, Selector: s.selector, Signer: s.key.(crypto.Signer)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

const letter = "From: Ada <ada@mail.example.org>\r\nTo: security@example.com\r\nSubject: [SEC-2026-0001] more\r\n" +
	"Message-ID: <x@mail.example.org>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nDetails follow.\r\n"

func TestCheckDKIM(t *testing.T) {
	dns := &fakeDNS{txt: map[string][]string{}, fail: map[string]bool{"gone._domainkey.example.net": true}}
	ed := newSigner(t, dns, "example.org", "ed", false)
	rsaKey := newSigner(t, dns, "mail.example.org", "rsa", true)
	ctx := context.Background()

	if res, domains := CheckDKIM(ctx, dns, ed.sign(t, letter)); res != triage.AuthPass || len(domains) != 1 || domains[0] != "example.org" {
		t.Errorf("ed25519: %s %v", res, domains)
	}
	if res, _ := CheckDKIM(ctx, dns, rsaKey.sign(t, letter)); res != triage.AuthPass {
		t.Errorf("rsa: %s", res)
	}
	tampered := bytes.Replace(ed.sign(t, letter), []byte("Details follow."), []byte("Details changed."), 1)
	if res, _ := CheckDKIM(ctx, dns, tampered); res != triage.AuthFail {
		t.Errorf("tampered body: %s, want fail", res)
	}
	if res, _ := CheckDKIM(ctx, dns, []byte(letter)); res != triage.AuthNone {
		t.Errorf("unsigned: %s, want none", res)
	}
	unpublished := &signer{domain: "example.net", selector: "gone", key: ed.key}
	if res, _ := CheckDKIM(ctx, dns, unpublished.sign(t, letter)); res != triage.AuthTempError {
		t.Errorf("key lookup failing: %s, want temperror", res)
	}
}

// TestChecker: SMTP mail gets SPF and DKIM and the alignment; mailbox
// mail DKIM only; a web submission nothing.
func TestChecker(t *testing.T) {
	dns := &fakeDNS{txt: map[string][]string{"example.org": {"v=spf1 ip4:192.0.2.0/24 -all"}}}
	ed := newSigner(t, dns, "example.org", "ed", false)
	other := newSigner(t, dns, "elsewhere.example", "s1", false)
	c := &Checker{Resolver: dns, MailboxRemoteAddr: "mailbox"}
	ctx := context.Background()
	raw := func(remote, from string, data []byte) *triage.RawMessage {
		return &triage.RawMessage{RemoteAddr: remote, MailFrom: from, Data: data}
	}
	a := c.Check(ctx, raw("192.0.2.7:41234", "bounces@example.org", ed.sign(t, letter)), "ada@mail.example.org")
	if !a.Checked || a.SPF != triage.AuthPass || a.SPFDomain != "example.org" || a.DKIM != triage.AuthPass || !a.DMARCAligned || !a.AlignedDKIM() {
		t.Errorf("signed, from a listed address: %+v", a)
	}
	a = c.Check(ctx, raw("203.0.113.1:25", "ada@example.org", other.sign(t, letter)), "ada@mail.example.org")
	if a.SPF != triage.AuthFail || a.DKIM != triage.AuthPass || a.DMARCAligned || a.AlignedDKIM() {
		t.Errorf("signed by another domain, from elsewhere: %+v", a)
	}
	a = c.Check(ctx, raw("192.0.2.7:25", "ada@example.org", []byte(letter)), "ada@mail.example.org")
	if a.SPF != triage.AuthPass || a.DKIM != triage.AuthNone || !a.DMARCAligned || a.AlignedDKIM() {
		t.Errorf("SPF alone aligned: %+v", a)
	}
	a = c.Check(ctx, raw("mailbox", "ada@example.org", ed.sign(t, letter)), "ada@mail.example.org")
	if !a.Checked || a.SPF != triage.AuthNone || a.DKIM != triage.AuthPass || !a.DMARCAligned {
		t.Errorf("mailbox: %+v", a)
	}
	if a := c.Check(ctx, raw("192.0.2.7", "ada@example.org", []byte(letter)), "ada@example.org"); a.Checked {
		t.Errorf("web submission checked: %+v", a)
	}
}
