package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// Coordinated disclosure: the disclosure deadline and embargo, and the
// CRA clocks of an actively exploited report (triage/deadline.go). They
// show on the report page (a panel with the forms that change them),
// the board (a due-soon group), the researcher's status page, and in the
// API; every change goes through Store.UpdateReport with a
// triage.DeadlineChange, in one transaction with the report.

// DeadlineStore is what the disclosure views need; Store embeds it.
type DeadlineStore interface {
	// Deadlines returns a report's deadlines (the zero value when it has
	// none), or ENOTFOUND.
	Deadlines(ctx context.Context, id int64) (*triage.Deadlines, error)
	// DeadlinesOf returns the deadlines of those reports that have any.
	DeadlinesOf(ctx context.Context, ids []int64) (map[int64]*triage.Deadlines, error)
	// DueDeadlines lists the deadlines counting down, due before now +
	// within (the CRA clocks whatever their due time), soonest first.
	DueDeadlines(ctx context.Context, now time.Time, within time.Duration, limit int) ([]triage.DueDeadline, error)
	// DeadlineCounts counts the deadlines counting down at now per clock
	// (running, breached), and the open reports actively exploited.
	DeadlineCounts(ctx context.Context, now time.Time) (map[triage.ClockName][2]int64, int64, error)
}

// dueSoonWithin is how far ahead the board's due-soon group looks for
// disclosure deadlines: the first reminder's distance.
const dueSoonWithin = triage.DisclosureRemindEarly

// dueSoonLimit bounds the group.
const dueSoonLimit = 20

// deadlineTimeDisplay shows deadlines in UTC; the page's script adds the
// viewer's local time.
const deadlineTimeDisplay = "2006-01-02 15:04 UTC"

func deadlineTime(t time.Time) string { return t.UTC().Format(deadlineTimeDisplay) }

// deadlineClockView is one deadline as the report page and board show it.
func deadlineClockView(c *triage.DeadlineClock, now time.Time) templates.ClockView {
	v := templates.ClockView{
		Name:      triage.DeadlineText(c.Name),
		Key:       string(c.Name),
		State:     string(c.State),
		Remaining: int64(c.Remaining / time.Second),
		Live:      c.Counting(),
	}
	if !c.DueAt.IsZero() {
		v.DueAt, v.DueRFC3339 = deadlineTime(c.DueAt), formatRFC3339(c.DueAt)
	}
	done := func(what string) string {
		s := what + " " + deadlineTime(c.DoneAt)
		if c.Reference != "" {
			s += ", " + c.Reference
		}
		return s
	}
	verb := "sent"
	if c.Name == triage.ClockDisclosure {
		verb = "disclosed"
	}
	switch c.State {
	case triage.ClockWaiting:
		v.Text, v.Class, v.When = "waits for the fix", "clock-paused", "14 days after the fix"
	case triage.ClockStopped:
		v.Text, v.Class = "stopped: closed without disclosure", "clock-met"
	case triage.ClockMet:
		v.Text, v.Class, v.When = "met", "clock-met", done(verb)
	case triage.ClockBreached:
		if c.DoneAt.IsZero() {
			v.Text, v.Class = "overdue by "+formatCountdown(-c.Remaining), "clock-overdue"
		} else {
			v.Text, v.Class, v.When = "late", "clock-overdue", done(verb)
		}
	default:
		v.Text, v.Class = formatCountdown(c.Remaining)+" left", "clock-ok"
		soon := triage.DueSoon
		if c.Name == triage.ClockDisclosure {
			soon = triage.DisclosureRemindLate
		}
		if c.Remaining <= soon {
			v.Class = "clock-soon"
		}
	}
	return v
}

// deadlineActionKey carries a refused deadline form's outcome to the
// report page rendered again.
type deadlineActionKey struct{}

type deadlineAction struct {
	err    error
	notice string
	input  map[string]string
}

// deadlinesView is the report page's disclosure panel for rep at now.
func (s *server) deadlinesView(r *http.Request, rep *triage.Report, now time.Time) (templates.DeadlinesView, error) {
	ctx := r.Context()
	d, err := s.store.Deadlines(ctx, rep.ID)
	if err != nil {
		return templates.DeadlinesView{}, err
	}
	user := userFrom(ctx)
	v := templates.DeadlinesView{
		ActionURL:         reportURL(rep.ID) + "/deadlines",
		CanAct:            user != nil && user.Role.Can(triage.RoleTriager),
		Accepted:          !d.DisclosureDue.IsZero(),
		Status:            string(rep.Status),
		Extended:          d.Extended,
		Embargoed:         d.Embargoed(now),
		ActivelyExploited: d.ActivelyExploited,
		Input:             map[string]string{},
		CVEIDs:            d.CVEIDs,
		CVEURL:            reportURL(rep.ID) + "/cve-id",
		CVEServices:       s.cve != nil,
	}
	if c := d.Disclosure(rep, now); c != nil {
		v.Clocks = append(v.Clocks, deadlineClockView(c, now))
	}
	for _, c := range d.CRA(rep, now) {
		v.Clocks = append(v.Clocks, deadlineClockView(c, now))
		if c.DoneAt.IsZero() {
			k := strings.TrimPrefix(string(c.Name), "cra_")
			v.CRASent = append(v.CRASent, templates.Option{Value: k, Label: triage.DeadlineText(c.Name)})
		}
	}
	if !d.EmbargoUntil.IsZero() {
		v.EmbargoUntil, v.EmbargoRFC3339 = deadlineTime(d.EmbargoUntil), formatRFC3339(d.EmbargoUntil)
	}
	if d.ActivelyExploited {
		v.AwareAt, v.AwareRFC3339 = deadlineTime(d.AwareAt), formatRFC3339(d.AwareAt)
	}
	if st, _ := ctx.Value(deadlineActionKey{}).(*deadlineAction); st != nil {
		if st.err != nil {
			v.Error = triage.ErrorMessage(st.err)
		}
		v.Notice = st.notice
		for k, val := range st.input {
			v.Input[k] = val
		}
	} else if r.URL.Query().Get("done") == "deadlines" {
		v.Notice = "Saved."
	}
	return v, nil
}

// parseFormTime reads a time typed in a form or sent in JSON: RFC 3339,
// or a datetime-local value ("2026-06-01T12:00", taken as UTC), or a
// date (midnight UTC). field names it in the error.
func parseFormTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if s == "" {
		return time.Time{}, triage.Errorf(triage.EINVALID, "%s is required", field)
	}
	return time.Time{}, triage.Errorf(triage.EINVALID, "%s: enter a date and time such as 2026-06-01T12:00 (UTC) or RFC 3339", field)
}

// deadlineFormChange reads the disclosure panel's form into a change.
func deadlineFormChange(r *http.Request) (*triage.DeadlineChange, string, error) {
	f := r.PostForm
	c := &triage.DeadlineChange{}
	switch f.Get("action") {
	case "extend":
		t, err := parseFormTime("New deadline", f.Get("disclosure_due_at"))
		if err != nil {
			return nil, "", err
		}
		c.DisclosureDue, c.Reason = &t, f.Get("reason")
		return c, "Disclosure deadline moved.", nil
	case "embargo":
		t, err := parseFormTime("Embargo", f.Get("embargo_until"))
		if err != nil {
			return nil, "", err
		}
		c.EmbargoUntil = &t
		return c, "Embargo set.", nil
	case "lift-embargo":
		c.EmbargoUntil = &time.Time{}
		return c, "Embargo lifted.", nil
	case "exploited":
		t, err := parseFormTime("Aware at", f.Get("aware_at"))
		if err != nil {
			return nil, "", err
		}
		yes := true
		c.ActivelyExploited, c.AwareAt = &yes, &t
		return c, "Marked actively exploited: the CRA clocks run.", nil
	case "cra-sent":
		k, err := triage.ParseCRAReport(f.Get("report"))
		if err != nil {
			return nil, "", err
		}
		t, err := parseFormTime("Sent at", f.Get("sent_at"))
		if err != nil {
			return nil, "", err
		}
		c.Sent = []triage.CRASent{{Report: k, SentAt: t, Reference: f.Get("reference")}}
		return c, "CRA report recorded.", nil
	}
	return nil, "", triage.Errorf(triage.EINVALID, "unknown action")
}

// reportDeadlines is the disclosure panel's forms: without JavaScript it
// redirects back to the report, or shows it again with the refusal; with
// htmx it answers the panel.
func (s *server) reportDeadlines(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.now()
	c, notice, err := deadlineFormChange(r)
	if err == nil {
		rep, err = s.store.UpdateReport(r.Context(), rep.ID, triage.Change{Deadlines: c}, actorOf(r), now)
	}
	if err != nil && errorStatus(triage.ErrorCode(err)) >= 500 {
		s.Error(w, r, err)
		return
	}
	st := &deadlineAction{err: err, notice: notice, input: map[string]string{}}
	status := http.StatusOK
	if err != nil {
		st.notice = ""
		for _, k := range []string{"disclosure_due_at", "reason", "embargo_until", "aware_at", "sent_at", "reference"} {
			st.input[k] = r.PostForm.Get(k)
		}
		status = errorStatus(triage.ErrorCode(err))
		if isHTMX(r) && status != http.StatusBadRequest && status != http.StatusConflict {
			status = http.StatusUnprocessableEntity
		}
		if cur, lerr := s.loadReport(r); lerr == nil {
			rep = cur
		}
	}
	ctx := context.WithValue(r.Context(), deadlineActionKey{}, st)
	if !isHTMX(r) {
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("%s?done=deadlines#deadlines", reportURL(rep.ID)), http.StatusSeeOther)
			return
		}
		s.report(&statusWriter{ResponseWriter: w, status: status}, r.WithContext(ctx))
		return
	}
	v, verr := s.deadlinesView(r.WithContext(ctx), rep, now)
	if verr != nil {
		s.Error(w, r, verr)
		return
	}
	s.render(w, r, status, templates.DeadlinesPanel(v))
}

// dueSoonRows is the board's due-soon group at now.
func (s *server) dueSoonRows(ctx context.Context, now time.Time) ([]templates.DueSoonRow, error) {
	due, err := s.store.DueDeadlines(ctx, now, dueSoonWithin, dueSoonLimit)
	if err != nil {
		return nil, err
	}
	var out []templates.DueSoonRow
	for _, d := range due {
		c := &triage.DeadlineClock{Name: d.Clock, DueAt: d.DueAt}
		c.State, c.Remaining = triage.ClockRunning, d.DueAt.Sub(now)
		if c.Remaining <= 0 {
			c.State = triage.ClockBreached
		}
		out = append(out, templates.DueSoonRow{TrackingID: d.TrackingID, URL: reportURL(d.ReportID), Title: d.Title, Clock: deadlineClockView(c, now)})
	}
	return out, nil
}

// statusDisclosure is the disclosure deadline and embargo of rep for the
// researcher's status page; nil before acceptance.
func (s *server) statusDisclosure(ctx context.Context, rep *triage.Report, now time.Time) (*templates.StatusDisclosureView, error) {
	d, err := s.store.Deadlines(ctx, rep.ID)
	if err != nil {
		return nil, err
	}
	c := d.Disclosure(rep, now)
	if c == nil {
		return nil, nil
	}
	v := &templates.StatusDisclosureView{DueAt: deadlineTime(c.DueAt), DueRFC3339: formatRFC3339(c.DueAt), State: string(c.State)}
	switch c.State {
	case triage.ClockMet, triage.ClockBreached:
		if !c.DoneAt.IsZero() {
			v.Text = "Disclosed " + deadlineTime(c.DoneAt) + "."
		} else {
			v.Text = "The deadline has passed; we will be in touch."
		}
	case triage.ClockStopped:
		v.Text = "The report was closed."
	default:
		v.Text = "We plan to publish by then, in coordination with you."
	}
	if d.Embargoed(now) {
		v.EmbargoUntil, v.EmbargoRFC3339 = deadlineTime(d.EmbargoUntil), formatRFC3339(d.EmbargoUntil)
	}
	return v, nil
}

// deadlineMetrics writes the deadline gauges: per clock (disclosure, the
// CRA clocks) those counting down, running or breached; and the open
// reports marked actively exploited.
func (s *server) deadlineMetrics(r *http.Request, m metricWriter) error {
	counts, exploited, err := s.store.DeadlineCounts(r.Context(), s.now())
	if err != nil {
		return err
	}
	m.family("secinbox_deadlines", "gauge", "Disclosure deadlines and CRA clocks counting down, by clock and state (running: not yet due).")
	for _, c := range []triage.ClockName{triage.ClockDisclosure, triage.ClockCRAEarlyWarning, triage.ClockCRANotification, triage.ClockCRAFinalReport} {
		m.sample("secinbox_deadlines", counts[c][0], "clock", string(c), "state", "running")
		m.sample("secinbox_deadlines", counts[c][1], "clock", string(c), "state", "breached")
	}
	m.family("secinbox_reports_actively_exploited", "gauge", "Open reports marked actively exploited (their CRA clocks run).")
	m.sample("secinbox_reports_actively_exploited", exploited)
	return nil
}
