package triage

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a staff member may do.
type Role string

const (
	RoleAdmin   Role = "admin"   // users, settings, keys, and everything a triager does
	RoleTriager Role = "triager" // every report action
	RoleViewer  Role = "viewer"  // read only
)

// ParseRole returns the role named s, or an EINVALID error.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleTriager, RoleViewer:
		return r, nil
	}
	return "", Errorf(EINVALID, "unknown role %q (want admin, triager or viewer)", s)
}

// Can reports whether role r includes at least the rights of need.
func (r Role) Can(need Role) bool { return r.rank() >= need.rank() }

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleTriager:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// PasswordCost is the bcrypt work factor of staff passwords. Everything
// that hashes or compares a password uses it, so that a sign-in takes as
// long whether or not the account exists.
const PasswordCost = 12

// User is a member of the security team.
type User struct {
	ID                int64
	Email             string
	Role              Role
	PasswordHash      []byte // bcrypt
	CreatedAt         time.Time
	PasswordChangedAt time.Time // zero: not changed since the account was created
	DisabledAt        time.Time // zero: active; a disabled user cannot sign in or use a token
	TwoFactor         bool      // TOTP is enabled: sign-in asks for a code after the password
}

// Disabled reports whether u may no longer sign in or use API tokens.
func (u *User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Password rules for staff: long rather than complex. bcrypt reads only
// the first 72 bytes, so longer passwords are refused rather than cut.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 72
)

// CheckPassword returns an EINVALID error saying why password may not be
// used by the staff member with email: shorter than MinPasswordLen
// characters, longer than MaxPasswordLen bytes, one character repeated,
// or containing the email's local part.
func CheckPassword(password, email string) error {
	first, _ := utf8.DecodeRuneInString(password)
	switch {
	case !utf8.ValidString(password):
		return Errorf(EINVALID, "the password is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return Errorf(EINVALID, "the password must be at least %d characters long", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return Errorf(EINVALID, "the password must be at most %d bytes long", MaxPasswordLen)
	case strings.Trim(password, string(first)) == "":
		return Errorf(EINVALID, "the password must not be one character repeated")
	}
	if local, _, _ := strings.Cut(strings.ToLower(email), "@"); len(local) >= 4 && strings.Contains(strings.ToLower(password), local) {
		return Errorf(EINVALID, "the password must not contain your email address")
	}
	return nil
}
