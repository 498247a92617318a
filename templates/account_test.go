package templates_test

import (
	"strings"
	"testing"

	"github.com/secinbox/secinbox/templates"
)

const evil = `<script>alert(1)</script>`

// TestAccountPages_Escape renders the account and admin pages with
// hostile strings wherever a user, a browser or a log entry can put one.
func TestAccountPages_Escape(t *testing.T) {
	nav := templates.StaffNav{Email: "a@example.com", Role: "admin"}
	for name, c := range map[string]component{
		"account": templates.AccountPage(templates.AccountView{Nav: nav, Email: "a@example.com", Notice: evil, Error: evil,
			Sessions: []templates.SessionRow{{ID: 1, UserAgent: evil, LastAddr: evil, FirstAddr: "x", RevokeURL: "/account/sessions/1/revoke"}}}),
		"setup":    templates.TwoFactorSetup(templates.TwoFactorSetupView{Nav: nav, QRURL: "/account/2fa/qr.png", Secret: evil, Error: evil}),
		"codes":    templates.RecoveryCodes(templates.RecoveryCodesView{Nav: nav, Codes: []string{evil}}),
		"users":    templates.AdminUsers(templates.AdminUsersView{Nav: nav, Error: evil, NewEmail: evil, Roles: []string{"viewer"}, Users: []templates.AdminUserRow{{ID: 2, Email: evil, Role: "viewer", RoleURL: "/admin/users/2/role"}}}),
		"audit":    templates.AuditPage(templates.AuditView{Nav: nav, Actor: evil, Error: evil, Rows: []templates.AuditRow{{ID: 1, Actor: evil, Action: "x", Target: evil, Detail: evil, UserAgent: evil, RemoteAddr: evil}}}),
		"login2fa": templates.LoginTwoFactor(templates.LoginTwoFactorView{Error: evil}),
	} {
		out, _ := render(t, c)
		if strings.Contains(out, "<script>") {
			t.Errorf("%s: unescaped script", name)
		}
	}
}

func TestAccountPage(t *testing.T) {
	v := templates.AccountView{Nav: templates.StaffNav{Email: "a@example.com", Role: "viewer"}, CanEnroll: true, MinPassword: 12,
		Sessions: []templates.SessionRow{{ID: 7, Current: true, RevokeURL: "/account/sessions/7/revoke"}, {ID: 8, RevokeURL: "/account/sessions/8/revoke"}}}
	_, doc := render(t, templates.AccountPage(v))
	if n := len(find(doc, "session-row")); n != 2 {
		t.Errorf("%d session rows", n)
	}
	if n := len(find(doc, "session-current")); n != 1 {
		t.Errorf("%d current markers", n)
	}
	if len(find(doc, "twofactor-start")) != 1 || len(find(doc, "twofactor-disable-form")) != 0 {
		t.Error("two-factor off: the set-up button should show, not the off form")
	}
	v.TwoFactor, v.RecoveryLeft = true, 3
	out, doc := render(t, templates.AccountPage(v))
	if len(find(doc, "twofactor-disable-form")) != 1 || !strings.Contains(out, "3 unused recovery codes") {
		t.Error("two-factor on: the off form and the codes left should show")
	}
	// A viewer sees no admin links.
	if len(find(doc, "nav-users")) != 0 || len(find(doc, "nav-account")) != 1 {
		t.Error("nav links for a viewer")
	}
}

func TestAdminUsers_PasswordOnce(t *testing.T) {
	v := templates.AdminUsersView{Nav: templates.StaffNav{Role: "admin"}, Roles: []string{"viewer", "triager", "admin"},
		Users: []templates.AdminUserRow{{ID: 1, Email: "me@example.com", Role: "admin", Self: true}, {ID: 2, Email: "b@example.com", Role: "triager", Disabled: true}}}
	_, doc := render(t, templates.AdminUsers(v))
	if len(find(doc, "new-password")) != 0 {
		t.Error("a password box without a new user")
	}
	if len(find(doc, "user-disable")) != 0 || len(find(doc, "user-enable")) != 1 {
		t.Error("admins cannot disable themselves; the disabled user gets Enable")
	}
	v.NewPassword, v.NewFor = "s3cret-generated", "new@example.com"
	_, doc = render(t, templates.AdminUsers(v))
	if got := find(doc, "new-password-value"); len(got) != 1 || text(got[0]) != "s3cret-generated" {
		t.Error("the generated password is not shown")
	}
}
