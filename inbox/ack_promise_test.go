package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

// TestSender_AckPromisesThePolicy: the acknowledgement promises the
// first-response window of the SLA policy in force, not a fixed 24 hours,
// and says when only working hours count.
func TestSender_AckPromisesThePolicy(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	e.storeResearcherKey()
	p, err := triage.ParseSLAPolicy([]byte(`{"first_response_hours": 8, "triage_hours": 72,
		"remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320},
		"business_hours": {"time_zone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.SetSLAPolicy(context.Background(), p, triage.Actor{Email: triage.ActorCLI}, e.received); err != nil {
		t.Fatal(err)
	}
	r, _ := e.fileReport(true, true)
	dir := filepath.Join(t.TempDir(), "maildir")
	e.tick(e.sender(inbox.SenderConfig{Maildir: dir}), 1)
	files, err := os.ReadDir(filepath.Join(dir, "new"))
	if err != nil || len(files) != 1 {
		t.Fatalf("new/: %v, %v", files, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "new", files[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	m := e.read(data)
	if !strings.Contains(m.Text, "within 8 working hours") || strings.Contains(m.Text, "24 hours") {
		t.Errorf("acknowledgement of %s does not promise the policy's 8 working hours:\n%s", r.TrackingID, m.Text)
	}
}
