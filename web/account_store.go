package web

import (
	"context"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// AccountStore is what the accounts side of the site (audit log, two-
// factor, sessions, users) needs from the database; Store embeds it.
type AccountStore interface {
	// AddAudit appends an event to the audit log and sets its ID.
	AddAudit(ctx context.Context, ev *triage.AuditEvent) error
	// AuditEvents returns the events the filter selects, newest first.
	AuditEvents(ctx context.Context, f triage.AuditFilter) ([]*triage.AuditEvent, error)

	// The methods that take an *triage.AuditEvent (nil for none) write it
	// in the same transaction as their change.

	// Users returns every user, by email.
	Users(ctx context.Context) ([]*triage.User, error)
	// CreateUserAudited stores a new user; a taken email is ECONFLICT.
	CreateUserAudited(ctx context.Context, u *triage.User, ev *triage.AuditEvent) error
	// SetUserRole changes a role; demoting the last active admin is ECONFLICT.
	SetUserRole(ctx context.Context, id int64, role triage.Role, ev *triage.AuditEvent) error
	// SetUserDisabled disables a user at a time (ending their sessions),
	// or enables them for the zero time; the last active admin is ECONFLICT.
	SetUserDisabled(ctx context.Context, id int64, at time.Time, ev *triage.AuditEvent) error
	// SetPassword replaces a password hash and ends every session of the
	// user but the one with hash keep.
	SetPassword(ctx context.Context, id int64, hash []byte, at time.Time, keep []byte, ev *triage.AuditEvent) error

	// Sessions returns a user's live sessions, newest first.
	Sessions(ctx context.Context, userID int64, now time.Time) ([]*triage.Session, error)
	// RecordUses writes last uses of API tokens and sessions (UseRecorder).
	RecordUses(ctx context.Context, tokens, sessions map[int64]triage.Use) error
	// RevokeSession deletes one session of the user (ENOTFOUND if not theirs).
	RevokeSession(ctx context.Context, userID, sessionID int64, ev *triage.AuditEvent) error
	// RevokeOtherSessions deletes every session of the user but keep.
	RevokeOtherSessions(ctx context.Context, userID int64, keep []byte, ev *triage.AuditEvent) error

	// TwoFactor returns a user's TOTP state.
	TwoFactor(ctx context.Context, userID int64) (*triage.TwoFactor, error)
	// StartTwoFactor stores a sealed secret, not yet enabled (ECONFLICT if on).
	StartTwoFactor(ctx context.Context, userID int64, sealed []byte) error
	// EnableTwoFactor enables the stored secret if it is still sealed,
	// marks step used and replaces the recovery codes.
	EnableTwoFactor(ctx context.Context, userID int64, sealed []byte, step int64, at time.Time, codeHashes [][]byte, ev *triage.AuditEvent) error
	// DisableTwoFactor turns TOTP off and deletes the recovery codes.
	DisableTwoFactor(ctx context.Context, userID int64, ev *triage.AuditEvent) error
	// UseTOTPStep accepts a time step once: a step at or before the last
	// accepted one is ECONFLICT.
	UseTOTPStep(ctx context.Context, userID, step int64) error
	// UseRecoveryCode uses an unused recovery code (ENOTFOUND if none).
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte, at time.Time) error

	// CreateLoginChallenge stores a sign-in waiting for its second factor.
	CreateLoginChallenge(ctx context.Context, c *triage.LoginChallenge) error
	// LoginChallenge returns a live challenge (ENOTFOUND if missing or expired).
	LoginChallenge(ctx context.Context, hash []byte, now time.Time) (*triage.LoginChallenge, error)
	// FailLoginChallenge counts a wrong code and returns the count; at
	// triage.MaxChallengeFailures the challenge is deleted.
	FailLoginChallenge(ctx context.Context, hash []byte) (int, error)
	// DeleteLoginChallenge deletes a challenge.
	DeleteLoginChallenge(ctx context.Context, hash []byte) error

	// APITokens returns a user's API tokens (every user's for 0), newest first.
	APITokens(ctx context.Context, userID int64) ([]*triage.APIToken, error)
	// CreateAPITokenAudited stores a new token (expiring, by default, after
	// triage.APITokenLifetime) and its audit event.
	CreateAPITokenAudited(ctx context.Context, t *triage.APIToken, ev *triage.AuditEvent) error
	// RevokeAPIToken revokes a token of the user (ENOTFOUND if not theirs).
	RevokeAPIToken(ctx context.Context, userID, id int64, at time.Time, ev *triage.AuditEvent) (*triage.APIToken, error)

	// Stats counts what /metrics exposes.
	Stats(ctx context.Context, now time.Time, actions []string) (*triage.Stats, error)
}
