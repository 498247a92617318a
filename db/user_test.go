package db_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

func mustCreateUser(tb testing.TB, d *db.DB, email string, role triage.Role) *triage.User {
	tb.Helper()
	u := &triage.User{Email: email, Role: role, PasswordHash: []byte("$2a$10$hash")}
	if err := d.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)

	u := mustCreateUser(t, d, "Alice@Example.COM", triage.RoleAdmin)
	if u.ID == 0 || !u.CreatedAt.Equal(t0) || u.Email != "alice@example.com" {
		t.Fatalf("created %+v", u)
	}

	for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"} {
		got, err := d.UserByEmail(ctx, email)
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		if got.ID != u.ID || got.Role != triage.RoleAdmin || !bytes.Equal(got.PasswordHash, u.PasswordHash) ||
			!got.CreatedAt.Equal(t0) || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("%s: got %+v", email, got)
		}
	}
	got, err := d.UserByID(ctx, u.ID)
	if err != nil || got.Email != "alice@example.com" {
		t.Fatalf("UserByID: %+v, %v", got, err)
	}

	t.Run("ErrConflict", func(t *testing.T) {
		err := d.CreateUser(ctx, &triage.User{Email: "ALICE@example.com", Role: triage.RoleViewer, PasswordHash: []byte("x")})
		wantCode(t, err, triage.ECONFLICT)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		wantCode(t, d.CreateUser(ctx, &triage.User{Email: "b@example.com", Role: "root"}), triage.EINVALID)
		wantCode(t, d.CreateUser(ctx, &triage.User{Email: " ", Role: triage.RoleViewer}), triage.EINVALID)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.UserByEmail(ctx, "nobody@example.com")
		wantCode(t, err, triage.ENOTFOUND)
		_, err = d.UserByID(ctx, u.ID+1)
		wantCode(t, err, triage.ENOTFOUND)
	})
}

func TestSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	u := mustCreateUser(t, d, "a@example.com", triage.RoleTriager)

	s := &triage.Session{TokenHash: hash("s1"), UserID: u.ID, RemoteAddr: "192.0.2.7", UserAgent: "Firefox"}
	if err := d.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if !s.CreatedAt.Equal(t0) || !s.ExpiresAt.Equal(t0.Add(triage.SessionLifetime)) {
		t.Fatalf("defaults: created %v expires %v", s.CreatedAt, s.ExpiresAt)
	}
	short := &triage.Session{TokenHash: hash("s2"), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := d.CreateSession(ctx, short); err != nil {
		t.Fatal(err)
	}

	got, err := d.SessionByTokenHash(ctx, hash("s1"), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || got.RemoteAddr != "192.0.2.7" || got.UserAgent != "Firefox" ||
		!bytes.Equal(got.TokenHash, hash("s1")) || !got.ExpiresAt.Equal(s.ExpiresAt) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("got %+v", got)
	}

	t.Run("Expiry", func(t *testing.T) {
		if _, err := d.SessionByTokenHash(ctx, hash("s2"), t0.Add(time.Minute-time.Nanosecond)); err != nil {
			t.Fatalf("1ns before expiry: %v", err)
		}
		_, err := d.SessionByTokenHash(ctx, hash("s2"), t0.Add(time.Minute))
		wantCode(t, err, triage.ENOTFOUND)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.SessionByTokenHash(ctx, hash("nope"), t0)
		wantCode(t, err, triage.ENOTFOUND)
		wantCode(t, d.CreateSession(ctx, &triage.Session{TokenHash: hash("s3"), UserID: u.ID + 1}), triage.ENOTFOUND)
	})
	t.Run("ErrConflict", func(t *testing.T) {
		wantCode(t, d.CreateSession(ctx, &triage.Session{TokenHash: hash("s1"), UserID: u.ID}), triage.ECONFLICT)
	})
	t.Run("DeleteExpired", func(t *testing.T) {
		n, err := d.DeleteExpiredSessions(ctx, t0.Add(2*time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("deleted %d, %v; want 1", n, err)
		}
		if _, err := d.SessionByTokenHash(ctx, hash("s1"), t0); err != nil {
			t.Fatalf("live session deleted: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := d.DeleteSession(ctx, hash("s1")); err != nil {
			t.Fatal(err)
		}
		_, err := d.SessionByTokenHash(ctx, hash("s1"), t0)
		wantCode(t, err, triage.ENOTFOUND)
		if err := d.DeleteSession(ctx, hash("s1")); err != nil {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestAPIToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	u := mustCreateUser(t, d, "bot@example.com", triage.RoleViewer)

	tok := &triage.APIToken{UserID: u.ID, Name: "ci", TokenHash: hash("t1")}
	if err := d.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if tok.ID == 0 || !tok.CreatedAt.Equal(t0) || !tok.ExpiresAt.Equal(t0.Add(triage.APITokenLifetime)) {
		t.Fatalf("created %+v", tok)
	}
	got, gotUser, err := d.APITokenByHash(ctx, hash("t1"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if gotUser.ID != u.ID || gotUser.Role != triage.RoleViewer || gotUser.Email != "bot@example.com" {
		t.Fatalf("got user %+v", gotUser)
	}
	if got.ID != tok.ID || got.Name != "ci" || got.UserEmail != "bot@example.com" || !got.ExpiresAt.Equal(tok.ExpiresAt) || !got.LastUsedAt.IsZero() {
		t.Fatalf("got token %+v", got)
	}

	t.Run("Expiry", func(t *testing.T) {
		_, _, err := d.APITokenByHash(ctx, hash("t1"), tok.ExpiresAt)
		wantCode(t, err, triage.ENOTFOUND)
		short := &triage.APIToken{UserID: u.ID, Name: "short", TokenHash: hash("t3"), ExpiresAt: t0.Add(time.Hour)}
		if err := d.CreateAPIToken(ctx, short); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.APITokenByHash(ctx, hash("t3"), t0.Add(59*time.Minute)); err != nil {
			t.Errorf("before its expiry: %v", err)
		}
		_, _, err = d.APITokenByHash(ctx, hash("t3"), t0.Add(time.Hour))
		wantCode(t, err, triage.ENOTFOUND)
		wantCode(t, d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID, TokenHash: hash("t4"), ExpiresAt: t0}), triage.EINVALID)
	})
	t.Run("Revoke", func(t *testing.T) {
		other := mustCreateUser(t, d, "other@example.com", triage.RoleViewer)
		rev := &triage.APIToken{UserID: u.ID, Name: "rev", TokenHash: hash("t5")}
		ev := &triage.AuditEvent{ActorEmail: "cli", Action: triage.AuditTokenCreate, Detail: `{"name":"rev"}`}
		if err := d.CreateAPITokenAudited(ctx, rev, ev); err != nil {
			t.Fatal(err)
		}
		evs, _ := d.AuditEvents(ctx, triage.AuditFilter{Action: triage.AuditTokenCreate})
		if len(evs) != 1 || evs[0].Detail != fmt.Sprintf(`{"name":"rev","token":%d}`, rev.ID) {
			t.Errorf("create audited as %+v", evs)
		}
		_, err := d.RevokeAPIToken(ctx, other.ID, rev.ID, t0, nil)
		wantCode(t, err, triage.ENOTFOUND) // not theirs
		got, err := d.RevokeAPIToken(ctx, u.ID, rev.ID, t0.Add(time.Minute),
			&triage.AuditEvent{ActorEmail: "cli", Action: triage.AuditTokenRevoke})
		if err != nil || !got.RevokedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("revoke: %+v %v", got, err)
		}
		_, _, err = d.APITokenByHash(ctx, hash("t5"), t0.Add(2*time.Minute))
		wantCode(t, err, triage.ENOTFOUND)
		// Again, by anyone (0: the CLI): the first time stays.
		if got, err := d.RevokeAPIToken(ctx, 0, rev.ID, t0.Add(time.Hour), nil); err != nil || !got.RevokedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("second revoke: %+v %v", got, err)
		}
		_, err = d.RevokeAPIToken(ctx, 0, 999999, t0, nil)
		wantCode(t, err, triage.ENOTFOUND)
		list, err := d.APITokens(ctx, u.ID)
		if err != nil || len(list) != 3 || list[0].ID != rev.ID || list[0].RevokedAt.IsZero() || list[2].ID != tok.ID {
			t.Errorf("list %+v %v", list, err)
		}
		if all, _ := d.APITokens(ctx, 0); len(all) != 3 {
			t.Errorf("every user's: %d tokens", len(all))
		}
	})
	t.Run("RecordUses", func(t *testing.T) {
		err := d.RecordUses(ctx, map[int64]triage.Use{tok.ID: {At: t0.Add(time.Hour)}, 999999: {At: t0}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Older uses written later (a retried write) do not go back in time.
		if err := d.RecordUses(ctx, map[int64]triage.Use{tok.ID: {At: t0}}, nil); err != nil {
			t.Fatal(err)
		}
		got, _, err := d.APITokenByHash(ctx, hash("t1"), t0)
		if err != nil || !got.LastUsedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("last used %v (%v), want %v", got.LastUsedAt, err, t0.Add(time.Hour))
		}
		ses := &triage.Session{TokenHash: hash("s9"), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), RemoteAddr: "192.0.2.1"}
		if err := d.CreateSession(ctx, ses); err != nil {
			t.Fatal(err)
		}
		if err := d.RecordUses(ctx, nil, map[int64]triage.Use{ses.ID: {At: t0.Add(time.Minute), Addr: "198.51.100.7"}}); err != nil {
			t.Fatal(err)
		}
		if got, err := d.SessionByTokenHash(ctx, hash("s9"), t0); err != nil || !got.LastSeenAt.Equal(t0.Add(time.Minute)) || got.LastAddr != "198.51.100.7" {
			t.Errorf("session %+v %v", got, err)
		}
	})
	// Looking a token up is a read: it works while another process holds
	// the write lock, and writes nothing.
	t.Run("LookupWhileLocked", func(t *testing.T) {
		fresh := &triage.APIToken{UserID: u.ID, Name: "fresh", TokenHash: hash("t6")}
		if err := d.CreateAPIToken(ctx, fresh); err != nil {
			t.Fatal(err)
		}
		conn, err := rawSQL(t, path).Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, "ROLLBACK")
		if _, _, err := d.APITokenByHash(ctx, hash("t6"), t0); err != nil {
			t.Fatalf("lookup while the database is locked: %v", err)
		}
		var used sql.NullString
		if err := conn.QueryRowContext(ctx, "SELECT last_used_at FROM api_tokens WHERE id = ?", fresh.ID).Scan(&used); err != nil || used.Valid {
			t.Errorf("the lookup wrote last_used_at %v (%v)", used, err)
		}
		// A write gives up with an error that says it may be retried.
		err = d.RecordUses(ctx, map[int64]triage.Use{fresh.ID: {At: t0}}, nil)
		var busy interface{ Busy() bool }
		if !errors.As(err, &busy) || !busy.Busy() {
			t.Errorf("write while locked: %v, want a Busy error", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, _, err := d.APITokenByHash(ctx, hash("nope"), t0)
		wantCode(t, err, triage.ENOTFOUND)
		wantCode(t, d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID + 100, TokenHash: hash("t2")}), triage.ENOTFOUND)
	})
	t.Run("ErrConflict", func(t *testing.T) {
		wantCode(t, d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID, TokenHash: hash("t1")}), triage.ECONFLICT)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		wantCode(t, d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID}), triage.EINVALID)
	})
}

func TestTeamKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)

	k1 := &triage.TeamKey{Fingerprint: "aaaa1111", UserID: "Security <security@example.com>",
		ArmoredSecret: []byte("SECRET1"), ArmoredPublic: []byte("PUBLIC1"), CreatedAt: t0, Primary: true}
	if err := d.AddTeamKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if k1.ID == 0 || k1.Fingerprint != "AAAA1111" {
		t.Fatalf("added %+v", k1)
	}
	k2 := &triage.TeamKey{Fingerprint: "BBBB2222", UserID: "Security <security@example.com>",
		ArmoredSecret: []byte("SECRET2"), ArmoredPublic: []byte("PUBLIC2"), CreatedAt: t0.Add(time.Hour),
		ExpiresAt: t0.AddDate(2, 0, 0)}
	if err := d.AddTeamKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	fprs := func() (s []string, primary []bool) {
		keys, err := d.TeamKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			s = append(s, k.Fingerprint)
			primary = append(primary, k.Primary)
		}
		return s, primary
	}
	// Primary first although older.
	if s, p := fprs(); len(s) != 2 || s[0] != "AAAA1111" || !p[0] || p[1] {
		t.Fatalf("keys %v primary %v", s, p)
	}

	keys, err := d.TeamKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k := keys[1]; !bytes.Equal(k.ArmoredSecret, []byte("SECRET2")) || !bytes.Equal(k.ArmoredPublic, []byte("PUBLIC2")) ||
		!k.CreatedAt.Equal(k2.CreatedAt) || !k.ExpiresAt.Equal(k2.ExpiresAt) || k.UserID != k2.UserID {
		t.Fatalf("round-trip: %+v", k)
	}
	if !keys[0].ExpiresAt.IsZero() {
		t.Fatalf("never-expiring key: ExpiresAt %v", keys[0].ExpiresAt)
	}

	t.Run("PrimarySwitch", func(t *testing.T) {
		k3 := &triage.TeamKey{Fingerprint: "CCCC3333", ArmoredSecret: []byte("S3"), CreatedAt: t0.Add(-time.Hour), Primary: true}
		if err := d.AddTeamKey(ctx, k3); err != nil {
			t.Fatal(err)
		}
		s, p := fprs()
		if want := []string{"CCCC3333", "BBBB2222", "AAAA1111"}; len(s) != 3 || s[0] != want[0] || s[1] != want[1] || s[2] != want[2] {
			t.Fatalf("order %v, want %v", s, want)
		}
		if !p[0] || p[1] || p[2] {
			t.Fatalf("primary flags %v, want only the new key", p)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		// Same fingerprint in other case; as primary, so a failure must
		// also keep the current primary.
		err := d.AddTeamKey(ctx, &triage.TeamKey{Fingerprint: "bbbb2222", ArmoredSecret: []byte("x"), Primary: true})
		wantCode(t, err, triage.ECONFLICT)
		if s, p := fprs(); s[0] != "CCCC3333" || !p[0] {
			t.Fatalf("primary lost after failed add: %v %v", s, p)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		wantCode(t, d.AddTeamKey(ctx, &triage.TeamKey{ArmoredSecret: []byte("x")}), triage.EINVALID)
		wantCode(t, d.AddTeamKey(ctx, &triage.TeamKey{Fingerprint: "DDDD"}), triage.EINVALID)
	})
}
