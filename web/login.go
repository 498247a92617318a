package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
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

// dummyHash is compared against when the email is unknown, so that a
// failed sign-in takes as long whether or not the user exists: it has
// the cost of real staff passwords.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("secinbox timing equalizer"), triage.PasswordCost)
	if err != nil {
		panic(err) // only fails for passwords longer than 72 bytes
	}
	return h
})

// loginForm shows the sign-in form, or sends signed-in staff to the board.
func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, _, err := s.sessionUser(r); err == nil {
		http.Redirect(w, r, "/board", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, templates.Login(templates.LoginView{}))
}

// login checks the email and password and starts a new session. Any
// session the browser presented before is deleted (session rotation).
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		s.Error(w, r, triage.Errorf(triage.EINVALID, "malformed form"))
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")

	user, err := s.checkPassword(r, email, password)
	if err != nil {
		if triage.ErrorCode(err) != triage.EUNAUTHORIZED {
			s.Error(w, r, err)
			return
		}
		s.log.InfoContext(r.Context(), "sign-in failed", "remote", r.RemoteAddr)
		s.render(w, r, http.StatusOK, templates.Login(templates.LoginView{Email: email, Error: loginFailed}))
		return
	}

	// Rotation: whatever session came with the request is over.
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
		RemoteAddr: r.RemoteAddr,
		UserAgent:  truncate(r.UserAgent(), 256),
	}
	if err := s.store.CreateSession(r.Context(), ses); err != nil {
		s.Error(w, r, err)
		return
	}
	http.SetCookie(w, s.sessionCookie(id, int(triage.SessionLifetime.Seconds())))
	s.log.InfoContext(r.Context(), "signed in", "user_id", user.ID, "remote", r.RemoteAddr)
	http.Redirect(w, r, "/board", http.StatusSeeOther)
}

// checkPassword returns the user with email if password is theirs, and
// an EUNAUTHORIZED error otherwise. It always runs one bcrypt comparison.
func (s *server) checkPassword(r *http.Request, email, password string) (*triage.User, error) {
	user, err := s.store.UserByEmail(r.Context(), email)
	if email == "" || triage.ErrorCode(err) == triage.ENOTFOUND {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return nil, triage.Errorf(triage.EUNAUTHORIZED, loginFailed)
	} else if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword(user.PasswordHash, []byte(password)) != nil {
		return nil, triage.Errorf(triage.EUNAUTHORIZED, loginFailed)
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
	}
	http.SetCookie(w, s.sessionCookie("", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
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
