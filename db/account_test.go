package db_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

func mustSession(tb testing.TB, d *db.DB, userID int64, token string) *triage.Session {
	tb.Helper()
	s := &triage.Session{TokenHash: hash(token), UserID: userID, CreatedAt: t0, RemoteAddr: "192.0.2.9", UserAgent: "UA " + token}
	if err := d.CreateSession(context.Background(), s); err != nil {
		tb.Fatal(err)
	}
	return s
}

func auditActions(tb testing.TB, d *db.DB) []string {
	tb.Helper()
	evs, err := d.AuditEvents(context.Background(), triage.AuditFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action+" "+ev.Target)
	}
	return out
}

func TestUsers_RoleAndDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	admin := mustCreateUser(t, d, "admin@example.com", triage.RoleAdmin)
	tri := mustCreateUser(t, d, "tri@example.com", triage.RoleTriager)

	t.Run("LastAdmin", func(t *testing.T) {
		wantCode(t, d.SetUserRole(ctx, admin.ID, triage.RoleViewer, nil), triage.ECONFLICT)
		wantCode(t, d.SetUserDisabled(ctx, admin.ID, t0, nil), triage.ECONFLICT)
		u, _ := d.UserByID(ctx, admin.ID)
		if u.Role != triage.RoleAdmin || u.Disabled() {
			t.Fatalf("refused change applied: %+v", u)
		}
	})
	t.Run("RoleAudited", func(t *testing.T) {
		ev := &triage.AuditEvent{ActorID: admin.ID, ActorEmail: admin.Email, Action: triage.AuditUserRole, Target: "user:2", Detail: `{"role":"admin"}`}
		if err := d.SetUserRole(ctx, tri.ID, triage.RoleAdmin, ev); err != nil {
			t.Fatal(err)
		}
		if got := auditActions(t, d); len(got) != 1 || got[0] != "user.role user:2" {
			t.Errorf("audit %v", got)
		}
		// Now there are two admins: the first may step down.
		if err := d.SetUserRole(ctx, admin.ID, triage.RoleTriager, nil); err != nil {
			t.Fatal(err)
		}
		wantCode(t, d.SetUserRole(ctx, tri.ID, "root", nil), triage.EINVALID)
		wantCode(t, d.SetUserRole(ctx, 999, triage.RoleViewer, nil), triage.ENOTFOUND)
	})
	t.Run("DisableEndsSessions", func(t *testing.T) {
		mustSession(t, d, admin.ID, "a1")
		mustSession(t, d, tri.ID, "t1")
		if err := d.SetUserDisabled(ctx, admin.ID, t0, nil); err != nil {
			t.Fatal(err)
		}
		u, _ := d.UserByID(ctx, admin.ID)
		if !u.Disabled() || !u.DisabledAt.Equal(t0) {
			t.Fatalf("not disabled: %+v", u)
		}
		_, err := d.SessionByTokenHash(ctx, hash("a1"), t0)
		wantCode(t, err, triage.ENOTFOUND)
		if _, err := d.SessionByTokenHash(ctx, hash("t1"), t0); err != nil {
			t.Fatalf("other user's session gone: %v", err)
		}
		// A disabled admin does not count: tri is the last active admin.
		wantCode(t, d.SetUserDisabled(ctx, tri.ID, t0, nil), triage.ECONFLICT)
		if err := d.SetUserDisabled(ctx, admin.ID, time.Time{}, nil); err != nil {
			t.Fatal(err)
		}
		if u, _ := d.UserByID(ctx, admin.ID); u.Disabled() {
			t.Fatal("still disabled")
		}
	})
	t.Run("List", func(t *testing.T) {
		users, err := d.Users(ctx)
		if err != nil || len(users) != 2 || users[0].Email != "admin@example.com" || users[1].Role != triage.RoleAdmin {
			t.Fatalf("%v %+v", err, users)
		}
	})
	t.Run("CreateAudited", func(t *testing.T) {
		u := &triage.User{Email: "New@Example.com", Role: triage.RoleViewer, PasswordHash: []byte("h")}
		ev := &triage.AuditEvent{ActorEmail: triage.ActorCLI, Action: triage.AuditUserCreate}
		if err := d.CreateUserAudited(ctx, u, ev); err != nil {
			t.Fatal(err)
		}
		if ev.Target == "" || ev.ID == 0 {
			t.Errorf("event %+v", ev)
		}
		// A failed create writes no event.
		n := len(auditActions(t, d))
		wantCode(t, d.CreateUserAudited(ctx, &triage.User{Email: "new@example.com", Role: triage.RoleViewer}, &triage.AuditEvent{Action: triage.AuditUserCreate}), triage.ECONFLICT)
		if len(auditActions(t, d)) != n {
			t.Error("failed create was audited")
		}
	})
}

func TestSessions_ListRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	u := mustCreateUser(t, d, "a@example.com", triage.RoleViewer)
	other := mustCreateUser(t, d, "b@example.com", triage.RoleViewer)
	s1 := mustSession(t, d, u.ID, "s1")
	s2 := mustSession(t, d, u.ID, "s2")
	s3 := mustSession(t, d, u.ID, "s3")
	o1 := mustSession(t, d, other.ID, "o1")

	if err := d.TouchSession(ctx, s1.ID, t0.Add(time.Hour), "198.51.100.4"); err != nil {
		t.Fatal(err)
	}
	list, err := d.Sessions(ctx, u.ID, t0)
	if err != nil || len(list) != 3 {
		t.Fatalf("%v %d sessions", err, len(list))
	}
	if list[0].ID != s3.ID || list[2].ID != s1.ID {
		t.Errorf("order: %d %d %d", list[0].ID, list[1].ID, list[2].ID)
	}
	if got := list[2]; got.LastAddr != "198.51.100.4" || !got.LastSeenAt.Equal(t0.Add(time.Hour)) ||
		got.RemoteAddr != "192.0.2.9" || got.UserAgent != "UA s1" {
		t.Errorf("touched session: %+v", got)
	}

	// Another user's session id is not found, and stays.
	wantCode(t, d.RevokeSession(ctx, u.ID, o1.ID, nil), triage.ENOTFOUND)
	if err := d.RevokeSession(ctx, u.ID, s2.ID, &triage.AuditEvent{Action: triage.AuditSessionRevoke}); err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeOtherSessions(ctx, u.ID, s3.TokenHash, nil); err != nil {
		t.Fatal(err)
	}
	list, _ = d.Sessions(ctx, u.ID, t0)
	if len(list) != 1 || list[0].ID != s3.ID {
		t.Fatalf("left %+v", list)
	}
	if _, err := d.SessionByTokenHash(ctx, hash("o1"), t0); err != nil {
		t.Fatalf("other user's session revoked: %v", err)
	}

	t.Run("SetPassword", func(t *testing.T) {
		mustSession(t, d, u.ID, "s4")
		if err := d.SetPassword(ctx, u.ID, []byte("newhash"), t0, s3.TokenHash, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := d.UserByID(ctx, u.ID)
		if !bytes.Equal(got.PasswordHash, []byte("newhash")) || !got.PasswordChangedAt.Equal(t0) {
			t.Errorf("user %+v", got)
		}
		if list, _ := d.Sessions(ctx, u.ID, t0); len(list) != 1 || list[0].ID != s3.ID {
			t.Errorf("sessions after change: %+v", list)
		}
		wantCode(t, d.SetPassword(ctx, 999, []byte("x"), t0, nil, nil), triage.ENOTFOUND)
	})
}

func TestTwoFactor_Store(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	u := mustCreateUser(t, d, "a@example.com", triage.RoleViewer)

	tf, err := d.TwoFactor(ctx, u.ID)
	if err != nil || tf.Enabled() || tf.Sealed != nil {
		t.Fatalf("new user: %v %+v", err, tf)
	}
	if err := d.StartTwoFactor(ctx, u.ID, []byte("sealed-1")); err != nil {
		t.Fatal(err)
	}
	if err := d.StartTwoFactor(ctx, u.ID, []byte("sealed-2")); err != nil {
		t.Fatal(err)
	}
	// Confirming with the secret shown earlier (replaced since) fails.
	codes := [][]byte{hash("c1"), hash("c2")}
	wantCode(t, d.EnableTwoFactor(ctx, u.ID, []byte("sealed-1"), 100, t0, codes, nil), triage.ECONFLICT)
	if err := d.EnableTwoFactor(ctx, u.ID, []byte("sealed-2"), 100, t0, codes, nil); err != nil {
		t.Fatal(err)
	}
	tf, _ = d.TwoFactor(ctx, u.ID)
	if !tf.Enabled() || tf.LastStep != 100 || tf.RecoveryLeft != 2 || string(tf.Sealed) != "sealed-2" {
		t.Fatalf("enabled: %+v", tf)
	}
	if got, _ := d.UserByID(ctx, u.ID); !got.TwoFactor {
		t.Error("User.TwoFactor false")
	}
	wantCode(t, d.StartTwoFactor(ctx, u.ID, []byte("x")), triage.ECONFLICT)

	t.Run("Replay", func(t *testing.T) {
		wantCode(t, d.UseTOTPStep(ctx, u.ID, 100), triage.ECONFLICT)
		wantCode(t, d.UseTOTPStep(ctx, u.ID, 99), triage.ECONFLICT)
		if err := d.UseTOTPStep(ctx, u.ID, 101); err != nil {
			t.Fatal(err)
		}
		wantCode(t, d.UseTOTPStep(ctx, u.ID, 101), triage.ECONFLICT)
	})
	t.Run("RecoveryCodes", func(t *testing.T) {
		if err := d.UseRecoveryCode(ctx, u.ID, hash("c1"), t0); err != nil {
			t.Fatal(err)
		}
		wantCode(t, d.UseRecoveryCode(ctx, u.ID, hash("c1"), t0), triage.ENOTFOUND)
		wantCode(t, d.UseRecoveryCode(ctx, u.ID, hash("nope"), t0), triage.ENOTFOUND)
		if tf, _ := d.TwoFactor(ctx, u.ID); tf.RecoveryLeft != 1 {
			t.Errorf("left %d", tf.RecoveryLeft)
		}
	})
	t.Run("Disable", func(t *testing.T) {
		if err := d.DisableTwoFactor(ctx, u.ID, nil); err != nil {
			t.Fatal(err)
		}
		tf, _ := d.TwoFactor(ctx, u.ID)
		if tf.Enabled() || tf.Sealed != nil || tf.RecoveryLeft != 0 {
			t.Errorf("after disable: %+v", tf)
		}
		wantCode(t, d.UseRecoveryCode(ctx, u.ID, hash("c2"), t0), triage.ENOTFOUND)
		wantCode(t, d.UseTOTPStep(ctx, u.ID, 500), triage.ECONFLICT)
		wantCode(t, d.DisableTwoFactor(ctx, 999, nil), triage.ENOTFOUND)
	})
}

func TestLoginChallenge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	u := mustCreateUser(t, d, "a@example.com", triage.RoleViewer)
	c := &triage.LoginChallenge{TokenHash: hash("p1"), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute), RemoteAddr: "192.0.2.1"}
	if err := d.CreateLoginChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoginChallenge(ctx, hash("p1"), t0)
	if err != nil || got.UserID != u.ID || got.RemoteAddr != "192.0.2.1" {
		t.Fatalf("%v %+v", err, got)
	}
	_, err = d.LoginChallenge(ctx, hash("p1"), t0.Add(5*time.Minute))
	wantCode(t, err, triage.ENOTFOUND)

	for i := 1; i <= triage.MaxChallengeFailures; i++ {
		n, err := d.FailLoginChallenge(ctx, hash("p1"))
		if err != nil || n != i {
			t.Fatalf("failure %d: n=%d %v", i, n, err)
		}
	}
	_, err = d.LoginChallenge(ctx, hash("p1"), t0)
	wantCode(t, err, triage.ENOTFOUND)
	_, err = d.FailLoginChallenge(ctx, hash("p1"))
	wantCode(t, err, triage.ENOTFOUND)

	// Expired challenges go with expired sessions.
	c2 := &triage.LoginChallenge{TokenHash: hash("p2"), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := d.CreateLoginChallenge(ctx, c2); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DeleteExpiredSessions(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = d.LoginChallenge(ctx, hash("p2"), t0)
	wantCode(t, err, triage.ENOTFOUND)
}

func TestStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	mustCreateUser(t, d, "a@example.com", triage.RoleAdmin)
	v := mustCreateUser(t, d, "v@example.com", triage.RoleViewer)
	mustCreateUser(t, d, "v2@example.com", triage.RoleViewer)
	mustSession(t, d, v.ID, "s1")
	for _, a := range []string{triage.AuditLoginFailure, triage.AuditLoginFailure, triage.AuditLoginSuccess} {
		if err := d.AddAudit(ctx, &triage.AuditEvent{Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	raw := &triage.RawMessage{MailFrom: "r@example.org", Recipients: []string{"security@localhost"}, ReceivedAt: t0, Data: []byte("x")}
	if err := d.AddRawMessage(ctx, raw); err != nil {
		t.Fatal(err)
	}
	st, err := d.Stats(ctx, t0, []string{triage.AuditLoginFailure, triage.AuditTwoFactorFail})
	if err != nil {
		t.Fatal(err)
	}
	if st.UsersByRole[triage.RoleViewer] != 2 || st.UsersByRole[triage.RoleAdmin] != 1 || st.SessionsLive != 1 ||
		st.MessagesTotal != 1 || st.MessagesPending != 1 || st.ReportsTotal != 0 || st.AuditEventsTotal != 3 {
		t.Errorf("stats %+v", st)
	}
	if st.AuditByAction[triage.AuditLoginFailure] != 2 {
		t.Errorf("login failures %d", st.AuditByAction[triage.AuditLoginFailure])
	}
	if n, ok := st.AuditByAction[triage.AuditTwoFactorFail]; !ok || n != 0 {
		t.Errorf("2fa failures %d %v", n, ok)
	}
}
