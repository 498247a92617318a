package inbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

// TestProcessor_SenderChecksWaitTogether: the sender checks (SPF, DKIM,
// DMARC) wait on DNS, not on a core, so messages wait for them together:
// with two workers, more than two messages are checked at once. (Before,
// each worker waited for its message's lookups: with DNS answering in
// 20 ms, two workers filed at most 100 messages a second however idle
// the cores.)
func TestProcessor_SenderChecksWaitTogether(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const n, together = 24, 8
	now := time.Now().UTC().Truncate(time.Second)
	for i := range n {
		m := &triage.RawMessage{MailFrom: "r@example.org", Recipients: []string{"security@example.com"}, ReceivedAt: now,
			Data: []byte(crlf(fmt.Sprintf("From: r%d@example.org\nSubject: report %d\nMessage-ID: <w%d@example.org>\n\nbody\n", i, i, i)))}
		if err := d.AddRawMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	// Each check waits until `together` checks are waiting at once (a
	// condition; the 10 s is a safety net, after which none waits).
	var (
		mu       sync.Mutex
		waiting  int
		most     int
		met      = make(chan struct{})
		gaveUp   = make(chan struct{})
		giveOnce sync.Once
		metOnce  sync.Once
	)
	auth := func(ctx context.Context, raw *triage.RawMessage, from string) triage.Authentication {
		mu.Lock()
		waiting++
		most = max(most, waiting)
		if waiting == together {
			metOnce.Do(func() { close(met) })
		}
		mu.Unlock()
		select {
		case <-met:
		case <-gaveUp:
		case <-time.After(10 * time.Second):
			giveOnce.Do(func() { close(gaveUp) })
		}
		mu.Lock()
		waiting--
		mu.Unlock()
		return triage.Authentication{Checked: true, SPF: "none"}
	}
	p, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: d, Conversation: d, Keys: inbox.FixedKeys(loadTeam(t)),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Domain: "example.com",
		Workers: 2, RetryInterval: time.Hour, Authenticate: auth})
	if err != nil {
		t.Fatal(err)
	}
	runUntilFiled(t, p, d)

	mu.Lock()
	defer mu.Unlock()
	if most < together {
		t.Errorf("at most %d messages were checked at once with 2 workers, want %d or more: the workers wait on DNS", most, together)
	}
	list, err := d.Reports(ctx, triage.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("%d reports, want %d", len(list), n)
	}
	for _, r := range list {
		if r, err = d.Report(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if !r.Authentication.Checked || r.Authentication.SPF != "none" {
			t.Fatalf("report %s: sender checks %+v, want the checker's result", r.TrackingID, r.Authentication)
		}
	}
}
