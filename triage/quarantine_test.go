package triage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func TestParseQuarantineRule(t *testing.T) {
	for _, tc := range []struct {
		kind, value, want string
		err               string
	}{
		{"address", " Spammer@Example.COM ", "spammer@example.com", ""},
		{"address", "not an address", "", "address"},
		{"domain", "junk.example", "junk.example", ""},
		{"domain", "someone@Junk.Example.", "junk.example", ""},
		{"domain", "com", "", "domain"},
		{"domain", "bad_domain.example", "", "domain"},
		{"fingerprint", "0123 4567 89ab cdef 0123 4567 89AB CDEF 0123 4567", "0123456789ABCDEF0123456789ABCDEF01234567", ""},
		{"fingerprint", "0123", "", "fingerprint"},
		{"ip", "192.0.2.1", "", "kind"},
	} {
		q, err := triage.ParseQuarantineRule(tc.kind, tc.value, "")
		if tc.err != "" {
			if err == nil || triage.ErrorCode(err) != triage.EINVALID || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %q: %v, want EINVALID about %s", tc.kind, tc.value, err, tc.err)
			}
			continue
		}
		if err != nil || q.Value != tc.want {
			t.Errorf("%s %q: %q %v, want %q", tc.kind, tc.value, q.Value, err, tc.want)
		}
	}
}

func TestQuarantineRule_Matches(t *testing.T) {
	r := &triage.Report{ResearcherEmail: "Bot7@Mail.Junk.Example",
		Signatures: []triage.Signature{{Status: triage.SignatureGood, Fingerprint: "AAAA" + strings.Repeat("0", 36)}}}
	rule := func(kind, value string) triage.QuarantineRule {
		q, err := triage.ParseQuarantineRule(kind, value, "")
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	for _, tc := range []struct {
		q    triage.QuarantineRule
		want bool
	}{
		{rule("address", "bot7@mail.junk.example"), true},
		{rule("address", "bot8@mail.junk.example"), false},
		{rule("domain", "junk.example"), true},
		{rule("domain", "mail.junk.example"), true},
		{rule("domain", "unk.example"), false},
		{rule("fingerprint", "aaaa"+strings.Repeat("0", 36)), true},
		{rule("fingerprint", "BBBB"+strings.Repeat("0", 36)), false},
	} {
		if got := tc.q.Matches(r); got != tc.want {
			t.Errorf("%s %s: %v", tc.q.Kind, tc.q.Value, got)
		}
	}
	if m := triage.MatchQuarantine([]triage.QuarantineRule{rule("address", "x@y.example"), rule("domain", "junk.example")}, r); m == nil || m.Kind != triage.QuarantineDomain {
		t.Errorf("match %+v", m)
	}
}

// TestReport_HoldRelease: no clock runs while a report is held; the time
// held counts as a pause, so a report filed held starts its clocks at the
// release.
func TestReport_HoldRelease(t *testing.T) {
	p := triage.DefaultSLAPolicy()
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	r := newReport(1, triage.StatusNew)
	r.Hold(7, 0, t0)
	if s := r.Clocks(p, h(30)); len(s.All()) != 0 || !r.Held() {
		t.Fatalf("held report has clocks %+v", s.All())
	}
	ev := r.Release(1, h(30))
	if ev.Kind != triage.EventReleased || ev.From != "7" || r.Held() {
		t.Errorf("release event %+v", ev)
	}
	fr := r.Clocks(p, h(31)).FirstResponse
	if fr.State != triage.ClockRunning || !fr.DueAt.Equal(h(54)) {
		t.Errorf("released after 30 h held: %s due %v, want running due %v", fr.State, fr.DueAt, h(54))
	}

	// Held later, with a needs-info pause in between: the pauses stay in
	// order of start and each counts once.
	o := newReport(2, triage.StatusNew)
	if _, err := o.Apply(triage.Change{Status: ptr(triage.StatusNeedsInfo)}, nil, 1, h(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Apply(triage.Change{Status: ptr(triage.StatusTriaging)}, nil, 1, h(4)); err != nil {
		t.Fatal(err)
	}
	o.Hold(7, 0, h(1))
	o.Release(1, h(6))
	if fr := o.Clocks(p, h(6)).FirstResponse; !fr.DueAt.Equal(h(29)) {
		t.Errorf("held 1–6 h with needs-info 2–4 h inside: due %v, want %v (5 h paused)", fr.DueAt, h(29))
	}

	// Held while waiting in needs-info: the open pause covers the hold and
	// stays the last one, so resuming ends it.
	w := newReport(3, triage.StatusNew)
	if _, err := w.Apply(triage.Change{Status: ptr(triage.StatusNeedsInfo)}, nil, 1, h(1)); err != nil {
		t.Fatal(err)
	}
	w.Hold(7, 0, h(2))
	w.Release(1, h(3))
	if !w.Timeline.Paused() {
		t.Fatal("releasing a report in needs-info closed or buried its pause")
	}
	if _, err := w.Apply(triage.Change{Status: ptr(triage.StatusTriaging)}, nil, 1, h(5)); err != nil {
		t.Fatal(err)
	}
	if fr := w.Clocks(p, h(5)).FirstResponse; fr.State != triage.ClockRunning || !fr.DueAt.Equal(h(28)) {
		t.Errorf("needs-info 1–5 h, held 2–3 h inside it: %s due %v, want running due %v", fr.State, fr.DueAt, h(28))
	}
}
