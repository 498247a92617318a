package triage

import "time"

// KeySource is where secinbox learned a researcher's OpenPGP key. It is
// shown next to the key so staff can judge how far to trust it.
type KeySource string

const (
	KeySourceAttachment KeySource = "attachment" // an application/pgp-keys part of their mail
	KeySourceAutocrypt  KeySource = "autocrypt"  // the Autocrypt header of their mail
	KeySourceSignature  KeySource = "signature"  // the key made a good signature on their mail
	KeySourceWKD        KeySource = "wkd"        // Web Key Directory of their domain
	KeySourceVKS        KeySource = "vks"        // a verifying keyserver (keys.openpgp.org)
)

// ResearcherKey is a public key we hold for a researcher's address, with
// its provenance.
type ResearcherKey struct {
	ID          int64
	Email       string    // lower-cased address the key is for
	Fingerprint string    // primary key, upper hex
	UserID      string    // primary user ID
	Source      KeySource // the strongest source seen (KeySource.Rank)
	// Sources are every source the key was seen from, strongest first.
	Sources []KeySource
	// KeyIDs are the key IDs (16 upper hex) of the primary key and every
	// subkey, so a signature's issuer finds the key.
	KeyIDs    []string
	Public    []byte    // binary transferable public key
	ExpiresAt time.Time // zero: never
	FirstSeen time.Time
	LastSeen  time.Time
}

// Rank orders key sources by how much they say about who holds the key,
// strongest first: a key that made a good signature on the researcher's
// mail (and carries their address) beats the domain's own Web Key
// Directory, which beats a verifying keyserver (it checked the address by
// mail), which beats what the mail itself claimed (Autocrypt header, then
// an attached key). Unknown sources rank 0.
func (s KeySource) Rank() int {
	switch s {
	case KeySourceSignature:
		return 5
	case KeySourceWKD:
		return 4
	case KeySourceVKS:
		return 3
	case KeySourceAutocrypt:
		return 2
	case KeySourceAttachment:
		return 1
	}
	return 0
}

// Valid reports whether s is a known source.
func (s KeySource) Valid() bool { return s.Rank() > 0 }

// BestResearcherKey picks the key to name for a researcher (the API's
// researcher.key_fingerprint, and the key to encrypt to): among keys not
// expired at now, the strongest Source (see Rank), then the newest
// LastSeen, then the newest FirstSeen. ok is false when no key qualifies.
func BestResearcherKey(keys []ResearcherKey, now time.Time) (best ResearcherKey, ok bool) {
	for _, k := range keys {
		if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
			continue
		}
		if !ok || betterKey(k, best) {
			best, ok = k, true
		}
	}
	return best, ok
}

// betterKey reports whether a ranks before b in BestResearcherKey's order.
func betterKey(a, b ResearcherKey) bool {
	if ra, rb := a.Source.Rank(), b.Source.Rank(); ra != rb {
		return ra > rb
	}
	if !a.LastSeen.Equal(b.LastSeen) {
		return a.LastSeen.After(b.LastSeen)
	}
	return a.FirstSeen.After(b.FirstSeen)
}
