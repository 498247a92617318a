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
	if body.AdvisoryTitle == nil && body.Choice == nil {
		s.Error(w, r, triage.Errorf(triage.EINVALID, "nothing to change: give advisory_title, choice, or both"))
		return
	}
	ctx, by := r.Context(), actorOf(r)
	if body.Choice != nil {
		choice, err := triage.ParseCreditChoice(*body.Choice)
		if err == nil {
			err = s.store.RecordCredit(ctx, rep.ID, choice, body.DisplayName, body.Link, by, s.now())
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
	}
	if body.AdvisoryTitle != nil {
		if err := s.store.SetAdvisoryTitle(ctx, rep.ID, *body.AdvisoryTitle, by); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	s.hallChanged()
	c, err := s.store.Credit(ctx, rep.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.newAPICredit(rep, c))
}
