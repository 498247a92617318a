package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// APITokenPrefix marks secinbox API tokens so that secret scanners can
// find them.
const APITokenPrefix = "secinbox_"

// NewAPIToken returns a new bearer token (APITokenPrefix and 32 random
// bytes, base64url) and the hash it is stored under.
func NewAPIToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	token = APITokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token)
}

// tokenLifetimes are the expiries the account page offers, in days; the
// CLI takes any up to triage.MaxAPITokenLifetime.
var tokenLifetimes = []int{7, 30, 90, 180, 365}

// maxTokenName bounds a token's label.
const maxTokenName = 64

// tokenState is how a token's state reads on the account page and in
// the CLI: active, expired or revoked.
func tokenState(t *triage.APIToken, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// lastUsed is t's last use, counting one not yet written.
func (s *server) lastUsed(t *triage.APIToken) time.Time {
	if use, ok := s.uses.pendingToken(t.ID); ok && use.At.After(t.LastUsedAt) {
		return use.At
	}
	return t.LastUsedAt
}

func tokenURL(id int64) string { return "/account/tokens/" + itoa(id) }

// accountTokenCreate makes an API token for the signed-in user, acting
// with their role, and shows it once. Form: name, expires_days (one of
// tokenLifetimes; 90 by default).
func (s *server) accountTokenCreate(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := userFrom(r.Context())
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" {
		name = "api"
	}
	if len(name) > maxTokenName || strings.ContainsFunc(name, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		s.renderAccount(w, r, http.StatusUnprocessableEntity, "", "Token name: at most 64 characters, on one line. No token was made.")
		return
	}
	days := int(triage.APITokenLifetime / (24 * time.Hour))
	if v := r.PostForm.Get("expires_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || time.Duration(n)*24*time.Hour > triage.MaxAPITokenLifetime {
			s.renderAccount(w, r, http.StatusUnprocessableEntity, "", "Expires in: choose a number of days from the list. No token was made.")
			return
		}
		days = n
	}
	token, hash := NewAPIToken()
	t := &triage.APIToken{UserID: u.ID, Name: name, TokenHash: hash, ExpiresAt: s.now().UTC().Add(time.Duration(days) * 24 * time.Hour)}
	ev := s.auditEvent(r, triage.AuditTokenCreate, userTarget(u.ID), map[string]any{"name": name, "expires": formatRFC3339(t.ExpiresAt)})
	if err := s.store.CreateAPITokenAudited(r.Context(), t, ev); err != nil {
		s.Error(w, r, err)
		return
	}
	s.renderAccountWith(w, r, http.StatusOK, accountExtra{newToken: token, newTokenName: name})
}

// accountTokenRevoke revokes one of the signed-in user's API tokens: it
// is refused (401) from then on.
func (s *server) accountTokenRevoke(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	id, err := pathID(r, "tid")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ev := s.auditEvent(r, triage.AuditTokenRevoke, "token:"+itoa(id), map[string]string{"user": userTarget(u.ID)})
	if _, err := s.store.RevokeAPIToken(r.Context(), u.ID, id, s.now(), ev); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=token", http.StatusSeeOther)
}
