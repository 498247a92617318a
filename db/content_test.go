package db_test

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// signedReport is a report whose second part is covered by a good
// signature and whose first and third are not: the "Johnny, you are
// fired" shape.
func signedReport(at time.Time, messageID int64) *triage.Report {
	r := triage.NewReport(at)
	r.MessageID = messageID
	r.Title = "Partially signed"
	r.Encrypted, r.Decrypted = true, true
	r.Signature = triage.Signature{Status: triage.SignaturePartial, Fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567", KeyID: "89ABCDEF01234567"}
	r.Signatures = []triage.Signature{
		{
			Status: triage.SignatureGood, Fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567", KeyID: "89ABCDEF01234567",
			SignerUserID: "Alice <alice@example.org>", FromMatches: true, Hash: "SHA256",
			SignedAt: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), Parts: []string{"2"},
		},
		{Status: triage.SignatureUnknownKey, KeyID: "FEDCBA9876543210", Reason: "no key for issuer"},
	}
	r.Parts = []triage.BodyPart{
		{Path: "1", ContentType: "text/plain", Text: "Unsigned preamble <b>\n"},
		{Path: "2", ContentType: "text/plain", Text: "Signed text.\n", Encrypted: true, Signature: 1},
		{Path: "3", ContentType: "text/html", Text: "Extracted from HTML", FromHTML: true},
	}
	r.Body = "Unsigned preamble <b>\n\nSigned text.\n\nExtracted from HTML"
	return r
}

func TestReportContent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		d, _ := mustOpen(t)
		r := signedReport(t0, addMessage(t, d, t0))
		if err := d.FileReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := d.Report(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Signatures, r.Signatures) {
			t.Errorf("signatures\n got %+v\nwant %+v", got.Signatures, r.Signatures)
		}
		if !reflect.DeepEqual(got.Parts, r.Parts) {
			t.Errorf("parts\n got %+v\nwant %+v", got.Parts, r.Parts)
		}
		if got.Signature.Status != triage.SignaturePartial {
			t.Errorf("summary %q", got.Signature.Status)
		}
		// The list carries the summary only.
		list, err := d.Reports(ctx, triage.ReportFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %v", list, err)
		}
		if list[0].Signatures != nil || list[0].Parts != nil || list[0].Signature.Status != triage.SignaturePartial {
			t.Errorf("list item: %+v", list[0])
		}
	})

	t.Run("Empty", func(t *testing.T) {
		d, _ := mustOpen(t)
		r := file(t, d, t0, "plain")
		got, err := d.Report(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Signatures) != 0 || len(got.Parts) != 0 {
			t.Errorf("signatures %v parts %v", got.Signatures, got.Parts)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		d, _ := mustOpen(t)
		for name, mutate := range map[string]func(*triage.Report){
			"PartPointsPastSignatures": func(r *triage.Report) { r.Parts[0].Signature = 3 },
			"NegativeSignature":        func(r *triage.Report) { r.Parts[0].Signature = -1 },
			"SignatureWithoutStatus":   func(r *triage.Report) { r.Signatures[1].Status = "" },
			"TooManyParts":             func(r *triage.Report) { r.Parts = make([]triage.BodyPart, 5000) },
		} {
			t.Run(name, func(t *testing.T) {
				r := signedReport(t0, addMessage(t, d, t0))
				mutate(r)
				err := d.FileReport(ctx, r)
				if triage.ErrorCode(err) != triage.EINVALID {
					t.Fatalf("err %v, want EINVALID", err)
				}
				// Nothing was filed: the message is still pending.
				pending, _ := d.PendingRawMessages(ctx)
				found := false
				for _, id := range pending {
					found = found || id == r.MessageID
				}
				if !found {
					t.Error("message marked processed after a refused report")
				}
			})
		}
	})

	t.Run("DeletedWithReport", func(t *testing.T) {
		d, path := mustOpen(t)
		r := signedReport(t0, addMessage(t, d, t0))
		if err := d.FileReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		// As the application's connections do, with foreign keys on.
		s, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000&_foreign_keys=on")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Exec(`DELETE FROM reports WHERE id = ?`, r.ID); err != nil {
			t.Fatal(err)
		}
		var n int
		s.QueryRow(`SELECT (SELECT COUNT(*) FROM report_parts) + (SELECT COUNT(*) FROM report_signatures)`).Scan(&n)
		if n != 0 {
			t.Errorf("%d content rows left after deleting the report", n)
		}
	})
}

func TestUpdateReportSignatures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	r := signedReport(t0, addMessage(t, d, t0))
	if err := d.FileReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	// The unknown signer's key was found: verified again, both good.
	sigs := append([]triage.Signature(nil), r.Signatures...)
	sigs[1] = triage.Signature{Status: triage.SignatureGood, Fingerprint: strings.Repeat("AB", 20), KeyID: "FEDCBA9876543210", Parts: []string{"1", "3"}}
	parts := append([]triage.BodyPart(nil), r.Parts...)
	parts[0].Signature, parts[2].Signature = 2, 2
	summary := triage.Signature{Status: triage.SignatureGood, Fingerprint: sigs[0].Fingerprint, KeyID: sigs[0].KeyID}
	if err := d.UpdateReportSignatures(ctx, r.ID, summary, sigs, parts); err != nil {
		t.Fatal(err)
	}
	got, err := d.Report(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Signature.Status != triage.SignatureGood || !reflect.DeepEqual(got.Signatures, sigs) || !reflect.DeepEqual(got.Parts, parts) {
		t.Errorf("after update: %+v %+v %+v", got.Signature, got.Signatures, got.Parts)
	}
	if got.Body != r.Body || got.Title != r.Title {
		t.Errorf("body or title changed: %q %q", got.Body, got.Title)
	}

	if err := d.UpdateReportSignatures(ctx, 999, summary, sigs, parts); triage.ErrorCode(err) != triage.ENOTFOUND {
		t.Errorf("unknown report: %v", err)
	}
	parts[0].Signature = 7
	if err := d.UpdateReportSignatures(ctx, r.ID, summary, sigs, parts); triage.ErrorCode(err) != triage.EINVALID {
		t.Errorf("inconsistent parts: %v", err)
	}
	if got2, _ := d.Report(ctx, r.ID); !reflect.DeepEqual(got2.Parts, got.Parts) {
		t.Error("a refused update changed the parts")
	}
}
