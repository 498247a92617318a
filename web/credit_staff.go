package web

import (
	"net/http"

	"github.com/secinbox/secinbox/triage"
)

// apiSetCredit changes a report's credit on the team's side: the
// advisory title shown once the report is disclosed, and the choice a
// researcher made by mail instead of through the link (recorded on their
// behalf, audited as the staff member). Credit must have been offered.
func (s *server) apiSetCredit(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var body struct {
		AdvisoryTitle *string `json:"advisory_title"`
		Choice        *string `json:"choice"`
		DisplayName   string  `json:"display_name"`
		Link          string  `json:"link"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.setCredit(r, rep, body.AdvisoryTitle, body.Choice, body.DisplayName, body.Link); err != nil {
		s.Error(w, r, err)
		return
	}
	c, err := s.store.Credit(r.Context(), rep.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.newAPICredit(rep, c))
}

// reportSetCredit is the report page's form for the same: the advisory
// title, and the researcher's answer by mail when a choice is picked.
func (s *server) reportSetCredit(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f := r.PostForm
	title := f.Get("advisory_title")
	var choice *string
	if c := f.Get("choice"); c != "" {
		choice = &c
	}
	err = s.setCredit(r, rep, &title, choice, f.Get("display_name"), f.Get("link"))
	s.conversationAnswer(w, r, rep, "credit-set", convNotices["credit-set"], err, map[string]string{"advisory_title": title})
}

// setCredit records the researcher's choice made by mail (choice not
// nil) and sets the advisory title (title not nil), then refreshes the
// hall of fame.
func (s *server) setCredit(r *http.Request, rep *triage.Report, title, choice *string, name, link string) error {
	if title == nil && choice == nil {
		return triage.Errorf(triage.EINVALID, "nothing to change: give advisory_title, choice, or both")
	}
	ctx, by := r.Context(), actorOf(r)
	defer s.hallChanged()
	if choice != nil {
		c, err := triage.ParseCreditChoice(*choice)
		if err != nil {
			return err
		}
		if err := s.store.RecordCredit(ctx, rep.ID, c, name, link, by, s.now()); err != nil {
			return err
		}
	}
	if title != nil {
		return s.store.SetAdvisoryTitle(ctx, rep.ID, *title, by)
	}
	return nil
}
