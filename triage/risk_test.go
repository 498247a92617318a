package triage_test

import (
	"slices"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func TestRank(t *testing.T) {
	now := t0
	h := func(n float64) time.Time { return now.Add(time.Duration(n * float64(time.Hour))) }
	for _, tc := range []struct {
		name    string
		closed  bool
		points  int
		nextDue time.Time
		tier    int
		value   int
	}{
		{"BreachedLongAgo", false, 10, h(-100), 3, 3010},
		{"BreachedNow", false, 10, h(0), 3, 3010},
		{"DueIn2h", false, 98, h(2), 2, 2098},
		{"DueIn2h1m", false, 98, h(2 + 1.0/60), 1, 1098},
		{"NoClock", false, 40, time.Time{}, 1, 1040},
		{"ClosedAndOverdue", true, 98, h(-5), 0, 98},
	} {
		r := triage.Rank(tc.closed, tc.points, tc.nextDue, now)
		if r.Tier != tc.tier || r.Value() != tc.value {
			t.Errorf("%s: tier %d value %d, want %d %d", tc.name, r.Tier, r.Value(), tc.tier, tc.value)
		}
	}

	// The board order, top to bottom.
	want := []struct {
		name string
		risk triage.Risk
	}{
		{"breached critical, most overdue", triage.Rank(false, 98, h(-3), now)},
		{"breached critical", triage.Rank(false, 98, h(-1), now)},
		{"breached low", triage.Rank(false, 1, h(-50), now)},
		{"due soon, medium", triage.Rank(false, 50, h(1.5), now)},
		{"due soon, unscored", triage.Rank(false, 40, h(0.5), now)},
		{"open critical, due in a week", triage.Rank(false, 95, h(150), now)},
		{"open critical, paused", triage.Rank(false, 95, time.Time{}, now)},
		{"open high", triage.Rank(false, 75, h(3), now)},
		{"open none", triage.Rank(false, 0, h(30), now)},
		{"closed critical", triage.Rank(true, 98, time.Time{}, now)},
		{"closed low", triage.Rank(true, 1, time.Time{}, now)},
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortStableFunc(got, func(a, b struct {
		name string
		risk triage.Risk
	}) int {
		return a.risk.Compare(b.risk)
	})
	for i := range want {
		if got[i].name != want[i].name {
			t.Errorf("position %d: %s, want %s", i, got[i].name, want[i].name)
		}
	}
}

func TestSeverityPoints(t *testing.T) {
	for _, tc := range []struct {
		r    triage.Report
		want int
	}{
		{triage.Report{CVSS: triage.CVSS{Vector: "CVSS:3.1/x", Score: 9.8}, Severity: triage.SeverityCritical}, 98},
		{triage.Report{CVSS: triage.CVSS{Vector: "CVSS:3.1/x", Score: 0}, Severity: triage.SeverityNone}, 0},
		{triage.Report{Severity: triage.SeverityCritical}, 90},
		{triage.Report{Severity: triage.SeverityHigh}, 70},
		{triage.Report{Severity: triage.SeverityMedium}, 40},
		{triage.Report{Severity: triage.SeverityLow}, 1},
		{triage.Report{Severity: triage.SeverityNone}, 0},
		{triage.Report{}, 40}, // unscored counts as medium
	} {
		if got := tc.r.SeverityPoints(); got != tc.want {
			t.Errorf("%+v: %d, want %d", tc.r.CVSS, got, tc.want)
		}
	}
}

func TestReportRisk(t *testing.T) {
	r := newReport(1, triage.StatusNew)
	p := triage.DefaultSLAPolicy()
	if got := r.Risk(p, t0.Add(time.Hour)); got.Tier != 1 || !got.NextDue.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("%+v", got)
	}
	if got := r.Risk(p, t0.Add(23*time.Hour)); got.Tier != 2 {
		t.Errorf("%+v", got)
	}
	if got := r.Risk(p, t0.Add(25*time.Hour)); got.Tier != 3 || got.Value() != 3040 {
		t.Errorf("%+v", got)
	}
}
