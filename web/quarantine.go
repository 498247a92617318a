package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// The junk lane: admins quarantine a sender (an address, a domain, a
// key) from the report page or the API; their new mail is filed held
// (intake asks the store, db.QuarantineFor) into the quarantine view,
// not the board, without an acknowledgement; releasing the sender moves
// their reports to the board and sends the acknowledgements then. The
// report page shows the sender's other reports and what became of them.

// QuarantineStore is what the junk lane needs from the database; Store
// embeds it.
type QuarantineStore interface {
	// QuarantineRules returns the active rules with the reports each holds.
	QuarantineRules(ctx context.Context) ([]triage.QuarantineRule, error)
	// AddQuarantine stores a rule, holds the sender's open unanswered
	// reports, and returns how many; the same sender twice is ECONFLICT.
	AddQuarantine(ctx context.Context, q *triage.QuarantineRule, by triage.Actor, now time.Time) (int, error)
	// ReleaseQuarantine releases a rule: its reports to the board, their
	// held acknowledgements queued. ENOTFOUND when not active.
	ReleaseQuarantine(ctx context.Context, id int64, by triage.Actor, now time.Time) (released, acked int, err error)
	// SenderHistory returns a sender's other reports by address and key.
	SenderHistory(ctx context.Context, email, fingerprint string, except int64, limit int) (*triage.SenderHistory, error)
}

// senderHistoryShown is how many of a sender's other reports the report
// page lists (of each kind); the counts cover them all.
const senderHistoryShown = 5

// senderView is the report page's view of who sent rep: their other
// reports, and (for admins) the quarantine form.
func (s *server) senderView(ctx context.Context, rep *triage.Report, user *triage.User) (templates.SenderView, error) {
	v := templates.SenderView{}
	h, err := s.store.SenderHistory(ctx, rep.ResearcherEmail, rep.Signature.Fingerprint, rep.ID, senderHistoryShown)
	if err != nil {
		return v, err
	}
	brief := func(rs []*triage.Report) []templates.SenderReport {
		var out []templates.SenderReport
		for _, r := range rs {
			out = append(out, templates.SenderReport{TrackingID: r.TrackingID, Title: r.Title, URL: reportURL(r.ID),
				Status: string(r.Status), Held: r.Held(), Received: formatTime(r.ReceivedAt)})
		}
		return out
	}
	v.ByAddress, v.AddressTotal, v.AddressSummary = brief(h.ByAddress), h.AddressTotal, outcomeSummary(h.AddressOutcomes)
	v.ByKey, v.KeyTotal, v.KeySummary = brief(h.ByKey), h.KeyTotal, outcomeSummary(h.KeyOutcomes)
	if rep.Signature.Fingerprint != "" {
		v.Fingerprint = formatFingerprint(rep.Signature.Fingerprint)
	}
	if user != nil && user.Role.Can(triage.RoleAdmin) {
		v.QuarantineURL = "/quarantine"
		v.ReportID = rep.ID
		if _, err := triage.ValidAddress(rep.ResearcherEmail); err == nil {
			v.Choices = append(v.Choices, templates.Option{Value: "address:" + strings.ToLower(rep.ResearcherEmail), Label: "this address, " + strings.ToLower(rep.ResearcherEmail), Selected: true})
			if i := strings.LastIndexByte(rep.ResearcherEmail, '@'); i > 0 {
				d := strings.ToLower(rep.ResearcherEmail[i+1:])
				if _, err := triage.ParseQuarantineRule("domain", d, ""); err == nil {
					v.Choices = append(v.Choices, templates.Option{Value: "domain:" + d, Label: "every address at " + d})
				}
			}
		}
		if rep.Signature.Fingerprint != "" {
			v.Choices = append(v.Choices, templates.Option{Value: "fingerprint:" + rep.Signature.Fingerprint, Label: "whatever is signed by key " + v.Fingerprint, Selected: len(v.Choices) == 0})
		}
	}
	return v, nil
}

// outcomeSummary words counts by status: "2 spam, 1 fixed".
func outcomeSummary(by map[triage.Status]int) string {
	var parts []string
	for _, st := range triage.Statuses() {
		if n := by[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	return strings.Join(parts, ", ")
}

// quarantine is the quarantine view: the reports held, as the board
// shows reports (filters, bulk actions), and the senders in quarantine
// with their release.
func (s *server) quarantine(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	q.Set("quarantined", "true")
	if q.Get("status") == "" {
		q.Set("status", "all")
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	v, status, err := s.boardView(r2)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v.Quarantine = true
	rules, err := s.store.QuarantineRules(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	user := userFrom(r.Context())
	admin := user != nil && user.Role.Can(triage.RoleAdmin)
	for _, rule := range rules {
		row := templates.QuarantineRuleRow{ID: rule.ID, Kind: string(rule.Kind), Value: rule.Value, Note: rule.Note,
			Created: formatTime(rule.CreatedAt), CreatedBy: rule.CreatedBy, Held: rule.Held}
		if rule.Kind == triage.QuarantineFingerprint {
			row.Value = formatFingerprint(rule.Value)
		}
		if admin {
			row.ReleaseURL = fmt.Sprintf("/quarantine/%d/release", rule.ID)
		}
		v.Rules = append(v.Rules, row)
	}
	switch q.Get("done") {
	case "released":
		v.Notice = fmt.Sprintf("Released: %d reports moved to the board, %d acknowledgements queued.", atoiOr(q.Get("n"), 0), atoiOr(q.Get("acked"), 0))
	}
	if isHTMX(r) && r.Header.Get("HX-Target") == "board-results" {
		s.render(w, r, status, templates.BoardResults(v))
		return
	}
	s.render(w, r, status, templates.Board(v))
}

// quarantineAdd quarantines a sender from the report page's form: rule
// is "kind:value" (address, domain or fingerprint), report the page to
// go back to. The sender's open reports nobody answered are held too.
func (s *server) quarantineAdd(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	kind, value, _ := strings.Cut(r.PostForm.Get("rule"), ":")
	rule, err := triage.ParseQuarantineRule(kind, value, r.PostForm.Get("note"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	held, err := s.store.AddQuarantine(r.Context(), &rule, actorOf(r), s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	back := "/quarantine"
	if id, err := pathIDValue(r.PostForm.Get("report")); err == nil {
		back = fmt.Sprintf("%s?quarantined=%d&held=%d#researcher", reportURL(id), rule.ID, held)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// quarantineRelease releases a sender: their held reports go to the
// board and get their acknowledgement now.
func (s *server) quarantineRelease(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	id, err := pathID(r, "qid")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	released, acked, err := s.store.ReleaseQuarantine(r.Context(), id, actorOf(r), s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.kickSender()
	back := fmt.Sprintf("/quarantine?done=released&n=%d&acked=%d", released, acked)
	if rid, err := pathIDValue(r.PostForm.Get("report")); err == nil {
		back = fmt.Sprintf("%s?released=%d#researcher", reportURL(rid), released)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// apiQuarantineRule is a quarantine rule in the API.
type apiQuarantineRule struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	Value     string `json:"value"`
	Note      string `json:"note"`
	CreatedAt string `json:"created_at"`
	CreatedBy string `json:"created_by"`
	Held      int    `json:"held"`
}

func newAPIQuarantineRule(q triage.QuarantineRule) apiQuarantineRule {
	return apiQuarantineRule{ID: q.ID, Kind: string(q.Kind), Value: q.Value, Note: q.Note,
		CreatedAt: formatRFC3339(q.CreatedAt), CreatedBy: q.CreatedBy, Held: q.Held}
}

// apiQuarantine lists the senders in quarantine.
func (s *server) apiQuarantine(w http.ResponseWriter, r *http.Request) {
	rules, err := s.store.QuarantineRules(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := []apiQuarantineRule{}
	for _, q := range rules {
		out = append(out, newAPIQuarantineRule(q))
	}
	writeJSON(w, http.StatusOK, map[string]any{"quarantine": out})
}

// apiQuarantineAdd quarantines a sender: {"kind", "value", "note"}.
func (s *server) apiQuarantineAdd(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
		Note  string `json:"note"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	rule, err := triage.ParseQuarantineRule(in.Kind, in.Value, in.Note)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.store.AddQuarantine(r.Context(), &rule, actorOf(r), s.now()); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, newAPIQuarantineRule(rule))
}

// apiQuarantineRelease releases a sender (DELETE the rule).
func (s *server) apiQuarantineRelease(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	released, acked, err := s.store.ReleaseQuarantine(r.Context(), id, actorOf(r), s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.kickSender()
	writeJSON(w, http.StatusOK, map[string]int{"released": released, "acknowledged": acked})
}

// quarantineNotice is what the report page says after a quarantine
// action made from it (?quarantined=RULE&held=N, ?released=N).
func quarantineNotice(q url.Values) string {
	if q.Get("quarantined") != "" {
		return fmt.Sprintf("Sender quarantined: their new mail goes to the quarantine, unacknowledged. %d open report(s) of theirs held, this one included if nobody had answered it.", atoiOr(q.Get("held"), 0))
	}
	if n := q.Get("released"); n != "" {
		return fmt.Sprintf("Sender released: %d report(s) moved to the board and acknowledged.", atoiOr(n, 0))
	}
	return ""
}
