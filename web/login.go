package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// maxFormBytes bounds the body of the login form.
const maxFormBytes = 64 << 10

// loginFailed is the one message for every failed sign-in, so that it
// reveals nothing about which staff addresses exist.
const loginFailed = "Wrong email or password."

// ssoOnly refuses a right password of someone who must use single sign-on.
const ssoOnly = "Please use “Sign in with SSO”: while single sign-on is on, only admins may sign in with a password."

// dummyHashes holds, per bcrypt cost, a func returning the hash compared
// against when the email is unknown (see dummyHash); each is computed
// once per process.
var dummyHashes sync.Map // int -> func() []byte

// dummyHash is compared against when the email is unknown, so that a
// failed sign-in takes as long whether or not the user exists: it has
// the cost the site hashes staff passwords at (accounts.passwordCost,
// triage.PasswordCost unless a test lowers it).
func dummyHash(cost int) []byte {
	f, ok := dummyHashes.Load(cost)
	if !ok {
		f, _ = dummyHashes.LoadOrStore(cost, sync.OnceValue(func() []byte {
			h, err := bcrypt.GenerateFromPassword([]byte("secinbox timing equalizer"), cost)
			if err != nil {
				panic(err) // only fails for passwords longer than 72 bytes
			}
			return h
		}))
	}
	return f.(func() []byte)()
}

// loginForm shows the sign-in form, or sends signed-in staff to the board.
func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, _, err := s.sessionUser(r); err == nil {
		http.Redirect(w, r, "/board", http.StatusSeeOther)
		return
	}
	v := templates.LoginView{}
	if r.URL.Query().Get("expired") != "" {
		v.Error = "Your sign-in took too long. Please sign in again."
	}
	s.loginPage(w, r, http.StatusOK, v)
}

// login checks the email and password. Without two-factor sign-in it
// starts a session; with it, it sets the short-lived pending cookie and
// sends the browser to the code form.
//
// Rate limits (ratelimit.go): every attempt counts against the client's
// address, every failure against the address and the email tried, and
// against the email alone (known or not, so that the answer tells
// nothing about which addresses exist) — unless the browser is a known
// device of that email, which only counts against itself. Failures are
// audited.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.parseForm(w, r) {
		return
	}
	email := truncate(strings.TrimSpace(r.PostForm.Get("email")), 254)
	password := r.PostForm.Get("password")
	now := s.now()
	lim := s.acct.limits
	a := attempt{addr: ipKey(r), account: accountLimitKey(email), device: s.knownDevice(r, email, now), signIn: true}
	if wait := lim.passwordWait(a, now); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}

	user, err := s.checkPassword(r, email, password)
	if err == nil && user.Disabled() {
		err = triage.Errorf(triage.EUNAUTHORIZED, loginFailed)
	}
	if err != nil {
		if triage.ErrorCode(err) != triage.EUNAUTHORIZED {
			s.Error(w, r, err)
			return
		}
		lim.passwordFailed(a, now)
		reason := "wrong email or password"
		if user != nil && user.Disabled() {
			reason = "account disabled"
		}
		target := ""
		if user != nil {
			target = userTarget(user.ID)
		}
		// The actor is whoever typed: the email tried, not the account.
		_ = s.auditAs(r, nil, email, triage.AuditLoginFailure, target, map[string]string{"reason": reason})
		s.log.InfoContext(r.Context(), "sign-in failed", "remote", r.RemoteAddr)
		s.loginPage(w, r, http.StatusOK, templates.LoginView{Email: email, Error: loginFailed})
		return
	}
	if !s.passwordSignInAllowed(user) {
		// The password was right: saying so tells its owner nothing new.
		_ = s.auditAs(r, user, "", triage.AuditLoginFailure, userTarget(user.ID),
			map[string]string{"reason": "password sign-in is for admins only while single sign-on is on"})
		s.loginPage(w, r, http.StatusForbidden, templates.LoginView{Email: email, Error: ssoOnly})
		return
	}

	if user.TwoFactor {
		token := newSessionID()
		c := &triage.LoginChallenge{
			TokenHash:  tokenHash(token),
			UserID:     user.ID,
			CreatedAt:  now.UTC(),
			ExpiresAt:  now.UTC().Add(triage.LoginChallengeLifetime),
			RemoteAddr: clientIP(r),
			UserAgent:  truncate(r.UserAgent(), 256),
		}
		if err := s.store.CreateLoginChallenge(r.Context(), c); err != nil {
			s.Error(w, r, err)
			return
		}
		http.SetCookie(w, s.pendingCookie(token, int(triage.LoginChallengeLifetime.Seconds())))
		http.Redirect(w, r, "/login/2fa", http.StatusSeeOther)
		return
	}
	s.startSession(w, r, user, triage.AuditLoginSuccess)
}

// startSession signs user in: any session the browser presented is
// deleted (rotation), a new one is stored and its cookie set, and the
// sign-in is audited as action.
func (s *server) startSession(w http.ResponseWriter, r *http.Request, user *triage.User, action string) {
	if c, err := r.Cookie(s.cookieName); err == nil && c.Value != "" && len(c.Value) <= maxTokenLen {
		if err := s.store.DeleteSession(r.Context(), tokenHash(c.Value)); err != nil && triage.ErrorCode(err) != triage.ENOTFOUND {
			s.Error(w, r, err)
			return
		}
	}
	id := newSessionID()
	now := s.now().UTC()
	ses := &triage.Session{
		TokenHash:  tokenHash(id),
		UserID:     user.ID,
		CreatedAt:  now,
		ExpiresAt:  now.Add(triage.SessionLifetime),
		RemoteAddr: clientIP(r),
		UserAgent:  truncate(r.UserAgent(), 256),
	}
	if err := s.store.CreateSession(r.Context(), ses); err != nil {
		s.Error(w, r, err)
		return
	}
	_ = s.auditAs(r, user, "", action, userTarget(user.ID), map[string]int64{"session": ses.ID})
	http.SetCookie(w, s.sessionCookie(id, int(triage.SessionLifetime.Seconds())))
	s.setDeviceCookie(w, user.Email, now)
	s.log.InfoContext(r.Context(), "signed in", "user_id", user.ID, "remote", r.RemoteAddr)
	http.Redirect(w, r, "/board", http.StatusSeeOther)
}

// pendingChallenge returns the sign-in waiting for its second factor that
// r's pending cookie names, and its user. A missing, unknown or expired
// one is ENOTFOUND.
func (s *server) pendingChallenge(r *http.Request) (*triage.LoginChallenge, *triage.User, error) {
	c, err := r.Cookie(s.acct.pendingCookie)
	if err != nil || c.Value == "" || len(c.Value) > maxTokenLen {
		return nil, nil, triage.Errorf(triage.ENOTFOUND, "no sign-in in progress")
	}
	ch, err := s.store.LoginChallenge(r.Context(), tokenHash(c.Value), s.now())
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.UserByID(r.Context(), ch.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled() || !u.TwoFactor || !s.passwordSignInAllowed(u) {
		return nil, nil, triage.Errorf(triage.ENOTFOUND, "no sign-in in progress")
	}
	return ch, u, nil
}

// pendingGone answers a request whose pending sign-in is missing or
// expired (err ENOTFOUND) by sending the browser back to the password
// form; any other error is answered as such.
func (s *server) pendingGone(w http.ResponseWriter, r *http.Request, err error) {
	if triage.ErrorCode(err) != triage.ENOTFOUND {
		s.Error(w, r, err)
		return
	}
	http.SetCookie(w, s.pendingCookie("", -1))
	http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
}

// loginTwoFactorForm asks for the code after a right password.
func (s *server) loginTwoFactorForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, _, err := s.pendingChallenge(r); err != nil {
		s.pendingGone(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.LoginTwoFactor(templates.LoginTwoFactorView{}))
}

// loginTwoFactor checks the code (TOTP or recovery) of a pending sign-in
// and starts the session. Wrong codes count against the sign-in (it ends
// after triage.MaxChallengeFailures) and against the two-factor limits
// as passwords do at login: per address and user, and per user unless
// the browser is a known device of the user. They are audited.
func (s *server) loginTwoFactor(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.parseForm(w, r) {
		return
	}
	now := s.now()
	lim := s.acct.limits
	ch, user, err := s.pendingChallenge(r)
	if err != nil {
		s.pendingGone(w, r, err)
		return
	}
	a := attempt{addr: ipKey(r), account: codeLimitKey(user.ID), device: s.knownDevice(r, user.Email, now), signIn: true}
	if wait := lim.codeWait(a, now); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}
	action, err := s.checkSecondFactor(r, user, r.PostForm.Get("code"))
	if err != nil {
		code := triage.ErrorCode(err)
		if code != triage.EUNAUTHORIZED && code != triage.ECONFLICT {
			s.Error(w, r, err)
			return
		}
		lim.codeFailed(a, now)
		_ = s.auditAs(r, user, "", triage.AuditTwoFactorFail, userTarget(user.ID), map[string]string{"reason": triage.ErrorMessage(err)})
		n, ferr := s.store.FailLoginChallenge(r.Context(), ch.TokenHash)
		if ferr != nil && triage.ErrorCode(ferr) != triage.ENOTFOUND {
			s.Error(w, r, ferr)
			return
		}
		if n >= triage.MaxChallengeFailures || ferr != nil {
			http.SetCookie(w, s.pendingCookie("", -1))
			s.loginPage(w, r, http.StatusOK, templates.LoginView{Error: "Too many wrong codes. Please sign in again."})
			return
		}
		s.render(w, r, http.StatusOK, templates.LoginTwoFactor(templates.LoginTwoFactorView{Error: triage.ErrorMessage(err)}))
		return
	}
	if err := s.store.DeleteLoginChallenge(r.Context(), ch.TokenHash); err != nil {
		s.Error(w, r, err)
		return
	}
	http.SetCookie(w, s.pendingCookie("", -1))
	s.startSession(w, r, user, action)
}

// checkPassword returns the user with email if password is theirs, and
// an EUNAUTHORIZED error otherwise (with the user when the email was
// known, for the audit log). It always runs one bcrypt comparison.
func (s *server) checkPassword(r *http.Request, email, password string) (*triage.User, error) {
	user, err := s.store.UserByEmail(r.Context(), email)
	if email == "" || triage.ErrorCode(err) == triage.ENOTFOUND {
		_ = bcrypt.CompareHashAndPassword(dummyHash(s.acct.passwordCost), []byte(password))
		return nil, triage.Errorf(triage.EUNAUTHORIZED, loginFailed)
	} else if err != nil {
		return nil, err
	}
	if len(user.PasswordHash) == 0 { // made by single sign-on: no password is right
		_ = bcrypt.CompareHashAndPassword(dummyHash(s.acct.passwordCost), []byte(password))
		return user, triage.Errorf(triage.EUNAUTHORIZED, loginFailed)
	}
	if bcrypt.CompareHashAndPassword(user.PasswordHash, []byte(password)) != nil {
		return user, triage.Errorf(triage.EUNAUTHORIZED, loginFailed)
	}
	return user, nil
}

// logout ends the current session and clears the cookie.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if hash, ok := r.Context().Value(sessionHashKey).([]byte); ok {
		if err := s.store.DeleteSession(r.Context(), hash); err != nil && triage.ErrorCode(err) != triage.ENOTFOUND {
			s.Error(w, r, err)
			return
		}
		_ = s.audit(r, triage.AuditLogout, userTarget(userFrom(r.Context()).ID), nil)
	}
	http.SetCookie(w, s.sessionCookie("", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// pendingCookie is the cookie of a sign-in waiting for its second factor;
// maxAge < 0 deletes it. SameSite=Strict: it is only ever needed by our
// own form.
func (s *server) pendingCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     s.acct.pendingCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteStrictMode,
	}
}

// sessionCookie is the session cookie carrying value; maxAge < 0 deletes it.
func (s *server) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     s.cookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// newSessionID returns 32 random bytes, base64url encoded.
func newSessionID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}
