package triage

import (
	"fmt"
	"slices"
	"strings"
	"time"

	_ "time/tzdata" // zones resolve the same on every machine, even without /usr/share/zoneinfo
)

// Calendar is a business-hours calendar: SLA clocks with one count only
// working time. Working hours are wall-clock times in Location, so they
// follow daylight saving time: "09:00–17:00" is 8 hours on every working
// day, and a day whose working hours span a clock change is an hour
// shorter or longer.
//
// With a calendar, a window of "24 h" means 24 hours of working time:
// three days of 09:00–17:00, not one day.
type Calendar struct {
	Location *time.Location
	Days     [7]bool // working days, indexed by time.Weekday
	// Start and End are the working hours, in minutes after local
	// midnight: 0 ≤ Start < End ≤ 1440 (End 1440 is midnight at the end
	// of the day).
	Start, End int
	Holidays   []Date // days off, sorted
}

// Date is a calendar day, without a time or zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, Errorf(EINVALID, "invalid date %q (want YYYY-MM-DD)", cut(s, 20))
	}
	return dateOf(t), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

func (d Date) compare(e Date) int {
	if c := d.Year - e.Year; c != 0 {
		return c
	}
	if c := int(d.Month) - int(e.Month); c != 0 {
		return c
	}
	return d.Day - e.Day
}

func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// next is the following day.
func (d Date) next() Date {
	return dateOf(time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, time.UTC))
}

// Limits on a calendar.
const (
	MaxHolidays = 1000
	// minWeeklyHours keeps the search for a due time short.
	minWeeklyHours = 1
	// maxCalendarDays bounds that search: a due time further out than
	// this is reported as never (the zero time), which the policy's
	// limits make impossible in practice.
	maxCalendarDays = 200 * 366
)

// validate checks c, for ParseSLAPolicy.
func (c *Calendar) validate() error {
	if c.Location == nil {
		return Errorf(EINVALID, "business hours need a time zone")
	}
	if c.Start < 0 || c.End > 24*60 || c.Start >= c.End {
		return Errorf(EINVALID, "working hours must start before they end, within one day")
	}
	days := 0
	for _, d := range c.Days {
		if d {
			days++
		}
	}
	if days == 0 {
		return Errorf(EINVALID, "business hours need at least one working day")
	}
	if days*(c.End-c.Start) < minWeeklyHours*60 {
		return Errorf(EINVALID, "business hours need at least %d hour a week", minWeeklyHours)
	}
	if len(c.Holidays) > MaxHolidays {
		return Errorf(EINVALID, "at most %d holidays", MaxHolidays)
	}
	return nil
}

func (c *Calendar) holiday(d Date) bool {
	_, found := slices.BinarySearchFunc(c.Holidays, d, Date.compare)
	return found
}

// hours returns the working interval of day d, ok false on a day off.
func (c *Calendar) hours(d Date) (start, end time.Time, ok bool) {
	if !c.Days[time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()] || c.holiday(d) {
		return time.Time{}, time.Time{}, false
	}
	start = time.Date(d.Year, d.Month, d.Day, 0, c.Start, 0, 0, c.Location)
	end = time.Date(d.Year, d.Month, d.Day, 0, c.End, 0, 0, c.Location)
	return start, end, end.After(start)
}

// Counted returns the clock time between a and b (0 if b is not after
// a): all of it without a calendar, only working time with one.
func (c *Calendar) Counted(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if c == nil {
		return b.Sub(a)
	}
	var sum time.Duration
	last := dateOf(b.In(c.Location))
	for d, i := dateOf(a.In(c.Location)), 0; d.compare(last) <= 0 && i < maxCalendarDays; d, i = d.next(), i+1 {
		s, e, ok := c.hours(d)
		if !ok {
			continue
		}
		s, e = later(s, a), earlier(e, b)
		if e.After(s) {
			sum += e.Sub(s)
		}
	}
	return sum
}

// Add returns the instant at which d of clock time has passed since a:
// a+d without a calendar; with one, counting working time only. A due
// time that lands exactly at the end of a working day is that end, not
// the next morning. It returns the zero time if that is further than
// the calendar can reach.
func (c *Calendar) Add(a time.Time, d time.Duration) time.Time {
	if c == nil {
		return a.Add(d)
	}
	if d <= 0 {
		return a
	}
	for day, i := dateOf(a.In(c.Location)), 0; i < maxCalendarDays; day, i = day.next(), i+1 {
		s, e, ok := c.hours(day)
		if !ok {
			continue
		}
		s = later(s, a)
		if !e.After(s) {
			continue
		}
		if avail := e.Sub(s); d <= avail {
			return s.Add(d)
		} else {
			d -= avail
		}
	}
	return time.Time{}
}

// Zone is the calendar's time zone, UTC without a calendar.
func (c *Calendar) Zone() *time.Location {
	if c == nil || c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseWeekday accepts "mon", "monday", "Mon".
func parseWeekday(s string) (time.Weekday, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for i, n := range weekdayNames {
		if l == n || l == strings.ToLower(time.Weekday(i).String()) {
			return time.Weekday(i), nil
		}
	}
	return 0, Errorf(EINVALID, "unknown weekday %q (want mon, tue, ...)", cut(s, 20))
}

// parseClock parses "09:00" (and "24:00") into minutes after midnight.
func parseClock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, Errorf(EINVALID, "invalid time of day %q (want HH:MM)", cut(s, 20))
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, Errorf(EINVALID, "invalid time of day %q (want HH:MM)", cut(s, 20))
	}
	return h*60 + m, nil
}

func formatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }
