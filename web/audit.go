package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// audit appends an event done by the signed-in user of r (none on public
// routes) to the audit log. detail is a string, or anything else which is
// stored as JSON; nil for none. Never put report content, passwords,
// codes or secrets in it.
//
// Handlers that show decrypted content or hand out a file call it before
// answering and fail with its error: a view the log cannot record is not
// served. The error is already logged.
func (s *server) audit(r *http.Request, action, target string, detail any) error {
	return s.auditAs(r, userFrom(r.Context()), "", action, target, detail)
}

// auditAs is audit for a request whose actor is not (yet) in its context:
// sign-in events. With u nil, email is recorded as the actor's email (the
// address that was tried).
func (s *server) auditAs(r *http.Request, u *triage.User, email, action, target string, detail any) error {
	ev, err := s.newAuditEvent(r, u, email, action, target, detail)
	if err != nil {
		return err
	}
	if err := s.store.AddAudit(r.Context(), ev); err != nil {
		s.log.ErrorContext(r.Context(), "audit log write failed", "action", action, "target", target, "err", err)
		return fmt.Errorf("web: audit %s: %w", action, err)
	}
	return nil
}

// newAuditEvent builds the event auditAs writes.
func (s *server) newAuditEvent(r *http.Request, u *triage.User, email, action, target string, detail any) (*triage.AuditEvent, error) {
	ev := &triage.AuditEvent{
		At:         s.now(),
		ActorEmail: email,
		Action:     action,
		Target:     target,
		RemoteAddr: clientIP(r),
		UserAgent:  r.UserAgent(),
	}
	if u != nil {
		ev.ActorID, ev.ActorEmail = u.ID, u.Email
	}
	switch d := detail.(type) {
	case nil:
	case string:
		ev.Detail = d
	default:
		b, err := json.Marshal(d)
		if err != nil {
			return ev, fmt.Errorf("web: audit %s: %w", action, err)
		}
		ev.Detail = string(b)
	}
	return ev, nil
}

// clientIP is the address of the client that sent r, without the port:
// the peer's, or the one a trusted proxy forwarded (realClient, proxy.go).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Targets of audit events.

func reportTarget(id int64) string { return "report:" + itoa(id) }
func userTarget(id int64) string   { return "user:" + itoa(id) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// auditPageSize is how many events the audit page shows at once.
const auditPageSize = 100

// auditFilter reads the filters of the audit page, export and API from
// q: since and until (RFC 3339 or YYYY-MM-DD, UTC), actor (email), action
// (exact, or a prefix ending in '.'), before (an event id: the next page).
func auditFilter(q url.Values) (triage.AuditFilter, error) {
	var f triage.AuditFilter
	var err error
	if f.Since, err = parseAuditTime(q.Get("since")); err != nil {
		return f, triage.Errorf(triage.EINVALID, "since: want RFC 3339 or YYYY-MM-DD")
	}
	if f.Until, err = parseAuditTime(q.Get("until")); err != nil {
		return f, triage.Errorf(triage.EINVALID, "until: want RFC 3339 or YYYY-MM-DD")
	}
	f.Actor = strings.TrimSpace(q.Get("actor"))
	if len(f.Actor) > triage.MaxAuditField {
		return f, triage.Errorf(triage.EINVALID, "actor is too long")
	}
	f.Action = strings.TrimSpace(q.Get("action"))
	if f.Action != "" && !triage.ValidAuditAction(strings.TrimSuffix(f.Action, ".")) {
		return f, triage.Errorf(triage.EINVALID, "action: want a dotted verb such as login.failure, or a prefix such as login.")
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return f, triage.Errorf(triage.EINVALID, "before must be a positive event id")
		}
		f.BeforeID = n
	}
	return f, nil
}

// maxAuditTimeLen bounds a since or until value: the longest RFC 3339
// time ("2006-01-02T15:04:05.999999999-07:00") is 35 bytes, and Go
// parses a fraction of any length, which would make a detail too long.
const maxAuditTimeLen = 35

func parseAuditTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) > maxAuditTimeLen {
		return time.Time{}, errors.New("time too long")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// auditTimeDetail is a filter time as recorded in an audit detail: UTC
// RFC 3339, or "" for none.
func auditTimeDetail(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// apiAuditEvent is an audit event in the JSON API and the export.
type apiAuditEvent struct {
	ID         int64  `json:"id"`
	At         string `json:"at"`
	ActorID    int64  `json:"actor_id,omitempty"`
	ActorEmail string `json:"actor_email"`
	Action     string `json:"action"`
	Target     string `json:"target"`
	Detail     string `json:"detail"`
	RemoteAddr string `json:"remote_addr"`
	UserAgent  string `json:"user_agent"`
}

func newAPIAuditEvent(ev *triage.AuditEvent) apiAuditEvent {
	return apiAuditEvent{
		ID: ev.ID, At: ev.At.UTC().Format(time.RFC3339Nano), ActorID: ev.ActorID, ActorEmail: ev.ActorEmail,
		Action: ev.Action, Target: ev.Target, Detail: ev.Detail, RemoteAddr: ev.RemoteAddr, UserAgent: ev.UserAgent,
	}
}

// apiAudit lists audit events, newest first. Query: since, until, actor,
// action, before, limit (1..1000, default 100). next_before, when
// present, is the before of the next page.
func (s *server) apiAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := auditFilter(q)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if f.Limit, err = intParam(q.Get("limit"), auditPageSize, 1, maxAuditExportPage); err != nil {
		s.Error(w, r, triage.Errorf(triage.EINVALID, "limit must be between 1 and %d", maxAuditExportPage))
		return
	}
	evs, err := s.store.AuditEvents(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := struct {
		Events     []apiAuditEvent `json:"events"`
		NextBefore int64           `json:"next_before,omitempty"`
	}{Events: make([]apiAuditEvent, 0, len(evs))}
	for _, ev := range evs {
		out.Events = append(out.Events, newAPIAuditEvent(ev))
	}
	if len(evs) == f.Limit {
		out.NextBefore = evs[len(evs)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// adminAudit is the audit log page: filters, one page of events, a link
// to the next page and one to export what the filters select.
func (s *server) adminAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := templates.AuditView{
		Nav:    staffNav(userFrom(r.Context())),
		Since:  q.Get("since"),
		Until:  q.Get("until"),
		Actor:  q.Get("actor"),
		Action: q.Get("action"),
	}
	f, err := auditFilter(q)
	if err != nil {
		v.Error = triage.ErrorMessage(err)
		s.render(w, r, http.StatusBadRequest, templates.AuditPage(v))
		return
	}
	f.Limit = auditPageSize
	evs, err := s.store.AuditEvents(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	for _, ev := range evs {
		line, full := auditDetail(ev.Detail)
		v.Rows = append(v.Rows, templates.AuditRow{
			ID: ev.ID, At: formatTime(ev.At), AtRFC3339: formatRFC3339(ev.At), Actor: ev.ActorEmail,
			Action: ev.Action, Target: ev.Target, TargetURL: auditTargetURL(ev.Target), Detail: ev.Detail,
			DetailLine: line, DetailFull: full, RemoteAddr: ev.RemoteAddr, UserAgent: ev.UserAgent,
		})
	}
	keep := url.Values{}
	for _, k := range []string{"since", "until", "actor", "action"} {
		if q.Get(k) != "" {
			keep.Set(k, q.Get(k))
		}
	}
	v.ExportURL = "/admin/audit/export"
	if len(keep) > 0 {
		v.ExportURL += "?" + keep.Encode()
	}
	if q.Get("before") != "" {
		v.FirstURL = "/admin/audit"
		if len(keep) > 0 {
			v.FirstURL += "?" + keep.Encode()
		}
	}
	if len(evs) == f.Limit {
		keep.Set("before", itoa(evs[len(evs)-1].ID))
		v.NextURL = "/admin/audit?" + keep.Encode()
	}
	s.render(w, r, http.StatusOK, templates.AuditPage(v))
}

// maxAuditExportPage is how many events the export reads per query.
const maxAuditExportPage = 1000

// adminAuditExport downloads the events the filters select as JSON lines
// (one event per line, newest first), read page by page so that a long
// log never sits in memory. The export itself is audited first.
func (s *server) adminAuditExport(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r.URL.Query())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// The parsed times, not the raw values: bounded, so the detail stays
	// well under triage.MaxAuditDetail and is never cut into broken JSON.
	detail := map[string]string{"since": auditTimeDetail(f.Since), "until": auditTimeDetail(f.Until),
		"actor": f.Actor, "action": f.Action}
	if err := s.audit(r, triage.AuditAuditExport, "", detail); err != nil {
		s.Error(w, r, err)
		return
	}
	f.Limit = maxAuditExportPage
	evs, err := s.store.AuditEvents(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="secinbox-audit-`+s.now().UTC().Format("20060102-150405")+`.jsonl"`)
	h.Set("Content-Security-Policy", contentSecurityPolicy+"; sandbox")
	h.Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	for len(evs) > 0 {
		for _, ev := range evs {
			if err := enc.Encode(newAPIAuditEvent(ev)); err != nil {
				return // the client went away
			}
		}
		if len(evs) < f.Limit {
			return
		}
		f.BeforeID = evs[len(evs)-1].ID
		if evs, err = s.store.AuditEvents(r.Context(), f); err != nil {
			// Headers are out: all we can do is stop, and say so in the log.
			s.log.ErrorContext(r.Context(), "audit export cut short", "err", err)
			return
		}
	}
}

// auditTargetURL is the page of what an audit target names
// ("report:7", "response:3"), "" when it has none.
func auditTargetURL(target string) string {
	kind, id, ok := strings.Cut(target, ":")
	if !ok {
		return ""
	}
	n, err := strconv.ParseInt(id, 10, 64)
	numeric := err == nil && n > 0
	switch {
	case kind == "report" && numeric:
		return reportURL(n)
	case kind == "response" && numeric:
		return fmt.Sprintf("/admin/responses#response-%d", n)
	case kind == "quarantine" && numeric:
		return "/quarantine"
	case kind == "user" && numeric:
		return "/admin/users"
	case kind == "settings" && id == "site":
		return "/admin/site"
	case kind == "settings":
		return "/admin/settings"
	}
	return ""
}

// auditDetail is an event's detail as one line for the table (cut at a
// length that fits) and, when that cuts it or it is JSON with more than
// one field, in full, indented, with <, > and & as typed (not \u003c).
func auditDetail(detail string) (line, full string) {
	const short = 80
	var v any
	pretty := detail
	if json.Unmarshal([]byte(detail), &v) == nil {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if enc.Encode(v) == nil {
			pretty = strings.TrimSpace(b.String())
			var c bytes.Buffer
			enc = json.NewEncoder(&c)
			enc.SetEscapeHTML(false)
			if enc.Encode(v) == nil {
				detail = strings.TrimSpace(c.String())
			}
		}
	}
	line = detail
	if r := []rune(line); len(r) > short {
		line = string(r[:short-1]) + "…"
	}
	if line != detail || strings.Count(pretty, "\n") > 1 {
		full = pretty
	}
	return line, full
}
