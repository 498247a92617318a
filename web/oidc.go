package web

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// Single sign-on with OpenID Connect (issue 13): the authorization code
// flow (OpenID Connect Core 1.0, 3.1) with PKCE (RFC 7636, S256), state
// and nonce. GET /login/oidc starts a flow: its state, nonce and PKCE
// verifier go into a short-lived cookie sealed with AES-GCM (only this
// server can read or make one), and the browser goes to the identity
// provider. The provider sends it back to /login/oidc/callback, where the
// state must match the cookie's, the flow must not have been used before,
// the code is exchanged (with the verifier) for an ID token, and the ID
// token must be signed by the provider, for us, unexpired, and carry the
// cookie's nonce. The account is then the one with the token's verified
// email, with the role the token's roles claim maps to; the session is the
// one a password sign-in makes (startSession).
//
// While single sign-on is on, only admins may sign in with a password
// (break-glass, for when the provider is down): passwordSignInAllowed.

// OIDCConfig turns on single sign-on with an OpenID Connect provider.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document (Issuer + "/.well-known/openid-configuration") and its ID
	// tokens say it. The document is fetched on the first sign-in, not at
	// start: the mail intake must not wait for the identity provider.
	Issuer string
	// ClientID and ClientSecret are this site's registration at the
	// provider. The redirect URL to register is PublicURL +
	// "/login/oidc/callback".
	ClientID     string
	ClientSecret string
	// Scopes are asked for; nil means openid and email.
	Scopes []string
	// RolesClaim names the ID token claim holding the user's groups or
	// roles: a top-level name ("groups", "roles",
	// "https://example.com/roles"), or, when there is no such top-level
	// claim, a dotted path into nested objects ("realm_access.roles"). Its
	// value is a list of strings, or one string.
	RolesClaim string
	// RoleMap maps values of the roles claim to roles; a user gets the
	// highest role any of their values maps to, and none when none does.
	RoleMap map[string]triage.Role
}

const (
	// oidcCallbackPath is where the provider sends the browser back.
	oidcCallbackPath = "/login/oidc/callback"
	// oidcFlowLifetime is how long a started sign-in may take at the
	// provider (typing a password, a second factor).
	oidcFlowLifetime = 10 * time.Minute
	// oidcTimeout bounds each request to the provider; oidcMaxResponse
	// the size of each of its answers.
	oidcTimeout     = 15 * time.Second
	oidcMaxResponse = 1 << 20
	// oidcRetryDiscovery is how long a failed discovery is answered from
	// memory before the provider is asked again.
	oidcRetryDiscovery = 10 * time.Second
	// oidcMaxFlows bounds the flows remembered as used (replay
	// protection); oidcMaxCookie the flow cookie read.
	oidcMaxFlows  = 10000
	oidcMaxCookie = 1024
	// oidcMaxClaim bounds a claim value the sign-in looks at.
	oidcMaxClaim = 254
)

// sso is the server's single sign-on state.
type sso struct {
	issuer       string
	clientID     string
	clientSecret string
	scopes       []string
	rolesClaim   string
	roleMap      map[string]triage.Role
	redirectURL  string
	cookieName   string
	aead         cipher.AEAD  // seals the flow cookie
	client       *http.Client // for every request to the provider
	now          func() time.Time

	mu        sync.Mutex // discovery
	oauth     *oauth2.Config
	verifier  *oidc.IDTokenVerifier
	failedAt  time.Time // real time of the last failed discovery
	failedErr error

	usedMu sync.Mutex
	used   map[string]time.Time // SHA-256 of a spent flow's state → its expiry
}

// newSSO checks cfg and returns the single sign-on state; nil for a nil
// cfg (single sign-on off).
func newSSO(cfg *OIDCConfig, publicURL string, secret []byte, secure bool, now func() time.Time) (*sso, error) {
	if cfg == nil {
		return nil, nil
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("web: Config.OIDC.Issuer must be an absolute URL, got %q", cfg.Issuer)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("web: Config.OIDC needs ClientID and ClientSecret")
	}
	if cfg.RolesClaim == "" || len(cfg.RoleMap) == 0 {
		return nil, errors.New("web: Config.OIDC needs RolesClaim and RoleMap")
	}
	roles := make(map[string]triage.Role, len(cfg.RoleMap))
	for k, r := range cfg.RoleMap {
		if _, err := triage.ParseRole(string(r)); err != nil {
			return nil, fmt.Errorf("web: Config.OIDC.RoleMap[%q]: %w", k, err)
		}
		roles[k] = r
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email"}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		return nil, errors.New("web: Config.OIDC.Scopes must include openid")
	}
	block, err := aes.NewCipher(deriveKey(secret, "secinbox oidc flow cookie v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	o := &sso{
		issuer:       cfg.Issuer,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		scopes:       slices.Clone(scopes),
		rolesClaim:   cfg.RolesClaim,
		roleMap:      roles,
		redirectURL:  publicURL + oidcCallbackPath,
		cookieName:   "secinbox_oidc",
		aead:         aead,
		client:       &http.Client{Timeout: oidcTimeout, Transport: limitedTransport{http.DefaultTransport, oidcMaxResponse}},
		now:          now,
		used:         make(map[string]time.Time),
	}
	if secure {
		o.cookieName = "__Host-secinbox_oidc"
	}
	return o, nil
}

// deriveKey derives a 32-byte key for purpose from the server's secret;
// without one (or a short one) it is random, so that what it protects
// lasts until the process restarts.
func deriveKey(secret []byte, purpose string) []byte {
	if len(secret) >= 32 {
		if key, err := hkdf.Key(sha256.New, secret, nil, purpose, 32); err == nil {
			return key
		}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return key
}

// limitedTransport fails a response body longer than max bytes: the
// provider is another party, and its answers are read whole.
type limitedTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("web: identity provider answer longer than %d bytes", oidcMaxResponse)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// endpoints returns the OAuth 2.0 configuration and the ID token
// verifier, discovering the provider on first use. A failed discovery is
// remembered for oidcRetryDiscovery, so that a provider that is down is
// not asked (and waited for) on every request.
func (o *sso) endpoints(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	if !o.failedAt.IsZero() && time.Since(o.failedAt) < oidcRetryDiscovery {
		return nil, nil, o.failedErr
	}
	ctx, cancel := context.WithTimeout(ctx, oidcTimeout)
	defer cancel()
	// The provider keeps the client (not the context) for fetching its
	// signing keys later.
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), o.issuer)
	if err != nil {
		o.failedAt, o.failedErr = time.Now(), fmt.Errorf("web: discover the identity provider %s: %w", o.issuer, err)
		return nil, nil, o.failedErr
	}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.clientID, Now: o.now})
	o.oauth = &oauth2.Config{
		ClientID:     o.clientID,
		ClientSecret: o.clientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  o.redirectURL,
		Scopes:       o.scopes,
	}
	o.failedAt, o.failedErr = time.Time{}, nil
	return o.oauth, o.verifier, nil
}

// ssoFlow is one started sign-in, kept in the flow cookie.
type ssoFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"` // PKCE code verifier
	Expires  int64  `json:"e"` // Unix seconds
}

// flowAD binds a sealed flow to its purpose and cookie.
func (o *sso) flowAD() []byte { return []byte("secinbox oidc flow v1 " + o.cookieName) }

// seal returns f sealed for the flow cookie.
func (o *sso) seal(f ssoFlow) string {
	plain, _ := json.Marshal(f) // strings and an int: cannot fail
	nonce := make([]byte, o.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(o.aead.Seal(nonce, nonce, plain, o.flowAD()))
}

// open returns the flow a cookie value seals, unless it is not one of
// ours or it expired at now.
func (o *sso) open(value string, now time.Time) (ssoFlow, error) {
	var f ssoFlow
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) < o.aead.NonceSize() {
		return f, errors.New("not a flow cookie")
	}
	n := o.aead.NonceSize()
	plain, err := o.aead.Open(nil, b[:n], b[n:], o.flowAD())
	if err != nil {
		return f, errors.New("flow cookie not sealed by this server")
	}
	if err := json.Unmarshal(plain, &f); err != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return ssoFlow{}, errors.New("malformed flow")
	}
	if !now.Before(time.Unix(f.Expires, 0)) {
		return ssoFlow{}, errors.New("flow expired")
	}
	return f, nil
}

// flowCookie is the cookie of a started sign-in; maxAge < 0 deletes it.
// SameSite=Lax: the provider's redirect back is a top-level navigation
// from another site, which must carry it.
func (o *sso) flowCookie(value string, maxAge int, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     o.cookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// spend marks the flow with state as used. It returns false when it was
// used already (a replayed callback), or when oidcMaxFlows live flows are
// remembered (refused rather than forgotten).
func (o *sso) spend(state string, expires, now time.Time) bool {
	sum := sha256.Sum256([]byte(state))
	key := hex.EncodeToString(sum[:])
	o.usedMu.Lock()
	defer o.usedMu.Unlock()
	if _, ok := o.used[key]; ok {
		return false
	}
	if len(o.used) >= oidcMaxFlows {
		for k, exp := range o.used {
			if !now.Before(exp) {
				delete(o.used, k)
			}
		}
		if len(o.used) >= oidcMaxFlows {
			return false
		}
	}
	o.used[key] = expires
	return true
}

// ssoFailure is a refused single sign-on: what the person is told, what
// the audit log and the server log get.
type ssoFailure struct {
	code   string // triage error code: the HTTP status (errorStatus)
	msg    string // shown on the sign-in page
	reason string // audit detail
	cause  error  // logged, never shown
	email  string // the email the provider vouched for, when it did
	user   *triage.User
	// audited: the failure event was already written (with the change
	// it records).
	audited bool
}

// Messages of refused sign-ins.
const (
	ssoMsgAgain       = "This single sign-on could not be completed. Please sign in again."
	ssoMsgUnavailable = "The identity provider cannot be reached. Please try again shortly."
	ssoMsgNoRole      = "Your identity provider account is not in a group that may use this site. Ask an admin."
)

// ssoIdentity is who the provider says signed in.
type ssoIdentity struct {
	email   string
	subject string
	role    triage.Role // "" when the roles claim grants none
}

// oidcStart starts a single sign-on: it sets the flow cookie and sends
// the browser to the provider.
func (s *server) oidcStart(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.sso == nil {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "single sign-on is not configured"))
		return
	}
	now := s.now()
	if wait := s.acct.limits.loginIP.take(ipKey(r), now); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}
	oc, _, err := s.sso.endpoints(r.Context())
	if err != nil {
		s.ssoRefuse(w, r, &ssoFailure{code: triage.EINTERNAL, msg: ssoMsgUnavailable, reason: "identity provider unavailable", cause: err})
		return
	}
	f := ssoFlow{State: newSessionID(), Nonce: newSessionID(), Verifier: oauth2.GenerateVerifier(),
		Expires: now.Add(oidcFlowLifetime).Unix()}
	http.SetCookie(w, s.sso.flowCookie(s.sso.seal(f), int(oidcFlowLifetime.Seconds()), s.secure))
	http.Redirect(w, r, oc.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// oidcCallback finishes a single sign-on: the provider sent the browser
// back with a code (or an error). Whatever happens, the flow is over: its
// cookie is deleted and its state is never accepted again.
func (s *server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.sso == nil {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "single sign-on is not configured"))
		return
	}
	if wait := s.acct.limits.loginIP.take(ipKey(r), s.now()); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}
	http.SetCookie(w, s.sso.flowCookie("", -1, s.secure))
	id, fail := s.ssoIdentify(r)
	if fail != nil {
		s.ssoRefuse(w, r, fail)
		return
	}
	user, fail := s.ssoAccount(r, id)
	if fail != nil {
		s.ssoRefuse(w, r, fail)
		return
	}
	s.startSession(w, r, user, triage.AuditLoginOIDC)
}

// ssoIdentify checks the callback r against its flow and returns who the
// provider's ID token says signed in.
func (s *server) ssoIdentify(r *http.Request) (*ssoIdentity, *ssoFailure) {
	o, now := s.sso, s.now()
	again := func(reason string, cause error) *ssoFailure {
		return &ssoFailure{code: triage.EINVALID, msg: ssoMsgAgain, reason: reason, cause: cause}
	}
	c, err := r.Cookie(o.cookieName)
	if err != nil || c.Value == "" || len(c.Value) > oidcMaxCookie {
		return nil, again("no sign-in in progress", nil)
	}
	flow, err := o.open(c.Value, now)
	if err != nil {
		return nil, again("no sign-in in progress", err)
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1 {
		return nil, again("state mismatch", nil)
	}
	if !o.spend(flow.State, time.Unix(flow.Expires, 0), now) {
		return nil, again("callback replayed", nil)
	}
	if e := q.Get("error"); e != "" {
		// RFC 6749, 4.1.2.1: e.g. access_denied. Only its code is kept.
		return nil, again("identity provider error: "+truncate(strings.Map(errorCodeChar, e), 64), nil)
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		return nil, again("no authorization code", nil)
	}

	oc, verifier, err := o.endpoints(r.Context())
	if err != nil {
		return nil, &ssoFailure{code: triage.EINTERNAL, msg: ssoMsgUnavailable, reason: "identity provider unavailable", cause: err}
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), o.client), oidcTimeout)
	defer cancel()
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var refused *oauth2.RetrieveError
		if errors.As(err, &refused) {
			return nil, again("code exchange refused", err)
		}
		return nil, &ssoFailure{code: triage.EINTERNAL, msg: ssoMsgUnavailable, reason: "code exchange failed", cause: err}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, again("no ID token", nil)
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, again("ID token invalid", err)
	}
	if idt.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return nil, again("nonce mismatch", nil)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, again("ID token claims unreadable", err)
	}
	email, ok := claims["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	if !ok || !plausibleEmail(email) {
		return nil, &ssoFailure{code: triage.EFORBIDDEN, reason: "no email in the ID token",
			msg: "Your identity provider did not give your email address. Ask an admin."}
	}
	if !emailVerified(claims) {
		return nil, &ssoFailure{code: triage.EFORBIDDEN, email: email, reason: "email not verified",
			msg: "Your identity provider has not verified your email address."}
	}
	return &ssoIdentity{email: email, subject: truncate(idt.Subject, oidcMaxClaim), role: o.role(claims)}, nil
}

// errorCodeChar keeps the characters an OAuth error code may have
// (RFC 6749, A.7) and drops the others.
func errorCodeChar(r rune) rune {
	if r >= 0x20 && r <= 0x7e && r != '"' && r != '\\' {
		return r
	}
	return -1
}

// plausibleEmail reports whether s can be a staff email: one '@' with
// something on both sides, at most 254 bytes, printable.
func plausibleEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(s) > oidcMaxClaim || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) })
}

// emailVerified reports whether the ID token says its email was
// verified: email_verified is true (or "true", as some providers send
// it). Microsoft Entra ID sends no email_verified; there, its optional
// xms_edov claim ("email domain owner verified") true counts, and only
// when email_verified is absent.
func emailVerified(claims map[string]any) bool {
	isTrue := func(v any) bool {
		switch v := v.(type) {
		case bool:
			return v
		case string:
			return v == "true"
		}
		return false
	}
	if v, ok := claims["email_verified"]; ok {
		return isTrue(v)
	}
	return isTrue(claims["xms_edov"])
}

// role returns the highest role the roles claim maps to, "" if none.
func (o *sso) role(claims map[string]any) triage.Role {
	var best triage.Role
	for _, v := range claimValues(claims, o.rolesClaim) {
		if r, ok := o.roleMap[v]; ok && !best.Can(r) {
			best = r
		}
	}
	return best
}

// claimValues returns the strings of the claim name: a top-level claim
// by that name, or else the dotted path into nested objects. A list of
// strings gives each; a string gives itself; anything else nothing.
// Values are bounded: at most 1000, each at most oidcMaxClaim bytes.
func claimValues(claims map[string]any, name string) []string {
	v, ok := claims[name]
	if !ok && strings.Contains(name, ".") {
		cur := any(claims)
		for part := range strings.SplitSeq(name, ".") {
			m, isMap := cur.(map[string]any)
			if !isMap {
				return nil
			}
			if cur, ok = m[part]; !ok {
				return nil
			}
		}
		v = cur
	}
	switch v := v.(type) {
	case string:
		if len(v) <= oidcMaxClaim {
			return []string{v}
		}
	case []any:
		var out []string
		for i, x := range v {
			if i == 1000 {
				break
			}
			if str, ok := x.(string); ok && len(str) <= oidcMaxClaim {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// ssoAccount returns the account for a single sign-on by id: the one
// with id's email, its role set to the one the provider grants; a new
// one on a first sign-in that is granted a role. A disabled account, or
// one the provider grants no role, is refused; the second also loses its
// sessions and API tokens.
func (s *server) ssoAccount(r *http.Request, id *ssoIdentity) (*triage.User, *ssoFailure) {
	ctx := r.Context()
	u, err := s.store.UserByEmail(ctx, id.email)
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		if id.role == "" {
			return nil, &ssoFailure{code: triage.EFORBIDDEN, msg: ssoMsgNoRole, reason: "no role granted", email: id.email}
		}
		u = &triage.User{Email: id.email, Role: id.role} // no password: SSO only
		ev, _ := s.newAuditEvent(r, nil, id.email, triage.AuditUserCreate, "",
			map[string]string{"email": id.email, "role": string(id.role), "via": "oidc", "subject": id.subject})
		err = s.store.CreateUserAudited(ctx, u, ev)
		if err == nil {
			return u, nil
		}
		if triage.ErrorCode(err) != triage.ECONFLICT {
			return nil, &ssoFailure{code: triage.EINTERNAL, cause: err}
		}
		// Another sign-in made it a moment ago: go on with that one.
		u, err = s.store.UserByEmail(ctx, id.email)
	}
	if err != nil {
		return nil, &ssoFailure{code: triage.EINTERNAL, cause: err}
	}
	if u.Disabled() {
		return nil, &ssoFailure{code: triage.EFORBIDDEN, msg: "This account is disabled. Ask an admin.",
			reason: "account disabled", email: id.email, user: u}
	}
	if id.role == "" {
		// The provider took every role away: end what the account has.
		ev, _ := s.newAuditEvent(r, u, "", triage.AuditLoginOIDCFail, userTarget(u.ID),
			map[string]string{"reason": "no role granted", "sessions": "ended"})
		if err := s.store.RevokeOtherSessions(ctx, u.ID, nil, ev); err != nil {
			return nil, &ssoFailure{code: triage.EINTERNAL, cause: err}
		}
		if err := s.revokeTokens(r, u); err != nil {
			return nil, &ssoFailure{code: triage.EINTERNAL, cause: err}
		}
		s.log.InfoContext(ctx, "single sign-on refused: no role granted; sessions and tokens ended", "user_id", u.ID)
		return nil, &ssoFailure{code: triage.EFORBIDDEN, msg: ssoMsgNoRole, audited: true}
	}
	if u.Role != id.role {
		ev, _ := s.newAuditEvent(r, u, "", triage.AuditUserRole, userTarget(u.ID),
			map[string]string{"from": string(u.Role), "to": string(id.role), "via": "oidc"})
		if err := s.store.SetUserRole(ctx, u.ID, id.role, ev); triage.ErrorCode(err) == triage.ECONFLICT {
			return nil, &ssoFailure{code: triage.EFORBIDDEN, email: id.email, user: u, reason: "would remove the last active admin",
				msg: "Your identity provider no longer makes you an admin, but you are the last active admin: make someone else admin first."}
		} else if err != nil {
			return nil, &ssoFailure{code: triage.EINTERNAL, cause: err}
		}
		u.Role = id.role
	}
	return u, nil
}

// revokeTokens revokes every live API token of u, each audited.
func (s *server) revokeTokens(r *http.Request, u *triage.User) error {
	toks, err := s.store.APITokens(r.Context(), u.ID)
	if err != nil {
		return err
	}
	now := s.now()
	for _, t := range toks {
		if !t.Live(now) {
			continue
		}
		ev, _ := s.newAuditEvent(r, u, "", triage.AuditTokenRevoke, "token:"+itoa(t.ID),
			map[string]string{"user": userTarget(u.ID), "via": "oidc", "reason": "no role granted"})
		if _, err := s.store.RevokeAPIToken(r.Context(), u.ID, t.ID, now, ev); err != nil && triage.ErrorCode(err) != triage.ENOTFOUND {
			return err
		}
	}
	return nil
}

// ssoRefuse answers a refused single sign-on: the sign-in page with the
// failure's message, and the failure in the audit log (unless it is
// there already) and the server log. An internal error is answered as
// such.
func (s *server) ssoRefuse(w http.ResponseWriter, r *http.Request, f *ssoFailure) {
	if f.code == triage.EINTERNAL && f.msg == "" {
		s.Error(w, r, f.cause)
		return
	}
	if !f.audited {
		target := ""
		if f.user != nil {
			target = userTarget(f.user.ID)
		}
		_ = s.auditAs(r, f.user, f.email, triage.AuditLoginOIDCFail, target, map[string]string{"reason": f.reason})
	}
	args := []any{"reason", f.reason, "remote", r.RemoteAddr}
	if f.cause != nil {
		args = append(args, "err", f.cause)
	}
	s.log.InfoContext(r.Context(), "single sign-on refused", args...)
	s.loginPage(w, r, errorStatus(f.code), templates.LoginView{Error: f.msg})
}

// passwordSignInAllowed reports whether u may sign in with a password:
// anyone without single sign-on; only admins (break-glass) with it.
func (s *server) passwordSignInAllowed(u *triage.User) bool {
	return s.sso == nil || u.Role == triage.RoleAdmin
}

// loginPage renders the sign-in page v, with the single sign-on button
// when it is configured.
func (s *server) loginPage(w http.ResponseWriter, r *http.Request, status int, v templates.LoginView) {
	v.SSO = s.sso != nil
	s.render(w, r, status, templates.Login(v))
}
