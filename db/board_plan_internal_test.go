package db

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestBoard_QueryPlans checks with EXPLAIN QUERY PLAN that every shape of
// the board's query reads reports only through a covering index: a row
// of reports holds the body, and reading one per report would make the
// board of 100 000 reports slow (BenchmarkBoard100k).
func TestBoard_QueryPlans(t *testing.T) {
	t.Parallel()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	yes := true
	// A reports access that names no covering index reads rows.
	rowRead := regexp.MustCompile(`^(SCAN|SEARCH) r( |$)`)
	for _, f := range []triage.ReportFilter{
		{},
		{Statuses: []triage.Status{triage.StatusNew, triage.StatusTriaging}},
		{Status: triage.StatusTriaging, Severity: []triage.Severity{triage.SeverityHigh}},
		{Assignee: 1}, {Unassigned: true}, {Breached: &yes},
		{Label: "prod"},
		{Query: "injection"},
		{Query: "token bypass", Label: "prod", Severity: []triage.Severity{triage.SeverityCritical}},
		{Statuses: []triage.Status{triage.StatusNew, triage.StatusTriaging, triage.StatusAccepted}, Query: "injection", Assignee: 1},
		{Label: "prod", Statuses: []triage.Status{triage.StatusNew, triage.StatusTriaging}, Breached: &yes},
	} {
		q, args, err := boardQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.r.Query("EXPLAIN QUERY PLAN "+q, append([]any{formatTime(now), formatTime(now), 50, 0}, args...)...)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		covered := false
		for _, step := range plan {
			if rowRead.MatchString(step) && !strings.Contains(step, "COVERING INDEX") {
				t.Errorf("%+v reads report rows: %q\n\t%s", f, step, strings.Join(plan, "\n\t"))
			}
			if strings.Contains(step, "COVERING INDEX reports_board") || strings.Contains(step, "COVERING INDEX reports_rank") ||
				strings.Contains(step, "COVERING INDEX reports_assignee_board (assignee_id=?") {
				covered = true
			}
			// A match is looked up once, by id: a status list as part of
			// the key would look it up once per status.
			if strings.Contains(step, "reports_rank") && !strings.HasSuffix(step, "reports_rank (id=?)") {
				t.Errorf("%+v: %q", f, step)
			}
		}
		if !covered {
			t.Errorf("%+v: no covering index:\n\t%s", f, strings.Join(plan, "\n\t"))
		}
	}
}
