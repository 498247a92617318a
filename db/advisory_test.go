package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func TestAdvisories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	by := actor(alice)
	r := file(t, d, t0, "XSS")
	ids := []int64{r.ID}
	a, err := d.CreateAdvisory(ctx, triage.AdvisoryChange{ReportIDs: &ids, Title: ptr("XSS in search")}, by, t0)
	if err != nil || a.PublicID != "SA-2026-0001" {
		t.Fatalf("create: %+v %v", a, err)
	}
	b, err := d.CreateAdvisory(ctx, triage.AdvisoryChange{ReportIDs: &ids, Title: ptr("Another")}, by, t0)
	if err != nil || b.PublicID != "SA-2026-0002" {
		t.Fatalf("second: %+v %v", b, err)
	}
	_, err = d.CreateAdvisory(ctx, triage.AdvisoryChange{ReportIDs: &[]int64{999}, Title: ptr("x")}, by, t0)
	wantCode(t, err, triage.EINVALID)

	products := []triage.AdvisoryProduct{{Name: "App", Affected: "<2.0", Fixed: "2.0"}}
	if _, err := d.UpdateAdvisory(ctx, a.ID, triage.AdvisoryChange{Summary: ptr("Reflected XSS."), Products: &products}, by, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, st := range []triage.Status{triage.StatusAccepted, triage.StatusFixed, triage.StatusDisclosed} {
		if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(st)}, by, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.Advisory(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := got.UpdatedAt
	pub := *got
	if _, err := pub.Publish(t0.Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Edited meanwhile: the publication is refused.
	if _, err := d.UpdateAdvisory(ctx, a.ID, triage.AdvisoryChange{Title: ptr("XSS in the search box")}, by, t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	err = d.PublishAdvisory(ctx, &pub, before, map[string][]byte{"csaf": []byte("{}")}, by, t0.Add(2*time.Hour))
	wantCode(t, err, triage.ECONFLICT)
	if _, err := d.PublishedAdvisory(ctx, a.PublicID); triage.ErrorCode(err) != triage.ENOTFOUND {
		t.Errorf("a draft is found as published: %v", err)
	}
	got, _ = d.Advisory(ctx, a.ID)
	pub = *got
	pub.Publish(t0.Add(2 * time.Hour))
	if err := d.PublishAdvisory(ctx, &pub, got.UpdatedAt, map[string][]byte{"csaf": []byte("{}")}, by, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	p, err := d.PublishedAdvisory(ctx, a.PublicID)
	if err != nil || p.Version() != 1 || p.Title != "XSS in the search box" || len(p.ReportIDs) != 1 {
		t.Errorf("published: %+v %v", p, err)
	}
	if body, err := d.AdvisoryDocument(ctx, a.ID, "csaf"); err != nil || string(body) != "{}" {
		t.Errorf("document: %q %v", body, err)
	}
	list, _ := d.Advisories(ctx, true, 0)
	if len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("published list %v", list)
	}
	list, _ = d.Advisories(ctx, false, r.ID)
	if len(list) != 2 {
		t.Errorf("advisories of the report: %d", len(list))
	}
}
