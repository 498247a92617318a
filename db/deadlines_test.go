package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// notificationsOf lists report id's pending deadline notifications (not
// the SLA clocks') as "clock/event".
func notificationsOf(t *testing.T, d *db.DB, id int64, now time.Time) []string {
	t.Helper()
	var out []string
	for _, ch := range []string{triage.ChannelEmail} {
		ns, err := d.PendingNotifications(context.Background(), ch, now.Add(time.Hour), 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.ReportID == id && (n.Clock == triage.ClockDisclosure || strings.HasPrefix(string(n.Clock), "cra_")) {
				out = append(out, string(n.Clock)+"/"+n.Event)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestDeadlines_Disclosure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r := file(t, d, t0, "Stored XSS")
	by := actor(alice)

	dl, err := d.Deadlines(ctx, r.ID)
	if err != nil || !dl.DisclosureDue.IsZero() {
		t.Fatalf("before acceptance: %+v %v", dl, err)
	}
	accept := t0.Add(time.Hour)
	if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusAccepted)}, by, accept); err != nil {
		t.Fatal(err)
	}
	due := t0.Add(90 * 24 * time.Hour)
	if dl, _ = d.Deadlines(ctx, r.ID); !dl.DisclosureDue.Equal(due) || dl.Extended {
		t.Fatalf("accepted: %+v, want due %v", dl, due)
	}

	t.Run("PolicyMovesIt", func(t *testing.T) {
		p := *triage.DefaultSLAPolicy()
		p.Disclosure = 30 * 24 * time.Hour
		if _, err := d.SetSLAPolicy(ctx, &p, by, accept); err != nil {
			t.Fatal(err)
		}
		if dl, _ := d.Deadlines(ctx, r.ID); !dl.DisclosureDue.Equal(t0.Add(30 * 24 * time.Hour)) {
			t.Errorf("after the policy went to 30 days: %v", dl.DisclosureDue)
		}
		if _, err := d.SetSLAPolicy(ctx, triage.DefaultSLAPolicy(), by, accept); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Reminders", func(t *testing.T) {
		at := due.Add(-14*24*time.Hour + time.Minute)
		if _, err := d.DecideNotifications(ctx, at, []string{triage.ChannelEmail}); err != nil {
			t.Fatal(err)
		}
		if got := notificationsOf(t, d, r.ID, at); strings.Join(got, " ") != "disclosure/due_in_14_days" {
			t.Errorf("14 days before: %v", got)
		}
		due, err := d.DueDeadlines(ctx, at, 14*24*time.Hour, 10)
		if err != nil || len(due) != 1 || due[0].Clock != triage.ClockDisclosure || due[0].TrackingID != r.TrackingID {
			t.Errorf("due-soon group: %+v %v", due, err)
		}
		if due, _ := d.DueDeadlines(ctx, at.Add(-time.Hour), 14*24*time.Hour, 10); len(due) != 0 {
			t.Errorf("due-soon group an hour before: %+v", due)
		}
	})

	t.Run("Extend", func(t *testing.T) {
		later := due.Add(30 * 24 * time.Hour)
		_, err := d.UpdateReport(ctx, r.ID, triage.Change{Deadlines: &triage.DeadlineChange{DisclosureDue: &later}}, by, accept)
		wantCode(t, err, triage.EINVALID)
		_, err = d.UpdateReport(ctx, r.ID, triage.Change{Deadlines: &triage.DeadlineChange{DisclosureDue: &later, Reason: "fix ships in 4.0"}}, by, accept)
		if err != nil {
			t.Fatal(err)
		}
		dl, _ := d.Deadlines(ctx, r.ID)
		if !dl.DisclosureDue.Equal(later) || !dl.Extended {
			t.Errorf("extended: %+v", dl)
		}
		var detail string
		if err := rawSQL(t, path).QueryRow(`SELECT detail FROM audit_log WHERE action = 'report.disclosure_due' AND target = ?
			ORDER BY id DESC LIMIT 1`, fmt.Sprintf("report:%d", r.ID)).Scan(&detail); err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		json.Unmarshal([]byte(detail), &m)
		if m["reason"] != "fix ships in 4.0" || m["to"] != later.Format(time.RFC3339) {
			t.Errorf("audit detail %s", detail)
		}
		// The new deadline reminds again.
		at := later.Add(-14*24*time.Hour + time.Minute)
		if _, err := d.DecideNotifications(ctx, at, []string{triage.ChannelEmail}); err != nil {
			t.Fatal(err)
		}
		if got := notificationsOf(t, d, r.ID, at); strings.Join(got, " ") != "disclosure/due_in_14_days" {
			t.Errorf("14 days before the new deadline: %v", got)
		}
		at = later.Add(-time.Hour)
		if _, err := d.DecideNotifications(ctx, at, []string{triage.ChannelEmail}); err != nil {
			t.Fatal(err)
		}
		if got := notificationsOf(t, d, r.ID, at); strings.Join(got, " ") != "disclosure/due_in_14_days disclosure/due_in_1_day" {
			t.Errorf("a day before: %v", got)
		}
	})

	t.Run("Embargo", func(t *testing.T) {
		until := accept.Add(40 * 24 * time.Hour)
		if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Deadlines: &triage.DeadlineChange{EmbargoUntil: &until}}, by, accept); err != nil {
			t.Fatal(err)
		}
		if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusFixed)}, by, accept.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		_, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusDisclosed)}, by, until.Add(-time.Minute))
		wantCode(t, err, triage.ECONFLICT)
		if got, _ := d.Report(ctx, r.ID); got.Status != triage.StatusFixed {
			t.Errorf("status %s after the refused disclosure", got.Status)
		}
		got, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusDisclosed)}, by, until.Add(time.Minute))
		if err != nil || got.Status != triage.StatusDisclosed {
			t.Fatalf("disclosed after the embargo: %v", err)
		}
		// Disclosed: nothing counts down any more.
		if due, _ := d.DueDeadlines(ctx, until, 365*24*time.Hour, 10); len(due) != 0 {
			t.Errorf("due-soon group after disclosure: %+v", due)
		}
	})
}

func TestDeadlines_CRA(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r := file(t, d, t0, "RCE in the updater")
	by := actor(alice)
	aware := t0.Add(30 * time.Minute)
	now := t0.Add(time.Hour)
	_, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusAccepted),
		Deadlines: &triage.DeadlineChange{ActivelyExploited: ptr(true), AwareAt: &aware}}, by, now)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := d.ReportEvents(ctx, r.ID)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, string(e.Kind))
	}
	if strings.Join(kinds, " ") != "status disclosure_due actively_exploited" {
		t.Errorf("events %v", kinds)
	}

	ewDue := aware.Add(24 * time.Hour)
	due, err := d.DueDeadlines(ctx, now, 14*24*time.Hour, 10)
	if err != nil || len(due) != 2 || due[0].Clock != triage.ClockCRAEarlyWarning || !due[0].DueAt.Equal(ewDue) ||
		due[1].Clock != triage.ClockCRANotification {
		t.Fatalf("due-soon group: %+v %v", due, err)
	}
	at := ewDue.Add(-time.Hour)
	if _, err := d.DecideNotifications(ctx, at, []string{triage.ChannelEmail}); err != nil {
		t.Fatal(err)
	}
	if got := notificationsOf(t, d, r.ID, at); strings.Join(got, " ") != "cra_early_warning/due_soon" {
		t.Errorf("an hour before the early warning: %v", got)
	}
	sent := ewDue.Add(-30 * time.Minute)
	if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Deadlines: &triage.DeadlineChange{
		Sent: []triage.CRASent{{Report: triage.CRAEarlyWarning, SentAt: sent, Reference: "CSIRT-NL 2026-77"}}}}, by, sent); err != nil {
		t.Fatal(err)
	}
	// Sent: no breach notification for it; the notification clock
	// breaches.
	at = aware.Add(73 * time.Hour)
	if _, err := d.DecideNotifications(ctx, at, []string{triage.ChannelEmail}); err != nil {
		t.Fatal(err)
	}
	if got := notificationsOf(t, d, r.ID, at); strings.Join(got, " ") != "cra_early_warning/due_soon cra_notification/breached" {
		t.Errorf("after 73 hours: %v", got)
	}
	dl, _ := d.Deadlines(ctx, r.ID)
	if dl.EarlyWarning.Reference != "CSIRT-NL 2026-77" || !dl.EarlyWarning.SentAt.Equal(sent) {
		t.Errorf("early warning: %+v", dl.EarlyWarning)
	}
	// The final report waits for the fix.
	fixed := t0.Add(5 * 24 * time.Hour)
	if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusFixed)}, by, fixed); err != nil {
		t.Fatal(err)
	}
	due, _ = d.DueDeadlines(ctx, fixed, 0, 10)
	var final *triage.DueDeadline
	for i := range due {
		if due[i].Clock == triage.ClockCRAFinalReport {
			final = &due[i]
		}
	}
	if final == nil || !final.DueAt.Equal(fixed.Add(14*24*time.Hour)) {
		t.Errorf("final report after the fix: %+v", due)
	}
}
