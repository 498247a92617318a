package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

func TestNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	both := []string{triage.ChannelWebhook, triage.ChannelEmail}

	fresh := file(t, d, t0, "fresh")                                     // first response due t0+24h
	paused := file(t, d, t0, "paused")                                   // needs-info: no clock counts
	closed := file(t, d, t0, "closed")                                   // spam: none either
	ancient := file(t, d, t0.Add(-30*24*time.Hour), "breached long ago") // beyond the lookback
	for _, c := range []struct {
		r  *triage.Report
		st triage.Status
	}{{paused, triage.StatusNeedsInfo}, {closed, triage.StatusSpam}} {
		if _, err := d.UpdateReport(ctx, c.r.ID, triage.Change{Status: ptr(c.st)}, actor(alice), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	_ = ancient

	decide := func(at time.Time, channels []string) int {
		t.Helper()
		n, err := d.DecideNotifications(ctx, at, channels)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := decide(t0.Add(21*time.Hour), both); n != 0 {
		t.Errorf("3 h before due: %d decided", n)
	}
	if n := decide(t0.Add(22*time.Hour), both); n != 2 { // due_soon on both channels
		t.Errorf("2 h before due: %d decided, want 2", n)
	}
	if n := decide(t0.Add(23*time.Hour), both); n != 0 {
		t.Errorf("again: %d decided", n)
	}
	if n := decide(t0.Add(24*time.Hour), []string{triage.ChannelWebhook}); n != 1 { // breached
		t.Errorf("at due: %d decided, want 1", n)
	}
	if n := decide(t0.Add(25*time.Hour), both); n != 1 { // the email of the breach
		t.Errorf("email of the breach: %d decided, want 1", n)
	}
	if n := decide(t0.Add(72*time.Hour), both); n != 2 { // the triage clock breached; no due_soon for it
		t.Errorf("triage breach: %d decided, want 2", n)
	}
	if _, err := d.DecideNotifications(ctx, t0, []string{"sms"}); err == nil {
		t.Error("unknown channel accepted")
	}

	now := t0.Add(72 * time.Hour)
	pending, err := d.PendingNotifications(ctx, triage.ChannelWebhook, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range pending {
		if n.ReportID != fresh.ID || n.TrackingID != fresh.TrackingID || n.Status != triage.StatusNew {
			t.Errorf("notification %+v", n)
		}
		got = append(got, string(n.Clock)+" "+n.Event)
	}
	if want := "first_response due_soon,first_response breached,triage breached"; joinComma(got) != want {
		t.Errorf("pending %v, want %s", got, want)
	}
	if !pending[1].DueAt.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("due at %v", pending[1].DueAt)
	}

	// Delivery: sent; failed with backoff until the attempts run out.
	if st, err := d.MarkNotification(ctx, pending[0].ID, nil, now); err != nil || st != triage.NotificationSent {
		t.Fatalf("%s %v", st, err)
	}
	id := pending[1].ID
	at := now
	for i := 1; i <= triage.MaxNotifyAttempts; i++ {
		st, err := d.MarkNotification(ctx, id, errors.New("503 Service Unavailable"), at)
		if err != nil {
			t.Fatal(err)
		}
		want := triage.NotificationPending
		if i == triage.MaxNotifyAttempts {
			want = triage.NotificationFailed
		}
		if st != want {
			t.Fatalf("attempt %d: %s, want %s", i, st, want)
		}
		if st == triage.NotificationPending {
			early, _ := d.PendingNotifications(ctx, triage.ChannelWebhook, at.Add(triage.NotifyBackoff(i)-time.Second), 10)
			for _, n := range early {
				if n.ID == id {
					t.Fatalf("attempt %d: retried before its backoff", i)
				}
			}
			at = at.Add(triage.NotifyBackoff(i))
			late, _ := d.PendingNotifications(ctx, triage.ChannelWebhook, at, 10)
			var n *triage.Notification
			for _, l := range late {
				if l.ID == id {
					n = l
				}
			}
			if n == nil || n.Attempts != i || n.LastError != "503 Service Unavailable" {
				t.Fatalf("attempt %d: not due after its backoff: %+v", i, n)
			}
		}
	}
	left, _ := d.PendingNotifications(ctx, triage.ChannelWebhook, at.Add(24*time.Hour), 10)
	if len(left) != 1 || left[0].Clock != triage.ClockTriage {
		t.Errorf("left %+v", left)
	}
	if _, err := d.MarkNotification(ctx, 999, nil, now); triage.ErrorCode(err) != triage.ENOTFOUND {
		t.Errorf("missing notification: %v", err)
	}
	_ = db.NotifyLookback
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}
