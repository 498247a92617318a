package triage

import "time"

// Session is a signed-in browser. Only the SHA-256 of the session id is
// stored, so a copy of the database does not hand out live sessions.
type Session struct {
	ID         int64 // shown to its owner, who may revoke it
	TokenHash  []byte
	UserID     int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RemoteAddr string // where it signed in
	UserAgent  string
	LastSeenAt time.Time // last request, updated at most once a minute
	LastAddr   string    // address of that request
}

// SessionLifetime is how long a staff session lasts without a new login.
const SessionLifetime = 12 * time.Hour

// TwoFactor is a user's TOTP state as stored.
type TwoFactor struct {
	UserID       int64
	Sealed       []byte    // the TOTP secret, sealed with the server's secret key; nil: none
	EnabledAt    time.Time // zero while enrolling (Sealed set) or when off
	LastStep     int64     // the last time step whose code was accepted; a code is good once
	RecoveryLeft int       // unused recovery codes
}

// Enabled reports whether sign-in asks for a code.
func (t *TwoFactor) Enabled() bool { return !t.EnabledAt.IsZero() && t.Sealed != nil }

// RecoveryCodeCount is how many one-time recovery codes enrolment hands out.
const RecoveryCodeCount = 10

// LoginChallenge is a sign-in whose password was right and which waits
// for its second factor. It is not a session: only the 2FA step takes it.
type LoginChallenge struct {
	TokenHash  []byte // SHA-256 of the token in the pending cookie
	UserID     int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	Failures   int // wrong codes so far; at MaxChallengeFailures it is deleted
	RemoteAddr string
	UserAgent  string
}

// Bounds on the second sign-in step.
const (
	LoginChallengeLifetime = 5 * time.Minute
	MaxChallengeFailures   = 5
)

// APIToken is a bearer token for the JSON API. It acts with its user's
// role. Only the SHA-256 of the token is stored.
type APIToken struct {
	ID         int64
	UserID     int64
	UserEmail  string // set by listings
	Name       string
	TokenHash  []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero when creating: CreatedAt + APITokenLifetime
	RevokedAt  time.Time // zero: not revoked
	LastUsedAt time.Time // zero: never used; recorded coarsely (about once a minute)
}

// Live reports whether t may still be used at now.
func (t *APIToken) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

// API token lifetimes: the default when none is given, and the longest
// one that may be asked for.
const (
	APITokenLifetime    = 90 * 24 * time.Hour
	MaxAPITokenLifetime = 365 * 24 * time.Hour
)

// Use is the last use of a session or an API token: when and from which
// address. Uses are kept in memory and written in the background.
type Use struct {
	At   time.Time
	Addr string
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

// Stats are the counts the /metrics endpoint exposes, read in one
// snapshot of the database.
type Stats struct {
	ReportsByStatus  map[Status]int64
	ReportsTotal     int64 // ever filed (ids are never reused)
	MessagesTotal    int64 // ever received over SMTP
	MessagesPending  int64 // received but not yet filed: the processing queue
	UsersByRole      map[Role]int64
	UsersDisabled    int64
	UsersTwoFactor   int64
	SessionsLive     int64
	AuditByAction    map[string]int64 // for the actions asked for
	AuditEventsTotal int64
}
