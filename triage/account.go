package triage

import "time"

// Session is a signed-in browser. Only the SHA-256 of the session id is
// stored, so a copy of the database does not hand out live sessions.
type Session struct {
	TokenHash  []byte
	UserID     int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RemoteAddr string
	UserAgent  string
}

// SessionLifetime is how long a staff session lasts without a new login.
const SessionLifetime = 12 * time.Hour

// APIToken is a bearer token for the JSON API. It acts with its user's
// role. Only the SHA-256 of the token is stored.
type APIToken struct {
	ID        int64
	UserID    int64
	Name      string
	TokenHash []byte
	CreatedAt time.Time
}

// TeamKey is one of the team's OpenPGP keys as stored: the secret key is
// always passphrase-protected (armored), never in the clear.
type TeamKey struct {
	ID            int64
	Fingerprint   string // upper-case hex
	UserID        string // primary user ID, "Security Team <security@example.com>"
	ArmoredSecret []byte // passphrase-protected transferable secret key
	ArmoredPublic []byte
	CreatedAt     time.Time
	ExpiresAt     time.Time // zero: never
	Primary       bool      // the key published in security.txt and WKD
	RetiredAt     time.Time // zero: in use; else kept for the record, no longer used to decrypt
}
