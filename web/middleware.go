package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// contentSecurityPolicy allows only our own origin: no inline script or
// style, no plugins, no <base>, no framing, forms only to ourselves.
const contentSecurityPolicy = "default-src 'self'; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self'"

// securityHeaders sets the headers every response carries.
func (s *server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.secure || viaHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionHashKey
	sessionIDKey
)

// userFrom returns the authenticated user of r; nil on public routes.
func userFrom(ctx context.Context) *triage.User {
	u, _ := ctx.Value(userKey).(*triage.User)
	return u
}

// tokenHash is how session ids and API tokens are stored: SHA-256 of the
// string as presented.
func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// maxTokenLen bounds the cookie and bearer values we bother hashing.
const maxTokenLen = 256

// bearerRoutes are the non-API routes that also take an API bearer
// token instead of a session: Prometheus scrapes /metrics with one.
var bearerRoutes = map[string]bool{"GET /metrics": true}

// authorize enforces rt.Role before h runs. Anonymous HTML requests are
// redirected to /login; anonymous API requests get 401 with
// WWW-Authenticate; a user whose role is too low gets 403. A disabled
// user is anonymous.
func (s *server) authorize(rt Route, h http.Handler) http.Handler {
	if rt.Role == "" {
		return h
	}
	bearerToo := bearerRoutes[rt.Method+" "+rt.Pattern]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var (
			user *triage.User
			ses  *triage.Session
			err  error
		)
		if rt.API || bearerToo && r.Header.Get("Authorization") != "" {
			user, err = s.bearerUser(r)
		} else {
			user, ses, err = s.sessionUser(r)
		}
		if err != nil {
			var limited *limitedError
			if errors.As(err, &limited) {
				s.tooMany(w, r, limited.wait)
				return
			}
			if !rt.API && !bearerToo && triage.ErrorCode(err) == triage.EUNAUTHORIZED {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			if bearerToo && triage.ErrorCode(err) == triage.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="secinbox"`)
			}
			s.Error(w, r, err)
			return
		}
		if !user.Role.Can(rt.Role) {
			s.Error(w, r, triage.Errorf(triage.EFORBIDDEN, "your role may not do this"))
			return
		}
		ctx := context.WithValue(r.Context(), userKey, user)
		if ses != nil {
			ctx = context.WithValue(ctx, sessionHashKey, ses.TokenHash)
			ctx = context.WithValue(ctx, sessionIDKey, ses.ID)
			s.uses.SessionUsed(ses.ID, s.now(), clientIP(r))
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

var errNotSignedIn = triage.Errorf(triage.EUNAUTHORIZED, "sign in first")

// sessionUser returns the user of the request's session cookie and the
// session. A missing, unknown or expired session, or a disabled user, is
// EUNAUTHORIZED.
func (s *server) sessionUser(r *http.Request) (*triage.User, *triage.Session, error) {
	c, err := r.Cookie(s.cookieName)
	if err != nil || c.Value == "" || len(c.Value) > maxTokenLen {
		return nil, nil, errNotSignedIn
	}
	ses, err := s.store.SessionByTokenHash(r.Context(), tokenHash(c.Value), s.now())
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		return nil, nil, errNotSignedIn
	} else if err != nil {
		return nil, nil, err
	}
	user, err := s.store.UserByID(r.Context(), ses.UserID)
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		return nil, nil, errNotSignedIn
	} else if err != nil {
		return nil, nil, err
	}
	if user.Disabled() {
		return nil, nil, errNotSignedIn
	}
	return user, ses, nil
}

// bearerUser returns the user of the request's API token. A missing,
// unknown, expired or revoked token, or one of a disabled user, is
// EUNAUTHORIZED. A wrong token counts against the client address's
// limit; past it every token from there is refused with a *limitedError
// for a while. The token's use is only noted in memory (s.uses): a read
// through the API writes nothing.
func (s *server) bearerUser(r *http.Request) (*triage.User, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > maxTokenLen {
		return nil, triage.Errorf(triage.EUNAUTHORIZED, "missing or malformed bearer token")
	}
	now, key := s.now(), ipKey(r)
	if wait := s.acct.limits.apiAuth.wait(key, now); wait > 0 {
		return nil, &limitedError{wait}
	}
	tok, user, err := s.store.APITokenByHash(r.Context(), tokenHash(token), now)
	if err == nil && user.Disabled() {
		err = triage.Errorf(triage.ENOTFOUND, "disabled user")
	}
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		s.acct.limits.apiAuth.take(key, now)
		_ = s.auditAs(r, nil, "", triage.AuditAPIAuthFailure, "", map[string]string{"path": truncate(r.URL.Path, 128)})
		return nil, triage.Errorf(triage.EUNAUTHORIZED, "invalid bearer token")
	} else if err != nil {
		return nil, err
	}
	s.uses.TokenUsed(tok.ID, now, clientIP(r))
	return user, nil
}

// sameOrigin reports whether r may be a request from one of our own
// pages, or one the user made themselves (typed, bookmarked, opened from
// a mail program): Sec-Fetch-Site same-origin or none. Another site's
// (cross-site, or same-site: a sibling subdomain may be anyone's) is
// refused. Without Sec-Fetch-Site (browsers before 2023, non-browser
// clients) an Origin or Referer of another origin is refused, and a
// request with neither is let through as net/http's
// CrossOriginProtection does: no browser made it for another site.
func (s *server) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	for _, h := range []string{"Origin", "Referer"} {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return false
		}
		return u.Host == r.Host || u.Scheme+"://"+u.Host == s.publicURL
	}
	return true
}

// sameOriginOnly wraps a GET handler that writes to the audit log (a
// view of decrypted content, a download, an export): a request another
// site made (a link, an <img>, a prefetch) writes nothing and gets a page
// with a link that opens it from here. A top-level GET carries the
// session cookie (SameSite=Lax), so without this another site could make
// the log say a staff member downloaded something they never saw.
func sameOriginOnly(h func(*server, http.ResponseWriter, *http.Request)) func(*server, http.ResponseWriter, *http.Request) {
	return func(s *server, w http.ResponseWriter, r *http.Request) {
		if s.sameOrigin(r) {
			h(s, w, r)
			return
		}
		s.log.InfoContext(r.Context(), "cross-site request for an audited page refused", "path", logPath(r),
			"sec_fetch_site", truncate(r.Header.Get("Sec-Fetch-Site"), 32))
		s.render(w, r, http.StatusForbidden, templates.CrossSite(templates.CrossSiteView{
			Nav: staffNav(userFrom(r.Context())), URL: r.URL.RequestURI(),
		}))
	}
}
