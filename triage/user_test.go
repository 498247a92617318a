package triage

import (
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		password string
		ok       bool
	}{
		{"correct horse battery staple", true},
		{"twelve chars", true},
		{"élève-élève!", true}, // 12 characters, more bytes
		{"eleven char", false},
		{"", false},
		{strings.Repeat("a", 20), false},
		{strings.Repeat("é", 20), false},
		{strings.Repeat("ab", 36), true},
		{strings.Repeat("ab", 36) + "c", false}, // 73 bytes: bcrypt would ignore the tail
		{"my name is alice, hi", false},         // contains the local part
		{"MY NAME IS ALICE, HI", false},
		{"valid\xffutf8 not at all", false},
	} {
		err := CheckPassword(tc.password, "alice@example.com")
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.password, err, tc.ok)
		}
		if err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("%q: code %s", tc.password, ErrorCode(err))
		}
	}
}

func TestValidAuditAction(t *testing.T) {
	for s, want := range map[string]bool{
		"login.success": true, "report.view": true, "login_x": true, "key.rotate": true, "a": true,
		"": false, "Login": false, ".x": false, "x.": false, "a b": false, "a-b": false,
		strings.Repeat("a", MaxAuditAction): true, strings.Repeat("a", MaxAuditAction+1): false,
	} {
		if got := ValidAuditAction(s); got != want {
			t.Errorf("ValidAuditAction(%q) = %v", s, got)
		}
	}
}
