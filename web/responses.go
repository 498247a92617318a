package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// Canned responses: admins keep named reply texts with variables
// (/admin/responses, /api/v1/responses); triagers insert one into a
// reply (the report page's reply form, or {"response_id": N} in the
// API), which is then sent like any reply: encrypted when a key is
// known, always signed. A response may be the default for a status: it
// is put in the reply box when a report moves there.

// ResponseStore is what canned responses need from the database; Store
// embeds it.
type ResponseStore interface {
	// Responses returns every canned response, by name.
	Responses(ctx context.Context) ([]*triage.Response, error)
	// Response returns one, or ENOTFOUND.
	Response(ctx context.Context, id int64) (*triage.Response, error)
	// DefaultResponse returns the one suggested when a report moves to a
	// status, or ENOTFOUND.
	DefaultResponse(ctx context.Context, st triage.Status) (*triage.Response, error)
	// SaveResponse validates and stores one (new when its ID is 0),
	// audited; a name or default taken is ECONFLICT.
	SaveResponse(ctx context.Context, r *triage.Response, by triage.Actor) error
	// DeleteResponse removes one, audited, or ENOTFOUND.
	DeleteResponse(ctx context.Context, id int64, by triage.Actor) error
}

// responseVars are the values of a response's variables for rep.
func (s *server) responseVars(rep *triage.Report) triage.ResponseVars {
	v := triage.ResponseVars{
		TrackingID: rep.TrackingID,
		Researcher: cmp.Or(triage.CleanTitle(rep.ResearcherName), rep.ResearcherEmail),
		Title:      rep.Title,
		PolicyURL:  s.publicURL + "/policy",
	}
	if !rep.FirstResponseDue.IsZero() {
		// As the acknowledgement says it.
		v.Due = rep.FirstResponseDue.UTC().Format("2 January 2006 at 15:04 UTC")
	}
	return v
}

// renderResponse is canned response id filled in for rep.
func (s *server) renderResponse(ctx context.Context, rep *triage.Report, id int64) (string, *triage.Response, error) {
	resp, err := s.store.Response(ctx, id)
	if err != nil {
		return "", nil, err
	}
	return resp.Render(s.responseVars(rep)), resp, nil
}

// reportResponse is canned response {rid} filled in for report {id}, as
// plain text: what the reply form's Insert button puts in the reply box.
func (s *server) reportResponse(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	rid, err := pathID(r, "rid")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	text, _, err := s.renderResponse(r.Context(), rep, rid)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(text))
}

// responseOptions are the reply form's choice of canned responses.
func (s *server) responseOptions(ctx context.Context) ([]templates.Option, error) {
	rs, err := s.store.Responses(ctx)
	if err != nil {
		return nil, err
	}
	var out []templates.Option
	for _, r := range rs {
		out = append(out, templates.Option{Value: strconv.FormatInt(r.ID, 10), Label: r.Name})
	}
	return out, nil
}

// adminResponses is the admin's list of canned responses, each with its
// edit form, and the form for a new one.
func (s *server) adminResponses(w http.ResponseWriter, r *http.Request) {
	s.renderResponses(w, r, http.StatusOK, nil, nil)
}

// renderResponses shows the responses page; failed is the form refused
// (with its values) and err why.
func (s *server) renderResponses(w http.ResponseWriter, r *http.Request, status int, failed *triage.Response, err error) {
	rs, lerr := s.store.Responses(r.Context())
	if lerr != nil {
		s.Error(w, r, lerr)
		return
	}
	v := templates.ResponsesView{
		Nav:       staffNav(userFrom(r.Context())),
		Variables: triage.ResponseVariables,
		New:       templates.ResponseForm{Action: "/admin/responses"},
	}
	statusOpts := func(sel triage.Status) []templates.Option {
		opts := []templates.Option{{Value: "", Label: "no status", Selected: sel == ""}}
		for _, st := range triage.Statuses() {
			if st == triage.StatusNew || st == triage.StatusUndecryptable {
				continue
			}
			opts = append(opts, templates.Option{Value: string(st), Label: string(st), Selected: st == sel})
		}
		return opts
	}
	v.New.Statuses = statusOpts("")
	for _, resp := range rs {
		f := templates.ResponseForm{
			ID: resp.ID, Action: fmt.Sprintf("/admin/responses/%d", resp.ID), DeleteURL: fmt.Sprintf("/admin/responses/%d/delete", resp.ID),
			Name: resp.Name, Body: resp.Body, Statuses: statusOpts(resp.DefaultFor), DefaultFor: string(resp.DefaultFor),
			Updated: formatTime(resp.UpdatedAt),
		}
		if failed != nil && failed.ID == resp.ID {
			f.Name, f.Body, f.Statuses, f.Error = failed.Name, failed.Body, statusOpts(failed.DefaultFor), triage.ErrorMessage(err)
		}
		v.Responses = append(v.Responses, f)
	}
	if failed != nil && failed.ID == 0 {
		v.New.Name, v.New.Body, v.New.Statuses, v.New.Error = failed.Name, failed.Body, statusOpts(failed.DefaultFor), triage.ErrorMessage(err)
	}
	if n := responseNotices[r.URL.Query().Get("done")]; n != "" && failed == nil {
		v.Notice = n
	}
	s.render(w, r, status, templates.Responses(v))
}

var responseNotices = map[string]string{
	"saved":   "Canned response saved.",
	"deleted": "Canned response deleted.",
}

// adminResponseSave creates (POST /admin/responses) or changes (POST
// /admin/responses/{rid}) a canned response from the form.
func (s *server) adminResponseSave(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	resp := &triage.Response{
		Name:       r.PostForm.Get("name"),
		Body:       r.PostForm.Get("body"),
		DefaultFor: triage.Status(strings.TrimSpace(r.PostForm.Get("default_for"))),
	}
	if r.PathValue("rid") != "" {
		id, err := pathID(r, "rid")
		if err != nil {
			s.Error(w, r, err)
			return
		}
		resp.ID = id
	}
	if err := s.store.SaveResponse(r.Context(), resp, actorOf(r)); err != nil {
		status := errorStatus(triage.ErrorCode(err))
		if status >= 500 || status == http.StatusNotFound {
			s.Error(w, r, err)
			return
		}
		s.renderResponses(w, r, status, resp, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/responses?done=saved#response-%d", resp.ID), http.StatusSeeOther)
}

// adminResponseDelete removes a canned response.
func (s *server) adminResponseDelete(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	id, err := pathID(r, "rid")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.store.DeleteResponse(r.Context(), id, actorOf(r)); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/responses?done=deleted", http.StatusSeeOther)
}

// apiResponse is a canned response in the API.
type apiResponse struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Body       string  `json:"body"`
	DefaultFor *string `json:"default_for"` // a status, or null
	UpdatedAt  string  `json:"updated_at"`
}

func newAPIResponse(r *triage.Response) apiResponse {
	a := apiResponse{ID: r.ID, Name: r.Name, Body: r.Body, UpdatedAt: formatRFC3339(r.UpdatedAt)}
	if r.DefaultFor != "" {
		st := string(r.DefaultFor)
		a.DefaultFor = &st
	}
	return a
}

// apiResponses lists the canned responses.
func (s *server) apiResponses(w http.ResponseWriter, r *http.Request) {
	rs, err := s.store.Responses(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := []apiResponse{}
	for _, resp := range rs {
		out = append(out, newAPIResponse(resp))
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": out, "variables": triage.ResponseVariables})
}

// apiResponseIn is a canned response as the API takes it.
type apiResponseIn struct {
	Name       string  `json:"name"`
	Body       string  `json:"body"`
	DefaultFor *string `json:"default_for"`
}

// apiSaveResponse creates (POST) or replaces (PUT .../{id}) a canned
// response.
func (s *server) apiSaveResponse(w http.ResponseWriter, r *http.Request) {
	var in apiResponseIn
	if err := decodeBody(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	resp := &triage.Response{Name: in.Name, Body: in.Body}
	if in.DefaultFor != nil {
		resp.DefaultFor = triage.Status(*in.DefaultFor)
	}
	status := http.StatusCreated
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id")
		if err != nil {
			s.Error(w, r, err)
			return
		}
		resp.ID, status = id, http.StatusOK
	}
	if err := s.store.SaveResponse(r.Context(), resp, actorOf(r)); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, status, newAPIResponse(resp))
}

// apiDeleteResponse removes a canned response.
func (s *server) apiDeleteResponse(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.store.DeleteResponse(r.Context(), id, actorOf(r)); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
