package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// The board's bulk actions: the selected reports are assigned, labelled,
// moved or closed as spam at once. Each report is changed on its own
// (UpdateReport: its history and one audit record each), so one the
// workflow refuses does not stop the others; the refusals are listed.

// maxBulk bounds how many reports one bulk action changes: a page of the
// board is 50, a quarantine sweep a few pages.
const maxBulk = 200

// bulkOptions are the bulk form's choices: whom to assign to, and every
// status a report may be moved to by hand (the workflow refuses the
// moves that do not apply to a report).
func bulkOptions(users []*triage.User) (assignees, statuses []templates.Option) {
	assignees = []templates.Option{{Value: "0", Label: "nobody"}}
	for _, u := range assignable(users) {
		assignees = append(assignees, templates.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Email})
	}
	for _, st := range triage.Statuses() {
		switch st {
		case triage.StatusNew, triage.StatusUndecryptable, triage.StatusDuplicate:
			continue // never a target, or needs the original
		}
		statuses = append(statuses, templates.Option{Value: string(st), Label: string(st)})
	}
	return assignees, statuses
}

// bulkNotice says how a bulk action went.
func bulkNotice(changed, refused int) string {
	n := fmt.Sprintf("%d report%s changed.", changed, plural(changed))
	if refused > 0 {
		n += fmt.Sprintf(" %d refused.", refused)
	}
	return n
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n
	}
	return def
}

// boardBulk applies a bulk action to the reports selected on the board
// (id, repeated), then shows the board again: with htmx its results in
// place, listing the refusals; without, a redirect back to the board the
// form was on (back), with the counts.
func (s *server) boardBulk(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	f := r.PostForm
	back := f.Get("back")
	if u, err := url.Parse(back); err != nil || (u.Path != "/board" && u.Path != "/quarantine") || u.Host != "" || u.Scheme != "" {
		back = "/board"
	}
	var ids []int64
	for _, raw := range f["id"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			s.Error(w, r, triage.Errorf(triage.EINVALID, "id: %q is not a report", truncate(raw, 20)))
			return
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > maxBulk {
		s.Error(w, r, triage.Errorf(triage.EINVALID, "select at most %d reports at once", maxBulk))
		return
	}
	action := f.Get("action")
	changed, refused, err := s.bulk(r, ids, action, f)
	if err != nil && errorStatus(triage.ErrorCode(err)) >= 500 {
		s.Error(w, r, err)
		return
	}
	if err == nil && changed > 0 {
		s.hallChanged() // statuses may have moved
	}
	if !isHTMX(r) {
		if err != nil {
			s.Error(w, r, err)
			return
		}
		u, _ := url.Parse(back)
		q := u.Query()
		q.Set("bulk", strconv.Itoa(changed))
		q.Set("refused", strconv.Itoa(len(refused)))
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	// The board the form was on, with the outcome.
	u, _ := url.Parse(back)
	if u.Path == "/quarantine" {
		q := u.Query()
		q.Set("quarantined", "true")
		if q.Get("status") == "" {
			q.Set("status", "all")
		}
		u.RawQuery = q.Encode()
	}
	br := r.Clone(r.Context())
	br.URL = u
	br.Method = http.MethodGet
	v, status, berr := s.boardView(br)
	if berr != nil {
		s.Error(w, r, berr)
		return
	}
	v.Quarantine = u.Path == "/quarantine"
	if err != nil {
		v.Notice, status = triage.ErrorMessage(err), http.StatusUnprocessableEntity
	} else {
		v.Notice, v.Refused = bulkNotice(changed, len(refused)), refused
	}
	s.render(w, r, status, templates.BoardResults(v))
}

// bulk changes each report of ids as action says (assign, label, status,
// spam), on behalf of the signed-in user. It returns how many changed
// and, for each refused, why. A form that names no report or no valid
// choice is EINVALID.
func (s *server) bulk(r *http.Request, ids []int64, action string, f url.Values) (int, []string, error) {
	ctx := r.Context()
	if len(ids) == 0 {
		return 0, nil, triage.Errorf(triage.EINVALID, "select the reports to act on first")
	}
	var build func(rep *triage.Report) triage.Change
	switch action {
	case "assign":
		id, err := strconv.ParseInt(strings.TrimSpace(f.Get("assignee")), 10, 64)
		if err != nil || id < 0 {
			return 0, nil, triage.Errorf(triage.EINVALID, "choose someone to assign the reports to")
		}
		build = func(*triage.Report) triage.Change { return triage.Change{Assignee: &id} }
	case "label":
		l, err := triage.ParseLabel(f.Get("label"))
		if err != nil {
			return 0, nil, err
		}
		build = func(rep *triage.Report) triage.Change {
			labels := append(slices.Clone(rep.Labels), l)
			return triage.Change{Labels: &labels}
		}
	case "status", "spam":
		to := triage.StatusSpam
		if action == "status" {
			var err error
			if to, err = triage.ParseStatus(strings.TrimSpace(f.Get("status"))); err != nil {
				return 0, nil, err
			}
			if to == triage.StatusDuplicate {
				return 0, nil, triage.Errorf(triage.EINVALID, "to close reports as duplicates, name the original on each report's page")
			}
		}
		build = func(*triage.Report) triage.Change { return triage.Change{Status: &to} }
	default:
		return 0, nil, triage.Errorf(triage.EINVALID, "action must be assign, label, status or spam")
	}
	reports, err := s.bulkReports(ctx, ids)
	if err != nil {
		return 0, nil, err
	}
	changed := 0
	var refused []string
	by := actorOf(r)
	for _, id := range ids {
		rep := reports[id]
		if rep == nil {
			refused = append(refused, fmt.Sprintf("report %d: not found", id))
			continue
		}
		if _, err := s.store.UpdateReport(ctx, id, build(rep), by, s.now()); err != nil {
			if errorStatus(triage.ErrorCode(err)) >= 500 {
				return changed, refused, err
			}
			refused = append(refused, rep.TrackingID+": "+triage.ErrorMessage(err))
			continue
		}
		changed++
	}
	return changed, refused, nil
}

// bulkReports loads the reports of ids without their content, by id.
func (s *server) bulkReports(ctx context.Context, ids []int64) (map[int64]*triage.Report, error) {
	out := map[int64]*triage.Report{}
	for _, id := range ids {
		rep, err := s.store.Report(ctx, id)
		if triage.ErrorCode(err) == triage.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = rep
	}
	return out, nil
}
