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
	Email       string // lower-cased address the key is for
	Fingerprint string // primary key, upper hex
	UserID      string // primary user ID
	Source      KeySource
	Public      []byte    // binary transferable public key
	ExpiresAt   time.Time // zero: never
	FirstSeen   time.Time
	LastSeen    time.Time
}
