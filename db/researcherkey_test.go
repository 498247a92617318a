package db_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

const (
	fprA = "AAAA0123456789ABCDEF0123456789ABCDEF0123"
	fprB = "BBBB0123456789ABCDEF0123456789ABCDEF0123"
)

func rkey(email, fpr string, src triage.KeySource, seen time.Time, public string) triage.ResearcherKey {
	return triage.ResearcherKey{
		Email: email, Fingerprint: fpr, UserID: "Alice <alice@example.org>", Source: src,
		KeyIDs: []string{fpr[24:], "1111222233334444"}, Public: []byte(public),
		FirstSeen: seen, LastSeen: seen,
	}
}

func TestResearcherKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AddAndList", func(t *testing.T) {
		d, _ := mustOpen(t)
		k := rkey("Alice@Example.ORG ", strings.ToLower(fprA), triage.KeySourceAttachment, t0, "key-a")
		k.ExpiresAt = t0.Add(365 * 24 * time.Hour)
		keys := []triage.ResearcherKey{k}
		if err := d.AddResearcherKeys(ctx, keys); err != nil {
			t.Fatal(err)
		}
		if keys[0].ID == 0 {
			t.Error("no id set")
		}
		got, err := d.ResearcherKeys(ctx, "ALICE@example.org")
		if err != nil || len(got) != 1 {
			t.Fatalf("keys %+v, %v", got, err)
		}
		g := got[0]
		if g.Email != "alice@example.org" || g.Fingerprint != fprA || g.Source != triage.KeySourceAttachment ||
			!slices.Equal(g.Sources, []triage.KeySource{triage.KeySourceAttachment}) ||
			string(g.Public) != "key-a" || !g.ExpiresAt.Equal(k.ExpiresAt) ||
			!g.FirstSeen.Equal(t0) || !g.LastSeen.Equal(t0) || g.UserID != "Alice <alice@example.org>" {
			t.Errorf("stored key %+v", g)
		}
		if !slices.Equal(g.KeyIDs, []string{"1111222233334444", fprA[24:]}) {
			t.Errorf("key ids %v", g.KeyIDs)
		}
		if other, _ := d.ResearcherKeys(ctx, "bob@example.org"); len(other) != 0 {
			t.Errorf("keys for another address: %v", other)
		}
	})

	t.Run("DefaultTimes", func(t *testing.T) {
		d, _ := mustOpen(t)
		k := rkey("a@example.org", fprA, triage.KeySourceWKD, time.Time{}, "k")
		if err := d.AddResearcherKeys(ctx, []triage.ResearcherKey{k}); err != nil {
			t.Fatal(err)
		}
		got, _ := d.ResearcherKeys(ctx, "a@example.org")
		if len(got) != 1 || !got[0].FirstSeen.Equal(t0) || !got[0].LastSeen.Equal(t0) || !got[0].ExpiresAt.IsZero() {
			t.Errorf("%+v", got)
		}
	})

	t.Run("SeenAgain", func(t *testing.T) {
		d, _ := mustOpen(t)
		add := func(k triage.ResearcherKey) {
			t.Helper()
			if err := d.AddResearcherKeys(ctx, []triage.ResearcherKey{k}); err != nil {
				t.Fatal(err)
			}
		}
		get := func() triage.ResearcherKey {
			t.Helper()
			got, err := d.ResearcherKeys(ctx, "alice@example.org")
			if err != nil || len(got) != 1 {
				t.Fatalf("keys %+v, %v", got, err)
			}
			return got[0]
		}
		day := 24 * time.Hour
		add(rkey("alice@example.org", fprA, triage.KeySourceAutocrypt, t0, "from-autocrypt"))

		// A stronger source takes over the key material; both sightings count.
		add(rkey("alice@example.org", fprA, triage.KeySourceWKD, t0.Add(day), "from-wkd"))
		g := get()
		if g.Source != triage.KeySourceWKD || string(g.Public) != "from-wkd" ||
			!slices.Equal(g.Sources, []triage.KeySource{triage.KeySourceWKD, triage.KeySourceAutocrypt}) ||
			!g.FirstSeen.Equal(t0) || !g.LastSeen.Equal(t0.Add(day)) {
			t.Errorf("after wkd: %+v", g)
		}

		// A weaker source later only adds a sighting: it cannot replace
		// what WKD said.
		weak := rkey("alice@example.org", fprA, triage.KeySourceAttachment, t0.Add(2*day), "from-attachment")
		weak.UserID = "Mallory <alice@example.org>"
		weak.KeyIDs = []string{"9999999999999999"}
		add(weak)
		g = get()
		if g.Source != triage.KeySourceWKD || string(g.Public) != "from-wkd" || g.UserID != "Alice <alice@example.org>" ||
			!slices.Equal(g.Sources, []triage.KeySource{triage.KeySourceWKD, triage.KeySourceAutocrypt, triage.KeySourceAttachment}) ||
			!g.LastSeen.Equal(t0.Add(2*day)) || slices.Contains(g.KeyIDs, "9999999999999999") {
			t.Errorf("after attachment: %+v", g)
		}

		// An older sighting (a message filed late) moves first_seen back only.
		add(rkey("alice@example.org", fprA, triage.KeySourceWKD, t0.Add(-day), "from-wkd-old"))
		g = get()
		if !g.FirstSeen.Equal(t0.Add(-day)) || !g.LastSeen.Equal(t0.Add(2*day)) || len(g.Sources) != 3 {
			t.Errorf("after old sighting: %+v", g)
		}

		// The same key for another address is another row.
		add(rkey("alice@other.example", fprA, triage.KeySourceVKS, t0, "vks"))
		if got, _ := d.ResearcherKeys(ctx, "alice@other.example"); len(got) != 1 || got[0].Source != triage.KeySourceVKS {
			t.Errorf("other address: %+v", got)
		}
		if g := get(); g.Source != triage.KeySourceWKD {
			t.Errorf("other address changed this one: %+v", g)
		}
	})

	t.Run("BestFirst", func(t *testing.T) {
		d, _ := mustOpen(t)
		keys := []triage.ResearcherKey{
			rkey("a@example.org", fprA, triage.KeySourceAttachment, t0.Add(time.Hour), "a"),
			rkey("a@example.org", fprB, triage.KeySourceSignature, t0, "b"),
		}
		if err := d.AddResearcherKeys(ctx, keys); err != nil {
			t.Fatal(err)
		}
		got, _ := d.ResearcherKeys(ctx, "a@example.org")
		if len(got) != 2 || got[0].Fingerprint != fprB || got[1].Fingerprint != fprA {
			t.Errorf("order %+v", got)
		}
	})

	// Anyone can mail us as alice with keys of their own attached: a
	// flood of them must neither hide nor push out the keys that stronger
	// sources vouch for, nor grow her list without bound.
	t.Run("Flood", func(t *testing.T) {
		d, path := mustOpen(t)
		wkd := rkey("alice@example.org", fprB, triage.KeySourceWKD, t0, "wkd")
		if err := d.AddResearcherKeys(ctx, []triage.ResearcherKey{wkd}); err != nil {
			t.Fatal(err)
		}
		var flood []triage.ResearcherKey
		for i := range 150 {
			flood = append(flood, rkey("alice@example.org", fmt.Sprintf("%040X", i+1), triage.KeySourceAttachment,
				t0.Add(time.Duration(i+1)*time.Minute), "spoofed"))
		}
		if err := d.AddResearcherKeys(ctx, flood); err != nil {
			t.Fatal(err)
		}
		got, err := d.ResearcherKeys(ctx, "alice@example.org")
		if err != nil || len(got) == 0 {
			t.Fatalf("keys: %d, %v", len(got), err)
		}
		if got[0].Fingerprint != fprB {
			t.Errorf("first key %s from %s, want the WKD key %s", got[0].Fingerprint, got[0].Source, fprB)
		}
		if best, ok := triage.BestResearcherKey(got, t0); !ok || best.Fingerprint != fprB {
			t.Errorf("best key %s, want the WKD key", best.Fingerprint)
		}
		if n := countRows(t, rawSQL(t, path), "researcher_keys"); n > 100 {
			t.Errorf("%d keys stored for one address, want at most 100", n)
		}
		// The newest spoofed keys are kept, the oldest made room.
		if got[1].Fingerprint != flood[len(flood)-1].Fingerprint || slices.ContainsFunc(got, func(k triage.ResearcherKey) bool {
			return k.Fingerprint == flood[0].Fingerprint
		}) {
			t.Errorf("kept attachment keys: newest %s", got[1].Fingerprint)
		}

		// Full of keys stronger than it, the address takes no weaker one.
		var strong []triage.ResearcherKey
		for i := range 100 {
			strong = append(strong, rkey("bob@example.org", fmt.Sprintf("%040X", i+1), triage.KeySourceVKS, t0, "vks"))
		}
		weak := []triage.ResearcherKey{rkey("bob@example.org", fprA, triage.KeySourceAutocrypt, t0.Add(time.Hour), "weak")}
		if err := d.AddResearcherKeys(ctx, strong); err != nil {
			t.Fatal(err)
		}
		if err := d.AddResearcherKeys(ctx, weak); err != nil {
			t.Fatal(err)
		}
		if weak[0].ID != 0 {
			t.Errorf("weaker key stored as %d", weak[0].ID)
		}
		got, _ = d.ResearcherKeys(ctx, "bob@example.org")
		if len(got) != 100 || slices.ContainsFunc(got, func(k triage.ResearcherKey) bool { return k.Fingerprint == fprA }) {
			t.Errorf("bob: %d keys", len(got))
		}
	})

	t.Run("ByKeyID", func(t *testing.T) {
		d, _ := mustOpen(t)
		a := rkey("a@example.org", fprA, triage.KeySourceWKD, t0, "a")
		a.KeyIDs = []string{"AAAA000000000001", "AAAA000000000002"}
		b := rkey("b@example.org", fprB, triage.KeySourceVKS, t0, "b")
		b.KeyIDs = []string{"BBBB000000000001"}
		if err := d.AddResearcherKeys(ctx, []triage.ResearcherKey{a, b}); err != nil {
			t.Fatal(err)
		}
		got, err := d.ResearcherKeysByKeyID(ctx, []string{"aaaa000000000002", "not-an-id", "CCCC000000000000"})
		if err != nil || len(got) != 1 || got[0].Fingerprint != fprA || !bytes.Equal(got[0].Public, []byte("a")) {
			t.Fatalf("by key id: %+v %v", got, err)
		}
		got, _ = d.ResearcherKeysByKeyID(ctx, []string{"AAAA000000000001", "BBBB000000000001", "AAAA000000000002"})
		if len(got) != 2 || got[0].Fingerprint != fprA { // wkd ranks above vks
			t.Errorf("two keys: %+v", got)
		}
		if got, err := d.ResearcherKeysByKeyID(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("no ids: %v %v", got, err)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		d, _ := mustOpen(t)
		good := rkey("a@example.org", fprA, triage.KeySourceWKD, t0, "k")
		for name, mutate := range map[string]func(*triage.ResearcherKey){
			"NoAddress":     func(k *triage.ResearcherKey) { k.Email = "" },
			"BadFpr":        func(k *triage.ResearcherKey) { k.Fingerprint = "XYZ" },
			"UnknownSource": func(k *triage.ResearcherKey) { k.Source = "keyserver" },
			"NoKey":         func(k *triage.ResearcherKey) { k.Public = nil },
			"HugeKey":       func(k *triage.ResearcherKey) { k.Public = make([]byte, 2<<20) },
			"BadKeyID":      func(k *triage.ResearcherKey) { k.KeyIDs = []string{"12"} },
		} {
			k := good
			mutate(&k)
			// A bad key refuses the whole batch.
			if err := d.AddResearcherKeys(ctx, []triage.ResearcherKey{good, k}); triage.ErrorCode(err) != triage.EINVALID {
				t.Errorf("%s: %v, want EINVALID", name, err)
			}
		}
		if got, _ := d.ResearcherKeys(ctx, "a@example.org"); len(got) != 0 {
			t.Errorf("refused batch stored %d keys", len(got))
		}
	})
}
