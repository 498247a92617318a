package web

import (
	"context"
	"encoding/json"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// The disclosure part of the report JSON and of PATCH /api/v1/reports/{id}
// (deadlines.go has the rest; openapi.json describes them).

// apiDisclosure is a report's disclosure deadline and embargo. due_at is
// null until the report is accepted; state is running, met, breached,
// stopped (closed without disclosure), or null without a deadline.
type apiDisclosure struct {
	DueAt            *string `json:"due_at"`
	State            *string `json:"state"`
	RemainingSeconds *int64  `json:"remaining_seconds"`
	DisclosedAt      *string `json:"disclosed_at"`
	Extended         bool    `json:"extended"`
	EmbargoUntil     *string `json:"embargo_until"`
	Embargoed        bool    `json:"embargoed"` // the embargo holds now
}

// apiCRA is the CRA (Art. 14) clocks; aware_at and the three clocks are
// null unless the report is marked actively exploited.
type apiCRA struct {
	ActivelyExploited bool          `json:"actively_exploited"`
	AwareAt           *string       `json:"aware_at"`
	EarlyWarning      *apiCRAReport `json:"early_warning"`
	Notification      *apiCRAReport `json:"notification"`
	FinalReport       *apiCRAReport `json:"final_report"`
}

// apiCRAReport is one CRA submission's clock: due_at is null for the
// final report until a fix is available (state waiting); sent_at and
// reference are null until it is recorded as sent.
type apiCRAReport struct {
	DueAt            *string `json:"due_at"`
	SentAt           *string `json:"sent_at"`
	Reference        *string `json:"reference"`
	State            string  `json:"state"` // waiting, running, met, breached
	RemainingSeconds *int64  `json:"remaining_seconds"`
}

func apiTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatRFC3339(t)
	return &s
}

// setAPIDeadlines fills v's disclosure fields from d, the deadlines of
// rep (nil: none), at now.
func setAPIDeadlines(v *apiReport, rep *triage.Report, d *triage.Deadlines, now time.Time) {
	if d == nil {
		d = &triage.Deadlines{ReportID: rep.ID}
	}
	v.Disclosure = apiDisclosure{Extended: d.Extended, EmbargoUntil: apiTime(d.EmbargoUntil), Embargoed: d.Embargoed(now)}
	if c := d.Disclosure(rep, now); c != nil {
		st := string(c.State)
		v.Disclosure.DueAt, v.Disclosure.State, v.Disclosure.DisclosedAt = apiTime(c.DueAt), &st, apiTime(c.DoneAt)
		if c.State != triage.ClockStopped {
			rem := int64(c.Remaining / time.Second)
			v.Disclosure.RemainingSeconds = &rem
		}
	}
	v.CRA = apiCRA{ActivelyExploited: d.ActivelyExploited, AwareAt: apiTime(d.AwareAt)}
	for _, c := range d.CRA(rep, now) {
		out := &apiCRAReport{DueAt: apiTime(c.DueAt), SentAt: apiTime(c.DoneAt), State: string(c.State)}
		if c.Reference != "" {
			ref := c.Reference
			out.Reference = &ref
		}
		if c.State != triage.ClockWaiting {
			rem := int64(c.Remaining / time.Second)
			out.RemainingSeconds = &rem
		}
		switch c.Name {
		case triage.ClockCRAEarlyWarning:
			v.CRA.EarlyWarning = out
		case triage.ClockCRANotification:
			v.CRA.Notification = out
		case triage.ClockCRAFinalReport:
			v.CRA.FinalReport = out
		}
	}
	v.CVEIDs = d.CVEIDs
	if v.CVEIDs == nil {
		v.CVEIDs = []string{}
	}
}

// setAPIDeadlinesAll fills the disclosure fields of the reports of a
// list in one read.
func (s *server) setAPIDeadlinesAll(ctx context.Context, vs []apiReport, reps []*triage.Report, now time.Time) error {
	ids := make([]int64, len(reps))
	for i, r := range reps {
		ids[i] = r.ID
	}
	ds, err := s.store.DeadlinesOf(ctx, ids)
	if err != nil {
		return err
	}
	for i, r := range reps {
		setAPIDeadlines(&vs[i], r, ds[r.ID], now)
	}
	return nil
}

// setAPIDeadlinesOne fills the disclosure fields of one report.
func (s *server) setAPIDeadlinesOne(ctx context.Context, v *apiReport, rep *triage.Report, now time.Time) error {
	d, err := s.store.Deadlines(ctx, rep.ID)
	if err != nil {
		return err
	}
	setAPIDeadlines(v, rep, d, now)
	return nil
}

// deadlinePatch is the disclosure part of PATCH /api/v1/reports/{id}:
//
//	{"disclosure_due_at": "2026-06-01T12:00:00Z", "reason": "…"}
//	{"embargo_until": "2026-05-20T00:00:00Z"}   (null lifts it)
//	{"actively_exploited": true, "aware_at": "2026-03-10T08:00:00Z"}
//	{"cra_sent": [{"report": "early_warning", "sent_at": "…", "reference": "CSIRT-DE 42"}]}
type deadlinePatch struct {
	DisclosureDueAt   *string       `json:"disclosure_due_at"`
	Reason            *string       `json:"reason"`
	EmbargoUntil      nullableField `json:"embargo_until"`
	ActivelyExploited *bool         `json:"actively_exploited"`
	AwareAt           *string       `json:"aware_at"`
	CRASent           []struct {
		Report    string `json:"report"`
		SentAt    string `json:"sent_at"`
		Reference string `json:"reference"`
	} `json:"cra_sent"`
}

// nullableField is a string field that may be absent (set false), null
// (value nil) or a string.
type nullableField struct {
	set   bool
	value *string
}

func (o *nullableField) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.value = nil
		return nil
	}
	if err := json.Unmarshal(b, &o.value); err != nil {
		return malformed("embargo_until must be a time (RFC 3339) or null")
	}
	return nil
}

// change turns p into a deadline change; nil when p has none of its
// fields.
func (p *deadlinePatch) change() (*triage.DeadlineChange, error) {
	c := &triage.DeadlineChange{ActivelyExploited: p.ActivelyExploited}
	if p.DisclosureDueAt != nil {
		t, err := parseFormTime("disclosure_due_at", *p.DisclosureDueAt)
		if err != nil {
			return nil, err
		}
		c.DisclosureDue = &t
	}
	if p.Reason != nil {
		c.Reason = *p.Reason
	}
	if p.EmbargoUntil.set {
		var t time.Time
		if p.EmbargoUntil.value != nil {
			var err error
			if t, err = parseFormTime("embargo_until", *p.EmbargoUntil.value); err != nil {
				return nil, err
			}
		}
		c.EmbargoUntil = &t
	}
	if p.AwareAt != nil {
		t, err := parseFormTime("aware_at", *p.AwareAt)
		if err != nil {
			return nil, err
		}
		c.AwareAt = &t
	}
	if len(p.CRASent) > len(triage.CRAReports) {
		return nil, triage.Errorf(triage.EINVALID, "cra_sent: at most %d reports", len(triage.CRAReports))
	}
	for _, s := range p.CRASent {
		k, err := triage.ParseCRAReport(s.Report)
		if err != nil {
			return nil, err
		}
		t, err := parseFormTime("cra_sent.sent_at", s.SentAt)
		if err != nil {
			return nil, err
		}
		c.Sent = append(c.Sent, triage.CRASent{Report: k, SentAt: t, Reference: s.Reference})
	}
	if c.Empty() {
		return nil, nil
	}
	return c, nil
}
