package triage

import "time"

// KeyExpiryWarning is how long before the primary team key expires staff
// are warned, in the UI and in the logs: time to rotate it and to let
// researchers fetch the new one.
const KeyExpiryWarning = 30 * 24 * time.Hour

// KeyExpiryState is where the primary team key stands at a moment.
type KeyExpiryState int

const (
	// KeyValid: the key does not expire within KeyExpiryWarning.
	KeyValid KeyExpiryState = iota
	// KeyExpiringSoon: the key expires within KeyExpiryWarning.
	KeyExpiringSoon
	// KeyExpired: researchers can no longer encrypt to the key.
	KeyExpired
)

// KeyExpiryAt is the state at now of a key that expires at expires (the
// zero time: never).
func KeyExpiryAt(expires, now time.Time) KeyExpiryState {
	switch {
	case expires.IsZero():
		return KeyValid
	case !now.Before(expires):
		return KeyExpired
	case expires.Sub(now) <= KeyExpiryWarning:
		return KeyExpiringSoon
	}
	return KeyValid
}
