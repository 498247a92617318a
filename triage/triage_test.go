package triage_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func TestNewReport(t *testing.T) {
	at := time.Date(2026, 3, 29, 0, 30, 0, 0, time.FixedZone("CET", 3600)) // the night Europe changes clocks
	r := triage.NewReport(at)
	if r.Status != triage.StatusNew || r.Signature.Status != triage.SignatureNone {
		t.Errorf("status %q, signature %q", r.Status, r.Signature.Status)
	}
	if r.ReceivedAt.Location() != time.UTC {
		t.Errorf("received_at not UTC: %v", r.ReceivedAt)
	}
	if got := r.FirstResponseDue.Sub(r.ReceivedAt); got != 24*time.Hour {
		t.Errorf("first response due after %v, want 24h", got)
	}
}

func TestTrackingID(t *testing.T) {
	for _, tc := range []struct {
		year, seq int
		want      string
	}{
		{2026, 1, "SEC-2026-0001"},
		{2026, 42, "SEC-2026-0042"},
		{2027, 12345, "SEC-2027-12345"},
	} {
		if got := triage.TrackingID(tc.year, tc.seq); got != tc.want {
			t.Errorf("TrackingID(%d, %d) = %q, want %q", tc.year, tc.seq, got, tc.want)
		}
	}
}

func TestCleanTitle(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  XSS in login\r\n form ", "XSS in login form"},
		{"a\x00b\tc", "a b c"},
		{"", ""},
		{strings.Repeat("x", 400), strings.Repeat("x", triage.MaxTitleLength) + "…"},
		{"<script>alert(1)</script>", "<script>alert(1)</script>"}, // escaping is the renderer's job
	} {
		if got := triage.CleanTitle(tc.in); got != tc.want {
			t.Errorf("CleanTitle(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, s := range []triage.Status{triage.StatusNew, triage.StatusUndecryptable} {
		if got, err := triage.ParseStatus(string(s)); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "New", "closed", "new "} {
		if _, err := triage.ParseStatus(s); triage.ErrorCode(err) != triage.EINVALID {
			t.Errorf("ParseStatus(%q) error %v, want EINVALID", s, err)
		}
	}
}

func TestRole(t *testing.T) {
	for _, tc := range []struct {
		role, need triage.Role
		ok         bool
	}{
		{triage.RoleAdmin, triage.RoleViewer, true},
		{triage.RoleAdmin, triage.RoleAdmin, true},
		{triage.RoleTriager, triage.RoleAdmin, false},
		{triage.RoleTriager, triage.RoleTriager, true},
		{triage.RoleViewer, triage.RoleTriager, false},
		{triage.Role("root"), triage.RoleViewer, false},
	} {
		if got := tc.role.Can(tc.need); got != tc.ok {
			t.Errorf("%s.Can(%s) = %v, want %v", tc.role, tc.need, got, tc.ok)
		}
	}
	if _, err := triage.ParseRole("root"); triage.ErrorCode(err) != triage.EINVALID {
		t.Errorf("ParseRole(root) error %v, want EINVALID", err)
	}
	if r, err := triage.ParseRole("viewer"); err != nil || r != triage.RoleViewer {
		t.Errorf("ParseRole(viewer) = %q, %v", r, err)
	}
}

func TestErrorCode(t *testing.T) {
	nf := triage.Errorf(triage.ENOTFOUND, "report %d not found", 7)
	wrapped := fmt.Errorf("db: report: %w", nf)
	if triage.ErrorCode(wrapped) != triage.ENOTFOUND || triage.ErrorMessage(wrapped) != "report 7 not found" {
		t.Errorf("wrapped: %q %q", triage.ErrorCode(wrapped), triage.ErrorMessage(wrapped))
	}
	other := errors.New("disk on fire")
	if triage.ErrorCode(other) != triage.EINTERNAL || triage.ErrorMessage(other) != "internal error" {
		t.Errorf("other: %q %q", triage.ErrorCode(other), triage.ErrorMessage(other))
	}
	if triage.ErrorCode(nil) != "" {
		t.Error("nil error has a code")
	}
}

func TestValidAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"r@example.org":                   "r@example.org",
		"R.Sec+x@Example.ORG":             "R.Sec+x@example.org",
		"security@localhost":              "security@localhost",
		"zoë@example.org":                 "",
		"r@exämple.org":                   "",
		"R <r@example.org>":               "",
		"r@example.org\r\nBcc: x@y.org":   "",
		"a@example.org, b@example.org":    "",
		"r@.example.org":                  "",
		"r@example..org":                  "",
		"@example.org":                    "",
		"r@":                              "",
		strings.Repeat("a", 250) + "@x.y": "",
	} {
		got, err := triage.ValidAddress(addr)
		if want == "" {
			if err == nil {
				t.Errorf("ValidAddress(%q) = %q, want an error", addr, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("ValidAddress(%q) = %q, %v, want %q", addr, got, err, want)
		}
	}
}

func TestValidSubject(t *testing.T) {
	for s, ok := range map[string]bool{
		"[SEC-2026-0001] Report received":              true,
		"Überlauf im Parser":                           true,
		"two\r\nBcc: x@example.org":                    false,
		"next line\u0085here":                          false,
		"line\u2028separator":                          false,
		"tab\tinside":                                  false,
		strings.Repeat("a", triage.MaxSubjectLength+1): false,
	} {
		if err := triage.ValidSubject(s); (err == nil) != ok {
			t.Errorf("ValidSubject(%q) = %v, want ok %v", s, err, ok)
		}
	}
}
