package web

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"

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
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionHashKey
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

// authorize enforces rt.Role before h runs. Anonymous HTML requests are
// redirected to /login; anonymous API requests get 401 with
// WWW-Authenticate; a user whose role is too low gets 403.
func (s *server) authorize(rt Route, h http.Handler) http.Handler {
	if rt.Role == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var (
			user    *triage.User
			sesHash []byte
			err     error
		)
		if rt.API {
			user, err = s.bearerUser(r)
		} else {
			user, sesHash, err = s.sessionUser(r)
		}
		if err != nil {
			if !rt.API && triage.ErrorCode(err) == triage.EUNAUTHORIZED {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			s.Error(w, r, err)
			return
		}
		if !user.Role.Can(rt.Role) {
			s.Error(w, r, triage.Errorf(triage.EFORBIDDEN, "your role may not do this"))
			return
		}
		ctx := context.WithValue(r.Context(), userKey, user)
		if sesHash != nil {
			ctx = context.WithValue(ctx, sessionHashKey, sesHash)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

var errNotSignedIn = triage.Errorf(triage.EUNAUTHORIZED, "sign in first")

// sessionUser returns the user of the request's session cookie and the
// session's hash. A missing, unknown or expired session is EUNAUTHORIZED.
func (s *server) sessionUser(r *http.Request) (*triage.User, []byte, error) {
	c, err := r.Cookie(s.cookieName)
	if err != nil || c.Value == "" || len(c.Value) > maxTokenLen {
		return nil, nil, errNotSignedIn
	}
	hash := tokenHash(c.Value)
	ses, err := s.store.SessionByTokenHash(r.Context(), hash, s.now())
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
	return user, hash, nil
}

// bearerUser returns the user of the request's API token. A missing or
// unknown token is EUNAUTHORIZED.
func (s *server) bearerUser(r *http.Request) (*triage.User, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > maxTokenLen {
		return nil, triage.Errorf(triage.EUNAUTHORIZED, "missing or malformed bearer token")
	}
	user, err := s.store.UserByAPITokenHash(r.Context(), tokenHash(token))
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		return nil, triage.Errorf(triage.EUNAUTHORIZED, "invalid bearer token")
	} else if err != nil {
		return nil, err
	}
	return user, nil
}
