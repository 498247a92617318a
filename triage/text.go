package triage

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Invisible reports whether r is a character that is not seen yet
// changes how the text around it displays or compares, so that a title,
// a name or a link could read as something else: the one rule for such
// characters in everything secinbox stores or shows that someone else
// wrote (titles, researcher names, credit names and links, file names).
// They are:
//
//   - format characters (Unicode category Cf): the bidi embeddings,
//     overrides and isolates (U+202A–U+202E, U+2066–U+2069), the marks
//     (U+200E, U+200F, U+061C), zero-width characters (U+200B–U+200D,
//     U+2060–U+2064, U+FEFF), the soft hyphen, tags and the like;
//   - the line and paragraph separators U+2028 and U+2029;
//   - characters that show as nothing: the combining grapheme joiner
//     U+034F, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, and the
//     Khmer inherent vowels U+17B4, U+17B5.
//
// Dropping joiners breaks a few emoji sequences into their parts; that
// is the price of names that read as they are.
func Invisible(r rune) bool {
	switch r {
	case 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0:
		return true
	}
	return r >= 0x80 && unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// HasInvisible reports whether s holds an Invisible character.
func HasInvisible(s string) bool { return strings.ContainsFunc(s, Invisible) }

// StripInvisible returns s without its Invisible characters; anything
// else, invalid UTF-8 included, is kept as it is (HTML and JSON encoders
// replace invalid bytes). Text without them is returned as it is,
// without copying.
func StripInvisible(s string) string {
	i := strings.IndexFunc(s, Invisible)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for s = s[i:]; s != ""; {
		r, size := utf8.DecodeRuneInString(s)
		if !Invisible(r) {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}
