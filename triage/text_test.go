package triage

import (
	"fmt"
	"strings"
	"testing"
)

// spoofers are the characters that make text display as something else:
// bidi embeddings, overrides and isolates, marks, zero-width characters,
// other format characters, and fillers that show as nothing.
var spoofers = []rune{
	0x202A, 0x202B, 0x202C, 0x202D, 0x202E, // LRE RLE PDF LRO RLO
	0x2066, 0x2067, 0x2068, 0x2069, // LRI RLI FSI PDI
	0x200B, 0x200C, 0x200D, 0x200E, 0x200F, // ZWSP ZWNJ ZWJ LRM RLM
	0x2060, 0x2061, 0x2062, 0x2063, 0x2064, // word joiner, invisible operators
	0xFEFF, 0x061C, 0x00AD, 0x180E, 0x206A, 0x206F, 0xFFF9, 0xE0001, 0xE0041,
	0x2028, 0x2029, // line and paragraph separators
	0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x17B4, 0x17B5, // invisible fillers
}

func TestInvisible(t *testing.T) {
	for _, r := range spoofers {
		if !Invisible(r) {
			t.Errorf("Invisible(U+%04X) = false", r)
		}
	}
	for _, r := range "aZ09 -_.,:;!?/()[]<>\"'&@#%é€中ابגשЖ😀\u00a0\u0301" {
		if Invisible(r) {
			t.Errorf("Invisible(%q U+%04X) = true", r, r)
		}
	}
}

func TestStripInvisible(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain title", "plain title"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"\u2067Alice\u2069 \u200bBob\ufeff", "Alice Bob"},
		{"https://good.example/\u202E/moc.live", "https://good.example//moc.live"},
		{"ad\u00admin\u3164", "admin"},
		{"Ünïcödé שלום مرحبا 中文 😀", "Ünïcödé שלום مرحبا 中文 😀"},
	} {
		if got := StripInvisible(tc.in); got != tc.want {
			t.Errorf("StripInvisible(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if HasInvisible(tc.in) != (tc.in != tc.want) {
			t.Errorf("HasInvisible(%q) = %v", tc.in, HasInvisible(tc.in))
		}
	}
	// Invalid UTF-8 is kept as it is: templ and encoding/json replace it.
	if got := StripInvisible("a\xffb\u202e"); got != "a\xffb" {
		t.Errorf("StripInvisible of invalid UTF-8 = %q", got)
	}
	// Nothing is allocated for clean text, the common case.
	s := strings.Repeat("clean ", 10)
	if n := testing.AllocsPerRun(10, func() { _ = StripInvisible(s) }); n != 0 {
		t.Errorf("StripInvisible of clean text allocates %v times", n)
	}
}

// TestCleanTitle_Invisible: titles and researcher names (both go
// through CleanTitle at intake) lose every spoofing character.
func TestCleanTitle_Invisible(t *testing.T) {
	for _, r := range spoofers {
		in := fmt.Sprintf("SQL%cinjection in%c login", r, r)
		got := CleanTitle(in)
		if HasInvisible(got) || !strings.HasPrefix(got, "SQL") || !strings.HasSuffix(got, "login") {
			t.Errorf("CleanTitle(%q) = %q", in, got)
		}
	}
}

// TestCleanCredit_Invisible: a researcher's display name or link with a
// spoofing character is refused, naming the field.
func TestCleanCredit_Invisible(t *testing.T) {
	for _, r := range spoofers {
		name := fmt.Sprintf("Alice%c Example", r)
		_, _, err := CleanCredit(CreditName, name, "")
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "display name") {
			t.Errorf("name %q: %v", name, err)
		}
		link := fmt.Sprintf("https://alice.example/%cpath", r)
		_, _, err = CleanCredit(CreditHandle, "alice", link)
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "link") {
			t.Errorf("link %q: %v", link, err)
		}
	}
	for _, name := range []string{"Alice Example", "Zoë", "שלום", "مرحبا", "中文", "r3search 😀"} {
		if got, _, err := CleanCredit(CreditName, name, "https://alice.example/"); err != nil || got != name {
			t.Errorf("CleanCredit(%q) = %q, %v", name, got, err)
		}
	}
}

// TestCleanFilename_Invisible: file names follow the same rule.
func TestCleanFilename_Invisible(t *testing.T) {
	for _, r := range spoofers {
		in := fmt.Sprintf("invoice%cfdp.exe", r)
		if got := CleanFilename(in); got != "invoicefdp.exe" {
			t.Errorf("CleanFilename(%q) = %q", in, got)
		}
	}
}
