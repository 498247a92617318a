package triage_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/secinbox/secinbox/triage"
)

func TestCleanFilename(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"résumé.txt", "résumé.txt"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\evil.exe`, "evil.exe"},
		{"dir/", "attachment"},
		{"/", "attachment"},
		{"", "attachment"},
		{"..", "attachment"},
		{"...", "attachment"},
		{" . ", "attachment"},
		{".hidden", "hidden"},
		{"..hidden.txt", "hidden.txt"},
		{" spaced name.txt ", "spaced name.txt"},
		{"trailing.exe.", "trailing.exe"},
		{"trailing.exe . .", "trailing.exe"},
		{"a\x00b\x1fc\x7f.txt", "a_b_c_.txt"},
		{"a\r\nContent-Type: x", "a__Content-Type_ x"},
		{"evil\u202egnp.exe", "evilgnp.exe"},           // RIGHT-TO-LEFT OVERRIDE dropped: reads as it is
		{"gpj.\u202eexe", "gpj.exe"},                   // the real extension shows
		{"zero\u200bwidth\u2028.txt", "zerowidth.txt"}, // ZWSP, LINE SEPARATOR
		{`a<b>c:d"e|f?g*h.txt`, "a_b_c_d_e_f_g_h.txt"},
		{"<script>.html", "_script_.html"},
		{"<img src=x onerror=alert(3)>.html", "_img src=x onerror=alert(3)_.html"},
		{"r\xe9sum\xe9.txt", "r_sum_.txt"},
		{"CON", "_CON"},
		{"nul.txt", "_nul.txt"},
		{"com1.log", "_com1.log"},
		{"LPT9", "_LPT9"},
		{"console.txt", "console.txt"},
		{"com10.txt", "com10.txt"},
		{strings.Repeat("a", 300), strings.Repeat("a", 200)},
		{strings.Repeat("é", 300) + ".tar.gz", strings.Repeat("é", (triage.MaxFilenameBytes-3)/2) + ".gz"},
		{strings.Repeat("a", 300) + "." + strings.Repeat("x", 40), strings.Repeat("a", 200)},
	}
	for _, tt := range tests {
		got := triage.CleanFilename(tt.in)
		if got != tt.want {
			t.Errorf("CleanFilename(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCleanFilename_Invariants: whatever goes in, what comes out is a
// harmless, non-empty, bounded base name, and cleaning it again changes
// nothing.
func TestCleanFilename_Invariants(t *testing.T) {
	inputs := []string{
		"", ".", "/..", "\\", "a/b\\c", "\x00", "\xff\xfe", "\u202e\u202d\u2066",
		strings.Repeat("/", 500), strings.Repeat(".", 500) + "x",
		strings.Repeat("\u202e", 300), strings.Repeat("日本", 200) + ".pdf",
		"CON.", " nul ", "x.\u202e" + strings.Repeat("y", 30),
	}
	for _, in := range inputs {
		got := triage.CleanFilename(in)
		if got == "" || len(got) > triage.MaxFilenameBytes || !utf8.ValidString(got) {
			t.Errorf("CleanFilename(%q) = %q", in, got)
		}
		if strings.ContainsAny(got, `/\<>:"|?*`) || strings.HasPrefix(got, ".") || strings.HasSuffix(got, ".") {
			t.Errorf("CleanFilename(%q) = %q: forbidden character or dot", in, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Errorf("CleanFilename(%q) = %q: holds %U", in, got, r)
			}
		}
		if again := triage.CleanFilename(got); again != got {
			t.Errorf("CleanFilename(%q) = %q, but CleanFilename(%q) = %q", in, got, got, again)
		}
	}
}
