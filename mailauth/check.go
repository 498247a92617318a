package mailauth

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/secinbox/secinbox/triage"
)

// Checker checks raw messages while they are filed.
type Checker struct {
	Resolver Resolver      // nil: net.DefaultResolver
	Timeout  time.Duration // for all of one message's checks; default 15 s
	// MailboxRemoteAddr is the RemoteAddr mailbox intake records (no
	// client address known: SPF is none).
	MailboxRemoteAddr string
}

// Check returns what SPF and DKIM say about raw, whose From address is
// fromEmail. SMTP messages (RemoteAddr "ip:port") are checked in full;
// mail fetched from a mailbox (MailboxRemoteAddr) has DKIM only, SPF
// none: the client that handed it to the provider is not known, and the
// provider's Received-SPF and Authentication-Results fields cannot be
// told from ones the sender wrote. Anything else (a web submission) is
// not mail: the zero Authentication, not checked.
func (c *Checker) Check(ctx context.Context, raw *triage.RawMessage, fromEmail string) triage.Authentication {
	var ip net.IP
	if host, _, err := net.SplitHostPort(raw.RemoteAddr); err == nil {
		ip = net.ParseIP(host)
	}
	mailbox := c.MailboxRemoteAddr != "" && raw.RemoteAddr == c.MailboxRemoteAddr
	if ip == nil && !mailbox {
		return triage.Authentication{}
	}
	r := c.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	a := triage.Authentication{Checked: true, SPF: triage.AuthNone}
	if i := strings.LastIndexByte(fromEmail, '@'); i >= 0 {
		a.FromDomain = strings.ToLower(strings.TrimSuffix(fromEmail[i+1:], "."))
	}
	if ip != nil {
		a.SPF, a.SPFDomain = CheckSPF(ctx, r, ip, raw.MailFrom, "")
	}
	a.DKIM, a.DKIMDomains = CheckDKIM(ctx, r, raw.Data)
	if ctx.Err() != nil {
		// Out of time: what was not decided is a temporary error.
		if a.SPF == triage.AuthNone && ip != nil {
			a.SPF = triage.AuthTempError
		}
	}
	org := triage.OrganizationalDomain(a.FromDomain)
	a.DMARCAligned = a.FromDomain != "" && (a.AlignedDKIM() ||
		(a.SPF == triage.AuthPass && triage.OrganizationalDomain(a.SPFDomain) == org))
	return a
}

// maxDKIMSignatures is how many signatures of one message are verified.
const maxDKIMSignatures = 5

// CheckDKIM verifies data's DKIM signatures (the first
// maxDKIMSignatures): pass with the domains whose signatures verified,
// or fail, temperror, permerror, none (no signature).
func CheckDKIM(ctx context.Context, r Resolver, data []byte) (string, []string) {
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return r.LookupTXT(ctx, domain)
		},
		MaxVerifications: maxDKIMSignatures,
	})
	if err != nil && len(vs) == 0 {
		if dkim.IsTempFail(err) {
			return triage.AuthTempError, nil
		}
		return triage.AuthPermError, nil
	}
	if len(vs) == 0 {
		return triage.AuthNone, nil
	}
	var pass []string
	temp, perm := 0, 0
	for _, v := range vs {
		switch {
		case v.Err == nil:
			d := strings.ToLower(v.Domain)
			if !slices.Contains(pass, d) {
				pass = append(pass, d)
			}
		case dkim.IsTempFail(v.Err):
			temp++
		case dkim.IsPermFail(v.Err):
			perm++
		}
	}
	switch {
	case len(pass) > 0:
		return triage.AuthPass, pass
	case temp == len(vs):
		return triage.AuthTempError, nil
	case perm == len(vs):
		return triage.AuthPermError, nil
	}
	return triage.AuthFail, nil
}
