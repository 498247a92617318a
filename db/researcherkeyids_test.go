package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// A key with more subkeys than are indexed: the first 100 IDs find it,
// the rest are not stored.
func TestResearcherKeys_KeyIDCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	k := rkey("alice@example.org", fprA, triage.KeySourceWKD, t0, "key-a")
	k.KeyIDs = nil
	for i := range 150 {
		k.KeyIDs = append(k.KeyIDs, fmt.Sprintf("%016X", 0xC0DE000000000000+uint64(i)))
	}
	keys := []triage.ResearcherKey{k}
	if err := d.AddResearcherKeys(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if len(keys[0].KeyIDs) != 100 {
		t.Errorf("KeyIDs cut to %d, want 100", len(keys[0].KeyIDs))
	}
	got, err := d.ResearcherKeys(ctx, "alice@example.org")
	if err != nil || len(got) != 1 {
		t.Fatalf("keys %v, %v", got, err)
	}
	if len(got[0].KeyIDs) != 100 {
		t.Errorf("%d key IDs indexed, want 100", len(got[0].KeyIDs))
	}
	for _, c := range []struct {
		id   string
		want int
	}{{k.KeyIDs[0], 1}, {k.KeyIDs[99], 1}, {k.KeyIDs[100], 0}, {k.KeyIDs[149], 0}} {
		found, err := d.ResearcherKeysByKeyID(ctx, []string{c.id})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != c.want {
			t.Errorf("key ID %s finds %d keys, want %d", c.id, len(found), c.want)
		}
	}
}

// TestResearcherKeysByKeyID_Fresh: answers are kept between lookups (intake
// asks for the same key for every message of a burst) but never outlive a
// change: a key stored, by AddResearcherKeys or with a filing, is found by
// the next lookup.
func TestResearcherKeysByKeyID_Fresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	id := fprA[24:]
	if got, err := d.ResearcherKeysByKeyID(ctx, []string{id}); err != nil || len(got) != 0 {
		t.Fatalf("before: %v, %v", got, err)
	}
	if err := d.AddResearcherKeys(ctx, []triage.ResearcherKey{rkey("alice@example.org", fprA, triage.KeySourceWKD, t0, "key-a")}); err != nil {
		t.Fatal(err)
	}
	if got, err := d.ResearcherKeysByKeyID(ctx, []string{id}); err != nil || len(got) != 1 {
		t.Fatalf("after AddResearcherKeys: %v, %v", got, err)
	}
	idB := "BBBBBBBBBBBBBBBB"
	if got, err := d.ResearcherKeysByKeyID(ctx, []string{idB}); err != nil || len(got) != 0 {
		t.Fatalf("before filing: %v, %v", got, err)
	}
	r := triage.NewReport(t0)
	r.MessageID, r.Title = addMessage(t, d, t0), "with a key"
	kb := rkey("bob@example.org", fprB, triage.KeySourceAttachment, t0, "key-b")
	kb.KeyIDs = []string{idB}
	f := &triage.Filing{Report: r, Keys: []triage.ResearcherKey{kb}}
	if err := d.FileMessages(ctx, []*triage.Filing{f}); err != nil || f.Err != nil {
		t.Fatal(err, f.Err)
	}
	if got, err := d.ResearcherKeysByKeyID(ctx, []string{idB}); err != nil || len(got) != 1 {
		t.Fatalf("after the filing: %v, %v", got, err)
	}
}
