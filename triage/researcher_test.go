package triage_test

import (
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func TestKeySource_Rank(t *testing.T) {
	order := []triage.KeySource{triage.KeySourceSignature, triage.KeySourceWKD, triage.KeySourceVKS,
		triage.KeySourceAutocrypt, triage.KeySourceAttachment}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() <= order[i].Rank() {
			t.Errorf("%s (%d) does not rank above %s (%d)", order[i-1], order[i-1].Rank(), order[i], order[i].Rank())
		}
	}
	for _, s := range order {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if triage.KeySource("keyserver").Valid() || triage.KeySource("").Valid() {
		t.Error("unknown sources are valid")
	}
}

func TestBestResearcherKey(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	key := func(fpr string, src triage.KeySource, lastSeen time.Duration, expires time.Duration) triage.ResearcherKey {
		k := triage.ResearcherKey{Fingerprint: fpr, Source: src, FirstSeen: now.Add(-100 * day), LastSeen: now.Add(-lastSeen)}
		if expires != 0 {
			k.ExpiresAt = now.Add(expires)
		}
		return k
	}
	tests := []struct {
		name string
		keys []triage.ResearcherKey
		want string // fingerprint; "" for none
	}{
		{"None", nil, ""},
		{"One", []triage.ResearcherKey{key("A", triage.KeySourceAttachment, day, 0)}, "A"},
		{"SignatureBeatsNewerWKD", []triage.ResearcherKey{
			key("WKD", triage.KeySourceWKD, 0, 0), key("SIG", triage.KeySourceSignature, 30*day, 0)}, "SIG"},
		{"WKDBeatsVKS", []triage.ResearcherKey{
			key("VKS", triage.KeySourceVKS, 0, 0), key("WKD", triage.KeySourceWKD, day, 0)}, "WKD"},
		{"VKSBeatsAutocrypt", []triage.ResearcherKey{
			key("AC", triage.KeySourceAutocrypt, 0, 0), key("VKS", triage.KeySourceVKS, day, 0)}, "VKS"},
		{"AutocryptBeatsAttachment", []triage.ResearcherKey{
			key("ATT", triage.KeySourceAttachment, 0, 0), key("AC", triage.KeySourceAutocrypt, day, 0)}, "AC"},
		{"SameSourceNewestLastSeen", []triage.ResearcherKey{
			key("OLD", triage.KeySourceWKD, 10*day, 0), key("NEW", triage.KeySourceWKD, day, 0)}, "NEW"},
		{"ExpiredSkipped", []triage.ResearcherKey{
			key("EXPIRED", triage.KeySourceSignature, 0, -time.Second), key("ATT", triage.KeySourceAttachment, day, 0)}, "ATT"},
		{"NeverExpires", []triage.ResearcherKey{key("X", triage.KeySourceWKD, 0, 0)}, "X"},
		{"AllExpired", []triage.ResearcherKey{key("X", triage.KeySourceWKD, 0, -day)}, ""},
		{"NotYetExpired", []triage.ResearcherKey{key("X", triage.KeySourceWKD, 0, time.Second)}, "X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := triage.BestResearcherKey(tt.keys, now)
			if ok != (tt.want != "") || got.Fingerprint != tt.want {
				t.Errorf("got %q (%v), want %q", got.Fingerprint, ok, tt.want)
			}
		})
	}
	// Expiry exactly at now counts as expired.
	k := key("EDGE", triage.KeySourceWKD, 0, 0)
	k.ExpiresAt = now
	if _, ok := triage.BestResearcherKey([]triage.ResearcherKey{k}, now); ok {
		t.Error("a key expiring at now is still chosen")
	}
}
