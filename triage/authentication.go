package triage

// Authentication is what the mail system says about who sent a report's
// message (RFC 7208 SPF, RFC 6376 DKIM, DMARC's relaxed alignment of
// RFC 7489 section 3.1), checked while filing. The zero value (Checked
// false) is a report whose message was not checked: a web submission,
// or one filed before the checks existed.
type Authentication struct {
	Checked bool
	// SPF is the result for the envelope sender's domain, SPFDomain:
	// pass, fail, softfail, neutral, none, temperror or permerror. Mail
	// fetched from a mailbox has no client address to check: none.
	SPF       string
	SPFDomain string
	// DKIM is pass when a signature verified (DKIMDomains are their d=
	// domains), fail when signatures failed, none when there were none,
	// temperror when keys could not be fetched, permerror when
	// signatures were malformed.
	DKIM        string
	DKIMDomains []string
	// FromDomain is the domain of the From address; DMARCAligned tells
	// whether an SPF or DKIM pass is for the same organisational domain.
	FromDomain   string
	DMARCAligned bool
	// ClaimsReplyTo is a tracking id the subject named while the message
	// was not shown to come from that report's researcher: it opened a
	// new report instead of joining that one's conversation.
	ClaimsReplyTo string
}

// SPF and DKIM results (RFC 8601 section 2.7).
const (
	AuthPass      = "pass"
	AuthFail      = "fail"
	AuthSoftFail  = "softfail"
	AuthNeutral   = "neutral"
	AuthNone      = "none"
	AuthTempError = "temperror"
	AuthPermError = "permerror"
)

// AlignedDKIM tells whether a DKIM signature of the From domain's
// organisation verified.
func (a Authentication) AlignedDKIM() bool {
	if a.DKIM != AuthPass || a.FromDomain == "" {
		return false
	}
	org := OrganizationalDomain(a.FromDomain)
	for _, d := range a.DKIMDomains {
		if OrganizationalDomain(d) == org {
			return true
		}
	}
	return false
}
