package triage_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// policy returns the default windows with business hours bh (JSON, or
// "null"), and first-response window frHours.
func policy(t *testing.T, frHours float64, bh string) *triage.SLAPolicy {
	t.Helper()
	p, err := triage.ParseSLAPolicy([]byte(fmt.Sprintf(`{"first_response_hours": %g, "triage_hours": 72,
		"remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320},
		"business_hours": %s}`, frHours, bh)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	berlinOffice = `{"time_zone": "Europe/Berlin", "days": ["mon","tue","wed","thu","fri"], "start": "09:00", "end": "17:00", "holidays": ["2026-12-25", "2026-12-24", "2026-12-25"]}`
	berlinAlways = `{"time_zone": "Europe/Berlin", "days": ["mon","tue","wed","thu","fri","sat","sun"], "start": "00:00", "end": "24:00"}`
	nyAlways     = `{"time_zone": "America/New_York", "days": ["Monday","tue","wed","thu","fri","sat","sun"], "start": "00:00", "end": "24:00"}`
)

// TestClock_FirstResponse covers the due time and state of the
// first-response clock across calendars, daylight saving time, pauses,
// weekends and holidays. Times are written in the calendar's zone.
func TestClock_FirstResponse(t *testing.T) {
	berlin, ny := zone(t, "Europe/Berlin"), zone(t, "America/New_York")
	at := func(loc *time.Location, s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type pause struct{ start, end string } // end "" : still paused
	for _, tc := range []struct {
		name      string
		hours     float64
		bh        string
		loc       *time.Location
		received  string
		pauses    []pause
		responded string
		now       string
		due       string // in loc; "2006-01-02 15:04 MST"
		state     triage.ClockState
		remaining time.Duration
	}{
		{name: "Plain24h", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 09:00", now: "2026-03-02 10:00",
			due: "2026-03-03 09:00 UTC", state: triage.ClockRunning, remaining: 23 * time.Hour},
		{name: "BreachedExactlyAtDue", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 09:00", now: "2026-03-03 09:00",
			due: "2026-03-03 09:00 UTC", state: triage.ClockBreached, remaining: 0},
		{name: "Breached", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 09:00", now: "2026-03-03 11:30",
			due: "2026-03-03 09:00 UTC", state: triage.ClockBreached, remaining: -150 * time.Minute},
		{name: "MetExactlyAtDue", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 09:00", responded: "2026-03-03 09:00", now: "2026-03-05 00:00",
			due: "2026-03-03 09:00 UTC", state: triage.ClockMet, remaining: 0},
		{name: "RespondedLate", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 09:00", responded: "2026-03-03 10:00", now: "2026-03-05 00:00",
			due: "2026-03-03 09:00 UTC", state: triage.ClockBreached, remaining: -time.Hour},

		// Around the clock in a zone: 24 h are 24 real hours, so the wall
		// clock shows the daylight saving change.
		{name: "BerlinSpringForward", hours: 24, bh: berlinAlways, loc: berlin, received: "2026-03-29 00:30", now: "2026-03-29 00:30",
			due: "2026-03-30 01:30 CEST", state: triage.ClockRunning, remaining: 24 * time.Hour},
		{name: "BerlinFallBack", hours: 24, bh: berlinAlways, loc: berlin, received: "2026-10-24 12:00", now: "2026-10-24 12:00",
			due: "2026-10-25 11:00 CET", state: triage.ClockRunning, remaining: 24 * time.Hour},
		{name: "NewYorkSpringForward", hours: 24, bh: nyAlways, loc: ny, received: "2026-03-07 12:00", now: "2026-03-08 12:00",
			due: "2026-03-08 13:00 EDT", state: triage.ClockRunning, remaining: time.Hour},
		{name: "NewYorkFallBack", hours: 48, bh: nyAlways, loc: ny, received: "2026-10-31 12:00", now: "2026-10-31 12:00",
			due: "2026-11-02 11:00 EST", state: triage.ClockRunning, remaining: 48 * time.Hour},

		// Office hours, Mon–Fri 09:00–17:00 Berlin: 24 h are three working days.
		{name: "OfficeOverWeekendAndDST", hours: 24, bh: berlinOffice, loc: berlin, received: "2026-03-27 16:00", now: "2026-03-27 16:00",
			due: "2026-04-01 16:00 CEST", state: triage.ClockRunning},
		{name: "OfficeAutumn", hours: 4, bh: berlinOffice, loc: berlin, received: "2026-10-23 15:00", now: "2026-10-23 15:00",
			due: "2026-10-26 11:00 CET", state: triage.ClockRunning},
		{name: "OfficeReceivedSaturday", hours: 8, bh: berlinOffice, loc: berlin, received: "2026-03-07 11:00", now: "2026-03-07 11:00",
			due: "2026-03-09 17:00 CET", state: triage.ClockRunning},
		{name: "OfficeReceivedAtNight", hours: 1, bh: berlinOffice, loc: berlin, received: "2026-03-03 23:00", now: "2026-03-04 09:30",
			due: "2026-03-04 10:00 CET", state: triage.ClockRunning, remaining: 30 * time.Minute},
		{name: "OfficeEndsExactlyAtClosing", hours: 8, bh: berlinOffice, loc: berlin, received: "2026-03-03 09:00", now: "2026-03-03 09:00",
			due: "2026-03-03 17:00 CET", state: triage.ClockRunning, remaining: 8 * time.Hour},
		{name: "OfficeHolidays", hours: 8, bh: berlinOffice, loc: berlin, received: "2026-12-23 10:00", now: "2026-12-23 10:00",
			due: "2026-12-28 10:00 CET", state: triage.ClockRunning},
		{name: "OfficeBreachedOnWeekend", hours: 8, bh: berlinOffice, loc: berlin, received: "2026-03-06 09:00", now: "2026-03-07 12:00",
			due: "2026-03-06 17:00 CET", state: triage.ClockBreached, remaining: -19 * time.Hour},

		// Pauses (needs-info) do not count.
		{name: "PausedAndResumed", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			pauses: []pause{{"2026-03-02 10:00", "2026-03-02 20:00"}}, now: "2026-03-02 21:00",
			due: "2026-03-03 10:00 UTC", state: triage.ClockRunning, remaining: 13 * time.Hour},
		{name: "PausedNow", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			pauses: []pause{{"2026-03-02 10:00", ""}}, now: "2026-03-02 15:00",
			due: "2026-03-03 05:00 UTC", state: triage.ClockPaused, remaining: 14 * time.Hour},
		{name: "PausedLongerRemainingSame", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			pauses: []pause{{"2026-03-02 10:00", ""}}, now: "2026-03-09 15:00",
			due: "2026-03-10 05:00 UTC", state: triage.ClockPaused, remaining: 14 * time.Hour},
		{name: "TwoPauses", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			pauses: []pause{{"2026-03-02 01:00", "2026-03-02 03:00"}, {"2026-03-02 05:00", "2026-03-02 06:00"}}, now: "2026-03-02 06:00",
			due: "2026-03-03 03:00 UTC", state: triage.ClockRunning, remaining: 21 * time.Hour},
		{name: "BreachedBeforePause", hours: 1, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			pauses: []pause{{"2026-03-02 02:00", ""}}, now: "2026-03-02 03:00",
			due: "2026-03-02 01:00 UTC", state: triage.ClockBreached, remaining: -2 * time.Hour},
		{name: "PauseSpanningWeekend", hours: 16, bh: berlinOffice, loc: berlin, received: "2026-03-05 09:00",
			pauses: []pause{{"2026-03-05 13:00", "2026-03-09 11:00"}}, now: "2026-03-09 11:00",
			due: "2026-03-10 15:00 CET", state: triage.ClockRunning},
		{name: "PausedOnFridayEvening", hours: 16, bh: berlinOffice, loc: berlin, received: "2026-03-05 09:00",
			pauses: []pause{{"2026-03-06 16:00", ""}}, now: "2026-03-07 12:00",
			due: "2026-03-09 10:00 CET", state: triage.ClockPaused},
		{name: "RespondedWhilePaused", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			pauses: []pause{{"2026-03-02 10:00", ""}}, responded: "2026-03-02 10:00", now: "2026-03-04 00:00",
			due: "2026-03-03 00:00 UTC", state: triage.ClockMet, remaining: 14 * time.Hour},
		// A stopped clock keeps the due time it had when it stopped:
		// pauses after it (needs-info later on) do not move it.
		{name: "MetThenPaused", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			responded: "2026-03-02 02:00", pauses: []pause{{"2026-03-02 05:00", "2026-03-05 05:00"}}, now: "2026-03-06 00:00",
			due: "2026-03-03 00:00 UTC", state: triage.ClockMet, remaining: 22 * time.Hour},
		{name: "MetThenStillPaused", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			responded: "2026-03-02 02:00", pauses: []pause{{"2026-03-02 05:00", ""}}, now: "2026-03-06 00:00",
			due: "2026-03-03 00:00 UTC", state: triage.ClockMet, remaining: 22 * time.Hour},
		{name: "RespondedDuringPauseEndedLater", hours: 24, bh: "null", loc: time.UTC, received: "2026-03-02 00:00",
			pauses: []pause{{"2026-03-02 10:00", "2026-03-02 20:00"}}, responded: "2026-03-02 15:00", now: "2026-03-04 00:00",
			due: "2026-03-03 05:00 UTC", state: triage.ClockMet, remaining: 14 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policy(t, tc.hours, tc.bh)
			r := triage.NewReport(at(tc.loc, tc.received))
			for _, ps := range tc.pauses {
				pp := triage.Pause{Start: at(tc.loc, ps.start)}
				if ps.end != "" {
					pp.End = at(tc.loc, ps.end)
				}
				r.Timeline.Pauses = append(r.Timeline.Pauses, pp)
			}
			if tc.responded != "" {
				r.Timeline.RespondedAt = at(tc.loc, tc.responded)
			}
			now := at(tc.loc, tc.now)
			c := r.Clocks(p, now).FirstResponse
			if got := c.DueAt.Format("2006-01-02 15:04 MST"); got != tc.due {
				t.Errorf("due %s, want %s", got, tc.due)
			}
			if c.DueAt.Location().String() != tc.loc.String() {
				t.Errorf("due in zone %v, want %v", c.DueAt.Location(), tc.loc)
			}
			if c.State != tc.state {
				t.Errorf("state %s, want %s", c.State, tc.state)
			}
			if tc.remaining != 0 || tc.state == triage.ClockBreached || tc.state == triage.ClockMet {
				if c.Remaining != tc.remaining {
					t.Errorf("remaining %v, want %v", c.Remaining, tc.remaining)
				}
			}
			switch c.State {
			case triage.ClockMet:
				if !c.MetAt.Equal(r.Timeline.RespondedAt) || c.StoppedAt.IsZero() {
					t.Errorf("met at %v", c.MetAt)
				}
			case triage.ClockBreached:
				if !c.BreachedAt.Equal(c.DueAt) {
					t.Errorf("breached at %v, due %v", c.BreachedAt, c.DueAt)
				}
			}
		})
	}
}

func TestCalendar_Counted(t *testing.T) {
	ny, berlin := zone(t, "America/New_York"), zone(t, "Europe/Berlin")
	for _, tc := range []struct {
		name string
		bh   string
		a, b time.Time
		want time.Duration
	}{
		{"NYSpringDayIs23h", nyAlways, time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 0, 0, 0, 0, ny), 23 * time.Hour},
		{"NYAutumnDayIs25h", nyAlways, time.Date(2026, 11, 1, 0, 0, 0, 0, ny), time.Date(2026, 11, 2, 0, 0, 0, 0, ny), 25 * time.Hour},
		{"BerlinOfficeWeek", berlinOffice, time.Date(2026, 3, 2, 0, 0, 0, 0, berlin), time.Date(2026, 3, 9, 0, 0, 0, 0, berlin), 40 * time.Hour},
		{"BerlinOfficeWeekWithDST", berlinOffice, time.Date(2026, 3, 23, 0, 0, 0, 0, berlin), time.Date(2026, 4, 6, 0, 0, 0, 0, berlin), 80 * time.Hour},
		{"ChristmasWeek", berlinOffice, time.Date(2026, 12, 21, 0, 0, 0, 0, berlin), time.Date(2026, 12, 28, 0, 0, 0, 0, berlin), 24 * time.Hour},
		{"Backwards", berlinOffice, time.Date(2026, 3, 9, 0, 0, 0, 0, berlin), time.Date(2026, 3, 2, 0, 0, 0, 0, berlin), 0},
		{"Partial", berlinOffice, time.Date(2026, 3, 2, 16, 30, 0, 0, berlin), time.Date(2026, 3, 3, 9, 15, 0, 0, berlin), 45 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cal := policy(t, 24, tc.bh).Calendar
			if got := cal.Counted(tc.a, tc.b); got != tc.want {
				t.Errorf("Counted = %v, want %v", got, tc.want)
			}
			if tc.want > 0 {
				if got := cal.Add(tc.a, tc.want); cal.Counted(tc.a, got) != tc.want || got.After(tc.b) {
					t.Errorf("Add(a, %v) = %v, beyond b %v", tc.want, got, tc.b)
				}
			}
		})
	}
	var none *triage.Calendar
	if none.Counted(t0, t0.Add(time.Hour)) != time.Hour || !none.Add(t0, time.Hour).Equal(t0.Add(time.Hour)) {
		t.Error("nil calendar does not count plain time")
	}
}

// TestClocks_Lifecycle moves a report through the workflow and checks
// every clock on the way.
func TestClocks_Lifecycle(t *testing.T) {
	p := triage.DefaultSLAPolicy()
	r := newReport(1, triage.StatusNew)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	step := func(at time.Time, c triage.Change) {
		t.Helper()
		if _, err := r.Apply(c, nil, 1, at); err != nil {
			t.Fatal(err)
		}
	}
	check := func(now time.Time, name string, c *triage.Clock, state triage.ClockState, due time.Time) {
		t.Helper()
		if c == nil {
			if state != "" {
				t.Errorf("%s at %v: no clock, want %s", name, now, state)
			}
			return
		}
		if state == "" {
			t.Errorf("%s at %v: clock %s, want none", name, now, c.State)
			return
		}
		if c.State != state || !c.DueAt.Equal(due) {
			t.Errorf("%s at %v: %s due %v, want %s due %v", name, now, c.State, c.DueAt, state, due)
		}
	}

	s := r.Clocks(p, h(1))
	check(h(1), "triage", s.Triage, triage.ClockRunning, h(72))
	check(h(1), "remediation", s.Remediation, "", time.Time{})
	if !s.NextDue().Equal(h(24)) {
		t.Errorf("next due %v", s.NextDue())
	}

	step(h(2), triage.Change{Status: ptr(triage.StatusTriaging)})
	step(h(4), triage.Change{Status: ptr(triage.StatusNeedsInfo)})
	s = r.Clocks(p, h(10))
	check(h(10), "first_response", s.FirstResponse, triage.ClockPaused, h(30))
	if !s.NextDue().IsZero() {
		t.Errorf("paused clocks count down: next due %v", s.NextDue())
	}
	step(h(14), triage.Change{Status: ptr(triage.StatusTriaging)}) // 10 h paused
	r.Responded(1, h(20))
	step(h(30), triage.Change{CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N")}) // 9.1 critical
	s = r.Clocks(p, h(31))
	check(h(31), "first_response", s.FirstResponse, triage.ClockMet, h(34))
	check(h(31), "triage", s.Triage, triage.ClockMet, h(82))
	check(h(31), "remediation", s.Remediation, "", time.Time{}) // not accepted yet

	step(h(40), triage.Change{Status: ptr(triage.StatusAccepted)})
	s = r.Clocks(p, h(41))
	check(h(41), "remediation", s.Remediation, triage.ClockRunning, h(40+7*24))
	if !s.NextDue().Equal(h(40 + 7*24)) {
		t.Errorf("next due %v", s.NextDue())
	}
	// Raising the severity keeps the start and shortens nothing here;
	// lowering it to high lengthens the window.
	step(h(50), triage.Change{CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N")}) // 7.1 high
	check(h(51), "remediation", r.Clocks(p, h(51)).Remediation, triage.ClockRunning, h(40+30*24))
	step(h(60), triage.Change{Status: ptr(triage.StatusFixing)})
	step(h(100), triage.Change{Status: ptr(triage.StatusFixed)})
	check(h(900), "remediation", r.Clocks(p, h(900)).Remediation, triage.ClockMet, h(40+30*24))
	// The fix did not hold: the clock counts from its start again.
	step(h(1000), triage.Change{Status: ptr(triage.StatusFixing)})
	check(h(1000), "remediation", r.Clocks(p, h(1000)).Remediation, triage.ClockBreached, h(40+30*24))
	step(h(1001), triage.Change{Status: ptr(triage.StatusFixed)})
	step(h(1002), triage.Change{Status: ptr(triage.StatusDisclosed)})
	s = r.Clocks(p, h(2000))
	check(h(2000), "remediation", s.Remediation, triage.ClockBreached, h(40+30*24))
	if s.Remediation.StoppedAt.IsZero() || !s.NextDue().IsZero() {
		t.Errorf("disclosed report still counts down: %+v", s.Remediation)
	}
}

func TestClocks_Closing(t *testing.T) {
	p := triage.DefaultSLAPolicy()
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }

	r := newReport(1, triage.StatusNew)
	if _, err := r.Apply(triage.Change{Status: ptr(triage.StatusSpam)}, nil, 1, h(2)); err != nil {
		t.Fatal(err)
	}
	s := r.Clocks(p, h(100))
	if s.FirstResponse.State != triage.ClockClosed || !s.FirstResponse.StoppedAt.Equal(h(2)) || s.Triage.State != triage.ClockClosed {
		t.Errorf("closed in time without a reply: %+v %+v", s.FirstResponse, s.Triage)
	}
	// Reopened after 50 h closed: the clock resumes with 22 h left.
	if _, err := r.Apply(triage.Change{Status: ptr(triage.StatusTriaging)}, nil, 1, h(52)); err != nil {
		t.Fatal(err)
	}
	if c := r.Clocks(p, h(52)).FirstResponse; c.State != triage.ClockRunning || !c.DueAt.Equal(h(74)) || c.Remaining != 22*time.Hour {
		t.Errorf("reopened: %+v", c)
	}

	late := newReport(2, triage.StatusNew)
	if _, err := late.Apply(triage.Change{Status: ptr(triage.StatusNotApplicable)}, nil, 1, h(30)); err != nil {
		t.Fatal(err)
	}
	if c := late.Clocks(p, h(100)).FirstResponse; c.State != triage.ClockBreached || !c.BreachedAt.Equal(h(24)) || c.Remaining != -6*time.Hour {
		t.Errorf("closed late: %+v", c)
	}
}

func TestParseSLAPolicy(t *testing.T) {
	def, _ := json.Marshal(triage.DefaultSLAPolicy())
	p, err := triage.ParseSLAPolicy(def)
	if err != nil {
		t.Fatalf("default policy does not round-trip: %v\n%s", err, def)
	}
	if p.Triage != 72*time.Hour || p.Remediation[triage.SeverityCritical] != 7*24*time.Hour || p.Calendar != nil {
		t.Errorf("%+v", p)
	}
	office := policy(t, 8, berlinOffice)
	b, _ := json.Marshal(office)
	if !strings.Contains(string(b), `"holidays":["2026-12-24","2026-12-25"]`) || !strings.Contains(string(b), `"days":["mon","tue","wed","thu","fri"]`) {
		t.Errorf("marshal: %s", b)
	}
	if again, err := triage.ParseSLAPolicy(b); err != nil || again.Calendar.Location.String() != "Europe/Berlin" || again.Calendar.End != 17*60 {
		t.Errorf("round trip: %v %+v", err, again)
	}

	base := `"first_response_hours": 24, "triage_hours": 72, "remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320}`
	for name, tc := range map[string]struct{ doc, reason string }{
		"NotJSON":          {`{`, "policy: "},
		"Unknown":          {`{` + base + `, "x": 1}`, "unknown field"},
		"Trailing":         {`{` + base + `} {}`, "trailing"},
		"WrongType":        {`{"first_response_hours": "24"}`, "first_response_hours"},
		"Zero":             {strings.Replace(`{`+base+`}`, `"triage_hours": 72`, `"triage_hours": 0`, 1), "triage_hours"},
		"TooLong":          {strings.Replace(`{`+base+`}`, `"low": 4320`, `"low": 9000`, 1), "remediation_hours.low"},
		"MissingSeverity":  {`{"first_response_hours": 24, "triage_hours": 72, "remediation_hours": {"critical": 1}}`, "remediation_hours."},
		"NoneSeverity":     {strings.Replace(`{`+base+`}`, `"low": 4320`, `"low": 4320, "none": 1`, 1), "unknown severity"},
		"BadZone":          {`{` + base + `, "business_hours": {"time_zone": "Mars/Olympus", "days": ["mon"], "start": "09:00", "end": "17:00"}}`, "unknown zone"},
		"LocalZone":        {`{` + base + `, "business_hours": {"time_zone": "Local", "days": ["mon"], "start": "09:00", "end": "17:00"}}`, "IANA"},
		"NoDays":           {`{` + base + `, "business_hours": {"time_zone": "UTC", "days": [], "start": "09:00", "end": "17:00"}}`, "working day"},
		"BadDay":           {`{` + base + `, "business_hours": {"time_zone": "UTC", "days": ["funday"], "start": "09:00", "end": "17:00"}}`, "weekday"},
		"DayTwice":         {`{` + base + `, "business_hours": {"time_zone": "UTC", "days": ["mon", "Monday"], "start": "09:00", "end": "17:00"}}`, "twice"},
		"EndBeforeStart":   {`{` + base + `, "business_hours": {"time_zone": "UTC", "days": ["mon"], "start": "17:00", "end": "09:00"}}`, "start before"},
		"BadTime":          {`{` + base + `, "business_hours": {"time_zone": "UTC", "days": ["mon"], "start": "9", "end": "17:00"}}`, "HH:MM"},
		"Minute60":         {`{` + base + `, "business_hours": {"time_zone": "UTC", "days": ["mon"], "start": "09:60", "end": "17:00"}}`, "HH:MM"},
		"BadHoliday":       {`{` + base + `, "business_hours": {"time_zone": "UTC", "days": ["mon"], "start": "09:00", "end": "17:00", "holidays": ["25.12.2026"]}}`, "YYYY-MM-DD"},
		"TooLittleWorkday": {`{` + base + `, "business_hours": {"time_zone": "UTC", "days": ["mon"], "start": "09:00", "end": "09:30"}}`, "hour a week"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := triage.ParseSLAPolicy([]byte(tc.doc))
			if triage.ErrorCode(err) != triage.EINVALID || !strings.Contains(triage.ErrorMessage(err), tc.reason) {
				t.Errorf("err %v, want EINVALID mentioning %q", err, tc.reason)
			}
		})
	}
}

func TestNotifyBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for n, w := range want {
		if got := triage.NotifyBackoff(n); got != w {
			t.Errorf("NotifyBackoff(%d) = %v, want %v", n, got, w)
		}
	}
	if got := triage.NotifyBackoff(1000); got != time.Hour {
		t.Errorf("NotifyBackoff(1000) = %v", got)
	}
}

// FuzzParseSLAPolicy: any document gives a valid policy or EINVALID,
// never a panic, and a policy that parsed round-trips.
func FuzzParseSLAPolicy(f *testing.F) {
	f.Add([]byte(`{"first_response_hours": 24, "triage_hours": 72, "remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320}, "business_hours": null}`))
	f.Add([]byte(`{"first_response_hours": 8, "triage_hours": 0.5, "remediation_hours": {"critical": 1, "high": 2, "medium": 3, "low": 4},
		"business_hours": {"time_zone": "America/New_York", "days": ["sat", "sun"], "start": "23:00", "end": "24:00", "holidays": ["2026-01-01"]}}`))
	f.Add([]byte(`{"business_hours": {"time_zone": "../../etc/passwd"}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := triage.ParseSLAPolicy(doc)
		if err != nil {
			if triage.ErrorCode(err) != triage.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		again, err := triage.ParseSLAPolicy(b)
		if err != nil {
			t.Fatalf("%s does not parse again: %v", b, err)
		}
		b2, _ := json.Marshal(again)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed it:\n%s\n%s", b, b2)
		}
		// The clocks stay computable.
		r := triage.NewReport(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC))
		r.Clocks(p, r.ReceivedAt.Add(time.Hour))
	})
}

// TestClocks_RemediationStart: the remediation clock starts at the later
// of acceptance and the first time the report got a severity from low to
// critical; none before that does not start it, and a later change keeps
// the start and changes the window.
func TestClocks_RemediationStart(t *testing.T) {
	p := triage.DefaultSLAPolicy()
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	sev := func(s triage.Severity) triage.Change { return triage.Change{Severity: ptr(s)} }
	status := func(s triage.Status) triage.Change { return triage.Change{Status: ptr(s)} }
	type step struct {
		at float64
		c  triage.Change
	}
	const day = 24
	tests := map[string]struct {
		steps []step
		now   float64
		state triage.ClockState // "" for no clock
		start float64
		due   float64
	}{
		"NoneAcceptedThenCritical": {
			steps: []step{{1, sev(triage.SeverityNone)}, {2, status(triage.StatusTriaging)}, {3, status(triage.StatusAccepted)}, {500, sev(triage.SeverityCritical)}},
			now:   501, state: triage.ClockRunning, start: 500, due: 500 + 7*day,
		},
		"NoneAcceptedStaysNone": {
			steps: []step{{1, sev(triage.SeverityNone)}, {2, status(triage.StatusTriaging)}, {3, status(triage.StatusAccepted)}},
			now:   600,
		},
		"RatedThenAccepted": {
			steps: []step{{1, sev(triage.SeverityCritical)}, {2, status(triage.StatusTriaging)}, {10, status(triage.StatusAccepted)}},
			now:   11, state: triage.ClockRunning, start: 10, due: 10 + 7*day,
		},
		"AcceptedThenRated": {
			steps: []step{{2, status(triage.StatusTriaging)}, {3, status(triage.StatusAccepted)}, {20, sev(triage.SeverityHigh)}},
			now:   21, state: triage.ClockRunning, start: 20, due: 20 + 30*day,
		},
		"NoneRatedAcceptedRaised": {
			steps: []step{{1, sev(triage.SeverityNone)}, {5, sev(triage.SeverityLow)}, {6, status(triage.StatusTriaging)},
				{7, status(triage.StatusAccepted)}, {9, sev(triage.SeverityMedium)}, {300, sev(triage.SeverityCritical)}},
			now: 301, state: triage.ClockBreached, start: 7, due: 7 + 7*day,
		},
		"RatedAcceptedLowered": {
			steps: []step{{1, sev(triage.SeverityCritical)}, {2, status(triage.StatusTriaging)}, {3, status(triage.StatusAccepted)}, {100, sev(triage.SeverityLow)}},
			now:   101, state: triage.ClockRunning, start: 3, due: 3 + 180*day,
		},
		"RatedAcceptedToNoneAndBack": {
			steps: []step{{1, sev(triage.SeverityHigh)}, {2, status(triage.StatusTriaging)}, {3, status(triage.StatusAccepted)},
				{50, sev(triage.SeverityNone)}, {400, sev(triage.SeverityCritical)}},
			now: 401, state: triage.ClockBreached, start: 3, due: 3 + 7*day,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := newReport(1, triage.StatusNew)
			for _, s := range tc.steps {
				if _, err := r.Apply(s.c, nil, 1, h(s.at)); err != nil {
					t.Fatalf("at %gh: %v", s.at, err)
				}
			}
			c := r.Clocks(p, h(tc.now)).Remediation
			switch {
			case c == nil && tc.state == "":
			case c == nil:
				t.Errorf("no remediation clock, want %s from %gh", tc.state, tc.start)
			case tc.state == "":
				t.Errorf("remediation clock %s from %v, want none", c.State, c.Start)
			case c.State != tc.state || !c.Start.Equal(h(tc.start)) || !c.DueAt.Equal(h(tc.due)):
				t.Errorf("remediation %s from %v due %v, want %s from %v due %v",
					c.State, c.Start, c.DueAt, tc.state, h(tc.start), h(tc.due))
			}
		})
	}
}

func TestSLAPolicy_FirstResponsePromise(t *testing.T) {
	cal := &triage.Calendar{}
	for _, c := range []struct {
		d    time.Duration
		cal  *triage.Calendar
		want string
	}{
		{24 * time.Hour, nil, "24 hours"},
		{time.Hour, nil, "1 hour"},
		{8 * time.Hour, cal, "8 working hours"},
		{time.Hour, cal, "1 working hour"},
		{90 * time.Minute, nil, "90 minutes"},
		{time.Minute, cal, "1 working minute"},
	} {
		p := triage.DefaultSLAPolicy()
		p.FirstResponse, p.Calendar = c.d, c.cal
		if got := p.FirstResponsePromise(); got != c.want {
			t.Errorf("%v (calendar %v): %q, want %q", c.d, c.cal != nil, got, c.want)
		}
	}
}

// TestClocks_ClosedWithoutReply: a report closed without a reply was
// not answered in time: its first-response clock says closed, neither
// met nor breached, unless it had breached before it was closed.
func TestClocks_ClosedWithoutReply(t *testing.T) {
	p := triage.DefaultSLAPolicy()
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	for _, tc := range []struct {
		name      string
		responded float64 // hours after receipt; 0: never
		close     triage.Status
		closedAt  float64
		fr, tr    triage.ClockState
	}{
		{name: "DuplicateUnanswered", close: triage.StatusDuplicate, closedAt: 2, fr: triage.ClockClosed, tr: triage.ClockClosed},
		{name: "SpamUnanswered", close: triage.StatusSpam, closedAt: 2, fr: triage.ClockClosed, tr: triage.ClockClosed},
		{name: "AnsweredThenClosed", responded: 1, close: triage.StatusInformative, closedAt: 2, fr: triage.ClockMet, tr: triage.ClockClosed},
		{name: "BreachedThenClosed", close: triage.StatusNotApplicable, closedAt: 30, fr: triage.ClockBreached, tr: triage.ClockClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReport(1, triage.StatusNew)
			if tc.responded > 0 {
				r.Responded(1, h(tc.responded))
			}
			c := triage.Change{Status: ptr(tc.close)}
			var orig *triage.Report
			if tc.close == triage.StatusDuplicate {
				orig = newReport(2, triage.StatusTriaging)
				c = triage.Change{DuplicateOf: ptr(int64(2))}
			}
			if _, err := r.Apply(c, orig, 1, h(tc.closedAt)); err != nil {
				t.Fatal(err)
			}
			s := r.Clocks(p, h(100))
			if s.FirstResponse.State != tc.fr || s.Triage.State != tc.tr {
				t.Errorf("first response %s, triage %s; want %s, %s", s.FirstResponse.State, s.Triage.State, tc.fr, tc.tr)
			}
			if s.FirstResponse.Counting() || s.Breached() != (tc.fr == triage.ClockBreached) {
				t.Errorf("closed clocks count down: %+v", s.FirstResponse)
			}
			if tc.fr == triage.ClockClosed && (!s.FirstResponse.MetAt.IsZero() || !s.FirstResponse.StoppedAt.Equal(h(tc.closedAt))) {
				t.Errorf("closed clock: %+v", s.FirstResponse)
			}
		})
	}
}

// TestClocks_SettledKeepsVerdict: once a clock stops, the verdict it
// got under the policy of that moment stays whatever policy comes
// later; clocks still running follow the new policy.
func TestClocks_SettledKeepsVerdict(t *testing.T) {
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	p24 := triage.DefaultSLAPolicy()
	p8 := policy(t, 8, "null")
	p8.Triage = 48 * time.Hour

	r := newReport(1, triage.StatusNew)
	r.Responded(1, h(20))
	r.Settle(p24, h(20))
	s := r.Clocks(p8, h(30))
	if s.FirstResponse.State != triage.ClockMet || !s.FirstResponse.DueAt.Equal(h(24)) {
		t.Errorf("answered in time under 24 h, then the policy became 8 h: %s due %v", s.FirstResponse.State, s.FirstResponse.DueAt)
	}
	if s.Triage.State != triage.ClockRunning || !s.Triage.DueAt.Equal(h(48)) {
		t.Errorf("the running triage clock did not follow the new policy: %s due %v", s.Triage.State, s.Triage.DueAt)
	}
	// Without the verdict kept, the new policy would judge it breached.
	fresh := newReport(2, triage.StatusNew)
	fresh.Responded(1, h(20))
	if st := fresh.Clocks(p8, h(30)).FirstResponse.State; st != triage.ClockBreached {
		t.Fatalf("unsettled clock under the 8 h policy: %s (the test no longer shows anything)", st)
	}

	// Closed without a reply, then reopened: the clock runs again and
	// follows the policy; settling forgets the old verdict.
	c := newReport(3, triage.StatusNew)
	if _, err := c.Apply(triage.Change{Status: ptr(triage.StatusSpam)}, nil, 1, h(2)); err != nil {
		t.Fatal(err)
	}
	c.Settle(p24, h(2))
	if st := c.Clocks(p8, h(3)).FirstResponse.State; st != triage.ClockClosed {
		t.Errorf("closed: %s", st)
	}
	if _, err := c.Apply(triage.Change{Status: ptr(triage.StatusTriaging)}, nil, 1, h(3)); err != nil {
		t.Fatal(err)
	}
	c.Settle(p8, h(3))
	if fr := c.Clocks(p8, h(3)).FirstResponse; fr.State != triage.ClockRunning || !fr.DueAt.Equal(h(9)) {
		t.Errorf("reopened under 8 h (1 h closed): %s due %v, want running due %v", fr.State, fr.DueAt, h(9))
	}
	if len(c.Timeline.Settled) != 0 {
		t.Errorf("settled after reopening: %v", c.Timeline.Settled)
	}
}
