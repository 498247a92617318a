package triage_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

var d0 = time.Date(2026, 9, 14, 8, 0, 0, 0, time.UTC)

func acceptedReport(t *testing.T, received time.Time) *triage.Report {
	t.Helper()
	r := triage.NewReport(received)
	r.ID, r.TrackingID = 7, "SEC-2026-0007"
	st := triage.StatusAccepted
	if _, err := r.Apply(triage.Change{Status: &st}, nil, 1, received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return r
}

func move(t *testing.T, r *triage.Report, to triage.Status, at time.Time) triage.Status {
	t.Helper()
	prev := r.Status
	if _, err := r.Apply(triage.Change{Status: &to}, nil, 1, at); err != nil {
		t.Fatal(err)
	}
	return prev
}

func TestSLAPolicy_DisclosureDays(t *testing.T) {
	p := policy(t, 24, "null")
	if got := p.DisclosureDays(); got != 90 {
		t.Errorf("without disclosure_days: %d days, want 90", got)
	}
	p, err := triage.ParseSLAPolicy([]byte(`{"first_response_hours": 24, "triage_hours": 72,
		"remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320},
		"business_hours": null, "disclosure_days": 45}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.DisclosureDays() != 45 {
		t.Errorf("disclosure_days 45 read as %d", p.DisclosureDays())
	}
	b, _ := json.Marshal(p)
	if !strings.Contains(string(b), `"disclosure_days":45`) {
		t.Errorf("written back as %s", b)
	}
	for _, bad := range []string{"0", "-1", "731", `"90"`} {
		_, err := triage.ParseSLAPolicy([]byte(`{"first_response_hours": 24, "triage_hours": 72,
			"remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320},
			"business_hours": null, "disclosure_days": ` + bad + `}`))
		if triage.ErrorCode(err) != triage.EINVALID {
			t.Errorf("disclosure_days %s: %v, want EINVALID", bad, err)
		}
	}
}

func TestDeadlines_Disclosure(t *testing.T) {
	p := policy(t, 24, "null")
	r := triage.NewReport(d0)
	r.ID, r.TrackingID = 7, "SEC-2026-0007"
	var d triage.Deadlines
	if evs, err := d.SyncDeadlines(r, triage.StatusNew, p, 1, d0); err != nil || len(evs) != 0 || d.Disclosure(r, d0) != nil {
		t.Fatalf("before acceptance: %v %v %+v", evs, err, d.Disclosure(r, d0))
	}
	prev := move(t, r, triage.StatusAccepted, d0.Add(2*time.Hour))
	evs, err := d.SyncDeadlines(r, prev, p, 1, d0.Add(2*time.Hour))
	if err != nil || len(evs) != 1 || evs[0].Kind != triage.EventDisclosureDue {
		t.Fatalf("acceptance: %v %v", evs, err)
	}
	want := d0.Add(90 * 24 * time.Hour)
	if !d.DisclosureDue.Equal(want) || d.Extended {
		t.Fatalf("due %v extended %v, want %v from receipt", d.DisclosureDue, d.Extended, want)
	}
	c := d.Disclosure(r, d0.Add(80*24*time.Hour))
	if c.State != triage.ClockRunning || c.Remaining != 10*24*time.Hour {
		t.Errorf("day 80: %+v", c)
	}

	// Moving it needs a reason, a future time, and is an event.
	later := want.Add(30 * 24 * time.Hour)
	for _, tc := range []struct {
		name string
		c    triage.DeadlineChange
		code string
	}{
		{"no reason", triage.DeadlineChange{DisclosureDue: &later}, triage.EINVALID},
		{"blank reason", triage.DeadlineChange{DisclosureDue: &later, Reason: "  "}, triage.EINVALID},
		{"past", triage.DeadlineChange{DisclosureDue: &d0, Reason: "x"}, triage.EINVALID},
		{"bidi reason", triage.DeadlineChange{DisclosureDue: &later, Reason: "fine\u202e"}, triage.EINVALID},
		{"reason alone", triage.DeadlineChange{Reason: "because"}, triage.EINVALID},
	} {
		before := d
		if _, err := d.Apply(tc.c, r, 1, d0.Add(3*time.Hour)); triage.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
		if !reflect.DeepEqual(d, before) {
			t.Errorf("%s: changed on error", tc.name)
		}
	}
	evs, err = d.Apply(triage.DeadlineChange{DisclosureDue: &later, Reason: "vendor ships the fix in the next release"}, r, 1, d0.Add(3*time.Hour))
	if err != nil || len(evs) != 1 || evs[0].To != later.Format(time.RFC3339) || !d.Extended {
		t.Fatalf("extend: %v %v %+v", evs, err, d)
	}
	// A policy change leaves an extended deadline alone.
	if d.FollowPolicy(r, triage.DefaultSLAPolicy()) {
		t.Error("policy moved an extended deadline")
	}

	// An embargo keeps the report from being disclosed.
	until := d0.Add(100 * 24 * time.Hour)
	if _, err := d.Apply(triage.DeadlineChange{EmbargoUntil: &until}, r, 1, d0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	move(t, r, triage.StatusFixed, d0.Add(50*24*time.Hour))
	inEmbargo := d0.Add(99 * 24 * time.Hour)
	prev = move(t, r, triage.StatusDisclosed, inEmbargo)
	if _, err := d.SyncDeadlines(r, prev, p, 1, inEmbargo); triage.ErrorCode(err) != triage.ECONFLICT {
		t.Errorf("disclosed under embargo: %v, want ECONFLICT", err)
	}
	after := until.Add(time.Minute)
	if _, err := d.SyncDeadlines(r, prev, p, 1, after); err != nil {
		t.Errorf("disclosed after the embargo: %v", err)
	}
	r.Timeline.ClosedAt = after
	if c := d.Disclosure(r, after.Add(time.Hour)); c.State != triage.ClockMet || !c.DoneAt.Equal(after) {
		t.Errorf("disclosed in time: %+v", c)
	}
	if _, err := d.Apply(triage.DeadlineChange{EmbargoUntil: &later}, r, 1, after); triage.ErrorCode(err) != triage.ECONFLICT {
		t.Errorf("embargo on a disclosed report: %v, want ECONFLICT", err)
	}

	// Late disclosure is breached; closing without disclosure stops it.
	late := acceptedReport(t, d0)
	var dl triage.Deadlines
	dl.SyncDeadlines(late, triage.StatusTriaging, p, 1, d0)
	if c := dl.Disclosure(late, d0.Add(91*24*time.Hour)); c.State != triage.ClockBreached || c.Remaining != -24*time.Hour {
		t.Errorf("day 91: %+v", c)
	}
	move(t, late, triage.StatusInformative, d0.Add(92*24*time.Hour))
	if c := dl.Disclosure(late, d0.Add(93*24*time.Hour)); c.State != triage.ClockStopped {
		t.Errorf("closed: %+v", c)
	}
}

func TestDeadlines_CRA(t *testing.T) {
	r := acceptedReport(t, d0)
	var d triage.Deadlines
	if d.CRA(r, d0) != nil {
		t.Fatal("CRA clocks without exploitation")
	}
	yes, no := true, false
	future := d0.Add(time.Hour)
	if _, err := d.Apply(triage.DeadlineChange{ActivelyExploited: &yes, AwareAt: &future}, r, 1, d0); triage.ErrorCode(err) != triage.EINVALID {
		t.Errorf("aware_at in the future: %v", err)
	}
	if _, err := d.Apply(triage.DeadlineChange{ActivelyExploited: &yes}, r, 1, d0); triage.ErrorCode(err) != triage.EINVALID {
		t.Errorf("without aware_at: %v", err)
	}
	aware := d0.Add(-2 * time.Hour)
	evs, err := d.Apply(triage.DeadlineChange{ActivelyExploited: &yes, AwareAt: &aware}, r, 1, d0)
	if err != nil || len(evs) != 1 {
		t.Fatalf("mark: %v %v", evs, err)
	}
	states := func(now time.Time) string {
		var s []string
		for _, c := range d.CRA(r, now) {
			s = append(s, string(c.Name)+"="+string(c.State))
		}
		return strings.Join(s, " ")
	}
	cs := d.CRA(r, d0)
	if !cs[0].DueAt.Equal(aware.Add(24*time.Hour)) || !cs[1].DueAt.Equal(aware.Add(72*time.Hour)) || !cs[2].DueAt.IsZero() {
		t.Errorf("due times %v %v %v", cs[0].DueAt, cs[1].DueAt, cs[2].DueAt)
	}
	if got := states(d0); got != "cra_early_warning=running cra_notification=running cra_final_report=waiting" {
		t.Errorf("at awareness: %s", got)
	}
	// The final report cannot be recorded before the fix.
	if _, err := d.Apply(triage.DeadlineChange{Sent: []triage.CRASent{{Report: triage.CRAFinalReport, SentAt: d0, Reference: "ENISA-1"}}}, r, 1, d0); triage.ErrorCode(err) != triage.ECONFLICT {
		t.Errorf("final report before the fix: %v", err)
	}
	if _, err := d.Apply(triage.DeadlineChange{Sent: []triage.CRASent{{Report: triage.CRAEarlyWarning, SentAt: d0}}}, r, 1, d0); triage.ErrorCode(err) != triage.EINVALID {
		t.Errorf("without a reference: %v", err)
	}
	sent := d0.Add(10 * time.Hour)
	if _, err := d.Apply(triage.DeadlineChange{Sent: []triage.CRASent{{Report: triage.CRAEarlyWarning, SentAt: sent, Reference: "CSIRT-DE 42"}}}, r, 1, sent); err != nil {
		t.Fatal(err)
	}
	if got := states(d0.Add(80 * time.Hour)); got != "cra_early_warning=met cra_notification=breached cra_final_report=waiting" {
		t.Errorf("day 3: %s", got)
	}
	if _, err := d.Apply(triage.DeadlineChange{ActivelyExploited: &no}, r, 1, sent); triage.ErrorCode(err) != triage.ECONFLICT {
		t.Errorf("unmark after sending: %v", err)
	}
	fixed := d0.Add(5 * 24 * time.Hour)
	move(t, r, triage.StatusFixed, fixed)
	cs = d.CRA(r, fixed)
	if cs[2].State != triage.ClockRunning || !cs[2].DueAt.Equal(fixed.Add(14*24*time.Hour)) {
		t.Errorf("final report after the fix: %+v", cs[2])
	}
	lateNotice := d0.Add(4 * 24 * time.Hour)
	if _, err := d.Apply(triage.DeadlineChange{Sent: []triage.CRASent{
		{Report: triage.CRANotification, SentAt: lateNotice, Reference: "CSIRT-DE 42-b"},
		{Report: triage.CRAFinalReport, SentAt: fixed.Add(24 * time.Hour), Reference: "ENISA SRP 7"},
	}}, r, 1, fixed.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := states(fixed.Add(30 * 24 * time.Hour)); got != "cra_early_warning=met cra_notification=breached cra_final_report=met" {
		t.Errorf("all sent: %s", got)
	}
	if c := d.CRA(r, fixed)[1]; c.Counting() || c.Reference != "CSIRT-DE 42-b" || c.Remaining != -26*time.Hour {
		t.Errorf("late notification: %+v", c)
	}
}
