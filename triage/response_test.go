package triage_test

import (
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

func TestResponse_Validate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       triage.Response
		wantErr string
	}{
		{"OK", triage.Response{Name: "Thanks", Body: "Hello {{researcher}}, about {{ tracking_id }}: {{title}} by {{due}}, see {{policy_url}}."}, ""},
		{"DefaultFor", triage.Response{Name: "Need info", Body: "More please.", DefaultFor: triage.StatusNeedsInfo}, ""},
		{"NoName", triage.Response{Name: " ", Body: "x"}, "name"},
		{"LongName", triage.Response{Name: strings.Repeat("n", 81), Body: "x"}, "name"},
		{"NameTwoLines", triage.Response{Name: "a\nb", Body: "x"}, "name"},
		{"EmptyBody", triage.Response{Name: "x", Body: "  "}, "empty"},
		{"UnknownVariable", triage.Response{Name: "x", Body: "Dear {{ name }}"}, `unknown variable {{name}}`},
		{"UnclosedVariable", triage.Response{Name: "x", Body: "Dear {{researcher"}, "not closed"},
		{"BadStatus", triage.Response{Name: "x", Body: "y", DefaultFor: "soon"}, "unknown status"},
		{"NewIsNoMove", triage.Response{Name: "x", Body: "y", DefaultFor: triage.StatusNew}, "never moved to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || triage.ErrorCode(err) != triage.EINVALID):
				t.Errorf("error %v, want EINVALID with %q", err, tc.wantErr)
			}
		})
	}
}

func TestResponse_Render(t *testing.T) {
	r := triage.Response{Name: "ack", Body: "Hello {{researcher}},\n{{tracking_id}} ({{ title }}) is due {{due}}; {{policy_url}}. {{tracking_id}}!\r\n{{{{x"}
	got := r.Render(triage.ResponseVars{TrackingID: "SEC-2026-0007", Researcher: "Alice", Title: "XSS {{due}}", Due: "2026-03-03 09:00 UTC", PolicyURL: "https://s.example/policy"})
	want := "Hello Alice,\nSEC-2026-0007 (XSS {{due}}) is due 2026-03-03 09:00 UTC; https://s.example/policy. SEC-2026-0007!\n{{{{x"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
