package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// boardPageSize is how many reports one page of the board shows: a screen
// or two, and a page that renders in a few milliseconds.
const boardPageSize = 50

// maxBoardPage bounds ?page= (an offset deeper than this is no board
// anyone reads, and deep offsets cost the database).
const maxBoardPage = 1000

// board lists reports in risk order (the store's Board, triage.Rank)
// with every SLA clock at now, narrowed by the filters in the query:
// status (default: open reports; "all", "closed" or one status),
// severity, assignee ("me", "none" or a user id), breached ("yes",
// "no"), label, q (full-text search) and page. An htmx request from the
// filters gets only the results.
func (s *server) board(w http.ResponseWriter, r *http.Request) {
	v, status, err := s.boardView(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if isHTMX(r) && r.Header.Get("HX-Target") == "board-results" {
		s.render(w, r, status, templates.BoardResults(v))
		return
	}
	s.render(w, r, status, templates.Board(v))
}

// boardView is the board for r's query at now, and its status code: 400
// with the reason shown when the filters are refused. Other errors are
// returned.
func (s *server) boardView(r *http.Request) (templates.BoardView, int, error) {
	ctx := r.Context()
	now := s.now()
	user := userFrom(ctx)
	users, err := s.store.Users(ctx)
	if err != nil {
		return templates.BoardView{}, 0, err
	}
	q := r.URL.Query()
	f, filters, page, err := boardFilter(q, user, users)
	v := templates.BoardView{
		Nav:     staffNav(user),
		Now:     now.UTC().Format("2006-01-02 15:04 UTC"),
		Filters: filters,
		Page:    page,
		CanAct:  user != nil && user.Role.Can(triage.RoleTriager),
	}
	v.ResultsURL = boardURL(q, page)
	if v.CanAct {
		v.BulkAssignees, v.BulkStatuses = bulkOptions(users)
	}
	if n, err := strconv.Atoi(q.Get("bulk")); err == nil && n >= 0 {
		// After a bulk action without JavaScript: counts only, the list
		// of refusals went with the htmx answer (and to the audit log).
		v.Notice = bulkNotice(n, atoiOr(q.Get("refused"), 0))
	}
	status := http.StatusOK
	if err == nil {
		err = s.boardRows(r, &v, f, page, now)
	}
	if err == nil {
		v.DueSoon, err = s.dueSoonRows(ctx, now)
	}
	if err != nil {
		if code := triage.ErrorCode(err); code != triage.EINVALID {
			return v, 0, err
		}
		v.Error, status = triage.ErrorMessage(err), http.StatusBadRequest
	}
	return v, status, nil
}

// boardRows fills v's rows (and paging) from the store.
func (s *server) boardRows(r *http.Request, v *templates.BoardView, f triage.ReportFilter, page int, now time.Time) error {
	ctx := r.Context()
	p, err := s.store.SLAPolicy(ctx)
	if err != nil {
		return err
	}
	f.Offset = (page - 1) * boardPageSize
	f.Limit = boardPageSize + 1 // one more tells whether a next page exists
	reports, err := s.store.Board(ctx, f, now)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if len(reports) > boardPageSize {
		reports = reports[:boardPageSize]
		v.NextURL = boardURL(q, page+1)
	}
	if page > 1 {
		v.PrevURL = boardURL(q, page-1)
	}
	zone := p.Calendar.Zone()
	last := ""
	for _, rep := range reports {
		sla := rep.Clocks(p, now)
		tier := tierName(triage.Rank(rep.Status.Closed(), rep.SeverityPoints(), sla.NextDue(), now).Tier)
		icons, badges := reportMarks(rep)
		row := templates.BoardRow{
			ID:              rep.ID,
			TrackingID:      rep.TrackingID,
			URL:             reportURL(rep.ID),
			QuickURL:        reportURL(rep.ID) + "/quick",
			Title:           rep.Title,
			ResearcherName:  rep.ResearcherName,
			ResearcherEmail: rep.ResearcherEmail,
			Received:        formatTime(rep.ReceivedAt),
			ReceivedAt:      formatRFC3339(rep.ReceivedAt),
			Status:          string(rep.Status),
			Assignee:        rep.AssigneeEmail,
			Labels:          rep.Labels,
			Tier:            tier,
			Icons:           icons,
			Badges:          badges,
		}
		if c := nextClock(sla); c != nil {
			row.Next = clockView(c, zone, now)
		}
		row.Severity, row.SevClass = severityLabel(rep)
		if tier != last {
			row.Group = tierHeadings[tier]
			last = tier
		}
		v.Rows = append(v.Rows, row)
	}
	return nil
}

// tierName names triage.Risk.Tier for templates and CSS.
func tierName(tier int) string {
	switch tier {
	case 3:
		return "breached"
	case 2:
		return "soon"
	case 1:
		return "open"
	}
	return "closed"
}

var tierHeadings = map[string]string{
	"breached": "Breached",
	"soon":     "Due within 2 hours",
	"open":     "Open",
	"closed":   "Closed",
}

// severityLabel is "critical 9.8", "high" (set without a vector) or
// "unscored", and its CSS class.
func severityLabel(r *triage.Report) (string, string) {
	switch {
	case r.CVSS.Vector != "":
		return fmt.Sprintf("%s %.1f", r.CVSS.Severity(), r.CVSS.Score), "sev-" + string(r.CVSS.Severity())
	case r.Severity != triage.SeverityUnscored:
		return string(r.Severity), "sev-" + string(r.Severity)
	}
	return "unscored", "sev-unscored"
}

// Board filter values that are not a status or severity.
const (
	filterOpen       = "open"
	filterAll        = "all"
	filterClosed     = "closed"
	filterUnscored   = "unscored"
	filterMe         = "me"
	filterUnassigned = "none"
)

// boardFilter reads the board's query into a store filter and the
// filter form's state. A value that is not one of the form's choices is
// EINVALID; the label and the search are checked by the store.
func boardFilter(q url.Values, me *triage.User, users []*triage.User) (triage.ReportFilter, templates.BoardFilters, int, error) {
	var f triage.ReportFilter
	v := templates.BoardFilters{
		Status: q.Get("status"), Severity: q.Get("severity"), Assignee: q.Get("assignee"),
		Breached: q.Get("breached"), Label: strings.TrimSpace(q.Get("label")), Query: strings.TrimSpace(q.Get("q")),
	}
	if v.Status == "" {
		v.Status = filterOpen
	}
	var errs []string

	v.Statuses = []templates.Option{{Value: filterOpen, Label: "open"}, {Value: filterAll, Label: "all"}, {Value: filterClosed, Label: "closed"}}
	for _, st := range triage.Statuses() {
		v.Statuses = append(v.Statuses, templates.Option{Value: string(st), Label: string(st)})
	}
	switch v.Status {
	case filterOpen, filterClosed:
		for _, st := range triage.Statuses() {
			if st.Closed() == (v.Status == filterClosed) {
				f.Statuses = append(f.Statuses, st)
			}
		}
	case filterAll:
	default:
		st, err := triage.ParseStatus(v.Status)
		if err != nil {
			errs = append(errs, triage.ErrorMessage(err))
		}
		f.Status = st
	}

	v.Severities = []templates.Option{{Value: "", Label: "any"}}
	for _, sev := range []triage.Severity{triage.SeverityCritical, triage.SeverityHigh, triage.SeverityMedium, triage.SeverityLow, triage.SeverityNone} {
		v.Severities = append(v.Severities, templates.Option{Value: string(sev), Label: string(sev)})
	}
	v.Severities = append(v.Severities, templates.Option{Value: filterUnscored, Label: "unscored"})
	switch v.Severity {
	case "":
	case filterUnscored:
		f.Severity = []triage.Severity{triage.SeverityUnscored}
	default:
		sev, err := triage.ParseSeverity(v.Severity)
		if err != nil {
			errs = append(errs, triage.ErrorMessage(err))
		}
		f.Severity = []triage.Severity{sev}
	}

	v.Assignees = []templates.Option{{Value: "", Label: "anyone"}, {Value: filterMe, Label: "me"}, {Value: filterUnassigned, Label: "nobody"}}
	for _, u := range assignable(users) {
		v.Assignees = append(v.Assignees, templates.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Email})
	}
	switch v.Assignee {
	case "":
	case filterMe:
		if me != nil {
			f.Assignee = me.ID
		}
	case filterUnassigned:
		f.Unassigned = true
	default:
		id, err := strconv.ParseInt(v.Assignee, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fmt.Sprintf("unknown assignee %q", truncate(v.Assignee, 40)))
		}
		f.Assignee = id
	}

	v.BreachedOf = []templates.Option{{Value: "", Label: "any"}, {Value: "yes", Label: "breached"}, {Value: "no", Label: "not breached"}}
	switch v.Breached {
	case "":
	case "yes", "no":
		b := v.Breached == "yes"
		f.Breached = &b
	default:
		errs = append(errs, fmt.Sprintf("breached must be yes or no, not %q", truncate(v.Breached, 20)))
	}
	for _, on := range []bool{v.Status != filterOpen, v.Severity != "", v.Assignee != "", v.Breached != "", v.Label != "", v.Query != ""} {
		if on {
			v.Active++
		}
	}
	markSelected(v.Statuses, v.Status)
	markSelected(v.Severities, v.Severity)
	markSelected(v.Assignees, v.Assignee)
	markSelected(v.BreachedOf, v.Breached)

	f.Label, f.Query = v.Label, v.Query
	f.Quarantined = q.Get("quarantined") == "true"
	page := 1
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > maxBoardPage {
			errs = append(errs, fmt.Sprintf("page must be a number from 1 to %d", maxBoardPage))
		} else {
			page = n
		}
	}
	if len(errs) > 0 {
		return f, v, page, triage.Errorf(triage.EINVALID, "%s", strings.Join(errs, "; "))
	}
	return f, v, page, nil
}

func markSelected(opts []templates.Option, value string) {
	for i := range opts {
		opts[i].Selected = opts[i].Value == value
	}
}

// assignable are the users reports may be assigned to (triage.CanAssign).
func assignable(users []*triage.User) []*triage.User {
	var out []*triage.User
	for _, u := range users {
		if triage.CanAssign(u) == nil {
			out = append(out, u)
		}
	}
	return out
}

// boardURL is the board (or, with quarantined=true, the quarantine
// view) with the filters of q at page.
func boardURL(q url.Values, page int) string {
	keep := url.Values{}
	for _, k := range []string{"status", "severity", "assignee", "breached", "label", "q"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if page > 1 {
		keep.Set("page", strconv.Itoa(page))
	}
	path := "/board"
	if q.Get("quarantined") == "true" {
		path = "/quarantine"
	}
	if len(keep) == 0 {
		return path
	}
	return path + "?" + keep.Encode()
}

// isHTMX reports whether r was sent by htmx (and is not a history
// restore, which wants the whole page).
func isHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// reportURL is the staff page of report id.
func reportURL(id int64) string { return fmt.Sprintf("/reports/%d", id) }

// clockNames are the clocks' names for people; clockShort their short
// names, for the board's column.
var (
	clockNames = map[triage.ClockName]string{
		triage.ClockFirstResponse: "First response",
		triage.ClockTriage:        "Triage",
		triage.ClockRemediation:   "Remediation",
	}
	clockShort = map[triage.ClockName]string{
		triage.ClockFirstResponse: "Reply",
		triage.ClockTriage:        "Triage",
		triage.ClockRemediation:   "Fix",
	}
)

// nextClock is the clock of sla due next: the earliest that counts down,
// else the earliest paused one; nil when none runs.
func nextClock(sla triage.SLA) *triage.Clock {
	var next, paused *triage.Clock
	for _, c := range sla.All() {
		switch {
		case c.DueAt.IsZero():
		case c.Counting():
			if next == nil || c.DueAt.Before(next.DueAt) {
				next = c
			}
		case c.State == triage.ClockPaused:
			if paused == nil || c.DueAt.Before(paused.DueAt) {
				paused = c
			}
		}
	}
	if next == nil {
		return paused
	}
	return next
}

// reportMarks are what the board shows of r's encryption and signature:
// icons for what is usual (encrypted, signed, unsigned, not encrypted),
// badges only for what needs a look.
func reportMarks(r *triage.Report) ([]templates.Icon, []templates.Badge) {
	var icons []templates.Icon
	var badges []templates.Badge
	switch {
	case r.Encrypted && r.Decrypted:
		icons = append(icons, templates.Icon{Kind: "lock", Label: "encrypted"})
	case r.Encrypted:
		badges = append(badges, templates.Badge{Label: "undecryptable", Class: "badge-bad"})
	default:
		icons = append(icons, templates.Icon{Kind: "unlock", Label: "not encrypted"})
	}
	switch sig := signatureView(r.Signature); r.Signature.Status {
	case triage.SignatureGood:
		icons = append(icons, templates.Icon{Kind: "signed", Label: "signed: good"})
	case triage.SignatureNone, "":
		icons = append(icons, templates.Icon{Kind: "unsigned", Label: "unsigned"})
	default:
		badges = append(badges, templates.Badge{Label: sig.Badge, Class: sig.Class})
	}
	return icons, badges
}

// clockViews formats a report's clocks at now; due times in zone (the
// policy's).
func clockViews(sla triage.SLA, zone *time.Location, now time.Time) []templates.ClockView {
	var out []templates.ClockView
	for _, c := range sla.All() {
		out = append(out, clockView(c, zone, now))
	}
	return out
}

// clockDisplay is how due and stop times are shown: with the zone, as
// the issue asks ("due at, with time zone").
const clockDisplay = "2006-01-02 15:04 MST"

func clockView(c *triage.Clock, zone *time.Location, now time.Time) templates.ClockView {
	v := templates.ClockView{
		Name:      clockNames[c.Name],
		Short:     clockShort[c.Name],
		Key:       string(c.Name),
		State:     string(c.State),
		Remaining: int64(c.Remaining / time.Second),
		Live:      c.Counting() && !c.DueAt.IsZero(),
	}
	at := func(t time.Time) string { return t.In(zone).Format(clockDisplay) }
	if !c.DueAt.IsZero() {
		v.DueAt, v.DueRFC3339 = at(c.DueAt), c.DueAt.UTC().Format(time.RFC3339)
	}
	switch {
	case c.DueAt.IsZero():
		v.Text, v.Class = "no due time", "clock-ok"
	case c.State == triage.ClockMet:
		v.Text, v.Class = "met", "clock-met"
		v.When = "met " + at(c.MetAt)
	case c.State == triage.ClockClosed:
		v.Text, v.Class = "closed", "clock-closed"
		v.When = "report closed " + at(c.StoppedAt) + ", before it was due"
	case c.State == triage.ClockBreached && !c.StoppedAt.IsZero():
		v.Text, v.Class = "breached", "clock-overdue"
		v.When = "breached " + at(c.BreachedAt) + ", stopped " + at(c.StoppedAt)
	case c.State == triage.ClockBreached:
		v.Text, v.Class = "overdue by "+formatCountdown(-c.Remaining), "clock-overdue"
		v.When = "breached " + at(c.BreachedAt)
	case c.State == triage.ClockPaused:
		v.Text, v.Class = "paused, "+formatCountdown(c.Remaining)+" left", "clock-paused"
		v.When = "paused (needs-info)"
	default:
		v.Text, v.Class = formatCountdown(c.Remaining)+" left", "clock-ok"
		if c.Remaining <= triage.DueSoon {
			v.Class = "clock-soon"
		}
	}
	return v
}

// formatCountdown is d (≥ 0) to the minute, rounded down: "45m",
// "23h 12m", or "3d 4h" from 48 hours on. SLA windows are hours to
// days long: seconds would only flicker. app.js formats the live
// countdown the same way.
func formatCountdown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	m := int64(d / time.Minute)
	h := m / 60
	switch {
	case h >= 48:
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m%60)
	}
	return fmt.Sprintf("%dm", m)
}
