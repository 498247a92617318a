package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// teamMetrics is the team metrics page: time to first response (median,
// p90), the share of reports answered within the SLA over 30 and 90
// days, the open reports by severity, and a weekly chart drawn as SVG on
// the server. The figures come from triage.ComputeTeamMetrics.
func (s *server) teamMetrics(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	p, err := s.store.SLAPolicy(ctx)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	days := max(triage.MetricsWindows[len(triage.MetricsWindows)-1], triage.ChartWeeks*7)
	reports, err := s.store.FirstResponses(ctx, now.Add(-time.Duration(days)*24*time.Hour))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	open, err := s.store.OpenBySeverity(ctx)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	m := triage.ComputeTeamMetrics(reports, open, p, now)

	v := templates.TeamMetricsView{
		Nav:     staffNav(userFrom(ctx)),
		Now:     formatTime(now),
		Policy:  "First response within " + p.FirstResponsePromise(),
		OpenAll: strconv.Itoa(m.OpenAll),
		Chart:   weeklyChart(m.Weeks),
	}
	if p.Calendar != nil {
		v.Policy += " (" + p.Calendar.Zone().String() + ")"
	}
	for _, wm := range m.Windows {
		row := templates.MetricsWindowRow{
			Label:     fmt.Sprintf("Last %d days", wm.Days),
			Received:  strconv.Itoa(wm.Received),
			Responded: strconv.Itoa(wm.Responded),
			Median:    "—",
			P90:       "—",
			WithinSLA: "—",
			Met:       strconv.Itoa(wm.Met),
			Breached:  strconv.Itoa(wm.Breached),
			Closed:    strconv.Itoa(wm.Closed),
			Pending:   strconv.Itoa(wm.Pending),
		}
		if wm.Responded > 0 {
			row.Median, row.P90 = formatSpan(wm.Median), formatSpan(wm.P90)
		}
		if share, ok := wm.WithinSLA(); ok {
			row.WithinSLA = fmt.Sprintf("%.0f %%", math.Floor(share*100))
		}
		v.Windows = append(v.Windows, row)
	}
	for _, c := range m.Open {
		label := string(c.Severity)
		if c.Severity == triage.SeverityUnscored {
			label = "unscored"
		}
		v.Open = append(v.Open, templates.MetricsCount{Label: label, Count: strconv.Itoa(c.Count), Class: "sev-" + label})
	}
	s.render(w, r, http.StatusOK, templates.TeamMetrics(v))
}

// formatSpan is a duration for people: "45m", "3h 05m", "2d 4h".
func formatSpan(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
	switch {
	case h >= 48:
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// The chart's geometry, in SVG user units.
const (
	chartW, chartH      = 640, 220
	chartLeft, chartTop = 40, 10
	chartBottom         = 30 // room for the week labels
)

// weeklyChart draws the weeks as stacked bars: met, breached, still open.
func weeklyChart(weeks []triage.WeekMetrics) templates.ChartView {
	c := templates.ChartView{
		Width: chartW, Height: chartH,
		Title: "First responses by week of receipt",
		Legend: []templates.ChartLegend{
			{Label: "met the SLA", Class: "bar-met"},
			{Label: "breached", Class: "bar-breached"},
			{Label: "closed without a reply", Class: "bar-closed"},
			{Label: "not decided yet", Class: "bar-pending"},
		},
	}
	top := 0
	var met, breached, closed, pending int
	for _, w := range weeks {
		top = max(top, w.Total())
		met, breached, closed, pending = met+w.Met, breached+w.Breached, closed+w.Closed, pending+w.Pending
	}
	top = niceCeil(top)
	plotH := chartH - chartTop - chartBottom
	slot := (chartW - chartLeft) / max(len(weeks), 1)
	y := func(n int) int { return chartTop + plotH - n*plotH/top }
	for _, n := range []int{0, top / 2, top} {
		c.YTicks = append(c.YTicks, templates.ChartTick{Y: y(n), Label: strconv.Itoa(n)})
	}
	for i, w := range weeks {
		b := templates.ChartBar{
			X: chartLeft + i*slot + slot/6, Width: slot * 2 / 3,
			Label: w.Start.Format("2 Jan"), LabelX: chartLeft + i*slot + slot/2,
			Title: fmt.Sprintf("Week of %s: %d met, %d breached, %d closed without a reply, %d not decided yet", w.Start.Format("2 Jan"), w.Met, w.Breached, w.Closed, w.Pending),
		}
		base := 0
		for _, seg := range []struct {
			n     int
			class string
		}{{w.Met, "bar-met"}, {w.Breached, "bar-breached"}, {w.Closed, "bar-closed"}, {w.Pending, "bar-pending"}} {
			if seg.n == 0 {
				continue
			}
			b.Segments = append(b.Segments, templates.ChartSegment{Y: y(base + seg.n), Height: y(base) - y(base+seg.n), Class: seg.class})
			base += seg.n
		}
		c.Bars = append(c.Bars, b)
	}
	c.Summary = fmt.Sprintf("Over the last %d weeks: %d first-response clocks met, %d breached, %d closed without a reply, %d not decided yet.", len(weeks), met, breached, closed, pending)
	return c
}

// niceCeil rounds n up to 2, 4, 6, 8 or 10 times a power of ten (at
// least 2), so the chart's middle tick is a whole number.
func niceCeil(n int) int {
	if n <= 2 {
		return 2
	}
	p := 1
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int{2, 4, 6, 8, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}
