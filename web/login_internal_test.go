package web

import (
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/triage"
)

// TestDummyHashCost: the hash compared for unknown emails costs what a
// staff password costs, or a failed sign-in would tell an attacker
// whether the address belongs to a staff member.
// A test that lowers the site's password cost lowers the dummy's with it.
func TestDummyHashCost(t *testing.T) {
	t.Parallel()
	for _, set := range []int{0, bcrypt.MinCost} {
		a := newAccounts(nil, false, set)
		cost, err := bcrypt.Cost(dummyHash(a.passwordCost))
		if err != nil {
			t.Fatal(err)
		}
		want := set
		if set == 0 {
			want = triage.PasswordCost
		}
		if cost != want {
			t.Errorf("PasswordCost %d: dummy hash cost %d, staff passwords cost %d", set, cost, want)
		}
	}
}

// TestPasswordCost: passwords set through the site cost what
// triage.PasswordCost says unless a test lowers it.
func TestPasswordCost(t *testing.T) {
	t.Parallel()
	if got := newAccounts(nil, false, 0).passwordCost; got != triage.PasswordCost {
		t.Errorf("default cost %d, want %d", got, triage.PasswordCost)
	}
}
