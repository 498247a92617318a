package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// The report page's triage actions. Each is a plain form post: without
// JavaScript it redirects back to the report (or, refused, shows the
// report page again with the domain's error and the status code that
// goes with it); with htmx it answers the triage panel in place, or the
// quick dialog's form when sent from the board (from=board).

// maxActionForm bounds an action's form body: a note is at most
// triage.MaxNoteBytes, which URL encoding can triple.
const maxActionForm = 4*triage.MaxNoteBytes + 4096

// actionState is what an action leaves for the page that shows its
// outcome: the domain's refusal, what was done, and what was typed.
type actionState struct {
	err    error
	form   string // the form the action was posted from: where err is shown
	notice string
	input  map[string]string // form field → value to show again
}

type actionKey struct{}

// actionFrom returns the state an action left in ctx, or nil.
func actionFrom(ctx context.Context) *actionState {
	st, _ := ctx.Value(actionKey{}).(*actionState)
	return st
}

// actorOf is the signed-in user of r as the author of a change.
func actorOf(r *http.Request) triage.Actor {
	a := triage.Actor{RemoteAddr: clientIP(r), UserAgent: truncate(r.UserAgent(), 256)}
	if u := userFrom(r.Context()); u != nil {
		a.UserID, a.Email = u.ID, u.Email
	}
	return a
}

// doneNotices are the notices shown after a redirect (?done=), fixed
// texts so that a link cannot put words on the page.
var doneNotices = map[string]string{
	"status":    "Status changed.",
	"assign":    "Assignee changed.",
	"labels":    "Labels saved.",
	"duplicate": "Marked as a duplicate.",
	"cvss":      "CVSS saved.",
	"note":      "Note added.",
}

// fillTriage fills the report page's triage panel and first-response
// line for rep at now.
func (s *server) fillTriage(r *http.Request, v *templates.ReportView, rep *triage.Report, now time.Time) error {
	p, err := s.store.SLAPolicy(r.Context())
	if err != nil {
		return err
	}
	tv, err := s.triageView(r, rep, p, now)
	if err != nil {
		return err
	}
	v.Triage = tv
	v.FirstResponse = firstResponseView(rep, p, now)
	return nil
}

// firstResponseView is rep's first-response clock at now, or a line
// saying it has none.
func firstResponseView(rep *triage.Report, p *triage.SLAPolicy, now time.Time) templates.ClockView {
	if c := rep.Clocks(p, now).FirstResponse; c != nil {
		return clockView(c, p.Calendar.Zone(), now)
	}
	return templates.ClockView{Text: "no clock", Class: "clock-ok"}
}

// triageView builds the triage panel of rep at now under policy p, with
// the outcome of an action if r carries one.
func (s *server) triageView(r *http.Request, rep *triage.Report, p *triage.SLAPolicy, now time.Time) (templates.TriageView, error) {
	ctx := r.Context()
	user := userFrom(ctx)
	users, err := s.store.Users(ctx)
	if err != nil {
		return templates.TriageView{}, err
	}
	emails := map[int64]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	v := templates.TriageView{
		ID:          rep.ID,
		TrackingID:  rep.TrackingID,
		ActionBase:  reportURL(rep.ID),
		CanAct:      user != nil && user.Role.Can(triage.RoleTriager),
		Status:      string(rep.Status),
		Assignee:    rep.AssigneeEmail,
		Labels:      strings.Join(rep.Labels, ", "),
		LabelsInput: strings.Join(rep.Labels, ", "),
		Clocks:      clockViews(rep.Clocks(p, now), p.Calendar.Zone(), now),
		ClockZone:   p.Calendar.Zone().String(),
		CVSS:        cvssView(rep.CVSS, rep.CVSS.Vector),
	}
	for _, st := range rep.Status.Next() {
		if st != triage.StatusDuplicate {
			v.NextStatuses = append(v.NextStatuses, templates.Option{Value: string(st), Label: string(st)})
		}
	}
	v.Assignees = []templates.Option{{Value: "0", Label: "nobody", Selected: rep.Assignee == 0}}
	for _, u := range assignable(users) {
		v.Assignees = append(v.Assignees, templates.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Email, Selected: u.ID == rep.Assignee})
	}
	// The linked reports' tracking ids in one read, not a full report
	// (body, parts) per link.
	const maxDupLinks = 20
	shown := rep.Duplicates[:min(len(rep.Duplicates), maxDupLinks)]
	linked := slices.Clone(shown)
	if rep.DuplicateOf != 0 {
		linked = append(linked, rep.DuplicateOf)
	}
	tracking, err := s.store.TrackingIDs(ctx, linked)
	if err != nil {
		return templates.TriageView{}, err
	}
	if rep.DuplicateOf != 0 {
		v.DuplicateOf = reportLink(rep.DuplicateOf, tracking)
	}
	for _, id := range shown {
		v.Duplicates = append(v.Duplicates, reportLink(id, tracking))
	}
	if more := len(rep.Duplicates) - len(shown); more > 0 {
		v.Duplicates = append(v.Duplicates, templates.Link{Label: fmt.Sprintf("and %d more", more), URL: reportURL(rep.ID) + "#triage"})
	}

	evs, err := s.store.ReportEvents(ctx, rep.ID)
	if err != nil {
		return v, err
	}
	for _, e := range evs {
		v.Events = append(v.Events, templates.EventView{At: formatTime(e.At), AtRFC3339: formatRFC3339(e.At), Actor: orSystem(e.ActorEmail), Text: eventText(e, emails)})
	}

	if st := actionFrom(ctx); st != nil {
		if st.err != nil {
			v.Error, v.ErrorForm = triage.ErrorMessage(st.err), st.form
		}
		v.Notice = st.notice
		if in, ok := st.input["labels"]; ok {
			v.LabelsInput = in
		}
		if in, ok := st.input["original"]; ok {
			v.DupInput = in
		}
		if in, ok := st.input["vector"]; ok {
			v.CVSS = cvssView(rep.CVSS, in)
		}
	} else if n := doneNotices[r.URL.Query().Get("done")]; n != "" {
		v.Notice = n
	}
	return v, nil
}

// reportLink links report id by its tracking id (from tracking), or by
// its number when it has none there.
func reportLink(id int64, tracking map[int64]string) templates.Link {
	l := templates.Link{Label: fmt.Sprintf("report %d", id), URL: reportURL(id)}
	if tid := tracking[id]; tid != "" {
		l.Label = tid
	}
	return l
}

func orSystem(email string) string {
	if email == "" {
		return triage.ActorSystem
	}
	return email
}

// eventText is a history entry in words, with assignees by email.
func eventText(e triage.Event, emails map[int64]string) string {
	if e.Kind != triage.EventAssignee {
		return e.String()
	}
	name := func(ref string) string {
		id, err := strconv.ParseInt(ref, 10, 64)
		if err != nil || id == 0 {
			return "nobody"
		}
		if em := emails[id]; em != "" {
			return em
		}
		return "user " + ref
	}
	return fmt.Sprintf("assignee %s → %s", name(e.From), name(e.To))
}

// parseActionForm parses an action's form, bounded. A body too large or
// malformed is EINVALID.
func parseActionForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxActionForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return triage.Errorf(triage.EINVALID, "form larger than %d KiB", maxActionForm>>10)
		}
		return triage.Errorf(triage.EINVALID, "malformed form")
	}
	return nil
}

// change is an action: it reads the form into a change to the report
// (nil: the action is not a change, and did its own work), the notice to
// show when it is made, and the fields to show again when refused.
type change func(r *http.Request, rep *triage.Report) (c *triage.Change, notice string, err error)

// act runs an action on the report named by the path, on behalf of the
// signed-in user, and answers with its outcome (see the top of the file).
func (s *server) act(w http.ResponseWriter, r *http.Request, done string, keep []string, build change) {
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
	c, notice, err := build(r, rep)
	if err == nil && c != nil {
		rep, err = s.store.UpdateReport(r.Context(), rep.ID, *c, actorOf(r), now)
		if err == nil && (c.Status != nil || c.DuplicateOf != nil) {
			s.hallChanged() // the hall of fame counts reports by status
		}
	}
	if err != nil && errorStatus(triage.ErrorCode(err)) >= 500 {
		s.Error(w, r, err)
		return
	}
	if err != nil {
		// The report as it is now, as the domain refused to change it.
		if cur, lerr := s.loadReport(r); lerr == nil {
			rep = cur
		}
	}
	st := &actionState{err: err, form: done, notice: notice, input: map[string]string{}}
	if err != nil {
		st.notice = ""
		for _, k := range keep {
			st.input[k] = r.PostForm.Get(k)
		}
	}
	status := http.StatusOK
	if err != nil {
		status = errorStatus(triage.ErrorCode(err))
		if triage.ErrorCode(err) == triage.EINVALID && slices.Contains(keep, "vector") {
			status = http.StatusUnprocessableEntity
		}
		// htmx swaps in only 400, 409 and 422 (templates' htmxConfig). The
		// report itself was found, so any other refusal (an original or
		// assignee that does not exist) is about the form's values: 422,
		// or the form would stay silent.
		if isHTMX(r) && status != http.StatusBadRequest && status != http.StatusConflict {
			status = http.StatusUnprocessableEntity
		}
	}
	ctx := context.WithValue(r.Context(), actionKey{}, st)

	if r.PostForm.Get("from") == "board" {
		if !isHTMX(r) {
			if err != nil {
				s.Error(w, r, err)
				return
			}
			http.Redirect(w, r, "/board", http.StatusSeeOther)
			return
		}
		action := "status"
		if done == "assign" {
			action = "assign"
		}
		qv, qerr := s.quickView(r.WithContext(ctx), rep, action)
		if qerr != nil {
			s.Error(w, r, qerr)
			return
		}
		if err == nil {
			w.Header().Set("HX-Trigger", "board-refresh")
		}
		s.render(w, r, status, templates.Quick(qv))
		return
	}

	if r.PostForm.Get("from") == "conversation" {
		// The note form of the conversation's timeline (conversation.go).
		s.conversationAnswer(w, r, rep, done, notice, err, map[string]string{"note": r.PostForm.Get("body")})
		return
	}
	// A status move suggests its default reply, if an admin set one.
	var suggest *triage.Response
	if err == nil && done == "status" {
		d, derr := s.store.DefaultResponse(ctx, rep.Status)
		if derr != nil && triage.ErrorCode(derr) != triage.ENOTFOUND {
			s.Error(w, r, derr)
			return
		}
		suggest = d
	}
	if !isHTMX(r) {
		if err == nil {
			if suggest != nil {
				http.Redirect(w, r, fmt.Sprintf("%s?done=%s&response=%d#reply-body", reportURL(rep.ID), done, suggest.ID), http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("%s?done=%s#triage", reportURL(rep.ID), done), http.StatusSeeOther)
			return
		}
		// Show the report again, with the refusal, at its status code.
		s.report(&statusWriter{ResponseWriter: w, status: status}, r.WithContext(ctx))
		return
	}
	p, err := s.store.SLAPolicy(ctx)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	tv, err := s.triageView(r.WithContext(ctx), rep, p, now)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := append(fragments{templates.TriagePanel(tv)}, stateOOB(rep, tv, p, now)...)
	if suggest != nil && strings.TrimSpace(r.PostForm.Get("body")) == "" && r.PostForm.Has("body") {
		// The reply box was empty (the form sends it along): it gets the
		// default reply of the new status, to review and send.
		tv.Notice += fmt.Sprintf(" The reply box holds the suggested reply %q: review it, then send.", suggest.Name)
		out[0] = templates.TriagePanel(tv)
		out = append(out, templates.ReplyBody(templates.ConversationView{ReplyInput: suggest.Render(s.responseVars(rep))}, true))
	}
	s.render(w, r, status, out)
}

// stateOOB are the parts of the report page that show rep's state
// outside the part an action answers with: the status and first-response
// clock in the header, the SLA clocks and the history. Every action made
// in place sends them along (htmx swaps them out of band), so nothing on
// the page tells an older state than the rest.
func stateOOB(rep *triage.Report, tv templates.TriageView, p *triage.SLAPolicy, now time.Time) fragments {
	return fragments{
		templates.ReportStatusOOB(string(rep.Status)),
		templates.ReportFirstResponseOOB(firstResponseView(rep, p, now)),
		templates.SLAClocks(tv, true),
		templates.History(tv, true),
	}
}

// fragments renders components one after the other.
type fragments []component

func (fs fragments) Render(ctx context.Context, w io.Writer) error {
	for _, c := range fs {
		if err := c.Render(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// statusWriter answers with status instead of the one the handler
// writes: the report page shown again after a refused action.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(int) { w.ResponseWriter.WriteHeader(w.status) }

// reportStatus moves a report to another status (the workflow decides
// whether it may).
func (s *server) reportStatus(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "status", nil, func(r *http.Request, rep *triage.Report) (*triage.Change, string, error) {
		to, err := triage.ParseStatus(strings.TrimSpace(r.PostForm.Get("status")))
		if err != nil {
			return nil, "", err
		}
		return &triage.Change{Status: &to}, fmt.Sprintf("Moved %s from %s to %s.", rep.TrackingID, rep.Status, to), nil
	})
}

// reportAssign assigns a report to a staff member (0: nobody).
func (s *server) reportAssign(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "assign", nil, func(r *http.Request, rep *triage.Report) (*triage.Change, string, error) {
		raw := strings.TrimSpace(r.PostForm.Get("assignee"))
		id, err := strconv.ParseInt(raw, 10, 64)
		if raw == "" || err != nil || id < 0 {
			return nil, "", triage.Errorf(triage.EINVALID, "choose someone to assign %s to", rep.TrackingID)
		}
		notice := fmt.Sprintf("%s is no longer assigned.", rep.TrackingID)
		if id != 0 {
			notice = fmt.Sprintf("Assigned %s.", rep.TrackingID)
		}
		return &triage.Change{Assignee: &id}, notice, nil
	})
}

// reportLabels replaces a report's labels with a comma-separated list.
func (s *server) reportLabels(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "labels", []string{"labels"}, func(r *http.Request, rep *triage.Report) (*triage.Change, string, error) {
		var labels []string
		for _, l := range strings.Split(r.PostForm.Get("labels"), ",") {
			if strings.TrimSpace(l) != "" {
				labels = append(labels, l)
			}
		}
		if labels == nil {
			labels = []string{}
		}
		return &triage.Change{Labels: &labels}, "Labels saved.", nil
	})
}

// reportDuplicate closes a report as a duplicate of another, named by
// its tracking id (or number).
func (s *server) reportDuplicate(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "duplicate", []string{"original"}, func(r *http.Request, rep *triage.Report) (*triage.Change, string, error) {
		raw := strings.TrimSpace(r.PostForm.Get("original"))
		id, err := s.findReportRef(r.Context(), raw)
		if err != nil {
			return nil, "", err
		}
		return &triage.Change{DuplicateOf: &id}, fmt.Sprintf("%s closed as a duplicate of %s.", rep.TrackingID, strings.ToUpper(raw)), nil
	})
}

// trackingRef is a tracking id as staff type it.
var trackingRef = regexp.MustCompile(`(?i)^SEC-\d{4}-\d{4,}$`)

// findReportRef resolves "SEC-2026-0001" (or a report number) to an id.
func (s *server) findReportRef(ctx context.Context, ref string) (int64, error) {
	if ref == "" {
		return 0, triage.Errorf(triage.EINVALID, "name the original report (its tracking id, e.g. SEC-2026-0001)")
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	if !trackingRef.MatchString(ref) {
		return 0, triage.Errorf(triage.EINVALID, "%q is not a tracking id such as SEC-2026-0001", truncate(ref, 40))
	}
	found, err := s.store.Board(ctx, triage.ReportFilter{Query: ref, Limit: 1}, s.now())
	if err != nil {
		return 0, err
	}
	if len(found) == 0 {
		return 0, triage.Errorf(triage.ENOTFOUND, "no report %s", strings.ToUpper(ref))
	}
	return found[0].ID, nil
}

// reportCVSS sets (or, with remove, removes) a report's CVSS vector.
func (s *server) reportCVSS(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "cvss", []string{"vector"}, func(r *http.Request, rep *triage.Report) (*triage.Change, string, error) {
		vec := strings.TrimSpace(r.PostForm.Get("vector"))
		if r.PostForm.Get("remove") == "1" {
			vec = ""
			return &triage.Change{CVSSVector: &vec}, "CVSS vector removed; the severity it gave stays.", nil
		}
		if vec == "" {
			return nil, "", triage.Errorf(triage.EINVALID, "enter a CVSS vector, or build one with the calculator")
		}
		c, err := triage.ParseCVSS(vec)
		if err != nil {
			return nil, "", err
		}
		return &triage.Change{CVSSVector: &vec}, fmt.Sprintf("CVSS %s: %s %s.", c.Version, formatScore(c.Score), c.Severity()), nil
	})
}

// reportNote adds an internal note.
func (s *server) reportNote(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "note", []string{"body"}, func(r *http.Request, rep *triage.Report) (*triage.Change, string, error) {
		a := actorOf(r)
		n, err := triage.NewNote(rep.ID, a.UserID, r.PostForm.Get("body"), s.now())
		if err != nil {
			return nil, "", err
		}
		if err := s.store.AddNote(r.Context(), n, a); err != nil {
			return nil, "", err
		}
		return nil, "Internal note added.", nil
	})
}

// quick is the board's quick form for one report (?action=status or
// assign), loaded into its dialog by the s and a shortcuts.
func (s *server) quick(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !isHTMX(r) {
		http.Redirect(w, r, reportURL(rep.ID)+"#triage", http.StatusSeeOther)
		return
	}
	v, err := s.quickView(r, rep, r.URL.Query().Get("action"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.Quick(v))
}

// quickView is the quick form for rep, with an action's outcome if r
// carries one.
func (s *server) quickView(r *http.Request, rep *triage.Report, action string) (templates.QuickView, error) {
	v := templates.QuickView{TrackingID: rep.TrackingID, Title: rep.Title, Status: string(rep.Status)}
	switch action {
	case "assign":
		users, err := s.store.Users(r.Context())
		if err != nil {
			return v, err
		}
		v.Action, v.PostURL = "assign", reportURL(rep.ID)+"/assign"
		v.Options = []templates.Option{{Value: "0", Label: "nobody", Selected: rep.Assignee == 0}}
		for _, u := range assignable(users) {
			v.Options = append(v.Options, templates.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Email, Selected: u.ID == rep.Assignee})
		}
	case "status":
		v.Action, v.PostURL = "status", reportURL(rep.ID)+"/status"
		for _, st := range rep.Status.Next() {
			if st != triage.StatusDuplicate {
				v.Options = append(v.Options, templates.Option{Value: string(st), Label: string(st)})
			}
		}
		if len(v.Options) == 0 {
			v.Error = fmt.Sprintf("%s is %s: no further moves.", rep.TrackingID, rep.Status)
		}
	default:
		return v, triage.Errorf(triage.EINVALID, "action must be status or assign")
	}
	if st := actionFrom(r.Context()); st != nil {
		if st.err != nil {
			v.Error = triage.ErrorMessage(st.err)
		}
		v.Notice = st.notice
	}
	return v, nil
}
