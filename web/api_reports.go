package web

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// The triage part of the JSON API: the board's order and filters, changes
// to a report, internal notes, history, and the SLA policy. openapi.json
// describes every route; TestOpenAPI_CoversRoutes keeps it complete.

// apiCVSS is a report's risk. Version, vector and score are empty (null)
// without a vector; severity is null until someone sets one.
type apiCVSS struct {
	Version  string   `json:"version"`
	Vector   string   `json:"vector"`
	Score    *float64 `json:"score"`
	Severity *string  `json:"severity"`
}

type apiUser struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

// apiSLA is a report's clocks. A clock that has not started (remediation
// before the report is accepted with a severity) is null.
type apiSLA struct {
	TimeZone      string    `json:"time_zone"` // of the due times: the business-hours zone, or UTC
	FirstResponse *apiClock `json:"first_response"`
	Triage        *apiClock `json:"triage"`
	Remediation   *apiClock `json:"remediation"`
}

// apiClock is one SLA clock. remaining_seconds is due_at minus now in
// real seconds, negative once breached, frozen when the clock stopped.
type apiClock struct {
	State            string  `json:"state"` // running, paused, met, breached, closed
	DueAt            *string `json:"due_at"`
	RemainingSeconds int64   `json:"remaining_seconds"`
	MetAt            *string `json:"met_at,omitempty"`
	BreachedAt       *string `json:"breached_at,omitempty"`
	StoppedAt        *string `json:"stopped_at,omitempty"`
}

// setAPITriage fills v's triage fields from r under p at now.
func setAPITriage(v *apiReport, r *triage.Report, p *triage.SLAPolicy, now time.Time) {
	if r.CVSS.Vector != "" {
		score := r.CVSS.Score
		v.CVSS = apiCVSS{Version: r.CVSS.Version, Vector: r.CVSS.Vector, Score: &score}
	}
	if r.Severity != triage.SeverityUnscored {
		sev := string(r.Severity)
		v.CVSS.Severity = &sev
	}
	v.RiskRank = r.Risk(p, now).Value()
	if r.Assignee != 0 {
		v.Assignee = &apiUser{ID: r.Assignee, Email: r.AssigneeEmail}
	}
	v.Labels = r.Labels
	if v.Labels == nil {
		v.Labels = []string{}
	}
	if r.DuplicateOf != 0 {
		dup := r.DuplicateOf
		v.DuplicateOf = &dup
	}
	if r.Quarantine != 0 {
		q := r.Quarantine
		v.Quarantine = &q
	}
	zone := p.Calendar.Zone()
	sla := r.Clocks(p, now)
	// overdue predates the clocks: it now says the first-response clock is
	// breached, which a reply in time or a pause keeps it from being.
	v.Overdue = sla.FirstResponse != nil && sla.FirstResponse.State == triage.ClockBreached
	v.SLA = apiSLA{
		TimeZone:      zone.String(),
		FirstResponse: newAPIClock(sla.FirstResponse, zone),
		Triage:        newAPIClock(sla.Triage, zone),
		Remediation:   newAPIClock(sla.Remediation, zone),
	}
}

func newAPIClock(c *triage.Clock, zone *time.Location) *apiClock {
	if c == nil {
		return nil
	}
	at := func(t time.Time) *string {
		if t.IsZero() {
			return nil
		}
		s := t.In(zone).Format(time.RFC3339)
		return &s
	}
	return &apiClock{
		State:            string(c.State),
		DueAt:            at(c.DueAt),
		RemainingSeconds: int64(c.Remaining / time.Second),
		MetAt:            at(c.MetAt),
		BreachedAt:       at(c.BreachedAt),
		StoppedAt:        at(c.StoppedAt),
	}
}

// Limits on the report list.
const (
	defaultAPILimit = 100
	maxAPILimit     = 500
)

// apiReports lists reports in the board's order (triage.Rank at now).
// Query: status, severity (comma-separated lists; status also "open" or
// "closed", severity also "unscored"), assignee (an email, "me" or
// "none"), breached (true or false), label, q (full-text search), limit,
// offset.
func (s *server) apiReports(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := s.reportFilter(r, q.Get)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if f.Limit, err = intParam(q.Get("limit"), defaultAPILimit, 1, maxAPILimit); err != nil {
		s.Error(w, r, triage.Errorf(triage.EINVALID, "limit must be between 1 and %d", maxAPILimit))
		return
	}
	if f.Offset, err = intParam(q.Get("offset"), 0, 0, 1<<30); err != nil {
		s.Error(w, r, triage.Errorf(triage.EINVALID, "offset must be a non-negative integer"))
		return
	}
	now := s.now()
	p, err := s.store.SLAPolicy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	reports, err := s.store.Board(r.Context(), f, now)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := struct {
		Now     string      `json:"now"`
		Reports []apiReport `json:"reports"`
	}{Now: formatRFC3339(now), Reports: make([]apiReport, 0, len(reports))}
	for _, rep := range reports {
		out.Reports = append(out.Reports, newAPIReport(rep, p, now, false))
	}
	if err := s.setAPIDeadlinesAll(r.Context(), out.Reports, reports, now); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// reportFilter reads the board's filters (apiReports) through get.
func (s *server) reportFilter(r *http.Request, get func(string) string) (triage.ReportFilter, error) {
	var f triage.ReportFilter
	for _, v := range splitList(get("status")) {
		switch v {
		case "open", "closed":
			for _, st := range triage.Statuses() {
				if st.Closed() == (v == "closed") {
					f.Statuses = append(f.Statuses, st)
				}
			}
		default:
			st, err := triage.ParseStatus(v)
			if err != nil {
				return f, err
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	for _, v := range splitList(get("severity")) {
		if v == "unscored" {
			f.Severity = append(f.Severity, triage.SeverityUnscored)
			continue
		}
		sev, err := triage.ParseSeverity(v)
		if err != nil {
			return f, err
		}
		f.Severity = append(f.Severity, sev)
	}
	switch a := strings.TrimSpace(get("assignee")); a {
	case "":
	case "none":
		f.Unassigned = true
	case "me":
		if u := userFrom(r.Context()); u != nil {
			f.Assignee = u.ID
		}
	default:
		u, err := s.store.UserByEmail(r.Context(), a)
		if triage.ErrorCode(err) == triage.ENOTFOUND {
			return f, triage.Errorf(triage.EINVALID, "assignee: no staff member %q", truncate(a, 100))
		} else if err != nil {
			return f, err
		}
		f.Assignee = u.ID
	}
	switch b := get("breached"); b {
	case "":
	case "true", "false":
		v := b == "true"
		f.Breached = &v
	default:
		return f, triage.Errorf(triage.EINVALID, "breached must be true or false")
	}
	switch q := get("quarantined"); q {
	case "", "false":
	case "true":
		f.Quarantined = true
	default:
		return f, triage.Errorf(triage.EINVALID, "quarantined must be true or false")
	}
	f.Label = strings.TrimSpace(get("label"))
	f.Query = strings.TrimSpace(get("q"))
	return f, nil
}

// splitList splits a comma-separated query value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// maxAPIBody bounds a JSON request body.
const maxAPIBody = 4*triage.MaxNoteBytes + 4096

// decodeBody reads r's JSON body into v: at most maxAPIBody bytes, one
// object, no unknown fields. Anything else is a malformed request (400).
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return malformed("send the body as application/json")
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return malformed("request body larger than %d bytes", maxAPIBody)
		}
		return malformed("cannot read the request body")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		var me malformedError
		switch {
		case errors.As(err, &me):
			return me
		case errors.As(err, &te):
			return malformed("%s must be %s", te.Field, te.Type)
		case errors.As(err, &se):
			return malformed("malformed JSON at byte %d", se.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return malformed("unknown field %s", truncate(strings.TrimPrefix(err.Error(), "json: unknown field "), 60))
		}
		return malformed("malformed JSON body")
	}
	if dec.More() {
		return malformed("trailing data after the JSON object")
	}
	return nil
}

// patchBody is PATCH /api/v1/reports/{id}. A field left out is left
// alone; assignee null (or "") unassigns, cvss_vector "" removes the
// vector.
type patchBody struct {
	Status        *string       `json:"status"`
	CVSSVector    *string       `json:"cvss_vector"`
	Severity      *string       `json:"severity"`
	Assignee      assigneeField `json:"assignee"`
	Labels        *[]string     `json:"labels"`
	DuplicateOf   *int64        `json:"duplicate_of"`
	deadlinePatch               // disclosure_due_at, reason, embargo_until, actively_exploited, aware_at, cra_sent
}

// apiPatchReport changes a report's triage state in one step and answers
// the report as stored (without its body).
func (s *server) apiPatchReport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var body patchBody
	if err := decodeBody(w, r, &body); err != nil {
		s.Error(w, r, err)
		return
	}
	var c triage.Change
	if body.Status != nil {
		st, err := triage.ParseStatus(*body.Status)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		c.Status = &st
	}
	if body.Severity != nil {
		sev, err := triage.ParseSeverity(*body.Severity)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		c.Severity = &sev
	}
	c.CVSSVector, c.Labels, c.DuplicateOf = body.CVSSVector, body.Labels, body.DuplicateOf
	if body.Assignee.set {
		uid, err := s.assigneeID(r, body.Assignee.value)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		c.Assignee = &uid
	}
	if c.Deadlines, err = body.deadlinePatch.change(); err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.now()
	rep, err := s.store.UpdateReport(r.Context(), id, c, actorOf(r), now)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if c.Status != nil || c.DuplicateOf != nil {
		s.hallChanged() // the hall of fame counts reports by status
	}
	p, err := s.store.SLAPolicy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := newAPIReport(rep, p, now, false)
	if err := s.setAPIDeadlinesOne(r.Context(), &v, rep, now); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// assigneeField is PATCH's assignee, which may be absent (set false),
// null (value nil) or a string.
type assigneeField struct {
	set   bool
	value *string
}

func (o *assigneeField) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.value = nil
		return nil
	}
	if err := json.Unmarshal(b, &o.value); err != nil {
		return malformed("assignee must be an email address or null")
	}
	return nil
}

// assigneeID resolves PATCH's assignee: null or "" for nobody, an email,
// or "me". An unknown email is EINVALID.
func (s *server) assigneeID(r *http.Request, email *string) (int64, error) {
	if email == nil || strings.TrimSpace(*email) == "" {
		return 0, nil
	}
	if *email == "me" {
		return userFrom(r.Context()).ID, nil
	}
	u, err := s.store.UserByEmail(r.Context(), *email)
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		return 0, triage.Errorf(triage.EINVALID, "assignee: no staff member %q", truncate(*email, 100))
	} else if err != nil {
		return 0, err
	}
	return u.ID, nil
}

type apiNote struct {
	ID       int64    `json:"id"`
	ReportID int64    `json:"report_id"`
	Author   *apiUser `json:"author"`
	At       string   `json:"at"`
	Body     string   `json:"body"`
}

func newAPINote(n *triage.Note) apiNote {
	v := apiNote{ID: n.ID, ReportID: n.ReportID, At: formatRFC3339(n.At), Body: n.Body}
	if n.AuthorID != 0 {
		v.Author = &apiUser{ID: n.AuthorID, Email: n.AuthorEmail}
	}
	return v
}

// apiAddNote adds an internal note: {"body": "..."}. Notes are for staff
// only and never sent to the researcher.
func (s *server) apiAddNote(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var body struct {
		Body string `json:"body"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		s.Error(w, r, err)
		return
	}
	by := actorOf(r)
	n, err := triage.NewNote(id, by.UserID, body.Body, s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.store.AddNote(r.Context(), n, by); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, newAPINote(n))
}

// apiNotes lists a report's internal notes, oldest first.
func (s *server) apiNotes(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	notes, err := s.store.Notes(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := struct {
		Notes []apiNote `json:"notes"`
	}{Notes: make([]apiNote, 0, len(notes))}
	for _, n := range notes {
		out.Notes = append(out.Notes, newAPINote(n))
	}
	writeJSON(w, http.StatusOK, out)
}

// apiEvents lists a report's history, oldest first.
func (s *server) apiEvents(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	evs, err := s.store.ReportEvents(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	type apiEvent struct {
		ID    int64    `json:"id"`
		At    string   `json:"at"`
		Actor *apiUser `json:"actor"` // null: the system
		Kind  string   `json:"kind"`
		From  string   `json:"from"`
		To    string   `json:"to"`
	}
	out := struct {
		Events []apiEvent `json:"events"`
	}{Events: make([]apiEvent, 0, len(evs))}
	for _, e := range evs {
		v := apiEvent{ID: e.ID, At: formatRFC3339(e.At), Kind: string(e.Kind), From: e.From, To: e.To}
		if e.ActorID != 0 {
			v.Actor = &apiUser{ID: e.ActorID, Email: e.ActorEmail}
		}
		out.Events = append(out.Events, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiSLAPolicy answers the SLA policy document (triage.ParseSLAPolicy).
func (s *server) apiSLAPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.SLAPolicy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// apiSetSLAPolicy replaces the SLA policy and recomputes the clocks of
// every open report; it answers the policy as stored.
func (s *server) apiSetSLAPolicy(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, triage.MaxSLAPolicyJSON))
	if err != nil {
		s.Error(w, r, malformed("policy larger than %d bytes", triage.MaxSLAPolicyJSON))
		return
	}
	p, err := triage.ParseSLAPolicy(b)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.store.SetSLAPolicy(r.Context(), p, actorOf(r), s.now()); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

//go:embed openapi.json
var openAPIDoc []byte

// apiOpenAPI serves the OpenAPI 3.1 description of /api/v1.
func (s *server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
	_, _ = w.Write(openAPIDoc)
}

// malformedError is a request the server cannot read at all (a body that
// is not the JSON asked for): 400, where a readable request with values
// the domain refuses is 422 (web/error.go).
type malformedError struct{ err *triage.Error }

func (e malformedError) Error() string { return e.err.Error() }
func (e malformedError) Unwrap() error { return e.err }

func malformed(format string, args ...any) error {
	return malformedError{triage.Errorf(triage.EINVALID, format, args...)}
}
