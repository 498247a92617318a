package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestBoard_WalkAgreesWithSort: for every shape of filter, each page the
// ranked walk gives is the page sorting every selected report gives, on
// 3,000 seeded reports in every state, with the walk's thresholds made
// small so that every path is taken (walking each tier, sorting a small
// one, giving up).
func TestBoard_WalkAgreesWithSort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "walk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now, users, err := seedBoard(ctx, d, 3000, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(migrationSQL(t, "ui.sql"), `status NOT IN (`+closedStatusList()+`)`) {
		t.Fatal("the walk's indexes do not spell the closed statuses as the queries do")
	}
	yes, no := true, false
	filters := []triage.ReportFilter{
		{}, {Statuses: openStatuses()}, {Status: triage.StatusTriaging}, {Status: triage.StatusSpam},
		{Severity: []triage.Severity{triage.SeverityCritical, triage.SeverityUnscored}},
		{Assignee: users[1]}, {Unassigned: true}, {Unassigned: true, Assignee: users[2]},
		{Breached: &yes}, {Breached: &no}, {Breached: &no, Statuses: openStatuses()},
		{Label: "prod"}, {Label: "prod", Statuses: openStatuses()},
		{Query: "injection"}, {Query: "injection", Statuses: openStatuses()}, {Query: "deserialization token"},
		{Query: "har"}, {Query: "w1f"}, {Query: "sql inj"}, {Query: "injection", Label: "prod", Breached: &yes},
	}
	walked := 0
	for _, small := range []bool{false, true} {
		lim := boardWalk
		if small {
			lim = walkLimits{budget: 400, searchBudget: 300, sortMax: 20}
		}
		for _, f := range filters {
			for _, page := range []int{0, 1, 7} {
				f.Limit, f.Offset = 50, page*50
				q, args, err := boardQuery(f)
				if err != nil {
					t.Fatal(err)
				}
				err = d.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
					got, ok, err := walkBoard(ctx, tx, f, now, lim)
					if err != nil || !ok {
						return err
					}
					walked++
					want, err := queryIDs(ctx, tx, q, append([]any{formatTime(now), formatTime(now.Add(triage.DueSoon)), f.Limit, f.Offset}, args...)...)
					if err != nil {
						return err
					}
					if !slices.Equal(got, want) {
						t.Errorf("small %v, %+v: the walk gives %d reports %v…, the sort %d %v…", small, f, len(got), head(got), len(want), head(want))
					}
					return nil
				})
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
			}
		}
	}
	if walked < 60 {
		t.Errorf("only %d pages walked: the walk hardly applies", walked)
	}
}

func head(ids []int64) []int64 { return ids[:min(5, len(ids))] }

func migrationSQL(t *testing.T, topic string) string {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if migrationTopic(m.name) == topic {
			return m.sql
		}
	}
	t.Fatalf("no migration %s", topic)
	return ""
}

// TestBoard_WalkQueryPlans: each tier the walk reads in order comes
// straight from its index, covering, without a sort; the small tiers are
// sorted but still read no report row.
func TestBoard_WalkQueryPlans(t *testing.T) {
	t.Parallel()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, small := range []bool{false, true} {
		for i, tr := range walkTiers(true, true, true, small, "2026-01-01", "2026-01-02") {
			rows, err := d.r.Query("EXPLAIN QUERY PLAN SELECT r.id, r.status, r.severity, COALESCE(r.assignee_id, 0), 0 "+tr.q, tr.args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				rows.Scan(&id, &parent, &unused, &detail)
				plan = append(plan, detail)
			}
			rows.Close()
			p := strings.Join(plan, "\n\t")
			if !strings.Contains(p, "COVERING INDEX reports_") {
				t.Errorf("tier %d (small %v) reads report rows:\n\t%s", i, small, p)
			}
			walked := strings.Contains(tr.q, "_rank")
			if walked == strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("tier %d (small %v): sorted %v, walked %v:\n\t%s", i, small, strings.Contains(p, "TEMP B-TREE"), walked, p)
			}
		}
	}
}
