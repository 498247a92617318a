package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestFirstResponses files reports, answers, pauses and closes some, and
// checks what the metrics page reads back: the window, the timeline and
// the open counts per severity.
func TestFirstResponses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	old := file(t, d, t0.Add(-100*24*time.Hour), "old")
	answered := file(t, d, t0.Add(-48*time.Hour), "answered")
	paused := file(t, d, t0.Add(-10*time.Hour), "paused")
	spam := file(t, d, t0.Add(-5*time.Hour), "spam")
	now := t0

	if err := d.RecordResponse(ctx, answered.ID, actor(alice), answered.ReceivedAt.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateReport(ctx, answered.ID, triage.Change{CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")}, actor(alice), now); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateReport(ctx, paused.ID, triage.Change{Status: ptr(triage.StatusNeedsInfo)}, actor(alice), paused.ReceivedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateReport(ctx, spam.ID, triage.Change{Status: ptr(triage.StatusSpam)}, actor(alice), spam.ReceivedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	got, err := d.FirstResponses(ctx, now.Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	byID := map[int64]*triage.Report{}
	for _, r := range got {
		ids = append(ids, r.ID)
		byID[r.ID] = r
	}
	if len(ids) != 3 || ids[0] != spam.ID || ids[1] != paused.ID || ids[2] != answered.ID {
		t.Fatalf("ids %v, want newest first %d %d %d (not %d, too old)", ids, spam.ID, paused.ID, answered.ID, old.ID)
	}
	if r := byID[answered.ID]; !r.Timeline.RespondedAt.Equal(answered.ReceivedAt.Add(90*time.Minute)) || !r.ReceivedAt.Equal(answered.ReceivedAt) {
		t.Errorf("answered: %+v", r)
	}
	if r := byID[paused.ID]; r.Status != triage.StatusNeedsInfo || !r.Timeline.Paused() {
		t.Errorf("paused: %+v", r)
	}
	if r := byID[spam.ID]; r.Timeline.ClosedAt.IsZero() || r.Title != "" || r.Body != "" {
		t.Errorf("spam: %+v (content must not be loaded)", r)
	}
	// The clocks computed from what was loaded are the stored ones.
	p, err := d.SLAPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := byID[answered.ID].Clocks(p, now).FirstResponse.State; st != triage.ClockMet {
		t.Errorf("answered: first response %s", st)
	}
	if st := byID[paused.ID].Clocks(p, now).FirstResponse.State; st != triage.ClockPaused {
		t.Errorf("paused: first response %s", st)
	}

	open, err := d.OpenBySeverity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[triage.SeverityCritical] != 1 || open[triage.SeverityUnscored] != 2 {
		t.Errorf("open by severity: %v, want 1 critical and 2 unscored (old, paused; spam is closed)", open)
	}
}
