package triage

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on labels.
const (
	MaxLabelLength = 32 // runes
	MaxLabels      = 20 // per report
)

// ParseLabel returns label s trimmed and lower-cased, or EINVALID: 1 to
// MaxLabelLength runes of printable text, no control or format
// characters, no commas (lists of labels are comma-separated).
func ParseLabel(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if l == "" {
		return "", Errorf(EINVALID, "empty label")
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(l) > MaxLabelLength {
		return "", Errorf(EINVALID, "label %q: at most %d characters of text", cut(s, 40), MaxLabelLength)
	}
	for _, c := range l {
		if unicode.IsControl(c) || Invisible(c) || !unicode.IsPrint(c) && c != ' ' || c == ',' {
			return "", Errorf(EINVALID, "label %q: no control characters or commas", cut(s, 40))
		}
	}
	return l, nil
}

// ParseLabels validates a report's labels and returns them sorted,
// without duplicates. More than MaxLabels is EINVALID.
func ParseLabels(in []string) ([]string, error) {
	if len(in) > MaxLabels {
		return nil, Errorf(EINVALID, "at most %d labels", MaxLabels)
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		l, err := ParseLabel(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
