package web

import (
	"fmt"
	"net/http"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// boardLimit is how many reports the board shows at most.
const boardLimit = 500

// board lists reports, newest first, with their first-response clocks
// computed at render time. ?status= narrows it to one status.
func (s *server) board(w http.ResponseWriter, r *http.Request) {
	f := triage.ReportFilter{Limit: boardLimit}
	if st := r.URL.Query().Get("status"); st != "" {
		var err error
		if f.Status, err = triage.ParseStatus(st); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	reports, err := s.store.Reports(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.now()
	v := templates.BoardView{
		Nav:    staffNav(userFrom(r.Context())),
		Now:    formatTime(now),
		Filter: string(f.Status),
		Rows:   make([]templates.BoardRow, 0, len(reports)),
	}
	for _, rep := range reports {
		clock, class := formatClock(rep, now)
		v.Rows = append(v.Rows, templates.BoardRow{
			TrackingID: rep.TrackingID,
			URL:        reportURL(rep.ID),
			Title:      rep.Title,
			Researcher: researcher(rep),
			Received:   formatTime(rep.ReceivedAt),
			ReceivedAt: formatRFC3339(rep.ReceivedAt),
			Clock:      clock,
			ClockClass: class,
			Status:     string(rep.Status),
			Badges:     reportBadges(rep),
		})
	}
	s.render(w, r, http.StatusOK, templates.Board(v))
}

// reportURL is the staff page of report id.
func reportURL(id int64) string { return fmt.Sprintf("/reports/%d", id) }
