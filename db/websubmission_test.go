package db_test

import (
	"context"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

func TestAddWebSubmission(t *testing.T) {
	t.Parallel()
	d, _ := mustOpen(t)
	ctx := context.Background()
	key := []byte("web submission test link key")
	nonce := triage.NewNonce()
	var calledWith int64
	hash := func(id int64) []byte {
		calledWith = id
		return triage.TokenHash(triage.LinkToken(key, triage.LinkStatus, id, nonce))
	}
	raw := &triage.RawMessage{MailFrom: "r@example.org", Recipients: []string{"security@example.com"},
		RemoteAddr: "192.0.2.7", Data: []byte("Subject: ...\r\n\r\nciphertext\r\n")}
	if err := d.AddWebSubmission(ctx, raw, nonce, hash); err != nil {
		t.Fatal(err)
	}
	if raw.ID == 0 || calledWith != raw.ID {
		t.Fatalf("raw.ID = %d, token hash asked for id %d", raw.ID, calledWith)
	}
	token := triage.LinkToken(key, triage.LinkStatus, raw.ID, nonce)
	rawID, reportID, err := d.StatusLink(ctx, triage.TokenHash(token))
	if err != nil || rawID != raw.ID || reportID != 0 {
		t.Fatalf("StatusLink = %d, %d, %v", rawID, reportID, err)
	}
	if got, err := d.StatusLinkNonce(ctx, raw.ID); err != nil || got != nonce {
		t.Errorf("StatusLinkNonce = %q, %v", got, err)
	}
	stored, err := d.RawMessage(ctx, raw.ID)
	if err != nil || string(stored.Data) != string(raw.Data) || !stored.ReceivedAt.Equal(t0) {
		t.Errorf("stored raw message: %+v, %v", stored, err)
	}
	events, err := d.AuditEvents(ctx, triage.AuditFilter{Action: triage.AuditWebSubmission})
	if err != nil || len(events) != 1 || events[0].ActorEmail != triage.ActorResearcher || events[0].RemoteAddr != "192.0.2.7" {
		t.Errorf("audit: %+v, %v", events, err)
	}

	t.Run("SameTokenAgain", func(t *testing.T) {
		before, _ := d.PendingRawMessages(ctx)
		again := &triage.RawMessage{MailFrom: "r@example.org", Data: []byte("x")}
		err := d.AddWebSubmission(ctx, again, nonce, func(int64) []byte { return triage.TokenHash(token) })
		if triage.ErrorCode(err) != triage.ECONFLICT {
			t.Errorf("err = %v, want ECONFLICT", err)
		}
		if after, _ := d.PendingRawMessages(ctx); len(after) != len(before) {
			t.Errorf("a refused submission stored its raw message")
		}
	})
	t.Run("NoToken", func(t *testing.T) {
		for _, f := range []func(int64) []byte{nil, func(int64) []byte { return nil }} {
			if err := d.AddWebSubmission(ctx, &triage.RawMessage{Data: []byte("x")}, nonce, f); triage.ErrorCode(err) != triage.EINVALID {
				t.Errorf("err = %v, want EINVALID", err)
			}
		}
	})
}
