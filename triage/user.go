package triage

import "time"

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
	ID           int64
	Email        string
	Role         Role
	PasswordHash []byte // bcrypt
	CreatedAt    time.Time
}
