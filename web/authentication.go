package web

import (
	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// apiAuthentication is a report's sender checks in the JSON API.
type apiAuthentication struct {
	SPF            string   `json:"spf"`
	SPFDomain      string   `json:"spf_domain,omitempty"`
	DKIM           string   `json:"dkim"`
	DKIMDomains    []string `json:"dkim_domains"`
	FromDomain     string   `json:"from_domain,omitempty"`
	DMARCAligned   bool     `json:"dmarc_aligned"`
	ClaimsToAnswer string   `json:"claims_to_answer,omitempty"`
}

// newAPIAuthentication returns nil when the message was not checked and
// claimed nothing.
func newAPIAuthentication(a triage.Authentication) *apiAuthentication {
	if !a.Checked && a.ClaimsReplyTo == "" {
		return nil
	}
	v := &apiAuthentication{SPF: a.SPF, SPFDomain: a.SPFDomain, DKIM: a.DKIM, DKIMDomains: a.DKIMDomains,
		FromDomain: a.FromDomain, DMARCAligned: a.DMARCAligned, ClaimsToAnswer: a.ClaimsReplyTo}
	if v.DKIMDomains == nil {
		v.DKIMDomains = []string{}
	}
	if !a.Checked {
		v.SPF, v.DKIM = triage.AuthNone, triage.AuthNone
	}
	return v
}

// authenticationView formats a report's sender checks for its page.
func authenticationView(a triage.Authentication) templates.AuthenticationView {
	v := templates.AuthenticationView{Checked: a.Checked, SPF: a.SPF, SPFDomain: a.SPFDomain, DKIM: a.DKIM,
		DKIMDomains: a.DKIMDomains, FromDomain: a.FromDomain, Aligned: a.DMARCAligned, ClaimsToAnswer: a.ClaimsReplyTo}
	return v
}
