package db

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestAddRawMessage_GroupCommit: messages stored while a commit waits
// for the write connection are committed together, in one transaction
// (one read of the clock, one disk sync), each caller answered with its
// own id, in the order the messages were queued.
func TestAddRawMessage_GroupCommit(t *testing.T) {
	ctx := context.Background()
	var commits atomic.Int32
	base := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	d, err := OpenWith(ctx, filepath.Join(t.TempDir(), "g.db"), Options{Now: func() time.Time {
		return base.Add(time.Duration(commits.Add(1)) * time.Second)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	// Hold the one write connection, as a long transaction would.
	conn, err := d.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	commits.Store(0)
	const n = 40
	msgs := make([]*triage.RawMessage, n)
	var wg sync.WaitGroup
	for i := range msgs {
		msgs[i] = &triage.RawMessage{MailFrom: "r@example.org", Data: []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i))}
		wg.Go(func() {
			if err := d.AddRawMessage(ctx, msgs[i]); err != nil {
				t.Error(err)
			}
		})
	}
	// Every message is queued or held by the committer, which waits for
	// the connection with what it took first: one message or, when
	// several callers were quicker than it, a few (a condition, not a
	// time; the minute is a safety net).
	waiting := func() int {
		d.intake.mu.Lock() // after any add that is starting the committer
		defer d.intake.mu.Unlock()
		if d.intake.reqs == nil {
			return 0
		}
		return len(d.intake.reqs) + int(d.intake.held.Load())
	}
	deadline := time.Now().Add(time.Minute)
	for waiting() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages waiting, want %d", waiting(), n)
		}
		time.Sleep(time.Millisecond)
	}
	conn.Close()
	wg.Wait()

	// Two: the batch the committer took before it waited, then all the
	// rest; or one, when it took them all before waiting.
	if c := commits.Load(); c < 1 || c > 2 {
		t.Errorf("%d transactions for %d messages, want at most 2 (the batch that waited, then all the rest)", c, n)
	}
	seen := map[int64]bool{}
	for _, m := range msgs {
		if m.ID == 0 || seen[m.ID] || m.StoredAt.IsZero() {
			t.Fatalf("message %+v", m)
		}
		seen[m.ID] = true
		got, err := d.RawMessage(ctx, m.ID)
		if err != nil || string(got.Data) != string(m.Data) || !got.StoredAt.Equal(m.StoredAt) {
			t.Fatalf("stored %+v, %v; want %q at %v", got, err, m.Data, m.StoredAt)
		}
	}
}
