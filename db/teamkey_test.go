package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestTeamKeyring: the keyring generation moves with every change to the
// team keys (that is how a running server notices a rotation), a key can
// be made primary or retired, and the listing order puts the primary
// first and retired keys last.
func TestTeamKeyring(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)

	gen := func() int64 {
		t.Helper()
		g, err := d.TeamKeyringGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	list := func() (out []string) {
		t.Helper()
		keys, err := d.TeamKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			s := k.Fingerprint
			if k.Primary {
				s += "*"
			}
			if !k.RetiredAt.IsZero() {
				s += "(retired)"
			}
			out = append(out, s)
		}
		return out
	}
	want := func(w ...string) {
		t.Helper()
		got := list()
		if len(got) != len(w) {
			t.Fatalf("keys %v, want %v", got, w)
		}
		for i := range w {
			if got[i] != w[i] {
				t.Fatalf("keys %v, want %v", got, w)
			}
		}
	}

	g0 := gen()
	add := func(fpr string, primary bool, created time.Time) {
		t.Helper()
		before := gen()
		if err := d.AddTeamKey(ctx, &triage.TeamKey{Fingerprint: fpr, ArmoredSecret: []byte("S"), CreatedAt: created, Primary: primary}); err != nil {
			t.Fatal(err)
		}
		if gen() == before {
			t.Fatalf("adding %s did not change the keyring generation", fpr)
		}
	}
	add("AAAA", true, t0)
	add("BBBB", true, t0.Add(time.Hour)) // a rotation: BBBB becomes primary
	add("CCCC", false, t0.Add(2*time.Hour))
	want("BBBB*", "CCCC", "AAAA")
	if gen() <= g0 {
		t.Fatal("generation did not grow")
	}

	t.Run("SetPrimary", func(t *testing.T) {
		g := gen()
		if err := d.SetPrimaryTeamKey(ctx, "aaaa"); err != nil {
			t.Fatal(err)
		}
		want("AAAA*", "CCCC", "BBBB")
		if gen() == g {
			t.Error("set-primary did not change the generation")
		}
		// Already primary: nothing to do, no error.
		if err := d.SetPrimaryTeamKey(ctx, "AAAA"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, d.SetPrimaryTeamKey(ctx, "FFFF"), triage.ENOTFOUND)
	})

	t.Run("Retire", func(t *testing.T) {
		g := gen()
		if err := d.RetireTeamKey(ctx, "cccc", t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want("AAAA*", "BBBB", "CCCC(retired)")
		if gen() == g {
			t.Error("retire did not change the generation")
		}
		keys, _ := d.TeamKeys(ctx)
		if !keys[2].RetiredAt.Equal(t0.Add(3 * time.Hour)) {
			t.Errorf("retired at %v", keys[2].RetiredAt)
		}
		wantCode(t, d.RetireTeamKey(ctx, "CCCC", t0), triage.ECONFLICT) // twice
		wantCode(t, d.RetireTeamKey(ctx, "AAAA", t0), triage.ECONFLICT) // the primary
		wantCode(t, d.RetireTeamKey(ctx, "FFFF", t0), triage.ENOTFOUND)
		wantCode(t, d.SetPrimaryTeamKey(ctx, "CCCC"), triage.ECONFLICT) // retired keys are not published
		want("AAAA*", "BBBB", "CCCC(retired)")
	})

	t.Run("Audit", func(t *testing.T) {
		// The audit event is written with the change, or neither is.
		ev := &triage.AuditEvent{ActorEmail: triage.ActorCLI, Action: triage.AuditKeyImport, Target: "key:EEEE"}
		if err := d.AddTeamKey(ctx, &triage.TeamKey{Fingerprint: "EEEE", ArmoredSecret: []byte("S"), CreatedAt: t0}, ev); err != nil {
			t.Fatal(err)
		}
		if err := d.RetireTeamKey(ctx, "EEEE", t0, &triage.AuditEvent{ActorEmail: triage.ActorCLI, Action: "key.retire", Target: "key:EEEE"}); err != nil {
			t.Fatal(err)
		}
		evs, err := d.AuditEvents(ctx, triage.AuditFilter{Action: "key."})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].Action != "key.retire" || evs[1].Action != triage.AuditKeyImport || evs[1].Target != "key:EEEE" {
			t.Fatalf("audit log %+v", evs)
		}
		g := gen()
		bad := &triage.AuditEvent{ActorEmail: triage.ActorCLI, Action: "Not An Action"}
		wantCode(t, d.AddTeamKey(ctx, &triage.TeamKey{Fingerprint: "9999", ArmoredSecret: []byte("S"), Primary: true}, bad), triage.EINVALID)
		wantCode(t, d.SetPrimaryTeamKey(ctx, "CCCC0000", bad), triage.ENOTFOUND)
		if gen() != g {
			t.Error("a change whose audit event failed was committed")
		}
		for _, k := range list() {
			if strings.HasPrefix(k, "9999") {
				t.Error("a key whose audit event failed was stored")
			}
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		// The generation lives in the file: another process (the CLI)
		// sees the same number.
		g := gen()
		other := mustOpenPath(t, path)
		if og, err := other.TeamKeyringGeneration(ctx); err != nil || og != g {
			t.Fatalf("generation from a second connection: %d, %v; want %d", og, err, g)
		}
		if err := other.SetPrimaryTeamKey(ctx, "BBBB"); err != nil {
			t.Fatal(err)
		}
		if gen() == g {
			t.Error("a change made through another connection did not change the generation")
		}
	})
}
