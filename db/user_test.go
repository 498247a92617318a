package db_test

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	ctx := context.Background()
	d, path := mustOpen(t)
	u := mustCreateUser(t, d, "bot@example.com", triage.RoleViewer)

	tok := &triage.APIToken{UserID: u.ID, Name: "ci", TokenHash: hash("t1")}
	if err := d.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if tok.ID == 0 || !tok.CreatedAt.Equal(t0) {
		t.Fatalf("created %+v", tok)
	}
	got, err := d.UserByAPITokenHash(ctx, hash("t1"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != u.ID || got.Role != triage.RoleViewer || got.Email != "bot@example.com" {
		t.Fatalf("got %+v", got)
	}
	var used string
	if err := rawSQL(t, path).QueryRow("SELECT last_used_at FROM api_tokens WHERE id = ?", tok.ID).Scan(&used); err != nil {
		t.Fatalf("last_used_at not recorded: %v", err)
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.UserByAPITokenHash(ctx, hash("nope"))
		wantCode(t, err, triage.ENOTFOUND)
		wantCode(t, d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID + 1, TokenHash: hash("t2")}), triage.ENOTFOUND)
	})
	t.Run("ErrConflict", func(t *testing.T) {
		wantCode(t, d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID, TokenHash: hash("t1")}), triage.ECONFLICT)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		wantCode(t, d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID}), triage.EINVALID)
	})
}

func TestTeamKey(t *testing.T) {
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
