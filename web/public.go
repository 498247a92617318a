package web

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// landing is the front page; signed-in staff go straight to the board.
func (s *server) landing(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.sessionUser(r); err == nil {
		http.Redirect(w, r, "/board", http.StatusSeeOther)
		return
	} else if triage.ErrorCode(err) != triage.EUNAUTHORIZED {
		s.log.WarnContext(r.Context(), "session lookup on landing page", "err", err)
	}
	s.render(w, r, http.StatusOK, templates.Landing(templates.LandingView{Contact: s.contact}))
}

// securityTxtMaxAge is the longest Expires RFC 9116 §2.5.5 recommends.
const securityTxtMaxAge = 365 * 24 * time.Hour

// securityTxtExpires is when security.txt expires at now: a year from now,
// or earlier when the published key, expiring at keyExpires (zero:
// never), expires first. Once the key has expired the file is stale
// (Expires in the past), which tells readers not to trust its Encryption
// field: that is the truth until the key is rotated. Rounded down to the
// second, so never later than the key.
func securityTxtExpires(now, keyExpires time.Time) time.Time {
	exp := now.Add(securityTxtMaxAge)
	if !keyExpires.IsZero() && keyExpires.Before(exp) {
		exp = keyExpires
	}
	return exp.UTC().Truncate(time.Second)
}

// securityTxt serves /.well-known/security.txt (RFC 9116), signed with
// the team key when Config.ClearSign is set (section 2.3). Signing
// failures are logged and the file served unsigned: never an error.
func (s *server) securityTxt(w http.ResponseWriter, r *http.Request) {
	text := s.securityTxtText(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(text)
}

// securityTxtResignAfter is how long a signing failure stands before the
// next request tries again, so that a broken signer is not asked on
// every request.
const securityTxtResignAfter = 5 * time.Minute

// stxtCache is the last security.txt made, signed when it could be. It
// is made again when its key changes: the day Expires falls on (so the
// file is signed about once a day), or the published key.
type stxtCache struct {
	mu     sync.Mutex
	key    string
	text   []byte
	signed bool
	at     time.Time
}

// securityTxtText returns the security.txt to serve now.
func (s *server) securityTxtText(ctx context.Context) []byte {
	now := s.now()
	key := s.teamKey(ctx)
	exp := securityTxtExpires(now, key.Expires)
	cacheKey := strings.Join([]string{exp.Format(time.DateOnly), key.Fingerprint,
		key.Expires.UTC().Format(time.RFC3339Nano), strconv.FormatBool(len(key.Armored) > 0)}, "|")

	c := &s.stxt
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key == cacheKey && (c.signed || s.clearSign == nil || now.Sub(c.at) < securityTxtResignAfter) {
		return c.text
	}
	text := s.securityTxtBody(exp, len(key.Armored) > 0)
	c.key, c.text, c.signed, c.at = cacheKey, text, false, now
	if s.clearSign == nil {
		return text
	}
	// The signature must not fail because the first client to ask went
	// away; a stuck signer must not hold every request.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	signed, err := s.clearSign(sctx, text)
	if err != nil || len(signed) == 0 {
		s.log.ErrorContext(ctx, "security.txt: signing failed, serving it unsigned", "err", err)
		return text
	}
	c.text, c.signed = signed, true
	return signed
}

// securityTxtBody is the unsigned security.txt expiring at exp.
func (s *server) securityTxtBody(exp time.Time, haveKey bool) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Contact: mailto:%s\n", s.contact)
	fmt.Fprintf(&b, "Expires: %s\n", exp.Format(time.RFC3339))
	if haveKey {
		fmt.Fprintf(&b, "Encryption: %s/pgp-key.asc\n", s.publicURL)
	}
	fmt.Fprintf(&b, "Acknowledgments: %s/hall-of-fame\n", s.publicURL)
	fmt.Fprintf(&b, "Policy: %s/policy\n", s.publicURL)
	if s.stxtHiring != "" {
		fmt.Fprintf(&b, "Hiring: %s\n", s.stxtHiring)
	}
	if s.stxtCSAF != "" {
		fmt.Fprintf(&b, "CSAF: %s\n", s.stxtCSAF)
	}
	fmt.Fprintf(&b, "Canonical: %s/.well-known/security.txt\n", s.publicURL)
	fmt.Fprintf(&b, "Preferred-Languages: en\n")
	return []byte(b.String())
}

// checkSecurityTxtURL checks a URL given for a security.txt field (the
// Config field name): "" or an absolute https URL (RFC 9116 section 2.5
// asks https for web URIs) without credentials, spaces or control
// characters, which could add lines to the file.
func checkSecurityTxtURL(field, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v) > 2048 ||
		strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f || unicode.IsSpace(r) }) {
		return fmt.Errorf("web: Config.%s must be an absolute https URL, got %q", field, v)
	}
	return nil
}

// securityTxtRedirect sends the legacy location to the well-known one
// (RFC 9116 §3).
func (s *server) securityTxtRedirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/.well-known/security.txt", http.StatusMovedPermanently)
}

// publicKey serves the team's armored public key.
func (s *server) publicKey(w http.ResponseWriter, r *http.Request) {
	key := s.teamKey(r.Context())
	if len(key.Armored) == 0 {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "no team key is published"))
		return
	}
	w.Header().Set("Content-Type", "application/pgp-keys")
	w.Header().Set("Content-Disposition", `inline; filename="pgp-key.asc"`)
	_, _ = w.Write(key.Armored)
}

// wkdKey serves the binary team key for the WKD direct method
// (draft-koch-openpgp-webkey-service §3.1) when {hash} is the hash of one
// of our addresses' local parts. The optional ?l= must then hash to it too.
func (s *server) wkdKey(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	key := s.teamKey(r.Context())
	ok := len(key.Binary) > 0 && s.wkd[hash]
	if l := r.URL.Query().Get("l"); ok && l != "" {
		ok = pgp.WKDHash(l) == hash
	}
	if !ok {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "no key for this address"))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(key.Binary)
}

// wkdPolicy serves the (empty) WKD policy file whose presence tells
// clients the directory exists.
func (s *server) wkdPolicy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
}

// policy is the disclosure policy page.
// It promises the first-response window of the SLA policy in force.
func (s *server) policy(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.SLAPolicy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	site, err := s.store.Site(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.Policy(templates.PolicyView{
		Contact:        s.contact,
		KeyURL:         s.publicURL + "/pgp-key.asc",
		Fingerprint:    formatFingerprint(s.teamKey(r.Context()).Fingerprint),
		ResponseWindow: p.FirstResponsePromise(),
		Organisation:   site.Organisation,
		ScopeIn:        site.ScopeIn,
		ScopeOut:       site.ScopeOut,
		SafeHarbour:    site.SafeHarbour,
		Languages:      site.Languages,
	}))
}

// healthz answers load balancers.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok"))
}

// static serves the embedded stylesheet (and anything else in static/).
func (s *server) static(w http.ResponseWriter, r *http.Request) {
	name := "static/" + r.PathValue("file")
	if strings.Contains(r.PathValue("file"), "/") || !fs.ValidPath(name) {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "not found"))
		return
	}
	if st, err := fs.Stat(staticFS, name); err != nil || st.IsDir() {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "not found"))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(w, r, staticFS, name)
}
