package db_test

import (
	"context"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestFileMessages: many messages filed in one transaction, each on its
// own: tracking ids in the order given, a message filed already refused
// (ECONFLICT) without undoing the others, a reply on a report filed in
// the same batch, keys stored, invalid keys dropped without keeping the
// message from being filed.
func TestFileMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	filed, _ := fileAcked(t, d, t0, "<filed@example.org>")

	newFiling := func(title string) *triage.Filing {
		r := triage.NewReport(t0)
		r.MessageID = addMessage(t, d, t0)
		r.Title, r.ResearcherEmail = title, "r@example.org"
		return &triage.Filing{Report: r, Ack: newAck(t0)}
	}
	a, b, c := newFiling("first"), newFiling("second"), newFiling("third")
	a.Keys = []triage.ResearcherKey{rkey("r@example.org", fprA, triage.KeySourceAttachment, t0, "key-a")}
	bad := rkey("r@example.org", fprB, triage.KeySourceAttachment, t0, "key-b")
	bad.KeyIDs = []string{"not hex"}
	c.Keys = []triage.ResearcherKey{bad}
	again := &triage.Filing{Report: triage.NewReport(t0)}
	again.Report.MessageID, again.Report.Title = filed.MessageID, "filed twice"
	reply := &triage.Filing{Reply: &triage.Message{ReportID: filed.ID, At: t0, From: "r@example.org",
		Body: "more details", RawMessageID: addMessage(t, d, t0)}}

	fs := []*triage.Filing{a, again, b, reply, c}
	if err := d.FileMessages(ctx, fs); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*triage.Filing{a, b, c, reply} {
		if f.Err != nil {
			t.Errorf("filing of message %d: %v", f.RawMessageID(), f.Err)
		}
	}
	wantCode(t, again.Err, triage.ECONFLICT)
	if again.Report.ID != 0 || again.Report.TrackingID != "" {
		t.Errorf("the refused filing kept ids: %+v", again.Report)
	}
	want := []string{"SEC-2026-0002", "SEC-2026-0003", "SEC-2026-0004"}
	for i, f := range []*triage.Filing{a, b, c} {
		if f.Report.TrackingID != want[i] || f.Ack.ID == 0 || f.Ack.TrackingID != want[i] {
			t.Errorf("%s: tracking id %q ack %+v, want %s", f.Report.Title, f.Report.TrackingID, f.Ack, want[i])
		}
	}
	if reply.Reply.ID == 0 {
		t.Error("the reply has no id")
	}
	if c.KeysErr == nil || triage.ErrorCode(c.KeysErr) != triage.EINVALID {
		t.Errorf("invalid keys: KeysErr %v, want EINVALID", c.KeysErr)
	}
	if a.Keys[0].ID == 0 {
		t.Error("the key was not stored")
	}
	if ks, err := d.ResearcherKeys(ctx, "r@example.org"); err != nil || len(ks) != 1 || ks[0].Fingerprint != fprA {
		t.Errorf("keys %+v, %v", ks, err)
	}
	if ids, err := d.PendingRawMessages(ctx); err != nil || len(ids) != 0 {
		t.Errorf("pending %v, %v", ids, err)
	}
	if n := countRows(t, rawSQL(t, path), "outbox"); n != 4 {
		t.Errorf("%d outbox rows, want 4", n)
	}
}

// TestPendingRawMessagesAfter: pending messages come in the order they
// were stored, after a given id, a page at a time; StoredAt is recorded.
func TestPendingRawMessagesAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	var ids []int64
	for range 5 {
		ids = append(ids, addMessage(t, d, t0))
	}
	got, err := d.PendingRawMessagesAfter(ctx, ids[1], 2)
	if err != nil || len(got) != 2 || got[0] != ids[2] || got[1] != ids[3] {
		t.Fatalf("after %d: %v, %v; want %v", ids[1], got, err, ids[2:4])
	}
	m, err := d.RawMessage(ctx, ids[0])
	if err != nil || !m.StoredAt.Equal(t0) {
		t.Errorf("StoredAt %v, %v; want %v", m.StoredAt, err, t0)
	}
}
