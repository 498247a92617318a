package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestOneClock: a method given the time uses it for everything it writes
// and never reads db.Now; a method not given it reads db.Now once per
// transaction, so one change never carries two times.
func TestOneClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r := fileFrom(t, d, t0, "ray@example.org", "SQL injection in /admin")
	offerCredit(t, d, r, actor(alice), triage.Credit{})
	later := t0.Add(time.Hour)
	reads := 0
	d = mustOpenClock(t, path, func() time.Time { reads++; return t0 })
	reads = 0 // opening checks the migrations, a transaction each
	check := func(what string, want int, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if reads != want {
			t.Errorf("%s read db.Now %d times, want %d", what, reads, want)
		}
		reads = 0
	}

	sev := triage.SeverityHigh
	_, err := d.UpdateReport(ctx, r.ID, triage.Change{Severity: &sev}, actor(alice), later)
	check("UpdateReport(..., now)", 0, err)
	check("RecordCredit(..., now)", 0, d.RecordCredit(ctx, r.ID, triage.CreditName, "Ray", "", actor(alice), later))
	check("RecordResponse(..., now)", 0, d.RecordResponse(ctx, r.ID, actor(alice), later))
	_, err = d.DecideNotifications(ctx, later, []string{triage.ChannelEmail})
	check("DecideNotifications(now)", 0, err)

	bob := mustCreateUser(t, d, "bob@example.com", triage.RoleViewer)
	reads = 0
	check("SetUserDisabled(..., at, ev)", 0, d.SetUserDisabled(ctx, bob.ID, later,
		&triage.AuditEvent{ActorEmail: "cli", Action: triage.AuditUserDisable, Target: "user:bob@example.com"}))
	check("RevokeCredit(..., now)", 0, d.RevokeCredit(ctx, r.ID, later))
	_, err = d.SetSLAPolicy(ctx, triage.DefaultSLAPolicy(), actor(alice), later)
	check("SetSLAPolicy(..., now)", 0, err)

	m := &triage.OutMail{Kind: triage.MailNotification, To: "team@example.com", Subject: "SLA", Body: "due",
		HeaderMessageID: triage.NewMessageID("example.com")}
	check("QueueMail", 1, d.QueueMail(ctx, m))
	check("AddAudit", 1, d.AddAudit(ctx, &triage.AuditEvent{ActorEmail: "cli", Action: triage.AuditKeyExport, Target: "key:X"}))
}
