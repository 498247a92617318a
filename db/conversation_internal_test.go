package db

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
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
