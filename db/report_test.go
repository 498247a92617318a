package db_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// addMessage stores a raw message received at at and returns its id.
func addMessage(tb testing.TB, d *db.DB, at time.Time) int64 {
	tb.Helper()
	m := &triage.RawMessage{MailFrom: "r@example.org", ReceivedAt: at, Data: []byte("Subject: x\r\n\r\nbody\r\n")}
	if err := d.AddRawMessage(context.Background(), m); err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

// file files a minimal report for a new message received at at.
func file(tb testing.TB, d *db.DB, at time.Time, title string) *triage.Report {
	tb.Helper()
	r := triage.NewReport(at)
	r.MessageID = addMessage(tb, d, at)
	r.Title = title
	if err := d.FileReport(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestFileReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("TrackingIDs", func(t *testing.T) {
		d, path := mustOpen(t)
		r1 := file(t, d, t0, "one")
		r2 := file(t, d, t0.Add(time.Minute), "two")
		if r1.TrackingID != "SEC-2026-0001" || r2.TrackingID != "SEC-2026-0002" {
			t.Fatalf("tracking ids %s, %s; want SEC-2026-0001, SEC-2026-0002", r1.TrackingID, r2.TrackingID)
		}
		if r1.ID == 0 || r2.ID == 0 || r1.ID == r2.ID {
			t.Fatalf("ids %d, %d", r1.ID, r2.ID)
		}
		// New year: the sequence restarts. The year is the UTC one:
		// 23:30 on New Year's Eve in New York is already 2027 in UTC.
		ny := time.FixedZone("EST", -5*3600)
		r3 := file(t, d, time.Date(2026, 12, 31, 23, 30, 0, 0, ny), "three")
		if r3.TrackingID != "SEC-2027-0001" {
			t.Fatalf("first report of 2027: %s, want SEC-2027-0001", r3.TrackingID)
		}
		// Back in 2026 the count continues.
		if r4 := file(t, d, t0.Add(time.Hour), "four"); r4.TrackingID != "SEC-2026-0003" {
			t.Fatalf("third report of 2026: %s", r4.TrackingID)
		}
		// Numbers are never reused, even after the newest report is deleted.
		s := rawSQL(t, path)
		if _, err := s.Exec("DELETE FROM reports WHERE tracking_id = 'SEC-2026-0003'"); err != nil {
			t.Fatal(err)
		}
		if r5 := file(t, d, t0.Add(2*time.Hour), "five"); r5.TrackingID != "SEC-2026-0004" {
			t.Fatalf("after deleting 0003: %s, want SEC-2026-0004", r5.TrackingID)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Two handles on one file, as two processes would: writers
		// contend for the file lock and must wait (busy_timeout), not fail.
		d1, path := mustOpen(t)
		d2 := mustOpenPath(t, path)
		const n = 20
		reports := make([]*triage.Report, n)
		for i := range reports {
			d := d1
			if i%2 == 1 {
				d = d2
			}
			reports[i] = triage.NewReport(t0)
			reports[i].MessageID = addMessage(t, d, t0)
			reports[i].Attachments = []triage.Attachment{{Name: "a.txt", Data: bytes.Repeat([]byte{byte(i)}, 4096)}}
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range reports {
			d := d1
			if i%2 == 1 {
				d = d2
			}
			wg.Go(func() {
				<-start
				errs[i] = d.FileReport(ctx, reports[i])
			})
		}
		close(start)
		wg.Wait()
		var got []string
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: %v", i, err)
			}
			got = append(got, reports[i].TrackingID)
		}
		slices.Sort(got)
		var want []string
		for i := 1; i <= n; i++ {
			want = append(want, triage.TrackingID(2026, i))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("tracking ids %v, want %v", got, want)
		}
		if pending, err := d1.PendingRawMessages(ctx); err != nil || len(pending) != 0 {
			t.Fatalf("pending = %v, %v; want none", pending, err)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		d, path := mustOpen(t)
		r1 := file(t, d, t0, "first")
		r2 := triage.NewReport(t0)
		r2.MessageID = r1.MessageID
		r2.Title = "again"
		r2.Attachments = []triage.Attachment{{Name: "x", Data: []byte("x")}}
		err := d.FileReport(ctx, r2)
		wantCode(t, err, triage.ECONFLICT)
		if r2.ID != 0 || r2.TrackingID != "" || r2.Attachments[0].ID != 0 {
			t.Errorf("failed FileReport set ids: %+v", r2)
		}
		s := rawSQL(t, path)
		if n := countRows(t, s, "reports"); n != 1 {
			t.Errorf("%d reports, want 1", n)
		}
		if n := countRows(t, s, "attachments"); n != 0 {
			t.Errorf("%d attachments, want 0", n)
		}
		var last int
		if err := s.QueryRow("SELECT last FROM tracking_counters WHERE year = 2026").Scan(&last); err != nil || last != 1 {
			t.Errorf("counter = %d, %v; want 1 (the failed filing must not use a number)", last, err)
		}
		if r3 := file(t, d, t0, "next"); r3.TrackingID != "SEC-2026-0002" {
			t.Errorf("next filing: %s, want SEC-2026-0002", r3.TrackingID)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		d, _ := mustOpen(t)
		r := triage.NewReport(t0)
		r.MessageID = 42
		wantCode(t, d.FileReport(ctx, r), triage.ENOTFOUND)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		d, _ := mustOpen(t)
		r := triage.NewReport(t0)
		r.MessageID = addMessage(t, d, t0)
		r.Status = "bogus"
		wantCode(t, d.FileReport(ctx, r), triage.EINVALID)
	})
}

func TestReports(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	// Filed out of received order.
	var ids []int64 // newest first
	for _, min := range []int{3, 1, 4, 0, 2} {
		r := triage.NewReport(t0.Add(time.Duration(min) * time.Minute))
		r.MessageID = addMessage(t, d, r.ReceivedAt)
		r.Title = fmt.Sprint(min)
		r.Body = "secret body"
		if min%2 == 1 {
			r.Status = triage.StatusUndecryptable
		}
		if err := d.FileReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	titles := func(rs []*triage.Report) (s []string) {
		for _, r := range rs {
			s = append(s, r.Title)
		}
		return s
	}

	all, err := d.Reports(ctx, triage.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := titles(all), []string{"4", "3", "2", "1", "0"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for _, r := range all {
		if r.Body != "" {
			t.Errorf("%s: list carries the body", r.TrackingID)
		}
		if r.ReceivedAt.Location() != time.UTC || r.FirstResponseDue != r.ReceivedAt.Add(triage.FirstResponseWindow) {
			t.Errorf("%s: times %v, %v", r.TrackingID, r.ReceivedAt, r.FirstResponseDue)
		}
	}

	// The list carries the triage fields too.
	if _, err := d.UpdateReport(ctx, ids[0], triage.Change{Labels: &[]string{"web"}, Severity: ptr(triage.SeverityHigh)},
		triage.Actor{}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if all, err = d.Reports(ctx, triage.ReportFilter{Status: triage.StatusUndecryptable}); err != nil || len(all) == 0 {
		t.Fatalf("%d reports, %v", len(all), err)
	}
	if r := all[0]; r.ID != ids[0] || !slices.Equal(r.Labels, []string{"web"}) || r.Severity != triage.SeverityHigh || r.Timeline.SeveritySetAt.IsZero() {
		t.Errorf("triage fields of %s: labels %v, severity %q, timeline %+v", r.TrackingID, r.Labels, r.Severity, r.Timeline)
	}

	for _, tc := range []struct {
		name string
		f    triage.ReportFilter
		want []string
	}{
		{"StatusNew", triage.ReportFilter{Status: triage.StatusNew}, []string{"4", "2", "0"}},
		{"StatusUndecryptable", triage.ReportFilter{Status: triage.StatusUndecryptable}, []string{"3", "1"}},
		{"Limit", triage.ReportFilter{Limit: 2}, []string{"4", "3"}},
		{"LimitOffset", triage.ReportFilter{Limit: 2, Offset: 2}, []string{"2", "1"}},
		{"StatusLimit", triage.ReportFilter{Status: triage.StatusNew, Limit: 1, Offset: 1}, []string{"2"}},
		{"OffsetPastEnd", triage.ReportFilter{Offset: 10}, nil},
		{"HugeLimitCapped", triage.ReportFilter{Limit: 1 << 30}, []string{"4", "3", "2", "1", "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := d.Reports(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(rs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := d.Reports(ctx, triage.ReportFilter{Status: "bogus"})
		wantCode(t, err, triage.EINVALID)
		_, err = d.Reports(ctx, triage.ReportFilter{Offset: -1})
		wantCode(t, err, triage.EINVALID)
	})
}

func TestReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)

	at := t0.Add(-time.Hour)
	r := triage.NewReport(at)
	r.MessageID = addMessage(t, d, at)
	r.Title = "SQL injection in /search"
	r.ResearcherEmail = "r@example.org"
	r.ResearcherName = "R. Searcher"
	r.Encrypted, r.Decrypted = true, false
	r.DecryptError = "no matching key"
	r.Status = triage.StatusUndecryptable
	r.Signature = triage.Signature{Status: triage.SignatureGood, Fingerprint: "ABCD", KeyID: "0123456789ABCDEF"}
	r.Body = "Steps:\n1. <script>alert(1)</script>\n\x00end"
	r.Attachments = []triage.Attachment{
		{Name: "poc.py", ContentType: "text/x-python", Size: 5, SHA256: "aa", Data: []byte("print")},
		{Name: "empty", ContentType: "application/octet-stream", Size: 0, SHA256: "bb", Data: nil},
	}
	if err := d.FileReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.Attachments[0].ID == 0 || r.Attachments[1].ID == 0 {
		t.Fatal("attachment ids not set")
	}

	got, err := d.Report(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.Attachments = []triage.Attachment{r.Attachments[0], r.Attachments[1]}
	want.Attachments[0].Data, want.Attachments[1].Data = nil, nil
	if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("Report:\n got %+v\nwant %+v", *got, want)
	}
	if got.ReceivedAt.Location() != time.UTC {
		t.Errorf("ReceivedAt not UTC")
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.Report(ctx, r.ID+100)
		wantCode(t, err, triage.ENOTFOUND)
	})
}

func TestAttachment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	data := []byte("\x00\x01\r\n\xff binary")
	mk := func(name string) *triage.Report {
		r := triage.NewReport(t0)
		r.MessageID = addMessage(t, d, t0)
		r.Attachments = []triage.Attachment{{Name: name, ContentType: "application/octet-stream", Size: int64(len(data)), SHA256: "cc", Data: data}}
		if err := d.FileReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1, r2 := mk("one.bin"), mk("two.bin")

	a, err := d.Attachment(ctx, r1.ID, r1.Attachments[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Data, data) || a.Name != "one.bin" || a.Size != int64(len(data)) || a.SHA256 != "cc" || a.ContentType != "application/octet-stream" {
		t.Fatalf("got %+v", a)
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		// r2's attachment asked for under r1.
		_, err := d.Attachment(ctx, r1.ID, r2.Attachments[0].ID)
		wantCode(t, err, triage.ENOTFOUND)
		_, err = d.Attachment(ctx, r1.ID, 9999)
		wantCode(t, err, triage.ENOTFOUND)
	})
}
