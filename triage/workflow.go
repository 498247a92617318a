package triage

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The workflow, as one table: for each status, the statuses a report may
// move to from it. Everything not listed is refused with ECONFLICT.
//
//	new, undecryptable → triaging → needs-info ⇄ triaging → accepted → fixing → fixed → disclosed
//
// and closing as duplicate, not-applicable, informative or spam.
//
// Rules beyond the arrows:
//   - new is only ever the first status: nothing moves back to it.
//   - undecryptable moves to triaging once someone decrypted it by hand,
//     or is closed.
//   - accepted reports can still turn out to be duplicates, not
//     applicable or merely informative, but not spam.
//   - fixed moves back to fixing when the fix did not hold (reopen).
//   - disclosed is final.
//   - Reopen: a closed report (duplicate, not-applicable, informative,
//     spam) may only move back to triaging, to be assessed again. The
//     time it spent closed does not count against its SLA clocks, and a
//     reopened duplicate is no longer linked to its original.
//   - Moving to duplicate needs the original (Change.DuplicateOf).
//   - Setting the status a report already has changes nothing.
var transitions = map[Status][]Status{
	StatusNew:           {StatusTriaging, StatusNeedsInfo, StatusAccepted, StatusDuplicate, StatusNotApplicable, StatusInformative, StatusSpam},
	StatusUndecryptable: {StatusTriaging, StatusDuplicate, StatusNotApplicable, StatusInformative, StatusSpam},
	StatusTriaging:      {StatusNeedsInfo, StatusAccepted, StatusDuplicate, StatusNotApplicable, StatusInformative, StatusSpam},
	StatusNeedsInfo:     {StatusTriaging, StatusAccepted, StatusDuplicate, StatusNotApplicable, StatusInformative, StatusSpam},
	StatusAccepted:      {StatusNeedsInfo, StatusFixing, StatusFixed, StatusDuplicate, StatusNotApplicable, StatusInformative},
	StatusFixing:        {StatusNeedsInfo, StatusAccepted, StatusFixed},
	StatusFixed:         {StatusFixing, StatusDisclosed},
	StatusDisclosed:     {},
	StatusDuplicate:     {StatusTriaging},
	StatusNotApplicable: {StatusTriaging},
	StatusInformative:   {StatusTriaging},
	StatusSpam:          {StatusTriaging},
}

// Statuses returns every status in workflow order.
func Statuses() []Status {
	return []Status{
		StatusNew, StatusUndecryptable, StatusTriaging, StatusNeedsInfo, StatusAccepted,
		StatusFixing, StatusFixed, StatusDisclosed,
		StatusDuplicate, StatusNotApplicable, StatusInformative, StatusSpam,
	}
}

// Closed reports whether s ends the work on a report: the four closing
// statuses and disclosed. Closing stops every SLA clock.
func (s Status) Closed() bool {
	switch s {
	case StatusDuplicate, StatusNotApplicable, StatusInformative, StatusSpam, StatusDisclosed:
		return true
	}
	return false
}

// Next returns the statuses a report in s may move to.
func (s Status) Next() []Status { return slices.Clone(transitions[s]) }

// CanMove reports whether the workflow allows moving from s to to.
// Staying in the same status is not a move.
func (s Status) CanMove(to Status) bool { return slices.Contains(transitions[s], to) }

// EventKind is what an Event records.
type EventKind string

const (
	EventStatus    EventKind = "status"    // From, To: statuses
	EventAssignee  EventKind = "assignee"  // From, To: user ids, "" for nobody
	EventLabels    EventKind = "labels"    // From, To: labels joined by ", "
	EventCVSS      EventKind = "cvss"      // From, To: vectors
	EventSeverity  EventKind = "severity"  // From, To: severities
	EventDuplicate EventKind = "duplicate" // on the original: To is the duplicate's tracking id
	EventResponded EventKind = "responded" // a reply went to the researcher: stops the first-response clock
	EventHeld      EventKind = "held"      // held in quarantine: To is the rule's id
	EventReleased  EventKind = "released"  // released from quarantine to the board: From is the rule's id
)

// Event is one entry of a report's history: who changed what, when.
type Event struct {
	ID         int64
	ReportID   int64
	At         time.Time
	ActorID    int64  // staff user; 0: the system
	ActorEmail string // filled in by the store for display
	Kind       EventKind
	From, To   string
}

// Change is one edit of a report's triage state, as a PATCH sends it.
// Nil fields are left alone.
type Change struct {
	Status *Status
	// CVSSVector sets the vector, which sets the score and severity;
	// "" removes the vector and keeps the severity it gave.
	CVSSVector *string
	// Severity sets the severity without a vector. With a vector in the
	// same change it must agree with the vector's.
	Severity *Severity
	Assignee *int64 // 0: nobody; the store checks the user (CanAssign)
	Labels   *[]string
	// DuplicateOf closes the report as a duplicate of that report; Status
	// may then be omitted or duplicate. Apply needs the original loaded.
	DuplicateOf *int64
	// Deadlines changes the disclosure deadline, embargo and CRA clocks
	// (deadline.go); Apply leaves it to the store, which applies it with
	// the rest in one transaction.
	Deadlines *DeadlineChange
}

// Apply makes change c to r at now on behalf of staff user actor, all or
// nothing. original is the report named by c.DuplicateOf (nil otherwise).
// It returns the events to record: r's own, and for a merge one on the
// original. An illegal status move is ECONFLICT; a bad value EINVALID.
// r is unchanged on error.
func (r *Report) Apply(c Change, original *Report, actor int64, now time.Time) ([]Event, error) {
	now = now.UTC()
	n := *r
	n.Labels = slices.Clone(r.Labels)
	n.Timeline.Pauses = slices.Clone(r.Timeline.Pauses)
	var evs []Event
	add := func(kind EventKind, from, to string) {
		evs = append(evs, Event{ReportID: r.ID, At: now, ActorID: actor, Kind: kind, From: from, To: to})
	}

	// Risk first, so that "accept with this vector" starts the
	// remediation clock with the right severity.
	if c.CVSSVector != nil {
		v := strings.TrimSpace(*c.CVSSVector)
		if v == "" {
			if n.CVSS.Vector != "" {
				add(EventCVSS, n.CVSS.Vector, "")
				n.CVSS = CVSS{}
			}
		} else {
			cv, err := ParseCVSS(v)
			if err != nil {
				return nil, err
			}
			if c.Severity != nil && *c.Severity != cv.Severity() {
				return nil, Errorf(EINVALID, "severity %s does not match the vector's (%s, score %.1f)", *c.Severity, cv.Severity(), cv.Score)
			}
			if cv.Vector != n.CVSS.Vector {
				add(EventCVSS, n.CVSS.Vector, cv.Vector)
				n.CVSS = cv
			}
			n.setSeverity(cv.Severity(), now, add)
		}
	}
	if c.Severity != nil && (c.CVSSVector == nil || strings.TrimSpace(*c.CVSSVector) == "") {
		sev := *c.Severity
		if !sev.Valid() || sev == SeverityUnscored {
			return nil, Errorf(EINVALID, "unknown severity %q (want none, low, medium, high or critical)", sev)
		}
		if n.CVSS.Vector != "" && sev != n.CVSS.Severity() {
			return nil, Errorf(EINVALID, "%s has CVSS vector scoring %s; change or remove the vector to set severity %s", r.TrackingID, n.CVSS.Severity(), sev)
		}
		n.setSeverity(sev, now, add)
	}

	if c.Assignee != nil && *c.Assignee != n.Assignee {
		if *c.Assignee < 0 {
			return nil, Errorf(EINVALID, "invalid assignee")
		}
		add(EventAssignee, userRef(n.Assignee), userRef(*c.Assignee))
		n.Assignee = *c.Assignee
		n.AssigneeEmail = ""
	}
	if c.Labels != nil {
		labels, err := ParseLabels(*c.Labels)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(labels, n.Labels) {
			add(EventLabels, strings.Join(n.Labels, ", "), strings.Join(labels, ", "))
			n.Labels = labels
		}
	}

	to := n.Status
	if c.Status != nil {
		to = *c.Status
		if !to.Valid() {
			return nil, Errorf(EINVALID, "unknown status %q", to)
		}
	}
	if c.DuplicateOf != nil {
		if c.Status != nil && to != StatusDuplicate {
			return nil, Errorf(EINVALID, "duplicate_of closes the report as duplicate, not %s", to)
		}
		to = StatusDuplicate
		if err := checkOriginal(&n, *c.DuplicateOf, original); err != nil {
			return nil, err
		}
	} else if to == StatusDuplicate && n.Status != StatusDuplicate {
		return nil, Errorf(EINVALID, "to close %s as a duplicate, name the original (duplicate_of)", r.TrackingID)
	}
	if to != n.Status {
		if !n.Status.CanMove(to) {
			return nil, Errorf(ECONFLICT, "cannot move %s from %s to %s", r.TrackingID, n.Status, to)
		}
		add(EventStatus, string(n.Status), string(to))
		n.move(to, now)
	}
	if c.DuplicateOf != nil && n.DuplicateOf != original.ID {
		n.DuplicateOf = original.ID
		evs = append(evs, Event{ReportID: original.ID, At: now, ActorID: actor, Kind: EventDuplicate, To: r.TrackingID})
	}
	*r = n
	return evs, nil
}

// checkOriginal validates the target of a merge.
func checkOriginal(r *Report, id int64, original *Report) error {
	switch {
	case original == nil || original.ID != id:
		return Errorf(ENOTFOUND, "report %d not found", id)
	case original.ID == r.ID:
		return Errorf(EINVALID, "%s cannot be a duplicate of itself", r.TrackingID)
	case original.Status == StatusDuplicate:
		return Errorf(EINVALID, "%s is itself a duplicate of report %d: merge into that one", original.TrackingID, original.DuplicateOf)
	case r.Status == StatusDuplicate && r.DuplicateOf != original.ID:
		return Errorf(ECONFLICT, "%s is already a duplicate of report %d: reopen it first", r.TrackingID, r.DuplicateOf)
	}
	return nil
}

// move changes the status and keeps the SLA timeline in step. The move
// itself was checked.
func (r *Report) move(to Status, now time.Time) {
	t := &r.Timeline
	from := r.Status
	if from == StatusNeedsInfo {
		t.endPause(now)
	}
	if from.Closed() {
		// Reopened: the time spent closed does not count.
		t.Pauses = append(t.Pauses, Pause{Start: t.ClosedAt, End: now})
		t.ClosedAt = time.Time{}
		r.DuplicateOf = 0
	}
	if from == StatusFixed && to == StatusFixing {
		t.ResolvedAt = time.Time{}
	}
	switch {
	case to == StatusNeedsInfo:
		t.Pauses = append(t.Pauses, Pause{Start: now})
	case to == StatusAccepted && t.AcceptedAt.IsZero():
		t.AcceptedAt = now
	case to == StatusFixed:
		t.ResolvedAt = now
	}
	if to.Closed() {
		t.ClosedAt = now
	}
	r.Status = to
}

func (r *Report) setSeverity(sev Severity, now time.Time, add func(EventKind, string, string)) {
	if sev == r.Severity {
		return
	}
	add(EventSeverity, string(r.Severity), string(sev))
	r.Severity = sev
	if r.Timeline.SeveritySetAt.IsZero() {
		r.Timeline.SeveritySetAt = now
	}
	if sev.rated() && r.Timeline.RatedAt.IsZero() {
		r.Timeline.RatedAt = now
	}
}

// Responded records that a reply went to the researcher at now (an
// automatic acknowledgement is not one): the first stops the
// first-response clock. It returns the event to record.
func (r *Report) Responded(actor int64, now time.Time) Event {
	now = now.UTC()
	if r.Timeline.RespondedAt.IsZero() {
		r.Timeline.RespondedAt = now
	}
	return Event{ReportID: r.ID, At: now, ActorID: actor, Kind: EventResponded}
}

func userRef(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// CanAssign reports whether reports may be assigned to u: staff who may
// act on reports (triager or admin). It returns EINVALID otherwise.
func CanAssign(u *User) error {
	if u == nil {
		return Errorf(ENOTFOUND, "no such user")
	}
	if u.Disabled() {
		return Errorf(EINVALID, "%s is disabled and cannot be assigned reports", u.Email)
	}
	if !u.Role.Can(RoleTriager) {
		return Errorf(EINVALID, "%s is a %s and cannot be assigned reports", u.Email, u.Role)
	}
	return nil
}

// String describes an event in a line, for history lists and logs.
func (e Event) String() string {
	if s, ok := deadlineEventString(e); ok {
		return s
	}
	switch e.Kind {
	case EventStatus:
		return fmt.Sprintf("status %s → %s", e.From, e.To)
	case EventResponded:
		return "replied to the researcher"
	case EventDuplicate:
		return fmt.Sprintf("%s merged in as a duplicate", e.To)
	case EventHeld:
		return "held in quarantine: the sender is quarantined"
	case EventReleased:
		return "released from quarantine to the board"
	}
	from, to := e.From, e.To
	if from == "" {
		from = "none"
	}
	if to == "" {
		to = "none"
	}
	return fmt.Sprintf("%s %s → %s", e.Kind, from, to)
}

// Actor is who makes a change, for the report's history and the audit
// log. UserID 0 is the system.
type Actor struct {
	UserID     int64
	Email      string
	RemoteAddr string // empty for the CLI and the system
	UserAgent  string
}
