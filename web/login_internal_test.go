package web

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/triage"
)

// TestDummyHashCost: the hash compared for unknown emails costs what a
// staff password costs, or a failed sign-in would tell an attacker
// whether the address belongs to a staff member.
func TestDummyHashCost(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash())
	if err != nil {
		t.Fatal(err)
	}
	if cost != triage.PasswordCost {
		t.Errorf("dummy hash cost %d, staff passwords cost %d", cost, triage.PasswordCost)
	}
}

// TestPasswordCost: passwords set through the site cost what
// triage.PasswordCost says unless a test lowers it.
func TestPasswordCost(t *testing.T) {
	if got := newAccounts(nil, false, 0).passwordCost; got != triage.PasswordCost {
		t.Errorf("default cost %d, want %d", got, triage.PasswordCost)
	}
}
