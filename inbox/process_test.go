package inbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "pgp", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProcessor_CatchUp: messages committed but never filed (the server
// died after its 250) are filed when the processor starts: decrypted,
// undecryptable, or unreadable, never lost.
func TestProcessor_CatchUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	keys := loadTeam(t)
	received := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	add := func(data []byte) int64 {
		m := &triage.RawMessage{MailFrom: "envelope@example.org", Recipients: []string{"security@localhost"},
			ReceivedAt: received, Data: data}
		if err := d.AddRawMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	encrypted := add(fixture(t, "pgpmime-attachment.eml"))
	otherKey := add(fixture(t, "pgpmime-other-key.eml"))
	tampered := add(fixture(t, "pgpmime-tampered.eml"))
	garbage := add([]byte("\x00\x01 not a mail message at all"))

	p, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: d, Conversation: d, Keys: inbox.FixedKeys(keys),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	runUntilFiled(t, p, d)

	list, err := d.Reports(ctx, triage.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byMessage := map[int64]*triage.Report{}
	for _, r := range list {
		full, err := d.Report(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		byMessage[full.MessageID] = full
	}

	r := byMessage[encrypted]
	if r == nil || !r.Encrypted || !r.Decrypted || r.Status != triage.StatusNew {
		t.Fatalf("encrypted report: %+v", r)
	}
	if !r.FirstResponseDue.Equal(received.Add(24 * time.Hour)) {
		t.Errorf("first response due %v", r.FirstResponseDue)
	}
	if len(r.Attachments) == 0 || r.Attachments[0].SHA256 == "" {
		t.Errorf("attachments of the decrypted part not stored: %+v", r.Attachments)
	}
	if r.ResearcherEmail != "alice@researcher.example" {
		t.Errorf("researcher %q, want the From address", r.ResearcherEmail)
	}

	r = byMessage[otherKey]
	if r == nil || r.Status != triage.StatusUndecryptable || r.Decrypted || !strings.Contains(r.DecryptError, "a key the team does not hold") {
		t.Fatalf("report for another key: %+v", r)
	}

	r = byMessage[tampered]
	if r == nil || r.Status != triage.StatusUndecryptable || !strings.Contains(r.DecryptError, "integrity") || r.Body != "" {
		t.Fatalf("report for a tampered message: %+v", r)
	}

	r = byMessage[garbage]
	if r == nil || r.Title == "" {
		t.Fatalf("report for an unreadable message: %+v", r)
	}
	raw, err := d.RawMessage(ctx, garbage)
	if err != nil || !strings.HasPrefix(string(raw.Data), "\x00\x01 not a mail") {
		t.Errorf("raw message of the unreadable report: %v", err)
	}
}

// TestProcessor_OverflowDoesNotWaitForTheTimer: a burst larger than what
// the processor reads at a time (a page of pending messages) and holds in
// flight is filed at once, not at the next catch-up tick (which is made
// an hour here, so that waiting for it fails the test).
func TestProcessor_OverflowDoesNotWaitForTheTimer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	add := func(i int) int64 {
		m := &triage.RawMessage{MailFrom: "r@example.org", Recipients: []string{"security@localhost"},
			ReceivedAt: time.Now().UTC(), Data: []byte(fmt.Sprintf("From: r@example.org\r\nSubject: burst %d\r\n\r\nbody\r\n", i))}
		if err := d.AddRawMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	waitFiled := func(what string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute) // a safety net only
		for {
			// Is one pending? (Not all of them: the test would spend
			// more time listing the burst than the processor filing it.)
			pending, err := d.PendingRawMessagesAfter(ctx, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(pending) == 0 {
				return
			}
			if time.Now().After(deadline) {
				all, _ := d.PendingRawMessages(ctx)
				t.Fatalf("%s: %d messages still pending", what, len(all))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	p, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: d, Conversation: d,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go p.Run(runCtx)
	// One message first: once it is filed, Run is past its start-up
	// catch-up and only the queue (or the tick) brings more.
	add(0)
	p.Wake()
	waitFiled("the first message")

	// Four pages: more than the processor holds in flight too (two
	// batches and four messages a worker, pipeline.go).
	burst := 4 * inbox.FeedPage
	ids := make([]int64, burst)
	for i := range ids {
		ids[i] = add(i + 1)
	}
	for range ids {
		p.Wake() // as the SMTP server does after each commit
	}
	waitFiled("the burst")
}
