package triage

import (
	"math"
	"slices"
	"time"
)

// Team metrics: how well the team keeps its first-response promise,
// computed from the reports a store returns (pure functions of now).
//
//   - Time to first response is real elapsed time from receipt to the
//     first reply to the researcher (Timeline.RespondedAt), over the
//     reports received in the window that have one. Median and p90 use
//     the nearest-rank method: the p-th percentile of n sorted values is
//     the value at rank ⌈p·n⌉, so both are always durations that occurred.
//   - Every report received in the window counts once, by where its
//     first-response clock stands: met (answered in time), breached
//     (answered late, or not answered by the due time), closed (closed
//     in time without a reply: neither) or pending (still running or
//     paused). Met never exceeds Responded.
//   - Within SLA is met over met plus breached. Closed and pending
//     reports are left out: nobody answered them, and pending ones can
//     still go either way.
//   - Open by severity counts reports not closed, per severity (unscored
//     included).
//   - The chart is the same first-response outcome per week of receipt.

// MetricsWindows are the windows the metrics page reports, shortest first.
var MetricsWindows = []int{30, 90} // days

// ChartWeeks is how many weeks the weekly chart covers (about 90 days).
const ChartWeeks = 13

// WindowMetrics are the first-response figures over one window.
type WindowMetrics struct {
	Days      int
	Received  int           // reports received in the window
	Responded int           // of which have had a first response
	Median    time.Duration // time to first response; 0 when Responded is 0
	P90       time.Duration
	Met       int // first-response clock met: answered in time
	Breached  int // first-response clock breached
	Closed    int // closed in time without a reply
	Pending   int // still running or paused
}

// WithinSLA is Met / (Met + Breached), and false when no clock is
// decided yet.
func (w WindowMetrics) WithinSLA() (float64, bool) {
	if w.Met+w.Breached == 0 {
		return 0, false
	}
	return float64(w.Met) / float64(w.Met+w.Breached), true
}

// WeekMetrics is one bar of the weekly chart: the reports received in
// the week starting at Start, by first-response outcome.
type WeekMetrics struct {
	Start                          time.Time
	Met, Breached, Closed, Pending int
}

// Total is every report received that week.
func (w WeekMetrics) Total() int { return w.Met + w.Breached + w.Closed + w.Pending }

// SeverityCount is the number of open reports of one severity.
type SeverityCount struct {
	Severity Severity
	Count    int
}

// TeamMetrics is what the metrics page shows.
type TeamMetrics struct {
	Windows []WindowMetrics // one per MetricsWindows entry
	Weeks   []WeekMetrics   // ChartWeeks, oldest first; the last one holds now
	Open    []SeverityCount // critical first, unscored last
	OpenAll int
}

// ComputeTeamMetrics computes the team's metrics at now under policy p
// from reports (those received in the last max(MetricsWindows) days or
// ChartWeeks weeks, whichever is longer; older ones are ignored; only
// ReceivedAt, Status and Timeline are read) and the store's count of
// open reports per severity.
func ComputeTeamMetrics(reports []*Report, open map[Severity]int, p *SLAPolicy, now time.Time) TeamMetrics {
	var m TeamMetrics
	for _, days := range MetricsWindows {
		m.Windows = append(m.Windows, windowMetrics(reports, p, now, days))
	}

	// Weeks end at now: the last bar is the seven days up to now.
	first := now.Add(-ChartWeeks * 7 * 24 * time.Hour)
	m.Weeks = make([]WeekMetrics, ChartWeeks)
	for i := range m.Weeks {
		m.Weeks[i].Start = first.Add(time.Duration(i) * 7 * 24 * time.Hour)
	}
	for _, r := range reports {
		if r.ReceivedAt.Before(first) || r.ReceivedAt.After(now) {
			continue
		}
		i := min(int(r.ReceivedAt.Sub(first)/(7*24*time.Hour)), ChartWeeks-1)
		switch firstResponseOutcome(r, p, now) {
		case ClockMet:
			m.Weeks[i].Met++
		case ClockBreached:
			m.Weeks[i].Breached++
		case ClockClosed:
			m.Weeks[i].Closed++
		default:
			m.Weeks[i].Pending++
		}
	}

	for _, sev := range []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityNone, SeverityUnscored} {
		m.Open = append(m.Open, SeverityCount{Severity: sev, Count: open[sev]})
		m.OpenAll += open[sev]
	}
	return m
}

// windowMetrics computes the figures over the days before now.
func windowMetrics(reports []*Report, p *SLAPolicy, now time.Time, days int) WindowMetrics {
	w := WindowMetrics{Days: days}
	since := now.Add(-time.Duration(days) * 24 * time.Hour)
	var times []time.Duration
	for _, r := range reports {
		if r.ReceivedAt.Before(since) || r.ReceivedAt.After(now) {
			continue
		}
		w.Received++
		if at := r.Timeline.RespondedAt; !at.IsZero() && !at.After(now) {
			times = append(times, max(at.Sub(r.ReceivedAt), 0))
		}
		switch firstResponseOutcome(r, p, now) {
		case ClockMet:
			w.Met++
		case ClockBreached:
			w.Breached++
		case ClockClosed:
			w.Closed++
		default:
			w.Pending++
		}
	}
	w.Responded = len(times)
	slices.Sort(times)
	w.Median = Percentile(times, 0.5)
	w.P90 = Percentile(times, 0.9)
	return w
}

// firstResponseOutcome is the state of r's first-response clock at now.
func firstResponseOutcome(r *Report, p *SLAPolicy, now time.Time) ClockState {
	c := r.Clocks(p, now).FirstResponse
	if c == nil {
		return ClockRunning
	}
	return c.State
}

// Percentile is the p-th percentile (0 < p ≤ 1) of sorted by the
// nearest-rank method; 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
