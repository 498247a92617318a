package triage_test

import (
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func TestPercentile(t *testing.T) {
	m := time.Minute
	for _, tc := range []struct {
		name   string
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 0.5, 0},
		{"one", []time.Duration{7 * m}, 0.5, 7 * m},
		{"one p90", []time.Duration{7 * m}, 0.9, 7 * m},
		{"median of odd", []time.Duration{1 * m, 2 * m, 3 * m}, 0.5, 2 * m},
		{"median of even: lower middle", []time.Duration{1 * m, 2 * m, 3 * m, 4 * m}, 0.5, 2 * m},
		{"p90 of ten", []time.Duration{1 * m, 2 * m, 3 * m, 4 * m, 5 * m, 6 * m, 7 * m, 8 * m, 9 * m, 10 * m}, 0.9, 9 * m},
		{"p90 of eleven", []time.Duration{1 * m, 2 * m, 3 * m, 4 * m, 5 * m, 6 * m, 7 * m, 8 * m, 9 * m, 10 * m, 11 * m}, 0.9, 10 * m},
		{"p100", []time.Duration{1 * m, 2 * m, 3 * m}, 1, 3 * m},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := triage.Percentile(tc.values, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %g) = %v, want %v", tc.values, tc.p, got, tc.want)
			}
		})
	}
}

// TestComputeTeamMetrics builds reports with known histories under the
// default policy (24 h first response) and checks every figure.
func TestComputeTeamMetrics(t *testing.T) {
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	type rep struct {
		age       time.Duration // received now - age
		responded time.Duration // after receipt; 0: never
		closed    time.Duration // closed (spam) after receipt; 0: open
		pausedAt  time.Duration // needs-info after receipt, still paused; 0: never
	}
	build := func(rs []rep) []*triage.Report {
		var out []*triage.Report
		for _, x := range rs {
			r := triage.NewReport(now.Add(-x.age))
			if x.responded > 0 {
				r.Responded(1, r.ReceivedAt.Add(x.responded))
			}
			if x.pausedAt > 0 {
				st := triage.StatusNeedsInfo
				if _, err := r.Apply(triage.Change{Status: &st}, nil, 1, r.ReceivedAt.Add(x.pausedAt)); err != nil {
					t.Fatal(err)
				}
			}
			if x.closed > 0 {
				st := triage.StatusSpam
				if _, err := r.Apply(triage.Change{Status: &st}, nil, 1, r.ReceivedAt.Add(x.closed)); err != nil {
					t.Fatal(err)
				}
			}
			out = append(out, r)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		reports []rep
		want    []triage.WindowMetrics // 30 and 90 days
		share   []float64              // -1: undecided
	}{
		{
			name:  "nothing",
			want:  []triage.WindowMetrics{{Days: 30}, {Days: 90}},
			share: []float64{-1, -1},
		},
		{
			name: "answered in time, late, and not yet",
			reports: []rep{
				{age: 2 * day, responded: 1 * time.Hour},   // met
				{age: 3 * day, responded: 30 * time.Hour},  // breached (answered late)
				{age: 5 * time.Hour},                       // running
				{age: 40 * day, responded: 2 * time.Hour},  // 90 days only, met
				{age: 60 * day},                            // 90 days only, breached (never answered)
				{age: 100 * day, responded: time.Minute},   // outside both windows
				{age: 10 * day, closed: 3 * time.Hour},     // closed in time without a reply: closed, neither met nor breached
				{age: 20 * day, pausedAt: 2 * time.Hour},   // paused at 2 h, still: pending
				{age: 25 * day, pausedAt: 30 * time.Hour},  // paused after the due time: breached
				{age: 1 * day, responded: 10 * time.Hour},  // met
				{age: 29 * day, responded: 20 * time.Hour}, // met
			},
			want: []triage.WindowMetrics{
				{Days: 30, Received: 8, Responded: 4, Median: 10 * time.Hour, P90: 30 * time.Hour, Met: 3, Breached: 2, Closed: 1, Pending: 2},
				{Days: 90, Received: 10, Responded: 5, Median: 10 * time.Hour, P90: 30 * time.Hour, Met: 4, Breached: 3, Closed: 1, Pending: 2},
			},
			share: []float64{3.0 / 5, 4.0 / 7},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := map[triage.Severity]int{triage.SeverityCritical: 2, triage.SeverityUnscored: 5, triage.SeverityLow: 1}
			m := triage.ComputeTeamMetrics(build(tc.reports), open, nil, now)
			if len(m.Windows) != len(tc.want) {
				t.Fatalf("%d windows, want %d", len(m.Windows), len(tc.want))
			}
			for i, w := range m.Windows {
				if w != tc.want[i] {
					t.Errorf("window %d:\n got %+v\nwant %+v", i, w, tc.want[i])
				}
				share, ok := w.WithinSLA()
				if tc.share[i] < 0 {
					if ok {
						t.Errorf("window %d: share %g, want undecided", i, share)
					}
				} else if !ok || share != tc.share[i] {
					t.Errorf("window %d: share %g (%v), want %g", i, share, ok, tc.share[i])
				}
			}
			if m.OpenAll != 8 || m.Open[0] != (triage.SeverityCount{Severity: triage.SeverityCritical, Count: 2}) ||
				m.Open[len(m.Open)-1] != (triage.SeverityCount{Severity: triage.SeverityUnscored, Count: 5}) {
				t.Errorf("open: %+v (all %d)", m.Open, m.OpenAll)
			}
			// Weeks hold the 90-day reports (91 days, in fact) by outcome.
			if len(m.Weeks) != triage.ChartWeeks {
				t.Fatalf("%d weeks", len(m.Weeks))
			}
			var met, breached, closed, pending int
			for i, w := range m.Weeks {
				met, breached, closed, pending = met+w.Met, breached+w.Breached, closed+w.Closed, pending+w.Pending
				if i > 0 && w.Start.Sub(m.Weeks[i-1].Start) != 7*day {
					t.Errorf("week %d starts %v after the previous", i, w.Start.Sub(m.Weeks[i-1].Start))
				}
			}
			if w := tc.want[1]; met != w.Met || breached != w.Breached || closed != w.Closed || pending != w.Pending {
				t.Errorf("weeks sum to met %d breached %d closed %d pending %d, want %d %d %d %d", met, breached, closed, pending, w.Met, w.Breached, w.Closed, w.Pending)
			}
			for _, w := range m.Windows {
				if w.Met > w.Responded || w.Met+w.Breached+w.Closed+w.Pending != w.Received {
					t.Errorf("window %d days counts one thing two ways: %+v", w.Days, w)
				}
			}
			if last := m.Weeks[len(m.Weeks)-1]; len(tc.reports) > 0 && last.Total() != 4 {
				t.Errorf("the last week holds %d reports, want 4 (received 5 h, 1, 2 and 3 days ago)", last.Total())
			}
		})
	}
}
