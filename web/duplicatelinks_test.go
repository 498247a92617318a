package web_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// countingReports is the real store, counting the full report loads.
type countingReports struct {
	web.Store
	loads *atomic.Int64
}

func (c countingReports) Report(ctx context.Context, id int64) (*triage.Report, error) {
	c.loads.Add(1)
	return c.Store.Report(ctx, id)
}

// TestReportPage_DuplicateLinks: the triage panel links duplicates and
// the original by tracking id, without loading each linked report in
// full (body, parts): one full load for the page, however many links.
func TestReportPage_DuplicateLinks(t *testing.T) {
	t.Parallel()
	var loads atomic.Int64
	e := newEnv(t, func(c *web.Config) { c.Store = countingReports{c.Store, &loads} })
	tri, hdr := e.staffCookie("tri@localhost", triage.RoleTriager)
	ctx := context.Background()
	var dups []*triage.Report
	for i := range 3 {
		d := e.fileReport(t0.Add(time.Duration(i)*time.Minute), func(r *triage.Report) { r.Title = fmt.Sprint("dup ", i) })
		orig := e.xss.ID
		if _, err := e.db.UpdateReport(ctx, d.ID, triage.Change{DuplicateOf: &orig}, triage.Actor{UserID: tri.ID, Email: tri.Email}, t0); err != nil {
			t.Fatal(err)
		}
		dups = append(dups, d)
	}

	loads.Store(0)
	_, page := e.do(e.client(), "GET", fmt.Sprintf("/reports/%d", e.xss.ID), nil, hdr...)
	got := byTestID(t, page, "triage-duplicates")
	want := dups[0].TrackingID + dups[1].TrackingID + dups[2].TrackingID
	if len(got) != 1 || stripSpace(got[0]) != want {
		t.Errorf("duplicates shown %q, want the tracking ids %q", got, want)
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("%d full report loads for one page, want 1", n)
	}

	_, page = e.do(e.client(), "GET", fmt.Sprintf("/reports/%d", dups[0].ID), nil, hdr...)
	if got := byTestID(t, page, "triage-duplicate-of"); len(got) != 1 || got[0] != "Duplicate of "+e.xss.TrackingID {
		t.Errorf("original shown %q", got)
	}
}

func stripSpace(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r != ' ' && r != '\n' && r != '\t' {
			out = append(out, r)
		}
	}
	return string(out)
}
