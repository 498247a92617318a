package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/secinbox/secinbox/certs"
)

// cmdDNS prints the DNS records a team publishes for its mail domain, in
// zone-file syntax, each after a comment saying why. It reads the
// settings and, for the MTA-STS id, whether the MX host's certificate is
// held (DATA/acme, or -tls-cert); it changes nothing.
func cmdDNS(_ context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	if err := e.parse(fs); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	team, err := cfg.teamAddresses()
	if err != nil {
		return err
	}
	held, err := cfg.mxCertHeld(time.Now())
	if err != nil {
		return err
	}
	_, err = io.WriteString(e.stdout, cfg.dnsZone(team, held))
	return err
}

// mxCertHeld reports whether a certificate for the MX host is held now:
// in the ACME cache, or the -tls-cert file.
func (c *Config) mxCertHeld(now time.Time) (bool, error) {
	switch {
	case c.acme():
		return certs.Held(filepath.Join(c.Data, "acme"), c.mxHost(), now) != nil, nil
	case c.TLSCert != "":
		data, err := os.ReadFile(c.TLSCert)
		if err != nil {
			return false, fmt.Errorf("-tls-cert: %w", err)
		}
		b, _ := pem.Decode(data)
		if b == nil || b.Type != "CERTIFICATE" {
			return false, fmt.Errorf("-tls-cert %s: no PEM certificate", c.TLSCert)
		}
		leaf, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return false, fmt.Errorf("-tls-cert %s: %w", c.TLSCert, err)
		}
		return leaf.VerifyHostname(c.mxHost()) == nil && now.Before(leaf.NotAfter) && !now.Before(leaf.NotBefore), nil
	}
	return false, nil
}

// dnsTTL is the TTL of every printed record: an hour.
const dnsTTL = "3600"

// dnsZone returns the records to publish, each after a one-line comment
// saying why. team are the addresses TLS reports go to (none:
// security@DOMAIN); held is whether the MX host's certificate is held,
// which decides the MTA-STS mode and so its id.
func (c *Config) dnsZone(team []string, held bool) string {
	domain := strings.ToLower(strings.TrimSpace(c.Domain))
	web, mx := c.webHost(), c.mxHost()
	tlsOn := c.acme() || c.TLSCert != ""
	var b strings.Builder
	rr := func(why, name, typ, value string) {
		if typ == "CNAME" && value == name+"." {
			return // the public URL's host itself
		}
		fmt.Fprintf(&b, "; %s\n%s.\t%s\tIN\t%s\t%s\n", why, name, dnsTTL, typ, value)
	}
	fmt.Fprintf(&b, "; DNS records for %s (secinbox dns), in zone-file syntax.\n", domain)
	hosts := web
	if mx != web {
		hosts += " and " + mx
	}
	fmt.Fprintf(&b, "; Not printed: the A/AAAA records of %s, with this server's addresses.\n", hosts)
	b.WriteString("\n")
	rr("Mail to security@"+domain+" is delivered to secinbox, at "+mx+".",
		domain, "MX", "10 "+mx+".")
	if !tlsOn {
		b.WriteString("; No MTA-STS, TLS reporting or Web Key Directory host: they need TLS (-acme on, or -tls-cert and -tls-key).\n")
		return b.String()
	}
	policy := c.stsPolicy(held)
	rr("MTA-STS (RFC 8461): senders must deliver over TLS to "+mx+"; the id changes whenever the policy does.",
		"_mta-sts."+domain, "TXT", `"`+policy.TXT()+`"`)
	rr("Senders fetch the MTA-STS policy from https://mta-sts."+domain+"/.well-known/mta-sts.txt, which secinbox serves.",
		"mta-sts."+domain, "CNAME", web+".")
	if len(team) == 0 {
		team = []string{"security@" + domain}
	}
	rua := make([]string, len(team))
	for i, a := range team {
		rua[i] = "mailto:" + a
	}
	rr("TLS reporting (RFC 8460): senders mail a daily report of their TLS failures to the team.",
		"_smtp._tls."+domain, "TXT", `"v=TLSRPTv1; rua=`+strings.Join(rua, ",")+`"`)
	rr("Web Key Directory: OpenPGP clients look the team's key up at https://openpgpkey."+domain+"/ first.",
		"openpgpkey."+domain, "CNAME", web+".")
	if !c.acme() {
		fmt.Fprintf(&b, "; The certificate of -tls-cert must also name mta-sts.%s and openpgpkey.%s.\n", domain, domain)
	}
	if !held {
		fmt.Fprintf(&b, "; The MTA-STS policy is in testing mode until secinbox holds a certificate for %s:\n"+
			"; run secinbox dns again then, and publish the _mta-sts record's new id.\n", mx)
	}
	return b.String()
}
