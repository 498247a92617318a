package inbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

// batchCounter is the real database, counting filing transactions.
type batchCounter struct {
	*db.DB
	batches, filings atomic.Int32
}

func (s *batchCounter) FileMessages(ctx context.Context, fs []*triage.Filing) error {
	s.batches.Add(1)
	s.filings.Add(int32(len(fs)))
	return s.DB.FileMessages(ctx, fs)
}

// TestProcessor_Burst: a burst read by parallel workers is filed in
// batches (fewer transactions than messages), in the order the messages
// were committed (tracking ids follow it), each once; and the
// acknowledgement limits count the acknowledgements of a batch not yet
// committed.
func TestProcessor_Burst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	team := loadTeam(t)
	in := &intake{t: t, team: team, now: time.Now().UTC().Truncate(time.Second)}
	const n = 200
	ids := make([]int64, n)
	for i := range ids {
		var data string
		if i%3 == 0 { // some cost more to read than others
			data = in.pgpMIME("same@example.org", fmt.Sprintf("burst %d", i), "", "Content-Type: text/plain\n\nencrypted\n", nil)
		} else {
			data = crlf(fmt.Sprintf("From: same@example.org\nSubject: burst %d\nMessage-ID: <b%d@example.org>\n\nplain\n", i, i))
		}
		m := &triage.RawMessage{MailFrom: "same@example.org", Recipients: []string{"security@example.com"},
			ReceivedAt: in.now, Data: []byte(data)}
		if err := d.AddRawMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids[i] = m.ID
	}

	store := &batchCounter{DB: d}
	p, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: store, Conversation: d, Keys: inbox.FixedKeys(team),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Domain: "example.com",
		AckPerSender: 3, Workers: 4, RetryInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	runUntilFiled(t, p, d)

	list, err := d.Reports(ctx, triage.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("%d reports, want %d", len(list), n)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].MessageID < list[j].MessageID })
	for i, r := range list {
		if want := triage.TrackingID(in.now.Year(), i+1); r.MessageID != ids[i] || r.TrackingID != want {
			t.Fatalf("message %d filed as %s, want %s (the order of commit)", r.MessageID, r.TrackingID, want)
		}
	}
	if b, f := store.batches.Load(), store.filings.Load(); f != n || b >= n {
		t.Errorf("%d filings in %d transactions, want %d in fewer", f, b, n)
	} else {
		t.Logf("%d filings in %d transactions", f, b)
	}
	if acks, err := d.CountMail(ctx, triage.MailAck, "same@example.org", in.now.Add(-time.Hour)); err != nil || acks != 3 {
		t.Errorf("%d acknowledgements to one sender, %v; want the limit, 3", acks, err)
	}
}

// TestProcessor_ReplyInSameBurst: a reply committed right after the
// report it answers, so that both are read together, still joins that
// report: the report is committed before the reply is threaded.
func TestProcessor_ReplyInSameBurst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Now().UTC()
	for _, data := range []string{
		"From: r@example.org\nSubject: XSS in search\nMessage-ID: <first@example.org>\n\nthe report\n",
		"From: r@example.org\nSubject: Re: XSS in search\nMessage-ID: <second@example.org>\nIn-Reply-To: <first@example.org>\n\nmore details\n",
	} {
		m := &triage.RawMessage{MailFrom: "r@example.org", ReceivedAt: now, Data: []byte(crlf(data))}
		if err := d.AddRawMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	p, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: d, Conversation: d,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Domain: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	runUntilFiled(t, p, d)
	list, err := d.Reports(ctx, triage.ReportFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("%d reports, %v; want 1 (the reply joins it)", len(list), err)
	}
	msgs, err := d.Messages(ctx, list[0].ID)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "more details" {
		t.Fatalf("conversation %+v, %v", msgs, err)
	}
}

// runUntilFiled runs p until no message of d is pending, then stops it
// (the minute is a safety net, not a timing).
func runUntilFiled(t *testing.T, p *inbox.Processor, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	deadline := time.Now().Add(time.Minute)
	for {
		pending, err := d.PendingRawMessages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still pending", len(pending))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
