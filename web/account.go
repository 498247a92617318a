package web

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// accounts is the server's state for signing in: rate limiters, the
// sealer of two-factor secrets, counters for /metrics.
type accounts struct {
	limits        *limiters
	sealer        *sealer // nil without a server secret: no two-factor enrolment
	pendingCookie string  // the cookie of a sign-in waiting for its second factor
	deviceCookie  string  // the cookie naming a known device (device.go)
	deviceKey     []byte  // signs device cookies
	passwordCost  int     // bcrypt cost of new passwords
	limited       atomic.Int64
}

func newAccounts(secret []byte, secure bool, passwordCost int) *accounts {
	if passwordCost == 0 {
		passwordCost = triage.PasswordCost
	}
	a := &accounts{limits: newLimiters(), sealer: newSealer(secret), pendingCookie: "secinbox_pending",
		deviceCookie: "secinbox_device", deviceKey: newDeviceKey(secret), passwordCost: passwordCost}
	if secure {
		a.pendingCookie = "__Host-secinbox_pending"
		a.deviceCookie = "__Host-secinbox_device"
	}
	return a
}

// parseForm parses r's form body, bounded to maxFormBytes; on failure it
// answers r and returns false.
func (s *server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return false
		}
		s.Error(w, r, triage.Errorf(triage.EINVALID, "malformed form"))
		return false
	}
	return true
}

// bcryptCheck compares password with a bcrypt hash; nil means it matches.
func bcryptCheck(hash []byte, password string) error {
	return bcrypt.CompareHashAndPassword(hash, []byte(password))
}

// auditEvent is the event s.audit would write, for store methods that
// write it in the same transaction as their change.
func (s *server) auditEvent(r *http.Request, action, target string, detail any) *triage.AuditEvent {
	ev, err := s.newAuditEvent(r, userFrom(r.Context()), "", action, target, detail)
	if err != nil {
		// Only a detail that cannot be JSON-encoded: a programming error.
		s.log.ErrorContext(r.Context(), "audit detail", "action", action, "err", err)
	}
	return ev
}

// Notices shown on the account page after a change; ?done= picks one, so
// nothing the request says is printed.
var accountNotices = map[string]string{
	"password": "Your password was changed. Your other sessions were signed out.",
	"2fa-off":  "Two-factor sign-in is off.",
	"session":  "The session was signed out.",
	"sessions": "Every other session was signed out.",
	"token":    "The API token was revoked.",
}

// account shows the signed-in user's account: password, two-factor
// sign-in and sessions.
func (s *server) account(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, http.StatusOK, accountNotices[r.URL.Query().Get("done")], "")
}

func (s *server) renderAccount(w http.ResponseWriter, r *http.Request, status int, notice, errMsg string) {
	s.renderAccountWith(w, r, status, accountExtra{notice: notice, errMsg: errMsg})
}

// accountExtra is what a change adds to the account page.
type accountExtra struct {
	notice, errMsg         string
	newToken, newTokenName string // a token just made, shown once
}

func (s *server) renderAccountWith(w http.ResponseWriter, r *http.Request, status int, x accountExtra) {
	notice, errMsg := x.notice, x.errMsg
	u := userFrom(r.Context())
	tf, err := s.store.TwoFactor(r.Context(), u.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.now()
	sessions, err := s.store.Sessions(r.Context(), u.ID, now)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	current, _ := r.Context().Value(sessionIDKey).(int64)
	v := templates.AccountView{
		Nav:            staffNav(u),
		Email:          u.Email,
		Role:           string(u.Role),
		Notice:         notice,
		Error:          errMsg,
		TwoFactor:      tf.Enabled(),
		RecoveryLeft:   tf.RecoveryLeft,
		CanEnroll:      s.acct.sealer != nil,
		MinPassword:    triage.MinPasswordLen,
		PasswordChange: formatTime(u.PasswordChangedAt),
		NewToken:       x.newToken,
		NewTokenName:   x.newTokenName,
		TokenDays:      tokenLifetimes,
		DefaultDays:    int(triage.APITokenLifetime / (24 * time.Hour)),
	}
	tokens, err := s.store.APITokens(r.Context(), u.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	for _, t := range tokens {
		state := tokenState(t, now)
		row := templates.TokenRow{
			ID: t.ID, Name: t.Name, Created: formatTime(t.CreatedAt), Expires: formatTime(t.ExpiresAt),
			LastUsed: formatTime(s.lastUsed(t)), State: state,
		}
		if state == "active" {
			row.RevokeURL = tokenURL(t.ID) + "/revoke"
		}
		v.Tokens = append(v.Tokens, row)
	}
	for _, ses := range sessions {
		if use, ok := s.uses.pendingSession(ses.ID); ok && use.At.After(ses.LastSeenAt) {
			ses.LastSeenAt, ses.LastAddr = use.At, use.Addr
		}
		v.Sessions = append(v.Sessions, templates.SessionRow{
			ID:        ses.ID,
			Created:   formatTime(ses.CreatedAt),
			LastSeen:  formatTime(ses.LastSeenAt),
			LastAddr:  ses.LastAddr,
			FirstAddr: ses.RemoteAddr,
			UserAgent: ses.UserAgent,
			Current:   ses.ID == current,
			RevokeURL: sessionURL(ses.ID) + "/revoke",
		})
	}
	s.render(w, r, status, templates.AccountPage(v))
}

func sessionURL(id int64) string { return "/account/sessions/" + itoa(id) }

// accountPassword changes the signed-in user's password. It takes the
// current one, checks the new one against triage.CheckPassword, and signs
// out every other session of theirs.
func (s *server) accountPassword(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u := userFrom(r.Context())
	now := s.now()
	// Wrong current passwords count per address and account, as at
	// sign-in, so that a stolen session cannot guess it without limit.
	a := attempt{addr: ipKey(r), account: accountLimitKey(u.Email)}
	if wait := s.acct.limits.passwordWait(a, now); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}
	current, next := r.PostForm.Get("current"), r.PostForm.Get("new")
	if bcryptCheck(u.PasswordHash, current) != nil {
		s.acct.limits.passwordFailed(a, now)
		_ = s.audit(r, triage.AuditPasswordChange, userTarget(u.ID), map[string]string{"result": "wrong current password"})
		s.renderAccount(w, r, http.StatusUnprocessableEntity, "", "Your current password is wrong. Nothing was changed.")
		return
	}
	if next != r.PostForm.Get("confirm") {
		s.renderAccount(w, r, http.StatusUnprocessableEntity, "", "The new password and its confirmation differ. Nothing was changed.")
		return
	}
	if err := triage.CheckPassword(next, u.Email); err != nil {
		s.renderAccount(w, r, http.StatusUnprocessableEntity, "", triage.ErrorMessage(err)+". Nothing was changed.")
		return
	}
	if next == current {
		s.renderAccount(w, r, http.StatusUnprocessableEntity, "", "The new password is the current one. Nothing was changed.")
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), s.acct.passwordCost)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	keep, _ := r.Context().Value(sessionHashKey).([]byte)
	ev := s.auditEvent(r, triage.AuditPasswordChange, userTarget(u.ID), map[string]string{"result": "changed"})
	if err := s.store.SetPassword(r.Context(), u.ID, hash, now, keep, ev); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
}

// accountSessionRevoke signs out one of the user's own sessions.
func (s *server) accountSessionRevoke(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	id, err := pathID(r, "sid")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ev := s.auditEvent(r, triage.AuditSessionRevoke, "session:"+itoa(id), nil)
	if err := s.store.RevokeSession(r.Context(), u.ID, id, ev); err != nil {
		s.Error(w, r, err)
		return
	}
	if current, _ := r.Context().Value(sessionIDKey).(int64); current == id {
		http.SetCookie(w, s.sessionCookie("", -1))
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account?done=session", http.StatusSeeOther)
}

// accountSessionsRevokeOthers signs out every session of the user but
// this one ("sign out everywhere else").
func (s *server) accountSessionsRevokeOthers(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	keep, _ := r.Context().Value(sessionHashKey).([]byte)
	ev := s.auditEvent(r, triage.AuditSessionsRevoke, userTarget(u.ID), nil)
	if err := s.store.RevokeOtherSessions(r.Context(), u.ID, keep, ev); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=sessions", http.StatusSeeOther)
}
