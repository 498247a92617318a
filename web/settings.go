package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// The admin's SLA settings: the windows of the three clocks and the
// business-hours calendar. The form is turned into the policy document
// triage.ParseSLAPolicy reads, so the domain validates it, and the store
// recomputes the open reports' clocks when it is saved.

var remediationFields = []struct {
	sev   triage.Severity
	label string
}{
	{triage.SeverityCritical, "Remediation, critical"},
	{triage.SeverityHigh, "Remediation, high"},
	{triage.SeverityMedium, "Remediation, medium"},
	{triage.SeverityLow, "Remediation, low"},
}

var weekdays = []struct{ value, label string }{
	{"mon", "Monday"}, {"tue", "Tuesday"}, {"wed", "Wednesday"}, {"thu", "Thursday"},
	{"fri", "Friday"}, {"sat", "Saturday"}, {"sun", "Sunday"},
}

// settingsForm is the form's values as strings, as shown and as posted.
type settingsForm struct {
	firstResponse, triage string
	remediation           map[triage.Severity]string
	businessHours         bool
	timeZone              string
	days                  []string
	start, end            string
	holidays              string
	disclosure            string // days (deadlines.go)
}

// policyForm is p as the form shows it.
func policyForm(p *triage.SLAPolicy) settingsForm {
	hours := func(h float64) string { return strconv.FormatFloat(h, 'f', -1, 64) }
	f := settingsForm{
		firstResponse: hours(p.FirstResponse.Hours()),
		triage:        hours(p.Triage.Hours()),
		remediation:   map[triage.Severity]string{},
		timeZone:      "UTC",
		days:          []string{"mon", "tue", "wed", "thu", "fri"},
		start:         "09:00",
		end:           "17:00",
		disclosure:    strconv.Itoa(p.DisclosureDays()),
	}
	for sev, w := range p.Remediation {
		f.remediation[sev] = hours(w.Hours())
	}
	if p.Calendar != nil {
		// The policy's own document has the calendar as the form wants it.
		var doc struct {
			BusinessHours struct {
				TimeZone string   `json:"time_zone"`
				Days     []string `json:"days"`
				Start    string   `json:"start"`
				End      string   `json:"end"`
				Holidays []string `json:"holidays"`
			} `json:"business_hours"`
		}
		if b, err := json.Marshal(p); err == nil && json.Unmarshal(b, &doc) == nil {
			bh := doc.BusinessHours
			f.businessHours, f.timeZone, f.days, f.start, f.end = true, bh.TimeZone, bh.Days, bh.Start, bh.End
			f.holidays = strings.Join(bh.Holidays, "\n")
		}
	}
	return f
}

// postedForm reads the posted settings.
func postedForm(r *http.Request) settingsForm {
	pf := r.PostForm
	f := settingsForm{
		firstResponse: strings.TrimSpace(pf.Get("first_response_hours")),
		triage:        strings.TrimSpace(pf.Get("triage_hours")),
		remediation:   map[triage.Severity]string{},
		businessHours: pf.Get("business_hours") == "on",
		timeZone:      strings.TrimSpace(pf.Get("time_zone")),
		days:          pf["days"],
		start:         strings.TrimSpace(pf.Get("start")),
		end:           strings.TrimSpace(pf.Get("end")),
		holidays:      pf.Get("holidays"),
		disclosure:    strings.TrimSpace(pf.Get("disclosure_days")),
	}
	for _, rf := range remediationFields {
		f.remediation[rf.sev] = strings.TrimSpace(pf.Get("remediation_" + string(rf.sev)))
	}
	return f
}

// policy turns the form into a validated policy. Anything wrong is
// EINVALID with the reason, in the form's words where they differ.
func (f settingsForm) policy() (*triage.SLAPolicy, error) {
	num := func(label, s string) (float64, error) {
		h, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, triage.Errorf(triage.EINVALID, "%s: enter a number of hours", label)
		}
		return h, nil
	}
	doc := map[string]any{}
	var err error
	if doc["first_response_hours"], err = num("First response", f.firstResponse); err != nil {
		return nil, err
	}
	if doc["triage_hours"], err = num("Triage", f.triage); err != nil {
		return nil, err
	}
	rem := map[string]float64{}
	for _, rf := range remediationFields {
		if rem[string(rf.sev)], err = num(rf.label, f.remediation[rf.sev]); err != nil {
			return nil, err
		}
	}
	doc["remediation_hours"] = rem
	if f.disclosure != "" {
		days, err := strconv.Atoi(f.disclosure)
		if err != nil {
			return nil, triage.Errorf(triage.EINVALID, "Disclosure deadline: enter a whole number of days")
		}
		doc["disclosure_days"] = days
	}
	doc["business_hours"] = nil
	if f.businessHours {
		holidays := []string{}
		for _, h := range strings.FieldsFunc(f.holidays, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
			if h = strings.TrimSpace(h); h != "" {
				holidays = append(holidays, h)
			}
		}
		days := f.days
		if days == nil {
			days = []string{}
		}
		doc["business_hours"] = map[string]any{
			"time_zone": f.timeZone, "days": days, "start": f.start, "end": f.end, "holidays": holidays,
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, triage.Errorf(triage.EINVALID, "invalid settings")
	}
	return triage.ParseSLAPolicy(b)
}

// view is the form for the template.
func (f settingsForm) view() templates.SettingsView {
	v := templates.SettingsView{
		FirstResponse: f.firstResponse, Triage: f.triage,
		BusinessHours: f.businessHours, TimeZone: f.timeZone,
		Start: f.start, End: f.end, Holidays: f.holidays,
		Disclosure: f.disclosure,
	}
	for _, rf := range remediationFields {
		v.Remediation = append(v.Remediation, templates.SettingField{
			Name: "remediation_" + string(rf.sev), Label: rf.label, Value: f.remediation[rf.sev],
		})
	}
	for _, d := range weekdays {
		v.Days = append(v.Days, templates.DayOption{Value: d.value, Label: d.label, Checked: slices.Contains(f.days, d.value)})
	}
	return v
}

// settings shows the SLA policy form.
func (s *server) settings(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.SLAPolicy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := policyForm(p).view()
	v.Nav = staffNav(userFrom(r.Context()))
	v.Mailboxes = s.mailboxViews()
	if n, err := strconv.Atoi(r.URL.Query().Get("saved")); err == nil && n >= 0 {
		v.Notice = fmt.Sprintf("Saved. The clocks of %d open reports were recomputed under the new policy.", n)
	}
	s.render(w, r, http.StatusOK, templates.Settings(v))
}

// settingsSave stores the posted SLA policy (audited by the store) and
// redirects back; a refused policy shows the form again with the reason.
func (s *server) settingsSave(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := postedForm(r)
	p, err := f.policy()
	if err == nil {
		var n int
		if n, err = s.store.SetSLAPolicy(r.Context(), p, actorOf(r), s.now()); err == nil {
			http.Redirect(w, r, fmt.Sprintf("/admin/settings?saved=%d", n), http.StatusSeeOther)
			return
		}
	}
	if triage.ErrorCode(err) != triage.EINVALID {
		s.Error(w, r, err)
		return
	}
	v := f.view()
	v.Nav = staffNav(userFrom(r.Context()))
	v.Error = triage.ErrorMessage(err)
	s.render(w, r, http.StatusBadRequest, templates.Settings(v))
}
