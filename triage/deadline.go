package triage

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Coordinated disclosure and the EU Cyber Resilience Act's reporting
// clocks. Beside its SLA clocks (sla.go), an accepted report has:
//
//   - a disclosure deadline: by default DisclosureWindow (the SLA
//     policy's disclosure_days, 90 days) after receipt, set when the
//     report is first accepted. Staff may move it, always with a reason
//     (audited). It is met when the report is disclosed in time;
//     closing the report without disclosure stops it. Reminders go out
//     DisclosureRemindEarly and DisclosureRemindLate before it.
//   - an embargo: nothing about the report may be published before
//     EmbargoUntil passes. The report cannot be moved to disclosed, and
//     no advisory covering it published, while it holds.
//   - when the team marks the report actively exploited, with the time
//     it became aware of the exploitation, the three CRA Art. 14
//     deadlines in wall-clock time: an early warning 24 hours after
//     awareness, a notification 72 hours after awareness, and a final
//     report 14 days after a fix is available (the report moved to
//     fixed; until then that clock waits). Each is completed by
//     recording when it was sent and the reference the CSIRT or ENISA
//     gave it.
//
// Like the SLA clocks these are pure functions of the stored moments
// and now.

// Deadline names, as notifications and the API name them.
const (
	ClockDisclosure      ClockName = "disclosure"
	ClockCRAEarlyWarning ClockName = "cra_early_warning"
	ClockCRANotification ClockName = "cra_notification"
	ClockCRAFinalReport  ClockName = "cra_final_report"
)

// Deadline states beyond the SLA clocks'.
const (
	ClockWaiting ClockState = "waiting" // the CRA final report before a fix is available
	ClockStopped ClockState = "stopped" // the report was closed without disclosure
)

// DefaultDisclosureWindow is the disclosure deadline after receipt until
// an admin changes it (SLAPolicy.Disclosure).
const DefaultDisclosureWindow = 90 * 24 * time.Hour

// MaxDisclosureWindow bounds the policy's disclosure window and how far
// after receipt staff may move a deadline: two years.
const MaxDisclosureWindow = 730 * 24 * time.Hour

// Disclosure reminders, before the deadline.
const (
	DisclosureRemindEarly = 14 * 24 * time.Hour
	DisclosureRemindLate  = 24 * time.Hour
)

// Notification events of the disclosure deadline (NotifyBreached too).
const (
	NotifyDueIn14Days = "due_in_14_days"
	NotifyDueIn1Day   = "due_in_1_day"
)

// The CRA Art. 14 windows.
const (
	CRAEarlyWarningWindow = 24 * time.Hour
	CRANotificationWindow = 72 * time.Hour
	CRAFinalReportWindow  = 14 * 24 * time.Hour
)

// CRAReport names one of the three CRA submissions.
type CRAReport string

const (
	CRAEarlyWarning CRAReport = "early_warning"
	CRANotification CRAReport = "notification"
	CRAFinalReport  CRAReport = "final_report"
)

// CRAReports are the three submissions in order.
var CRAReports = []CRAReport{CRAEarlyWarning, CRANotification, CRAFinalReport}

// ParseCRAReport returns the submission named s, or EINVALID.
func ParseCRAReport(s string) (CRAReport, error) {
	for _, k := range CRAReports {
		if string(k) == s {
			return k, nil
		}
	}
	return "", Errorf(EINVALID, "unknown CRA report %q (want early_warning, notification or final_report)", cut(s, 40))
}

// Clock is the clock name of submission k.
func (k CRAReport) Clock() ClockName { return ClockName("cra_" + string(k)) }

// CRASubmission records one CRA report sent.
type CRASubmission struct {
	SentAt time.Time // zero: not sent yet
	// Reference is who it went to and the reference they gave, e.g.
	// "CSIRT-DE BSI-2026-0042" or an ENISA single reporting platform id.
	Reference string
}

// MaxReasonLength and MaxReferenceLength bound the free text of a
// deadline change, in runes.
const (
	MaxReasonLength    = 500
	MaxReferenceLength = 200
)

// Deadlines is a report's coordinated-disclosure state. Stores keep it
// beside the report; its zero value is a report not yet accepted.
type Deadlines struct {
	ReportID int64
	// DisclosureDue is the disclosure deadline; zero until the report is
	// first accepted.
	DisclosureDue time.Time
	// Extended: staff moved the deadline, so the policy's window no
	// longer sets it.
	Extended     bool
	EmbargoUntil time.Time // zero: no embargo

	ActivelyExploited bool
	AwareAt           time.Time // when the team became aware of the exploitation
	EarlyWarning      CRASubmission
	Notification      CRASubmission
	FinalReport       CRASubmission

	// CVEIDs are the CVE IDs assigned to the report, oldest first.
	CVEIDs []string
}

// Submission returns the record of submission k.
func (d *Deadlines) Submission(k CRAReport) *CRASubmission {
	switch k {
	case CRAEarlyWarning:
		return &d.EarlyWarning
	case CRANotification:
		return &d.Notification
	case CRAFinalReport:
		return &d.FinalReport
	}
	return nil
}

// Embargoed reports whether an embargo holds at now.
func (d *Deadlines) Embargoed(now time.Time) bool {
	return !d.EmbargoUntil.IsZero() && now.Before(d.EmbargoUntil)
}

// CRASent is one CRA submission to record.
type CRASent struct {
	Report    CRAReport
	SentAt    time.Time
	Reference string
}

// DeadlineChange is one edit of a report's deadlines, as a PATCH sends
// it. Nil fields are left alone.
type DeadlineChange struct {
	// DisclosureDue moves the disclosure deadline; Reason is required
	// with it.
	DisclosureDue *time.Time
	Reason        string
	// EmbargoUntil sets the embargo; a zero time lifts it.
	EmbargoUntil *time.Time
	// ActivelyExploited marks (with AwareAt) or unmarks the report.
	ActivelyExploited *bool
	AwareAt           *time.Time
	Sent              []CRASent
}

// Empty reports whether c changes nothing.
func (c *DeadlineChange) Empty() bool {
	return c == nil || (c.DisclosureDue == nil && c.EmbargoUntil == nil && c.ActivelyExploited == nil &&
		c.AwareAt == nil && len(c.Sent) == 0 && c.Reason == "")
}

// Deadline events of a report's history (triage.Event.Kind).
const (
	EventDisclosureDue     EventKind = "disclosure_due"     // From, To: RFC 3339 times ("" none)
	EventEmbargo           EventKind = "embargo"            // From, To: RFC 3339 times ("" none)
	EventActivelyExploited EventKind = "actively_exploited" // To: the awareness time, "" when unmarked
	EventCRASent           EventKind = "cra_sent"           // From: the report (early_warning...), To: sent time and reference
)

// clockSkew is how far in the future a time "it happened at" may be:
// the clocks of the browser and the server differ a little.
const clockSkew = 5 * time.Minute

// SyncDeadlines keeps d in step with r after r changed at now under p:
// the first acceptance sets the disclosure deadline. Moving to
// disclosed while an embargo holds is ECONFLICT. prev is r's status
// before the change. It returns the events to record.
func (d *Deadlines) SyncDeadlines(r *Report, prev Status, p *SLAPolicy, actor int64, now time.Time) ([]Event, error) {
	now = now.UTC()
	d.ReportID = r.ID
	var evs []Event
	if r.Status == StatusDisclosed && prev != StatusDisclosed && d.Embargoed(now) {
		return nil, Errorf(ECONFLICT, "%s is under embargo until %s: it cannot be disclosed before", r.TrackingID, d.EmbargoUntil.UTC().Format(time.RFC3339))
	}
	if d.DisclosureDue.IsZero() && !r.Timeline.AcceptedAt.IsZero() {
		d.DisclosureDue = r.ReceivedAt.Add(p.disclosureWindow()).UTC()
		evs = append(evs, Event{ReportID: r.ID, At: now, ActorID: actor, Kind: EventDisclosureDue, To: rfc3339(d.DisclosureDue)})
	}
	return evs, nil
}

// FollowPolicy moves a deadline staff have not moved to the window of p,
// for an open report: an admin changed the policy. It reports whether
// the deadline changed.
func (d *Deadlines) FollowPolicy(r *Report, p *SLAPolicy) bool {
	if d.Extended || d.DisclosureDue.IsZero() || r.Status.Closed() {
		return false
	}
	due := r.ReceivedAt.Add(p.disclosureWindow()).UTC()
	if due.Equal(d.DisclosureDue) {
		return false
	}
	d.DisclosureDue = due
	return true
}

// Apply makes change c to d, the deadlines of r, at now on behalf of
// staff user actor, all or nothing. It returns the events to record. A
// value out of range is EINVALID; a change the report's state forbids
// (a deadline before acceptance, an embargo on a disclosed report,
// unmarking a report whose CRA reports were sent) is ECONFLICT.
func (d *Deadlines) Apply(c DeadlineChange, r *Report, actor int64, now time.Time) ([]Event, error) {
	now = now.UTC()
	n := *d
	n.ReportID = r.ID
	var evs []Event
	add := func(kind EventKind, from, to string) {
		evs = append(evs, Event{ReportID: r.ID, At: now, ActorID: actor, Kind: kind, From: from, To: to})
	}
	reason := strings.TrimSpace(c.Reason)
	if reason != "" && c.DisclosureDue == nil {
		return nil, Errorf(EINVALID, "reason goes with disclosure_due_at: it says why the deadline moves")
	}
	if c.DisclosureDue != nil {
		due := c.DisclosureDue.UTC()
		switch {
		case n.DisclosureDue.IsZero():
			return nil, Errorf(ECONFLICT, "%s has no disclosure deadline yet: it starts when the report is accepted", r.TrackingID)
		case r.Status.Closed():
			return nil, Errorf(ECONFLICT, "%s is %s: its disclosure deadline no longer runs", r.TrackingID, r.Status)
		case reason == "":
			return nil, Errorf(EINVALID, "moving the disclosure deadline needs a reason")
		case utf8.RuneCountInString(reason) > MaxReasonLength || !printable(reason):
			return nil, Errorf(EINVALID, "the reason must be printable text of at most %d characters", MaxReasonLength)
		case !due.After(now):
			return nil, Errorf(EINVALID, "disclosure_due_at must be in the future")
		case due.Sub(r.ReceivedAt) > MaxDisclosureWindow:
			return nil, Errorf(EINVALID, "disclosure_due_at must be at most %d days after the report was received", int(MaxDisclosureWindow/(24*time.Hour)))
		}
		if !due.Equal(n.DisclosureDue) {
			add(EventDisclosureDue, rfc3339(n.DisclosureDue), rfc3339(due))
			n.DisclosureDue, n.Extended = due, true
		}
	}
	if c.EmbargoUntil != nil {
		until := c.EmbargoUntil.UTC()
		switch {
		case r.Status == StatusDisclosed:
			return nil, Errorf(ECONFLICT, "%s is already disclosed: an embargo cannot hold it back", r.TrackingID)
		case !until.IsZero() && !until.After(now):
			return nil, Errorf(EINVALID, "embargo_until must be in the future (null lifts the embargo)")
		case until.Sub(now) > MaxDisclosureWindow:
			return nil, Errorf(EINVALID, "embargo_until must be within %d days", int(MaxDisclosureWindow/(24*time.Hour)))
		}
		if !until.Equal(n.EmbargoUntil) {
			add(EventEmbargo, rfc3339(n.EmbargoUntil), rfc3339(until))
			n.EmbargoUntil = until
		}
	}
	if c.AwareAt != nil && (c.ActivelyExploited == nil || !*c.ActivelyExploited) && !n.ActivelyExploited {
		return nil, Errorf(EINVALID, "aware_at goes with actively_exploited: true")
	}
	if c.ActivelyExploited != nil {
		if *c.ActivelyExploited {
			aware := n.AwareAt
			if c.AwareAt != nil {
				aware = c.AwareAt.UTC()
			}
			if err := checkPast("aware_at", aware, now); err != nil {
				return nil, err
			}
			if !n.ActivelyExploited || !aware.Equal(n.AwareAt) {
				if sent := n.EarlyWarning.SentAt; !sent.IsZero() && sent.Before(aware) {
					return nil, Errorf(EINVALID, "aware_at is after the early warning was sent")
				}
				add(EventActivelyExploited, rfc3339(n.AwareAt), rfc3339(aware))
				n.ActivelyExploited, n.AwareAt = true, aware
			}
		} else if n.ActivelyExploited {
			for _, k := range CRAReports {
				if !n.Submission(k).SentAt.IsZero() {
					return nil, Errorf(ECONFLICT, "%s: the CRA %s was already sent; it stays marked actively exploited", r.TrackingID, strings.ReplaceAll(string(k), "_", " "))
				}
			}
			add(EventActivelyExploited, rfc3339(n.AwareAt), "")
			n.ActivelyExploited, n.AwareAt = false, time.Time{}
		}
	} else if c.AwareAt != nil {
		aware := c.AwareAt.UTC()
		if err := checkPast("aware_at", aware, now); err != nil {
			return nil, err
		}
		if !aware.Equal(n.AwareAt) {
			add(EventActivelyExploited, rfc3339(n.AwareAt), rfc3339(aware))
			n.AwareAt = aware
		}
	}
	for _, s := range c.Sent {
		sub := n.Submission(s.Report)
		ref := strings.TrimSpace(s.Reference)
		switch {
		case sub == nil:
			return nil, Errorf(EINVALID, "unknown CRA report %q", cut(string(s.Report), 40))
		case !n.ActivelyExploited:
			return nil, Errorf(ECONFLICT, "%s is not marked actively exploited: no CRA report is due", r.TrackingID)
		case ref == "":
			return nil, Errorf(EINVALID, "the CRA %s needs the reference it was sent under (CSIRT or ENISA)", strings.ReplaceAll(string(s.Report), "_", " "))
		case utf8.RuneCountInString(ref) > MaxReferenceLength || !printable(ref):
			return nil, Errorf(EINVALID, "the reference must be printable text of at most %d characters", MaxReferenceLength)
		case s.Report == CRAFinalReport && r.Timeline.ResolvedAt.IsZero() && r.Status != StatusDisclosed:
			return nil, Errorf(ECONFLICT, "%s is not fixed yet: the CRA final report follows the fix", r.TrackingID)
		}
		at := s.SentAt.UTC()
		if err := checkPast("sent_at", at, now); err != nil {
			return nil, err
		}
		if at.Before(n.AwareAt) {
			return nil, Errorf(EINVALID, "sent_at is before aware_at")
		}
		add(EventCRASent, string(s.Report), rfc3339(at)+" "+ref)
		*sub = CRASubmission{SentAt: at, Reference: ref}
	}
	*d = n
	return evs, nil
}

func checkPast(field string, t, now time.Time) error {
	switch {
	case t.IsZero():
		return Errorf(EINVALID, "%s is required", field)
	case t.After(now.Add(clockSkew)):
		return Errorf(EINVALID, "%s is in the future", field)
	case now.Sub(t) > MaxDisclosureWindow:
		return Errorf(EINVALID, "%s is more than %d days ago", field, int(MaxDisclosureWindow/(24*time.Hour)))
	}
	return nil
}

func printable(s string) bool {
	return utf8.ValidString(s) && !HasInvisible(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// DeadlineClock is one deadline at a given time: the disclosure
// deadline or a CRA clock.
type DeadlineClock struct {
	Name ClockName
	// State: running, met (done in time), breached (late, done or not),
	// waiting (the CRA final report before a fix), stopped (the report
	// closed without disclosure).
	State ClockState
	DueAt time.Time // zero while waiting
	// DoneAt is when it was done (disclosed, report sent); zero while it
	// runs.
	DoneAt    time.Time
	Reference string // a CRA report's reference
	// Remaining is DueAt minus now, negative once breached; frozen at
	// DoneAt when done.
	Remaining time.Duration
}

// Counting reports whether c counts down: running, or breached and not
// done.
func (c *DeadlineClock) Counting() bool {
	return c != nil && c.DoneAt.IsZero() && (c.State == ClockRunning || c.State == ClockBreached)
}

// Disclosure is r's disclosure deadline at now; nil before acceptance.
func (d *Deadlines) Disclosure(r *Report, now time.Time) *DeadlineClock {
	if d == nil || d.DisclosureDue.IsZero() {
		return nil
	}
	c := &DeadlineClock{Name: ClockDisclosure, DueAt: d.DisclosureDue}
	switch {
	case r.Status == StatusDisclosed:
		c.DoneAt = r.Timeline.ClosedAt
	case r.Status.Closed():
		c.State = ClockStopped
		return c
	}
	c.finish(now)
	return c
}

// CRA is r's three CRA clocks at now, in order; nil unless r is marked
// actively exploited.
func (d *Deadlines) CRA(r *Report, now time.Time) []*DeadlineClock {
	if d == nil || !d.ActivelyExploited || d.AwareAt.IsZero() {
		return nil
	}
	var out []*DeadlineClock
	for _, k := range CRAReports {
		s := d.Submission(k)
		c := &DeadlineClock{Name: k.Clock(), DoneAt: s.SentAt, Reference: s.Reference}
		switch k {
		case CRAEarlyWarning:
			c.DueAt = d.AwareAt.Add(CRAEarlyWarningWindow)
		case CRANotification:
			c.DueAt = d.AwareAt.Add(CRANotificationWindow)
		case CRAFinalReport:
			if r.Timeline.ResolvedAt.IsZero() {
				if s.SentAt.IsZero() {
					c.State = ClockWaiting
					out = append(out, c)
					continue
				}
				c.DueAt = s.SentAt // sent before the fix: in time by definition
			} else {
				c.DueAt = r.Timeline.ResolvedAt.Add(CRAFinalReportWindow)
			}
		}
		c.finish(now)
		out = append(out, c)
	}
	return out
}

// finish sets the state and remaining time of a clock with DueAt and,
// when done, DoneAt.
func (c *DeadlineClock) finish(now time.Time) {
	end := now
	switch {
	case !c.DoneAt.IsZero() && !c.DoneAt.After(c.DueAt):
		c.State, end = ClockMet, c.DoneAt
	case !c.DoneAt.IsZero():
		c.State, end = ClockBreached, c.DoneAt
	case !now.Before(c.DueAt):
		c.State = ClockBreached
	default:
		c.State = ClockRunning
	}
	c.Remaining = c.DueAt.Sub(end)
}

// DueDeadline is one deadline counting down, as stores list them for
// the board's due-soon group.
type DueDeadline struct {
	ReportID   int64
	TrackingID string
	Title      string
	Status     Status
	Clock      ClockName
	DueAt      time.Time
}

// DeadlineText describes a deadline clock's name for people.
func DeadlineText(n ClockName) string {
	switch n {
	case ClockDisclosure:
		return "disclosure deadline"
	case ClockCRAEarlyWarning:
		return "CRA early warning"
	case ClockCRANotification:
		return "CRA notification"
	case ClockCRAFinalReport:
		return "CRA final report"
	}
	return string(n)
}

// String describes a deadline event in a line, for history lists.
func deadlineEventString(e Event) (string, bool) {
	none := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	switch e.Kind {
	case EventDisclosureDue:
		return fmt.Sprintf("disclosure deadline %s → %s", none(e.From), none(e.To)), true
	case EventEmbargo:
		return fmt.Sprintf("embargo %s → %s", none(e.From), none(e.To)), true
	case EventActivelyExploited:
		if e.To == "" {
			return "no longer marked actively exploited", true
		}
		return "actively exploited, aware since " + e.To, true
	case EventCRASent:
		return fmt.Sprintf("CRA %s sent %s", strings.ReplaceAll(e.From, "_", " "), e.To), true
	case EventCVEID:
		if e.From == CVESourceServices {
			return e.To + " reserved through CVE Services", true
		}
		return e.To + " recorded", true
	}
	return "", false
}

// CVE ID sources.
const (
	CVESourceServices = "cve-services" // reserved through CVE Services: secinbox publishes the record
	CVESourceManual   = "manual"       // assigned elsewhere, recorded by hand
)

// EventCVEID is a report's history entry for a CVE ID added: To is the
// ID, From its source.
const EventCVEID EventKind = "cve_id"

// CVERecord is a CVE ID of a report and its record's publication.
type CVERecord struct {
	ID           string
	ReportID     int64
	Source       string
	AddedAt      time.Time
	PublishedAt  time.Time // zero until published at CVE Services
	PublishError string    // the last attempt's failure
}
