package db

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// queryPlan returns the steps of EXPLAIN QUERY PLAN for q.
func queryPlan(t *testing.T, d *DB, q string, args ...any) []string {
	t.Helper()
	rows, err := d.r.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestThreadQuery_Plan checks that threading a reply (every incoming
// mail with In-Reply-To or References) looks its Message-IDs up through
// indexes: a scan of reports would read every report's body.
func TestThreadQuery_Plan(t *testing.T) {
	t.Parallel()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ids := []any{"<a@example.org>", "<b@example.org>"}
	plan := queryPlan(t, d, threadQuery(len(ids)), append(append(ids, ids...), ids...)...)
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN ") {
			t.Errorf("threading scans a table: %q\n\t%s", step, strings.Join(plan, "\n\t"))
		}
	}
}

// TestAddIncoming_IndexesOnce checks that a researcher's reply with many
// files indexes the report for search once, not once per file: each
// time re-reads the report and its whole conversation, and a reply may
// carry a thousand files.
func TestAddIncoming_IndexesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "fts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	raw := func() int64 {
		m := &triage.RawMessage{MailFrom: "r@example.org", ReceivedAt: at, Data: []byte("Subject: x\r\n\r\nbody\r\n")}
		if err := d.AddRawMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	r := triage.NewReport(at)
	r.MessageID, r.Title, r.ResearcherEmail = raw(), "XSS", "r@example.org"
	r.Body = strings.Repeat("lorem ipsum dolor sit amet ", 20000)
	if err := d.FileReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	// changes counts the rows the writer's connection has changed, the
	// search index's included.
	changes := func(files int) int {
		var before, after int
		if err := d.w.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		m := &triage.Message{ReportID: r.ID, RawMessageID: raw(), At: at, Body: "the PoC"}
		for i := range files {
			m.Attachments = append(m.Attachments, triage.Attachment{Name: fmt.Sprintf("poc%d.py", i), Size: 1, Data: []byte("x")})
		}
		if err := d.AddIncomingMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := d.w.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		return after - before
	}
	one, many := changes(1), changes(50)
	if many-one > 10*49 { // about 3 a file once indexed, some 100 when indexed per file
		t.Errorf("a reply with 1 file changed %d rows, with 50 files %d: the report is indexed again per file", one, many)
	}
	got, err := d.Board(ctx, triage.ReportFilter{Query: "poc49"}, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("search for the last file's name finds %d reports, want 1", len(got))
	}
}

// TestOutbox_QueryPlans checks with EXPLAIN QUERY PLAN that the outbox
// page (all mail, or one state) reads the newest mail through an index
// rather than sorting the whole outbox, which only grows: every
// acknowledgement and team notification stays in it.
func TestOutbox_QueryPlans(t *testing.T) {
	t.Parallel()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, f := range []triage.OutboxFilter{{}, {State: triage.DeliveryQueued}, {State: triage.DeliverySent},
		{State: triage.DeliveryFailed, Limit: 1000}} {
		q, args, err := outboxQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		plan := queryPlan(t, d, q, args...)
		for _, step := range plan {
			if strings.Contains(step, "TEMP B-TREE") || step == "SCAN o" {
				t.Errorf("%+v: %q\n\t%s", f, step, strings.Join(plan, "\n\t"))
			}
		}
	}
}
