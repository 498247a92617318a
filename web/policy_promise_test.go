package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestPolicyPromisesTheSLAPolicy: the policy page promises the first-
// response window an admin set, in working hours with business hours.
func TestPolicyPromisesTheSLAPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := triage.ParseSLAPolicy([]byte(`{"first_response_hours": 8, "triage_hours": 72,
		"remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320},
		"business_hours": {"time_zone": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.SetSLAPolicy(context.Background(), p, triage.Actor{Email: triage.ActorCLI}, t0); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get(e.client(), "/policy")
	if resp.StatusCode != 200 || !strings.Contains(body, "within 8 working hours of receipt") || strings.Contains(body, "24 hours") {
		t.Errorf("GET /policy: status %d, does not promise 8 working hours", resp.StatusCode)
	}
}
