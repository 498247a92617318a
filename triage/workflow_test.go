package triage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// legalMoves is the workflow as the team agreed it, written out apart from
// the table in workflow.go so that a change to one fails this test.
var legalMoves = map[triage.Status]string{
	"new":            "triaging needs-info accepted duplicate not-applicable informative spam",
	"undecryptable":  "triaging duplicate not-applicable informative spam",
	"triaging":       "needs-info accepted duplicate not-applicable informative spam",
	"needs-info":     "triaging accepted duplicate not-applicable informative spam",
	"accepted":       "needs-info fixing fixed duplicate not-applicable informative",
	"fixing":         "needs-info accepted fixed",
	"fixed":          "fixing disclosed",
	"disclosed":      "",
	"duplicate":      "triaging",
	"not-applicable": "triaging",
	"informative":    "triaging",
	"spam":           "triaging",
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

func newReport(id int64, st triage.Status) *triage.Report {
	r := triage.NewReport(t0)
	r.ID, r.TrackingID, r.Status = id, triage.TrackingID(2026, int(id)), st
	return r
}

func ptr[T any](v T) *T { return &v }

func TestWorkflow_EveryPair(t *testing.T) {
	if len(triage.Statuses()) != len(legalMoves) {
		t.Fatalf("%d statuses, %d in the test table", len(triage.Statuses()), len(legalMoves))
	}
	original := newReport(99, triage.StatusAccepted)
	for _, from := range triage.Statuses() {
		legal := map[triage.Status]bool{}
		for _, s := range strings.Fields(legalMoves[from]) {
			legal[triage.Status(s)] = true
		}
		for _, to := range triage.Statuses() {
			if to == from {
				continue
			}
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				r := newReport(1, from)
				if from.Closed() {
					r.Timeline.ClosedAt = t0
				}
				if from == triage.StatusDuplicate {
					r.DuplicateOf = original.ID
				}
				c := triage.Change{Status: ptr(to)}
				var orig *triage.Report
				if to == triage.StatusDuplicate {
					c.DuplicateOf, orig = ptr(original.ID), original
				}
				if got := from.CanMove(to); got != legal[to] {
					t.Errorf("CanMove = %v, want %v", got, legal[to])
				}
				evs, err := r.Apply(c, orig, 7, t0.Add(time.Hour))
				if legal[to] {
					if err != nil {
						t.Fatalf("legal move refused: %v", err)
					}
					if r.Status != to {
						t.Errorf("status %s, want %s", r.Status, to)
					}
					if len(evs) == 0 || evs[0].Kind != triage.EventStatus || evs[0].From != string(from) || evs[0].To != string(to) || evs[0].ActorID != 7 {
						t.Errorf("events %+v", evs)
					}
					return
				}
				if triage.ErrorCode(err) != triage.ECONFLICT {
					t.Fatalf("illegal move: error %v, want ECONFLICT", err)
				}
				want := "cannot move SEC-2026-0001 from " + string(from) + " to " + string(to)
				if triage.ErrorMessage(err) != want {
					t.Errorf("message %q, want %q", triage.ErrorMessage(err), want)
				}
				if r.Status != from || len(evs) != 0 {
					t.Errorf("report changed by a refused move: %s, %v", r.Status, evs)
				}
			})
		}
	}
}

func TestWorkflow_SameStatusIsNoOp(t *testing.T) {
	r := newReport(1, triage.StatusTriaging)
	evs, err := r.Apply(triage.Change{Status: ptr(triage.StatusTriaging)}, nil, 1, t0)
	if err != nil || len(evs) != 0 {
		t.Errorf("events %v, err %v", evs, err)
	}
}

func TestWorkflow_Duplicate(t *testing.T) {
	orig := newReport(2, triage.StatusAccepted)
	t.Run("NeedsOriginal", func(t *testing.T) {
		r := newReport(1, triage.StatusTriaging)
		_, err := r.Apply(triage.Change{Status: ptr(triage.StatusDuplicate)}, nil, 1, t0)
		if triage.ErrorCode(err) != triage.EINVALID || !strings.Contains(triage.ErrorMessage(err), "duplicate_of") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("Merge", func(t *testing.T) {
		r := newReport(1, triage.StatusTriaging)
		evs, err := r.Apply(triage.Change{DuplicateOf: ptr(int64(2))}, orig, 5, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != triage.StatusDuplicate || r.DuplicateOf != 2 || r.Timeline.ClosedAt.IsZero() {
			t.Errorf("report %s dup of %d closed %v", r.Status, r.DuplicateOf, r.Timeline.ClosedAt)
		}
		if len(evs) != 2 || evs[1].ReportID != 2 || evs[1].Kind != triage.EventDuplicate || evs[1].To != "SEC-2026-0001" {
			t.Errorf("events %+v", evs)
		}
		// Reopening unlinks it.
		evs, err = r.Apply(triage.Change{Status: ptr(triage.StatusTriaging)}, nil, 5, t0.Add(2*time.Hour))
		if err != nil || r.DuplicateOf != 0 || !r.Timeline.ClosedAt.IsZero() || len(evs) != 1 {
			t.Errorf("reopen: %v dup %d events %v", err, r.DuplicateOf, evs)
		}
		if p := r.Timeline.Pauses; len(p) != 1 || !p[0].Start.Equal(t0.Add(time.Hour)) || !p[0].End.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("time closed is not a pause: %+v", p)
		}
	})
	for name, tc := range map[string]struct {
		r        *triage.Report
		id       int64
		orig     *triage.Report
		code     string
		contains string
	}{
		"Self":             {newReport(2, triage.StatusNew), 2, orig, triage.EINVALID, "itself"},
		"OriginalIsDup":    {newReport(1, triage.StatusNew), 3, &triage.Report{ID: 3, TrackingID: "SEC-2026-0003", Status: triage.StatusDuplicate, DuplicateOf: 2}, triage.EINVALID, "merge into that one"},
		"Missing":          {newReport(1, triage.StatusNew), 8, nil, triage.ENOTFOUND, "not found"},
		"WrongStatus":      {newReport(1, triage.StatusFixed), 2, orig, triage.ECONFLICT, "from fixed to duplicate"},
		"StatusDisagrees":  {newReport(1, triage.StatusNew), 2, orig, triage.EINVALID, "not spam"},
		"AlreadyDupOfMore": {&triage.Report{ID: 1, TrackingID: "SEC-2026-0001", Status: triage.StatusDuplicate, DuplicateOf: 9}, 2, orig, triage.ECONFLICT, "reopen it first"},
	} {
		t.Run(name, func(t *testing.T) {
			c := triage.Change{DuplicateOf: ptr(tc.id)}
			if name == "StatusDisagrees" {
				c.Status = ptr(triage.StatusSpam)
			}
			before := *tc.r
			_, err := tc.r.Apply(c, tc.orig, 1, t0)
			if triage.ErrorCode(err) != tc.code || !strings.Contains(triage.ErrorMessage(err), tc.contains) {
				t.Errorf("err %v, want %s containing %q", err, tc.code, tc.contains)
			}
			if tc.r.Status != before.Status || tc.r.DuplicateOf != before.DuplicateOf {
				t.Error("report changed")
			}
		})
	}
}

func TestApply_AllOrNothing(t *testing.T) {
	r := newReport(1, triage.StatusNew)
	_, err := r.Apply(triage.Change{
		Labels:     ptr([]string{"web"}),
		CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
		Status:     ptr(triage.StatusFixed), // illegal from new
	}, nil, 1, t0)
	if triage.ErrorCode(err) != triage.ECONFLICT {
		t.Fatalf("err %v", err)
	}
	if len(r.Labels) != 0 || r.CVSS.Vector != "" || r.Severity != "" || !r.Timeline.SeveritySetAt.IsZero() || !r.Timeline.RatedAt.IsZero() {
		t.Errorf("partial change kept: %+v", r)
	}
}

func TestApply_Fields(t *testing.T) {
	r := newReport(1, triage.StatusNew)
	at := t0.Add(time.Hour)
	evs, err := r.Apply(triage.Change{
		Assignee:   ptr(int64(4)),
		Labels:     ptr([]string{"Web", "auth", "web"}),
		CVSSVector: ptr(" CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H "),
		Status:     ptr(triage.StatusAccepted),
	}, nil, 3, at)
	if err != nil {
		t.Fatal(err)
	}
	if r.Assignee != 4 || strings.Join(r.Labels, ",") != "auth,web" || r.CVSS.Score != 9.8 ||
		r.Severity != triage.SeverityCritical || r.Status != triage.StatusAccepted {
		t.Errorf("report %+v", r)
	}
	if !r.Timeline.SeveritySetAt.Equal(at) || !r.Timeline.RatedAt.Equal(at) || !r.Timeline.AcceptedAt.Equal(at) {
		t.Errorf("timeline %+v", r.Timeline)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, string(e.Kind))
	}
	if got := strings.Join(kinds, " "); got != "cvss severity assignee labels status" {
		t.Errorf("events %s", got)
	}

	t.Run("SeverityWithoutVector", func(t *testing.T) {
		r := newReport(1, triage.StatusTriaging)
		if _, err := r.Apply(triage.Change{Severity: ptr(triage.SeverityHigh)}, nil, 1, at); err != nil || r.Severity != triage.SeverityHigh {
			t.Errorf("%v %s", err, r.Severity)
		}
	})
	t.Run("SeverityMustMatchVector", func(t *testing.T) {
		r := newReport(1, triage.StatusTriaging)
		_, err := r.Apply(triage.Change{Severity: ptr(triage.SeverityLow), CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")}, nil, 1, at)
		if triage.ErrorCode(err) != triage.EINVALID {
			t.Errorf("err %v", err)
		}
	})
	t.Run("RemoveVectorKeepsSeverity", func(t *testing.T) {
		evs, err := r.Apply(triage.Change{CVSSVector: ptr("")}, nil, 1, at)
		if err != nil || r.CVSS.Vector != "" || r.Severity != triage.SeverityCritical || len(evs) != 1 {
			t.Errorf("%v %+v %v", err, r.CVSS, evs)
		}
	})
	t.Run("BadLabel", func(t *testing.T) {
		_, err := r.Apply(triage.Change{Labels: ptr([]string{"a\x07b"})}, nil, 1, at)
		if triage.ErrorCode(err) != triage.EINVALID {
			t.Errorf("err %v", err)
		}
	})
	t.Run("InvalidVector", func(t *testing.T) {
		_, err := r.Apply(triage.Change{CVSSVector: ptr("CVSS:3.1/AV:N")}, nil, 1, at)
		if triage.ErrorCode(err) != triage.EINVALID || !strings.Contains(triage.ErrorMessage(err), "AC") {
			t.Errorf("err %v", err)
		}
	})
}

func TestResponded(t *testing.T) {
	r := newReport(1, triage.StatusNew)
	ev := r.Responded(2, t0.Add(3*time.Hour))
	r.Responded(2, t0.Add(5*time.Hour))
	if ev.Kind != triage.EventResponded || !r.Timeline.RespondedAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("%+v %v", ev, r.Timeline.RespondedAt)
	}
	c := r.Clocks(nil, t0.Add(30*time.Hour)).FirstResponse
	if c.State != triage.ClockMet || !c.MetAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("first response %+v", c)
	}
}

func TestCanAssign(t *testing.T) {
	for role, ok := range map[triage.Role]bool{triage.RoleAdmin: true, triage.RoleTriager: true, triage.RoleViewer: false} {
		err := triage.CanAssign(&triage.User{Email: "a@example.com", Role: role})
		if (err == nil) != ok {
			t.Errorf("%s: %v", role, err)
		}
	}
}

func TestParseLabels(t *testing.T) {
	got, err := triage.ParseLabels([]string{" XSS ", "web app", "xss", "prod:eu"})
	if err != nil || strings.Join(got, "|") != "prod:eu|web app|xss" {
		t.Errorf("%q %v", got, err)
	}
	for _, bad := range []string{"", "  ", "a,b", "tab\there", "zero\u200bwidth", strings.Repeat("x", 33), "\xff"} {
		if _, err := triage.ParseLabels([]string{bad}); triage.ErrorCode(err) != triage.EINVALID {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := triage.ParseLabels(make([]string, 21)); triage.ErrorCode(err) != triage.EINVALID {
		t.Error("21 labels accepted")
	}
}

func TestNewNote(t *testing.T) {
	n, err := triage.NewNote(1, 2, "line\r\nnext", t0)
	if err != nil || n.Body != "line\nnext" {
		t.Errorf("%v %q", err, n.Body)
	}
	for _, bad := range []string{"", " \n ", "a\x00b", "\xff", strings.Repeat("x", triage.MaxNoteBytes+1)} {
		if _, err := triage.NewNote(1, 2, bad, t0); triage.ErrorCode(err) != triage.EINVALID {
			t.Errorf("%q accepted", bad[:min(len(bad), 10)])
		}
	}
}
