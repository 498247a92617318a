package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// Notices on the users page after a change (?done=).
var adminNotices = map[string]string{
	"role":     "The role was changed.",
	"disable":  "The user was disabled and signed out everywhere.",
	"enable":   "The user may sign in again.",
	"reset2fa": "Two-factor sign-in was reset: the user signs in with the password alone and may enrol again.",
}

// adminUsers lists the staff with forms to add one, change a role,
// disable or enable, and reset two-factor sign-in.
func (s *server) adminUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, templates.AdminUsersView{Notice: adminNotices[r.URL.Query().Get("done")]})
}

func (s *server) renderUsers(w http.ResponseWriter, r *http.Request, status int, v templates.AdminUsersView) {
	me := userFrom(r.Context())
	users, err := s.store.Users(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v.Nav = staffNav(me)
	v.Roles = []string{string(triage.RoleViewer), string(triage.RoleTriager), string(triage.RoleAdmin)}
	for _, u := range users {
		base := "/admin/users/" + itoa(u.ID)
		v.Users = append(v.Users, templates.AdminUserRow{
			ID:         u.ID,
			Email:      u.Email,
			Role:       string(u.Role),
			Created:    formatTime(u.CreatedAt),
			TwoFactor:  u.TwoFactor,
			Disabled:   u.Disabled(),
			Self:       u.ID == me.ID,
			RoleURL:    base + "/role",
			DisableURL: base + "/disable",
			EnableURL:  base + "/enable",
			Reset2FA:   base + "/reset-2fa",
		})
	}
	s.render(w, r, status, templates.AdminUsers(v))
}

// adminUserCreate adds a staff member with a generated password, shown
// once to the admin, who hands it over; the new user changes it.
func (s *server) adminUserCreate(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	fail := func(msg string) {
		s.renderUsers(w, r, http.StatusUnprocessableEntity, templates.AdminUsersView{Error: msg, NewEmail: truncate(email, 254)})
	}
	if _, err := triage.ValidStaffEmail(email); err != nil {
		fail("That is not an email address (like alice@example.com).")
		return
	}
	role, err := triage.ParseRole(r.PostForm.Get("role"))
	if err != nil {
		fail(triage.ErrorMessage(err))
		return
	}
	password := newPassword()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.acct.passwordCost)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	u := &triage.User{Email: email, Role: role, PasswordHash: hash}
	ev := s.auditEvent(r, triage.AuditUserCreate, "", map[string]string{"email": strings.ToLower(email), "role": string(role)})
	if err := s.store.CreateUserAudited(r.Context(), u, ev); err != nil {
		if triage.ErrorCode(err) == triage.ECONFLICT {
			fail(triage.ErrorMessage(err))
			return
		}
		s.Error(w, r, err)
		return
	}
	s.renderUsers(w, r, http.StatusOK, templates.AdminUsersView{
		Notice:      "Added " + u.Email + " as " + string(u.Role) + ".",
		NewPassword: password,
		NewFor:      u.Email,
	})
}

// newPassword is a generated password: 18 random bytes, 24 characters.
func newPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// targetUser returns the user named by the {uid} path value.
func (s *server) targetUser(r *http.Request) (*triage.User, error) {
	id, err := pathID(r, "uid")
	if err != nil {
		return nil, err
	}
	return s.store.UserByID(r.Context(), id)
}

// adminUserRole changes a user's role. The last active admin keeps theirs.
func (s *server) adminUserRole(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	u, err := s.targetUser(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	role, err := triage.ParseRole(r.PostForm.Get("role"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if role == u.Role {
		http.Redirect(w, r, "/admin/users?done=role", http.StatusSeeOther)
		return
	}
	ev := s.auditEvent(r, triage.AuditUserRole, userTarget(u.ID), map[string]string{"from": string(u.Role), "to": string(role)})
	if err := s.store.SetUserRole(r.Context(), u.ID, role, ev); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/users?done=role", http.StatusSeeOther)
}

// adminUserDisable disables a user: no sign-in, no tokens, sessions
// ended. Admins cannot disable themselves, nor the last active admin.
func (s *server) adminUserDisable(w http.ResponseWriter, r *http.Request) {
	u, err := s.targetUser(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if u.ID == userFrom(r.Context()).ID {
		s.Error(w, r, triage.Errorf(triage.ECONFLICT, "you cannot disable yourself"))
		return
	}
	ev := s.auditEvent(r, triage.AuditUserDisable, userTarget(u.ID), nil)
	if err := s.store.SetUserDisabled(r.Context(), u.ID, s.now(), ev); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/users?done=disable", http.StatusSeeOther)
}

// adminUserEnable lets a disabled user sign in again.
func (s *server) adminUserEnable(w http.ResponseWriter, r *http.Request) {
	u, err := s.targetUser(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ev := s.auditEvent(r, triage.AuditUserEnable, userTarget(u.ID), nil)
	if err := s.store.SetUserDisabled(r.Context(), u.ID, time.Time{}, ev); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/users?done=enable", http.StatusSeeOther)
}

// adminUserResetTwoFactor turns a user's two-factor sign-in off (a lost
// phone): they sign in with their password and may enrol again.
func (s *server) adminUserResetTwoFactor(w http.ResponseWriter, r *http.Request) {
	u, err := s.targetUser(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ev := s.auditEvent(r, triage.AuditTwoFactorReset, userTarget(u.ID), nil)
	if err := s.store.DisableTwoFactor(r.Context(), u.ID, ev); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/users?done=reset2fa", http.StatusSeeOther)
}
