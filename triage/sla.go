package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// SLA clocks. Every report has up to three, computed from its Timeline
// and the team's SLAPolicy by pure functions of now:
//
//   - first_response starts at receipt and stops (met) at the first reply
//     to the researcher (Report.Responded; an automatic acknowledgement is
//     not one). Default 24 h.
//   - triage starts at receipt and stops (met) when a severity is first
//     set, with a vector or without. Default 72 h: three days to assess.
//   - remediation starts when the report is both accepted and has a
//     severity from low to critical (at the later of acceptance and the
//     first time such a severity was set: none before it does not
//     count), and stops (met) when it is fixed. Default by severity:
//     critical 7 days, high 30, medium 90, low 180. A severity change
//     later keeps the start and changes the window. Severity none has no
//     remediation clock.
//
// Closing a report (duplicate, not-applicable, informative, spam,
// disclosed) stops every clock still running: closed if it was not yet
// due — neither met nor breached, as nobody answered, assessed or fixed
// it — and breached if it was. Clocks pause while the report is
// needs-info; a reopened report resumes where it stopped, the time spent
// closed counts as a pause too.
//
// A clock that has stopped keeps the verdict it got under the policy of
// that moment (Timeline.Settled, kept by Report.Settle when a store
// saves the report): a later policy change moves the clocks that still
// run or are paused, never one already met, closed or breached and
// stopped. Moving fixed back to fixing restarts the remediation
// clock from its original start: a fix that did not hold is late by the
// whole time.

// ClockName names one of a report's SLA clocks.
type ClockName string

const (
	ClockFirstResponse ClockName = "first_response"
	ClockTriage        ClockName = "triage"
	ClockRemediation   ClockName = "remediation"
)

// ClockState is where a clock stands at a given time.
type ClockState string

const (
	ClockRunning  ClockState = "running"
	ClockPaused   ClockState = "paused" // needs-info
	ClockMet      ClockState = "met"
	ClockBreached ClockState = "breached"
	// ClockClosed: the report was closed before the clock's own event
	// (a reply, a severity, a fix) and before it was due.
	ClockClosed ClockState = "closed"
)

// DueSoon is how close to its due time a clock counts as urgent: it
// rises on the board and notifies.
const DueSoon = 2 * time.Hour

// Pause is an interval that SLA clocks do not count. End is zero while
// the pause lasts.
type Pause struct {
	Start, End time.Time
}

// Timeline holds the moments the SLA clocks are computed from. Apply and
// Responded keep it; stores persist it.
type Timeline struct {
	RespondedAt   time.Time // first reply to the researcher
	SeveritySetAt time.Time // first time a severity was set (none included): stops the triage clock
	RatedAt       time.Time // first time a severity from low to critical was set: with AcceptedAt, starts remediation
	AcceptedAt    time.Time // first time the report was accepted
	ResolvedAt    time.Time // moved to fixed (cleared if it moves back to fixing)
	ClosedAt      time.Time // closed or disclosed (cleared on reopen)
	Pauses        []Pause   // in order of start; only the last may be open
	HeldAt        time.Time // held in quarantine since (quarantine.go); zero when not held
	// Settled holds, for each clock that has stopped, the due time it had
	// when it stopped, under the policy in force then (Report.Settle).
	Settled map[ClockName]time.Time
}

// Paused reports whether a pause is open.
func (t *Timeline) Paused() bool {
	return len(t.Pauses) > 0 && t.Pauses[len(t.Pauses)-1].End.IsZero()
}

func (t *Timeline) endPause(now time.Time) {
	if t.Paused() {
		t.Pauses[len(t.Pauses)-1].End = now
	}
}

// SLAPolicy is the team's promise: how long each clock runs, and whether
// only business hours count. An admin sets it (ParseSLAPolicy).
type SLAPolicy struct {
	FirstResponse time.Duration
	Triage        time.Duration
	Remediation   map[Severity]time.Duration // low, medium, high, critical
	Calendar      *Calendar                  // nil: clocks count around the clock
	// Disclosure is the disclosure deadline after receipt, in wall-clock
	// time (deadline.go); zero means DefaultDisclosureWindow.
	Disclosure time.Duration
}

// disclosureWindow is p's disclosure window.
func (p *SLAPolicy) disclosureWindow() time.Duration {
	if p == nil || p.Disclosure <= 0 {
		return DefaultDisclosureWindow
	}
	return p.Disclosure
}

// DisclosureDays is p's disclosure window in days.
func (p *SLAPolicy) DisclosureDays() int { return int(p.disclosureWindow() / (24 * time.Hour)) }

// DefaultSLAPolicy is the policy until an admin changes it.
func DefaultSLAPolicy() *SLAPolicy {
	const day = 24 * time.Hour
	return &SLAPolicy{
		FirstResponse: FirstResponseWindow,
		Triage:        72 * time.Hour,
		Remediation: map[Severity]time.Duration{
			SeverityCritical: 7 * day,
			SeverityHigh:     30 * day,
			SeverityMedium:   90 * day,
			SeverityLow:      180 * day,
		},
		Disclosure: DefaultDisclosureWindow,
	}
}

// FirstResponsePromise is the first-response window as researchers are
// promised it (the acknowledgement, the policy page): "24 hours", or "8
// working hours" when only business hours count.
func (p *SLAPolicy) FirstResponsePromise() string {
	d := p.FirstResponse
	n, unit := int64(d/time.Hour), "hour"
	if d%time.Hour != 0 {
		n, unit = int64((d+time.Minute-1)/time.Minute), "minute"
	}
	if p.Calendar != nil {
		unit = "working " + unit
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

// MaxSLAWindow bounds every window of a policy: a year of counted time.
const MaxSLAWindow = 365 * 24 * time.Hour

// Clock is one SLA clock of a report at a given time.
type Clock struct {
	Name  ClockName
	State ClockState
	Start time.Time
	// DueAt is when the clock runs out, in the policy's time zone. While
	// paused it is where the clock would end if it resumed now, so it
	// moves on with the pause. Zero if the calendar cannot reach it.
	DueAt time.Time
	// Remaining is DueAt minus now in real time, negative once breached.
	// For a clock that has stopped (met, or breached and then stopped) it
	// is frozen at what was left when it stopped.
	Remaining  time.Duration
	MetAt      time.Time // when met
	BreachedAt time.Time // when breached (= DueAt)
	StoppedAt  time.Time // when it stopped (met, closed, or breached and then answered or closed); zero while it counts
}

// SLA is a report's clocks at a given time; nil for a clock that has not
// started (remediation before acceptance and severity) or does not apply,
// and for every clock while the report is held in quarantine.
type SLA struct {
	FirstResponse *Clock
	Triage        *Clock
	Remediation   *Clock
}

// All returns the clocks that exist, in order.
func (s SLA) All() []*Clock {
	var out []*Clock
	for _, c := range []*Clock{s.FirstResponse, s.Triage, s.Remediation} {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// Breached reports whether any clock is breached.
func (s SLA) Breached() bool {
	for _, c := range s.All() {
		if c.State == ClockBreached {
			return true
		}
	}
	return false
}

// NextDue is the earliest due time of the clocks that count down now
// (running or breached, not paused or met); zero if none does. It
// changes only when the report changes, so stores keep it to order the
// board in SQL.
func (s SLA) NextDue() time.Time {
	var next time.Time
	for _, c := range s.All() {
		if c.Counting() && !c.DueAt.IsZero() &&
			(next.IsZero() || c.DueAt.Before(next)) {
			next = c.DueAt
		}
	}
	return next
}

// Counting reports whether c counts down at its time: running, or
// breached and not yet stopped. Paused and stopped clocks do not.
func (c *Clock) Counting() bool {
	return c.StoppedAt.IsZero() && (c.State == ClockRunning || c.State == ClockBreached)
}

// Clocks computes r's SLA clocks under policy p at now.
func (r *Report) Clocks(p *SLAPolicy, now time.Time) SLA {
	if p == nil {
		p = DefaultSLAPolicy()
	}
	t := &r.Timeline
	if !t.HeldAt.IsZero() {
		return SLA{} // held in quarantine: no clock runs
	}
	s := SLA{
		FirstResponse: p.clock(ClockFirstResponse, r.ReceivedAt, p.FirstResponse, t, t.RespondedAt, now),
		Triage:        p.clock(ClockTriage, r.ReceivedAt, p.Triage, t, t.SeveritySetAt, now),
	}
	if w, ok := p.Remediation[r.Severity]; ok && !t.AcceptedAt.IsZero() && !t.RatedAt.IsZero() {
		start := later(t.AcceptedAt, t.RatedAt)
		s.Remediation = p.clock(ClockRemediation, start, w, t, t.ResolvedAt, now)
	}
	return s
}

// Settle records in r's timeline the verdict of each clock that has
// stopped at now under p (its due time then), and forgets it for each
// clock that runs again (a reopened report, a fix that did not hold).
// A verdict already recorded is kept: p does not judge it again. Stores
// call it whenever they save a report's clocks.
func (r *Report) Settle(p *SLAPolicy, now time.Time) {
	var settled map[ClockName]time.Time
	for _, c := range r.Clocks(p, now).All() {
		if !c.StoppedAt.IsZero() && !c.DueAt.IsZero() {
			if settled == nil {
				settled = map[ClockName]time.Time{}
			}
			settled[c.Name] = c.DueAt.UTC()
		}
	}
	r.Timeline.Settled = settled
}

// rated reports whether s is a severity with a remediation window: low
// to critical.
func (s Severity) rated() bool {
	switch s {
	case SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return true
	}
	return false
}

// firstOf is the earlier of the non-zero times, zero if both are.
func firstOf(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	}
	return earlier(a, b)
}

// clock computes one clock that started at start with window, whose
// own event (a reply, a severity, a fix) happened at done (zero: not
// yet); closing the report stops it too.
func (p *SLAPolicy) clock(name ClockName, start time.Time, window time.Duration, t *Timeline, done, now time.Time) *Clock {
	stop := firstOf(done, t.ClosedAt)
	closed := !t.ClosedAt.IsZero() && stop.Equal(t.ClosedAt) && (done.IsZero() || t.ClosedAt.Before(done))
	at := now
	if !stop.IsZero() {
		at = stop // a pause still open ended, for this clock, when it stopped
	}
	due := dueAt(start, window, t.Pauses, p.Calendar, at)
	if d, ok := t.Settled[name]; ok && !stop.IsZero() {
		due = d // judged when it stopped, under the policy then
	}
	c := &Clock{Name: name, Start: start}
	if !due.IsZero() {
		c.DueAt = due.In(p.Calendar.Zone())
	}
	end := now // the remaining time is measured at the stop, if any
	switch {
	case closed && (due.IsZero() || !stop.After(due)):
		c.State, c.StoppedAt, end = ClockClosed, stop, stop
	case !stop.IsZero() && (due.IsZero() || !stop.After(due)):
		c.State, c.MetAt, c.StoppedAt, end = ClockMet, stop, stop, stop
	case !stop.IsZero():
		c.State, c.BreachedAt, c.StoppedAt, end = ClockBreached, c.DueAt, stop, stop
	case !due.IsZero() && !now.Before(due):
		c.State, c.BreachedAt = ClockBreached, c.DueAt
	case t.Paused() && !now.Before(t.Pauses[len(t.Pauses)-1].Start):
		c.State = ClockPaused
	default:
		c.State = ClockRunning
	}
	if !due.IsZero() {
		c.Remaining = due.Sub(end)
	}
	return c
}

// dueAt walks the clock's running time from start, skipping the pauses
// up to now (a pause still open at now ends there: due as if resumed
// now) and counting through cal, until window is used up. For a stopped
// clock now is its stop: the pauses after it do not move its due time.
func dueAt(start time.Time, window time.Duration, pauses []Pause, cal *Calendar, now time.Time) time.Time {
	at, left := start, window
	for _, p := range pauses {
		if !p.Start.Before(now) {
			break // pauses are in order: none of the rest had begun
		}
		end := p.End
		if end.IsZero() || end.After(now) {
			end = now
		}
		if !end.After(at) {
			continue
		}
		if ps := later(p.Start, at); ps.After(at) {
			if n := cal.Counted(at, ps); n >= left {
				return cal.Add(at, left)
			} else {
				left -= n
			}
		}
		at = end
	}
	return cal.Add(at, left)
}

// slaPolicyJSON is the policy as admins read and write it (API, settings
// row). Windows are counted hours: with business hours, working hours.
type slaPolicyJSON struct {
	FirstResponseHours float64            `json:"first_response_hours"`
	TriageHours        float64            `json:"triage_hours"`
	RemediationHours   map[string]float64 `json:"remediation_hours"`
	BusinessHours      *businessHoursJSON `json:"business_hours"`
	// DisclosureDays is optional (documents stored before it existed):
	// absent or null means the default, 90.
	DisclosureDays *int `json:"disclosure_days,omitempty"`
}

type businessHoursJSON struct {
	TimeZone string   `json:"time_zone"`
	Days     []string `json:"days"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Holidays []string `json:"holidays"`
}

// MaxSLAPolicyJSON bounds the policy document.
const MaxSLAPolicyJSON = 64 << 10

// ParseSLAPolicy reads and validates a policy document:
//
//	{"first_response_hours": 24, "triage_hours": 72,
//	 "remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320},
//	 "business_hours": {"time_zone": "Europe/Berlin", "days": ["mon","tue","wed","thu","fri"],
//	                    "start": "09:00", "end": "17:00", "holidays": ["2026-12-25"]}}
//
// business_hours may be null (count around the clock). Hours may have
// fractions down to a minute; each window is at least a minute and at
// most a year. Anything else is EINVALID with the reason.
func ParseSLAPolicy(b []byte) (*SLAPolicy, error) {
	if len(b) > MaxSLAPolicyJSON {
		return nil, Errorf(EINVALID, "policy larger than %d bytes", MaxSLAPolicyJSON)
	}
	var j slaPolicyJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, Errorf(EINVALID, "policy: %s", jsonReason(err))
	}
	if dec.More() {
		return nil, Errorf(EINVALID, "policy: trailing data after the JSON object")
	}
	p := &SLAPolicy{Remediation: map[Severity]time.Duration{}}
	var err error
	if p.FirstResponse, err = hoursWindow("first_response_hours", j.FirstResponseHours); err != nil {
		return nil, err
	}
	if p.Triage, err = hoursWindow("triage_hours", j.TriageHours); err != nil {
		return nil, err
	}
	for _, sev := range []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical} {
		h, ok := j.RemediationHours[string(sev)]
		if !ok {
			return nil, Errorf(EINVALID, "remediation_hours.%s is missing", sev)
		}
		if p.Remediation[sev], err = hoursWindow("remediation_hours."+string(sev), h); err != nil {
			return nil, err
		}
	}
	for k := range j.RemediationHours {
		if sev := Severity(k); sev == SeverityNone || sev == SeverityUnscored || !sev.Valid() {
			return nil, Errorf(EINVALID, "remediation_hours: unknown severity %q (want low, medium, high, critical)", cut(k, 20))
		}
	}
	if j.BusinessHours != nil {
		if p.Calendar, err = j.BusinessHours.calendar(); err != nil {
			return nil, err
		}
	}
	p.Disclosure = DefaultDisclosureWindow
	if d := j.DisclosureDays; d != nil {
		if max := int(MaxDisclosureWindow / (24 * time.Hour)); *d < 1 || *d > max {
			return nil, Errorf(EINVALID, "disclosure_days must be between 1 and %d", max)
		}
		p.Disclosure = time.Duration(*d) * 24 * time.Hour
	}
	return p, nil
}

func hoursWindow(field string, h float64) (time.Duration, error) {
	if math.IsNaN(h) || h < 1.0/60 || h > MaxSLAWindow.Hours() {
		return 0, Errorf(EINVALID, "%s must be between 1 minute (0.0167) and %.0f hours", field, MaxSLAWindow.Hours())
	}
	return time.Duration(math.Round(h*60)) * time.Minute, nil
}

func (b *businessHoursJSON) calendar() (*Calendar, error) {
	if b.TimeZone == "" || b.TimeZone == "Local" || len(b.TimeZone) > 64 {
		return nil, Errorf(EINVALID, "business_hours.time_zone must be an IANA zone such as Europe/Berlin")
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		return nil, Errorf(EINVALID, "business_hours.time_zone: unknown zone %q", b.TimeZone)
	}
	c := &Calendar{Location: loc}
	if len(b.Days) > 7 {
		return nil, Errorf(EINVALID, "business_hours.days: at most 7")
	}
	for _, d := range b.Days {
		wd, err := parseWeekday(d)
		if err != nil {
			return nil, err
		}
		if c.Days[wd] {
			return nil, Errorf(EINVALID, "business_hours.days: %s twice", weekdayNames[wd])
		}
		c.Days[wd] = true
	}
	if c.Start, err = parseClock(b.Start); err != nil {
		return nil, err
	}
	if c.End, err = parseClock(b.End); err != nil {
		return nil, err
	}
	if len(b.Holidays) > MaxHolidays {
		return nil, Errorf(EINVALID, "business_hours.holidays: at most %d", MaxHolidays)
	}
	for _, h := range b.Holidays {
		d, err := ParseDate(h)
		if err != nil {
			return nil, err
		}
		c.Holidays = append(c.Holidays, d)
	}
	slices.SortFunc(c.Holidays, Date.compare)
	c.Holidays = slices.Compact(c.Holidays)
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// MarshalJSON writes p in the form ParseSLAPolicy reads.
func (p *SLAPolicy) MarshalJSON() ([]byte, error) {
	j := slaPolicyJSON{
		FirstResponseHours: p.FirstResponse.Hours(),
		TriageHours:        p.Triage.Hours(),
		RemediationHours:   map[string]float64{},
	}
	days := p.DisclosureDays()
	j.DisclosureDays = &days
	for sev, w := range p.Remediation {
		j.RemediationHours[string(sev)] = w.Hours()
	}
	if c := p.Calendar; c != nil {
		b := &businessHoursJSON{
			TimeZone: c.Location.String(),
			Days:     []string{},
			Start:    formatClock(c.Start),
			End:      formatClock(c.End),
			Holidays: []string{},
		}
		for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
			if c.Days[wd] {
				b.Days = append(b.Days, weekdayNames[wd])
			}
		}
		for _, h := range c.Holidays {
			b.Holidays = append(b.Holidays, h.String())
		}
		j.BusinessHours = b
	}
	return json.Marshal(j)
}

// jsonReason describes a decoding error without echoing large input.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("%s has the wrong type (want %s)", te.Field, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	}
	return cut(err.Error(), 200)
}
