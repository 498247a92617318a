package triage_test

import (
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

func TestParseCVSS(t *testing.T) {
	for _, tc := range []struct {
		vector  string
		version string
		score   float64
		sev     triage.Severity
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8, triage.SeverityCritical},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "3.1", 6.1, triage.SeverityMedium},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "3.1", 0, triage.SeverityNone},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "3.1", 1.6, triage.SeverityLow},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N", "3.1", 7.1, triage.SeverityHigh},
		// Temporal metrics lower the score: 9.8 × 0.91 × 0.95 × 0.92.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U", "3.1", 7.8, triage.SeverityHigh},
		// Environmental metrics: no confidentiality requirement, no modified impact.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MC:N/MI:N/MA:N", "3.1", 0, triage.SeverityNone},
		// Metric order is free in v3.1.
		{"CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N", "3.1", 9.8, triage.SeverityCritical},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3, triage.SeverityCritical},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H", "4.0", 7.9, triage.SeverityHigh},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U", "4.0", 9.1, triage.SeverityCritical},
		{"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", "4.0", 1.0, triage.SeverityLow},
	} {
		c, err := triage.ParseCVSS("  " + tc.vector + "\n")
		if err != nil {
			t.Errorf("%s: %v", tc.vector, err)
			continue
		}
		if c.Version != tc.version || c.Score != tc.score || c.Severity() != tc.sev {
			t.Errorf("%s: %+v %s, want %s %.1f %s", tc.vector, c, c.Severity(), tc.version, tc.score, tc.sev)
		}
		if !strings.HasPrefix(c.Vector, "CVSS:"+tc.version+"/") {
			t.Errorf("%s: vector %q", tc.vector, c.Vector)
		}
	}
}

func TestParseCVSS_Invalid(t *testing.T) {
	for _, tc := range []struct{ vector, reason string }{
		{"", "empty"},
		{"AV:N/AC:L", `starts with "CVSS:3.1/"`},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", `version "3.0" is not supported`},
		{"CVSS:2.0/AV:N", "not supported"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "base metric A is not defined"},
		{"CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "invalid CVSS v3.1 vector"},
		{"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", "ZZ"},
		{"CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "order"},
		{"CVSS:4.0/AV:N/AC:L", "invalid CVSS v4.0 vector"},
		{"CVSS:3.1/" + strings.Repeat("A", 600), "longer than"},
	} {
		_, err := triage.ParseCVSS(tc.vector)
		if triage.ErrorCode(err) != triage.EINVALID || !strings.Contains(triage.ErrorMessage(err), tc.reason) {
			t.Errorf("%.40q: err %v, want EINVALID mentioning %q", tc.vector, err, tc.reason)
		}
	}
}

func TestSeverity(t *testing.T) {
	for score, want := range map[float64]triage.Severity{0: "none", 0.1: "low", 3.9: "low", 4: "medium", 6.9: "medium", 7: "high", 8.9: "high", 9: "critical", 10: "critical"} {
		if got := triage.SeverityFromScore(score); got != want {
			t.Errorf("SeverityFromScore(%.1f) = %s, want %s", score, got, want)
		}
	}
	for _, s := range []string{"", "unscored", "High", "severe"} {
		if _, err := triage.ParseSeverity(s); triage.ErrorCode(err) != triage.EINVALID {
			t.Errorf("ParseSeverity(%q) accepted", s)
		}
	}
	if s, err := triage.ParseSeverity("high"); err != nil || s != triage.SeverityHigh {
		t.Errorf("ParseSeverity(high) = %s, %v", s, err)
	}
}

// FuzzParseCVSS: any string gives a valid score or EINVALID, never a
// panic, and a vector that parsed parses again to the same result.
func FuzzParseCVSS(f *testing.F) {
	for _, s := range []string{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U/CR:H/MAV:P",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:H/MAV:A/S:P/AU:Y/R:U/V:C/RE:H/U:Red",
		"CVSS:3.1/", "CVSS:4.0", "CVSS:4.0/", "CVSS:3.1/AV:N/AV",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := triage.ParseCVSS(s)
		if err != nil {
			if triage.ErrorCode(err) != triage.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if c.Score < 0 || c.Score > 10 || (c.Version != "3.1" && c.Version != "4.0") {
			t.Fatalf("%q: %+v", s, c)
		}
		again, err := triage.ParseCVSS(c.Vector)
		if err != nil || again != c {
			t.Fatalf("%q → %+v does not parse again: %+v %v", s, c, again, err)
		}
	})
}
