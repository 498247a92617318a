package db_test

import (
	"context"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// An HTML part's source is stored as the attachment it came from: after a
// round trip, and after the signatures are replaced, it still names that
// file and not another of the same name.
func TestReportContent_PartSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	r := signedReport(t0, addMessage(t, d, t0))
	r.Attachments = []triage.Attachment{
		{Name: "body.html", ContentType: "text/html", Size: 5, SHA256: "decoy", Data: []byte("decoy")},
		{Name: "body.html", ContentType: "text/html", Size: 4, SHA256: "real", Data: []byte("real")},
	}
	r.Parts[2].Source = 2
	if err := d.FileReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		got, err := d.Report(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Attachments) != 2 || len(got.Parts) != 3 {
			t.Fatalf("%s: attachments %+v parts %+v", when, got.Attachments, got.Parts)
		}
		if s := got.Parts[2].Source; s != 2 || got.Attachments[s-1].ID != r.Attachments[1].ID {
			t.Errorf("%s: HTML part points at attachment %d, want 2 (id %d)", when, s, r.Attachments[1].ID)
		}
		if got.Parts[0].Source != 0 || got.Parts[1].Source != 0 {
			t.Errorf("%s: text parts point at attachments %d, %d", when, got.Parts[0].Source, got.Parts[1].Source)
		}
	}
	check("filed")

	if err := d.UpdateReportSignatures(ctx, r.ID, r.Signature, r.Signatures, r.Parts); err != nil {
		t.Fatal(err)
	}
	check("reverified")

	parts := append([]triage.BodyPart(nil), r.Parts...)
	parts[2].Source = 3
	if err := d.UpdateReportSignatures(ctx, r.ID, r.Signature, r.Signatures, parts); triage.ErrorCode(err) != triage.EINVALID {
		t.Errorf("a part pointing past the attachments: err %v, want EINVALID", err)
	}
	check("after a refused update")

	bad := signedReport(t0, addMessage(t, d, t0))
	bad.Parts[2].Source = 1 // no attachments at all
	if err := d.FileReport(ctx, bad); triage.ErrorCode(err) != triage.EINVALID {
		t.Errorf("filing a part pointing at a missing attachment: err %v, want EINVALID", err)
	}
}
