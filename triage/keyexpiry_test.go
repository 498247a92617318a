package triage

import (
	"testing"
	"time"
)

func TestKeyExpiryAt(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name    string
		expires time.Time
		want    KeyExpiryState
	}{
		{"never", time.Time{}, KeyValid},
		{"in a year", now.AddDate(1, 0, 0), KeyValid},
		{"in 31 days", now.Add(31 * day), KeyValid},
		{"in exactly 30 days", now.Add(30 * day), KeyExpiringSoon},
		{"in 29 days", now.Add(29 * day), KeyExpiringSoon},
		{"in a second", now.Add(time.Second), KeyExpiringSoon},
		{"now", now, KeyExpired},
		{"a year ago", now.AddDate(-1, 0, 0), KeyExpired},
	} {
		if got := KeyExpiryAt(tc.expires, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
