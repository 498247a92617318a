package triage

import (
	"fmt"
	"math"
	"strings"

	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// Severity is how bad a vulnerability is, in the CVSS rating bands.
type Severity string

const (
	SeverityUnscored Severity = ""         // not assessed yet
	SeverityNone     Severity = "none"     // CVSS 0.0: not a vulnerability worth fixing
	SeverityLow      Severity = "low"      // 0.1–3.9
	SeverityMedium   Severity = "medium"   // 4.0–6.9
	SeverityHigh     Severity = "high"     // 7.0–8.9
	SeverityCritical Severity = "critical" // 9.0–10.0
)

// Severities returns the assessed severities, lowest first.
func Severities() []Severity {
	return []Severity{SeverityNone, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
}

// Valid reports whether s is a known severity, unscored included.
func (s Severity) Valid() bool {
	switch s {
	case SeverityUnscored, SeverityNone, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return true
	}
	return false
}

// ParseSeverity returns the assessed severity named s, or EINVALID.
// "unscored" (and "") is not one: use SeverityUnscored in filters.
func ParseSeverity(s string) (Severity, error) {
	if sev := Severity(s); sev != SeverityUnscored && sev.Valid() {
		return sev, nil
	}
	return "", Errorf(EINVALID, "unknown severity %q (want none, low, medium, high or critical)", s)
}

// SeverityFromScore is the CVSS qualitative rating of a score (the same
// bands in v3.1 and v4.0).
func SeverityFromScore(score float64) Severity {
	switch {
	case score >= 9.0:
		return SeverityCritical
	case score >= 7.0:
		return SeverityHigh
	case score >= 4.0:
		return SeverityMedium
	case score > 0:
		return SeverityLow
	}
	return SeverityNone
}

// CVSS is a scored CVSS vector. The zero value means no vector.
type CVSS struct {
	Version string  // "3.1" or "4.0"
	Vector  string  // as normalized by the scoring library
	Score   float64 // 0.0–10.0, one decimal
}

// Severity is the rating of c's score; SeverityUnscored without a vector.
func (c CVSS) Severity() Severity {
	if c.Vector == "" {
		return SeverityUnscored
	}
	return SeverityFromScore(c.Score)
}

// MaxCVSSVector bounds a vector string; real ones are under 200 bytes.
const MaxCVSSVector = 512

// ParseCVSS scores a CVSS v3.1 ("CVSS:3.1/AV:N/...") or v4.0
// ("CVSS:4.0/AV:N/...") vector with github.com/pandatix/go-cvss. An
// invalid vector is EINVALID with the reason.
//
// The score of a v3.1 vector is its environmental score when it sets
// environmental metrics, else its temporal score when it sets temporal
// ones, else its base score: the most specific score the vector supports.
// A v4.0 vector has one score, which already takes every metric group
// into account.
func ParseCVSS(vector string) (c CVSS, err error) {
	vector = strings.TrimSpace(vector)
	if vector == "" {
		return CVSS{}, Errorf(EINVALID, "empty CVSS vector")
	}
	if len(vector) > MaxCVSSVector {
		return CVSS{}, Errorf(EINVALID, "CVSS vector longer than %d bytes", MaxCVSSVector)
	}
	defer func() {
		// The library is only as hostile-input-proof as its fuzzing.
		if p := recover(); p != nil {
			c, err = CVSS{}, Errorf(EINVALID, "invalid CVSS vector")
		}
	}()
	switch {
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		v, err := gocvss31.ParseVector(vector)
		if err != nil {
			return CVSS{}, Errorf(EINVALID, "invalid CVSS v3.1 vector: %s", cvssReason(err))
		}
		score := v.BaseScore()
		switch {
		case cvss31Has(v, "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"):
			score = v.EnvironmentalScore()
		case cvss31Has(v, "E", "RL", "RC"):
			score = v.TemporalScore()
		}
		return CVSS{Version: "3.1", Vector: v.Vector(), Score: round1(score)}, nil
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		v, err := gocvss40.ParseVector(vector)
		if err != nil {
			return CVSS{}, Errorf(EINVALID, "invalid CVSS v4.0 vector: %s", cvssReason(err))
		}
		return CVSS{Version: "4.0", Vector: v.Vector(), Score: round1(v.Score())}, nil
	case strings.HasPrefix(vector, "CVSS:"):
		version, _, _ := strings.Cut(strings.TrimPrefix(vector, "CVSS:"), "/")
		return CVSS{}, Errorf(EINVALID, "CVSS version %q is not supported (use 3.1 or 4.0)", cut(version, 10))
	}
	return CVSS{}, Errorf(EINVALID, `a CVSS vector starts with "CVSS:3.1/" or "CVSS:4.0/"`)
}

// cvss31Has reports whether v sets any of the metrics to a value other
// than X (not defined).
func cvss31Has(v *gocvss31.CVSS31, metrics ...string) bool {
	for _, m := range metrics {
		if val, err := v.Get(m); err == nil && val != "X" {
			return true
		}
	}
	return false
}

// cvssReason turns a library error into words for the person who typed
// the vector.
func cvssReason(err error) string {
	msg := err.Error()
	switch msg {
	case "invalid metric value":
		return "a metric has a value it cannot take"
	case "invalid metric order":
		return "metrics are missing or out of the specification's order"
	case "too short vector":
		return "base metrics are missing"
	}
	return msg
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// cut shortens s to at most n bytes, for quoting user input in errors.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// String is "9.8 critical (CVSS:3.1/...)", or "" without a vector.
func (c CVSS) String() string {
	if c.Vector == "" {
		return ""
	}
	return fmt.Sprintf("%.1f %s (%s)", c.Score, c.Severity(), c.Vector)
}
