package triage

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilenameBytes bounds a cleaned file name. Most file systems allow 255.
const MaxFilenameBytes = 200

// maxExtensionBytes is the longest extension CleanFilename keeps when it
// has to shorten a name; a longer "extension" is just part of the name.
const maxExtensionBytes = 16

// CleanFilename is the one rule for every file name secinbox stores or
// offers for download, whoever sent it:
//
//   - only the base name: everything up to the last / or \ is dropped;
//   - Invisible characters (format and bidi controls such as U+202E, line
//     and paragraph separators, fillers) are dropped, so the name reads as
//     it is;
//   - control characters, invalid UTF-8 and the characters Windows
//     forbids, <>:"/\|?*, become '_';
//   - no leading dots (hidden files, ".."), no leading or trailing white
//     space, no trailing dots (Windows drops them, changing the extension);
//   - Windows device names (CON, NUL, COM1...) get a '_' in front;
//   - at most MaxFilenameBytes bytes of UTF-8, cut in the base name so a
//     short extension survives;
//   - never empty: "attachment" when nothing is left.
//
// It does not escape HTML: templates do that.
func CleanFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for len(name) > 0 {
		r, size := utf8.DecodeRuneInString(name)
		name = name[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteByte('_')
		case Invisible(r):
			// invisible: dropped
		case unicode.IsControl(r) || strings.ContainsRune(`<>:"/\|?*`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.TrimSpace(b.String())
	name = strings.TrimLeft(name, ".")
	name = strings.TrimRight(name, ". \t")
	if len(name) > MaxFilenameBytes {
		ext := extension(name)
		if len(ext) > maxExtensionBytes {
			ext = ""
		}
		base := truncateUTF8(name[:len(name)-len(ext)], MaxFilenameBytes-len(ext))
		name = strings.TrimRight(base, ". \t") + ext
	}
	if isDeviceName(name) {
		name = "_" + name
		if len(name) > MaxFilenameBytes {
			name = truncateUTF8(name, MaxFilenameBytes)
		}
	}
	if strings.Trim(name, ".") == "" {
		return "attachment"
	}
	return name
}

// extension is name's last ".ext", or "".
func extension(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[i:]
	}
	return ""
}

// isDeviceName reports whether name, up to its first dot, is one of the
// names Windows reserves for devices, in any case.
func isDeviceName(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimSpace(base))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		return base[3] >= '0' && base[3] <= '9'
	}
	return false
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
