package templates

import (
	"context"
	"strings"
	"unicode"
)

// Branding is the organisation every page's header names: its name (""
// shows "secinbox") and its logo's URL ("" for none).
type Branding struct {
	Name    string
	LogoURL string
}

type brandingKey struct{}

// WithBranding returns ctx carrying b, for the layouts: no page handler
// has to pass it along.
func WithBranding(ctx context.Context, b Branding) context.Context {
	return context.WithValue(ctx, brandingKey{}, b)
}

func brandingFrom(ctx context.Context) Branding {
	b, _ := ctx.Value(brandingKey{}).(Branding)
	return b
}

// brandName is the name the header shows.
func brandName(ctx context.Context) string {
	if n := brandingFrom(ctx).Name; n != "" {
		return n
	}
	return "secinbox"
}

// Inline is a run of plain text, or a link when URL is set (only
// http and https URLs become links; the text shown is the URL itself).
type Inline struct {
	Text string
	URL  string
}

// TextBlock is a paragraph (Lines, each a line of inlines), or a bullet
// list (Items, each an item of inlines).
type TextBlock struct {
	Lines [][]Inline
	Items [][]Inline
}

// RichText reads plain text an admin wrote for a public page into the
// small safe subset pages show: blank lines separate paragraphs, lines
// starting with "- " or "* " are list items, and http(s) URLs are links.
// Nothing else is markup: every character is shown as typed (templ
// escapes it), so the text can never be HTML.
func RichText(s string) []TextBlock {
	var out []TextBlock
	var cur *TextBlock
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		t := strings.TrimRightFunc(line, unicode.IsSpace)
		trimmed := strings.TrimLeftFunc(t, unicode.IsSpace)
		switch {
		case trimmed == "":
			flush()
		case strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "* "):
			if cur != nil && cur.Items == nil {
				flush()
			}
			if cur == nil {
				cur = &TextBlock{Items: [][]Inline{}}
			}
			cur.Items = append(cur.Items, linkify(strings.TrimSpace(trimmed[2:])))
		default:
			if cur != nil && cur.Items != nil {
				flush()
			}
			if cur == nil {
				cur = &TextBlock{}
			}
			cur.Lines = append(cur.Lines, linkify(trimmed))
		}
	}
	flush()
	return out
}

// linkify splits s into text and http(s) links. A URL ends at white
// space; trailing punctuation is left out of it.
func linkify(s string) []Inline {
	var out []Inline
	for s != "" {
		i := indexURL(s)
		if i < 0 {
			out = append(out, Inline{Text: s})
			break
		}
		if i > 0 {
			out = append(out, Inline{Text: s[:i]})
		}
		end := strings.IndexFunc(s[i:], unicode.IsSpace)
		if end < 0 {
			end = len(s) - i
		}
		u := strings.TrimRight(s[i:i+end], ".,;:!?)'\"")
		if len(u) <= len("https://") {
			out = append(out, Inline{Text: s[i : i+end]})
		} else {
			out = append(out, Inline{Text: u, URL: u})
			end = len(u)
		}
		s = s[i+end:]
	}
	return out
}

func indexURL(s string) int {
	a, b := strings.Index(s, "https://"), strings.Index(s, "http://")
	switch {
	case a < 0:
		return b
	case b < 0:
		return a
	}
	return min(a, b)
}
