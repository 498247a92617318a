package db_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func TestAudit_AddAndFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	events := []*triage.AuditEvent{
		{At: t0.Add(-3 * time.Hour), ActorEmail: "Alice@Example.com", Action: triage.AuditLoginFailure, RemoteAddr: "192.0.2.1"},
		{At: t0.Add(-2 * time.Hour), ActorID: 7, ActorEmail: "alice@example.com", Action: triage.AuditLoginSuccess, RemoteAddr: "192.0.2.1", UserAgent: "curl"},
		{At: t0.Add(-1 * time.Hour), ActorID: 7, ActorEmail: "alice@example.com", Action: triage.AuditReportView, Target: "report:12"},
		{ActorID: 8, ActorEmail: "bob@example.com", Action: "login_x", Detail: `{"x":1}`}, // At zero: db.Now()
	}
	for _, ev := range events {
		if err := d.AddAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if ev.ID == 0 {
			t.Fatal("no ID set")
		}
	}
	if !events[3].At.Equal(t0) {
		t.Errorf("zero At became %v, want %v", events[3].At, t0)
	}

	ids := func(f triage.AuditFilter) []int64 {
		t.Helper()
		evs, err := d.AuditEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, ev := range evs {
			out = append(out, ev.ID)
		}
		return out
	}
	id := func(i int) int64 { return events[i].ID }
	for _, tc := range []struct {
		name string
		f    triage.AuditFilter
		want []int64
	}{
		{"All", triage.AuditFilter{}, []int64{id(3), id(2), id(1), id(0)}},
		{"Since", triage.AuditFilter{Since: t0.Add(-2 * time.Hour)}, []int64{id(3), id(2), id(1)}},
		{"Until", triage.AuditFilter{Until: t0.Add(-2 * time.Hour)}, []int64{id(0)}},
		{"Actor", triage.AuditFilter{Actor: "ALICE@example.com"}, []int64{id(2), id(1), id(0)}},
		{"Action", triage.AuditFilter{Action: "login.success"}, []int64{id(1)}},
		// "login." is a prefix; "login_x" must not match it (no LIKE wildcards).
		{"ActionPrefix", triage.AuditFilter{Action: "login."}, []int64{id(1), id(0)}},
		{"Page", triage.AuditFilter{BeforeID: id(2), Limit: 1}, []int64{id(1)}},
		{"Limit", triage.AuditFilter{Limit: 2}, []int64{id(3), id(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	evs, err := d.AuditEvents(ctx, triage.AuditFilter{Action: triage.AuditLoginSuccess})
	if err != nil {
		t.Fatal(err)
	}
	got := evs[0]
	if got.ActorID != 7 || got.ActorEmail != "alice@example.com" || got.RemoteAddr != "192.0.2.1" ||
		got.UserAgent != "curl" || !got.At.Equal(t0.Add(-2*time.Hour)) {
		t.Errorf("round trip: %+v", got)
	}
	if evs, _ := d.AuditEvents(ctx, triage.AuditFilter{Action: triage.AuditLoginFailure}); evs[0].ActorID != 0 {
		t.Errorf("no actor stored as %d", evs[0].ActorID)
	}
}

func TestAudit_Invalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	for _, action := range []string{"", "Login", "login.", ".x", "a b", "x;drop", strings.Repeat("a", 65)} {
		wantCode(t, d.AddAudit(ctx, &triage.AuditEvent{Action: action}), triage.EINVALID)
	}
	_, err := d.AuditEvents(ctx, triage.AuditFilter{Limit: 100000})
	wantCode(t, err, triage.EINVALID)

	// Over-long fields are cut, not refused: the event is still recorded.
	ev := &triage.AuditEvent{Action: "x", Detail: strings.Repeat("é", triage.MaxAuditDetail), UserAgent: strings.Repeat("u", 1000)}
	if err := d.AddAudit(ctx, ev); err != nil {
		t.Fatal(err)
	}
	evs, err := d.AuditEvents(ctx, triage.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(evs[0].Detail); n > triage.MaxAuditDetail || n < triage.MaxAuditDetail-1 {
		t.Errorf("detail is %d bytes", n)
	}
	if len(evs[0].UserAgent) != triage.MaxAuditField {
		t.Errorf("user agent is %d bytes", len(evs[0].UserAgent))
	}
}

// TestAudit_AppendOnly checks that the database itself refuses to change
// or delete audit rows, whoever asks.
func TestAudit_AppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	if err := d.AddAudit(ctx, &triage.AuditEvent{ActorEmail: "a@example.com", Action: triage.AuditLoginSuccess}); err != nil {
		t.Fatal(err)
	}
	s := rawSQL(t, path)
	for _, stmt := range []string{
		`UPDATE audit_log SET actor_email = 'mallory@example.com'`,
		`DELETE FROM audit_log`,
		`DELETE FROM audit_log WHERE id = 1`,
	} {
		_, err := s.Exec(stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", stmt, err)
		}
	}
	if n := countRows(t, s, "audit_log"); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
	evs, err := d.AuditEvents(ctx, triage.AuditFilter{})
	if err != nil || len(evs) != 1 || evs[0].ActorEmail != "a@example.com" {
		t.Errorf("after tampering: %v %+v", err, evs)
	}
}
