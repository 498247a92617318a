package triage

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// Site is what an admin says about the organisation on the site's pages:
// its name and logo in every page's header, and the disclosure policy's
// own words (scope, safe harbour, languages). The texts are plain text:
// pages render them with a small safe subset (paragraphs, "- " lists,
// http(s) links), never as HTML.
type Site struct {
	Organisation string // "" shows "secinbox"
	ScopeIn      string // what researchers may test
	ScopeOut     string // what they may not
	SafeHarbour  string // "" keeps the built-in text
	Languages    string // "English, German"
	// LogoType and LogoSHA256 describe the logo, kept apart (Logo); ""
	// for none.
	LogoType   string
	LogoSHA256 string
}

// Bounds on the site's texts and logo.
const (
	MaxOrganisation = 100     // runes
	MaxSiteText     = 8 << 10 // bytes, each policy text
	MaxLanguages    = 100     // bytes
	MaxLogoBytes    = 256 << 10
)

// LogoTypes are the image types a logo may be: raster images only (an
// SVG can carry script).
var LogoTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// Validate normalizes s (trimmed, LF line endings) and checks it: the
// organisation one line of at most MaxOrganisation runes, the texts at
// most MaxSiteText bytes of UTF-8 without control characters but line
// breaks and tabs. EINVALID names the field.
func (s *Site) Validate() error {
	s.Organisation = strings.TrimSpace(s.Organisation)
	if utf8.RuneCountInString(s.Organisation) > MaxOrganisation || !utf8.ValidString(s.Organisation) ||
		strings.ContainsFunc(s.Organisation, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Errorf(EINVALID, "organisation: one line of at most %d characters", MaxOrganisation)
	}
	s.Organisation = StripInvisible(s.Organisation)
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"scope_in", &s.ScopeIn, MaxSiteText}, {"scope_out", &s.ScopeOut, MaxSiteText}, {"safe_harbour", &s.SafeHarbour, MaxSiteText}, {"languages", &s.Languages, MaxLanguages}} {
		v := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(*f.v, "\r\n", "\n"), "\r", "\n"))
		if len(v) > f.max || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }) {
			return Errorf(EINVALID, "%s: at most %d bytes of text", f.name, f.max)
		}
		*f.v = v
	}
	if strings.Contains(s.Languages, "\n") {
		return Errorf(EINVALID, "languages: one line")
	}
	return nil
}

// LogoType checks a logo's bytes and returns its type, sniffed from the
// bytes (never taken from the upload's claim): one of LogoTypes, at most
// MaxLogoBytes. EINVALID otherwise.
func LogoType(data []byte) (string, error) {
	if len(data) == 0 {
		return "", Errorf(EINVALID, "logo: empty file")
	}
	if len(data) > MaxLogoBytes {
		return "", Errorf(EINVALID, "logo: larger than %d KiB", MaxLogoBytes>>10)
	}
	t := http.DetectContentType(data)
	for _, ok := range LogoTypes {
		if t == ok {
			return t, nil
		}
	}
	return "", Errorf(EINVALID, "logo: a PNG, JPEG, GIF or WebP image, not %s", t)
}
