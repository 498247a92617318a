package web

import (
	"net/http"
	"strings"

	"github.com/secinbox/secinbox/triage"
)

// mtaSTS serves the MTA-STS policy (RFC 8461 section 3.3), fetched by
// sending mail servers from https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
// Without TLS there is no policy: 404.
func (s *server) mtaSTS(w http.ResponseWriter, r *http.Request) {
	var policy []byte
	if s.mtaSTSPolicy != nil {
		policy = s.mtaSTSPolicy()
	}
	if policy == nil {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "no MTA-STS policy: this server has no TLS certificate"))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(policy)
}

// wkdAdvancedKey is the Web Key Directory's advanced method (what a
// client asks https://openpgpkey.DOMAIN/ first): the direct method's
// answer, for our mail domain only.
func (s *server) wkdAdvancedKey(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.PathValue("wkddomain"), s.domain) {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "no key directory for this domain"))
		return
	}
	s.wkdKey(w, r)
}

// wkdAdvancedFile serves the advanced method's policy file.
func (s *server) wkdAdvancedFile(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.PathValue("wkddomain"), s.domain) || r.PathValue("wkdfile") != "policy" {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "not found"))
		return
	}
	s.wkdPolicy(w, r)
}
