package pgp

import (
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// HTML is never rendered (EFAIL, Poddebniak et al. 2018: an HTML part can
// exfiltrate the plaintext of the encrypted parts around it through any
// URL it makes a client load). Staff read text extracted from it; the
// source is kept as an attachment to view escaped. Nothing it points to
// is ever fetched: links become "text <url>", images their alt text.

// maxHTMLTextFactor bounds the extracted text relative to the source:
// list markers and link URLs can make text longer than its markup, but
// not by much.
const maxHTMLTextFactor = 2

// skipped are the elements whose content is not text for a reader. The
// tokenizer reads each of them as raw text up to its own end tag, so an
// unclosed one cannot swallow more than it would in a browser.
var skipped = map[string]bool{
	"script": true, "style": true, "title": true, "noscript": true,
	"iframe": true, "noembed": true, "noframes": true,
}

// blocks are the elements that start and end on a line of their own.
var blocks = map[string]bool{
	"p": true, "div": true, "section": true, "article": true, "header": true,
	"footer": true, "nav": true, "aside": true, "main": true, "h1": true,
	"h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "table": true,
	"form": true, "fieldset": true, "address": true, "figure": true,
	"figcaption": true, "dl": true, "dt": true, "dd": true, "center": true,
	"caption": true, "details": true, "summary": true, "body": true, "html": true,
}

// htmlToText returns the text a reader of the HTML src would see, with
// line breaks for block elements and <br>, lists as "- item" or "1. item",
// quotes as "> ", links as "text <url>" (http, https, mailto and ftp
// only), images as their alt text, and no scripts, styles, comments or
// head elements. Entities are decoded: the result is text, not HTML, and
// must be escaped like any other text. Outside <pre>, white space runs
// collapse to one space, except that when the source holds OpenPGP armor
// line breaks are kept (armor is line-oriented, and mailers paste it
// into HTML with bare newlines as often as with <br>).
func htmlToText(src string) string {
	w := textWriter{keepNewlines: strings.Contains(src, "-----BEGIN PGP"), max: maxHTMLTextFactor*len(src) + 1024}
	z := html.NewTokenizer(strings.NewReader(src))
	type list struct {
		ordered bool
		n       int
	}
	var (
		lists    []list
		skip     string // the skipped element we are in
		linkHref string
		linkAt   int // where the link text starts in w
		inLink   bool
		cells    int // cells seen in the current table row
	)
	for !w.full() {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if skip != "" {
			if tt == html.EndTagToken {
				if name, _ := z.TagName(); string(name) == skip {
					skip = ""
				}
			}
			continue
		}
		switch tt {
		case html.TextToken:
			w.text(string(z.Text()))
		case html.StartTagToken, html.SelfClosingTagToken:
			nameB, hasAttr := z.TagName()
			name := string(nameB)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if key := string(k); key == "href" || key == "alt" {
					attrs[key] = string(v)
				}
			}
			selfClosing := tt == html.SelfClosingTagToken
			switch {
			case skipped[name]:
				if !selfClosing {
					skip = name
				}
			case name == "br":
				w.newline()
			case name == "hr":
				w.block()
				w.raw("----")
				w.block()
			case name == "pre" || name == "xmp" || name == "listing" || name == "plaintext":
				w.block()
				if !selfClosing {
					w.pre++
				}
			case name == "blockquote":
				w.block()
				if !selfClosing {
					w.quote++
				}
			case name == "ul" || name == "ol":
				w.block()
				if !selfClosing {
					lists = append(lists, list{ordered: name == "ol"})
				}
			case name == "li":
				w.block()
				depth := len(lists)
				marker := "- "
				if depth > 0 {
					l := &lists[depth-1]
					l.n++
					if l.ordered {
						marker = strconv.Itoa(l.n) + ". "
					}
				}
				w.raw(strings.Repeat("  ", min(max(depth-1, 0), 8)) + marker)
			case name == "tr":
				w.block()
				cells = 0
			case name == "td" || name == "th":
				if cells > 0 {
					w.raw("\t")
				}
				cells++
			case name == "a":
				linkHref, inLink, linkAt = safeURL(attrs["href"]), !selfClosing, w.len()
			case name == "img":
				if alt := strings.TrimSpace(attrs["alt"]); alt != "" {
					w.text("[" + alt + "]")
				}
			case blocks[name]:
				w.block()
			}
		case html.EndTagToken:
			nameB, _ := z.TagName()
			switch name := string(nameB); {
			case name == "pre" || name == "xmp" || name == "listing":
				if w.pre > 0 {
					w.pre--
				}
				w.block()
			case name == "blockquote":
				if w.quote > 0 {
					w.quote--
				}
				w.block()
			case name == "ul" || name == "ol":
				if len(lists) > 0 {
					lists = lists[:len(lists)-1]
				}
				w.block()
			case name == "a":
				if inLink && linkHref != "" {
					text := strings.TrimSpace(w.since(linkAt))
					if text != linkHref && text != strings.TrimPrefix(linkHref, "mailto:") {
						if text != "" {
							w.raw(" ")
						}
						w.raw("<" + linkHref + ">")
					}
				}
				inLink = false
			case name == "li" || name == "tr":
				w.block()
			case blocks[name]:
				w.block()
			}
		}
	}
	return w.String()
}

// safeURL returns href if it is an absolute http, https, mailto or ftp
// URL worth showing, else "". It is shown as text, never followed.
func safeURL(href string) string {
	href = strings.TrimSpace(href)
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ftp":
		if u.Host == "" {
			return ""
		}
		return href
	case "mailto":
		return href
	}
	return ""
}

// textWriter accumulates extracted text, collapsing white space and
// keeping at most one blank line between blocks.
type textWriter struct {
	b            strings.Builder
	pre, quote   int
	keepNewlines bool
	max          int
	space        bool // a space is pending
	nl           int  // line breaks at the end of b (2 = a blank line)
}

func (w *textWriter) full() bool { return w.b.Len() >= w.max }
func (w *textWriter) len() int   { return w.b.Len() }

func (w *textWriter) since(at int) string {
	s := w.b.String()
	if at > len(s) {
		return ""
	}
	return s[at:]
}

// startLine writes the quote prefix if b is at the start of a line.
func (w *textWriter) startLine() {
	if (w.nl > 0 || w.b.Len() == 0) && w.quote > 0 {
		w.b.WriteString(strings.Repeat("> ", min(w.quote, 8)))
	}
}

// raw writes s as it is (after any pending space).
func (w *textWriter) raw(s string) {
	if s == "" {
		return
	}
	w.startLine()
	if w.space && w.nl == 0 && w.b.Len() > 0 {
		w.b.WriteByte(' ')
	}
	w.space = false
	w.b.WriteString(s)
	w.nl = 0
}

// text writes a text node: as it is inside <pre>, else with white space
// collapsed.
func (w *textWriter) text(s string) {
	if w.pre > 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		for i, line := range strings.Split(s, "\n") {
			if i > 0 {
				w.newline()
			}
			if line != "" {
				w.startLine()
				w.b.WriteString(line)
				w.nl = 0
				w.space = false
			}
		}
		return
	}
	for len(s) > 0 {
		i := strings.IndexAny(s, " \t\n\r\f")
		if i < 0 {
			w.raw(s)
			return
		}
		if i > 0 {
			w.raw(s[:i])
		}
		j := i
		newline := false
		for j < len(s) && strings.IndexByte(" \t\n\r\f", s[j]) >= 0 {
			newline = newline || s[j] == '\n'
			j++
		}
		if newline && w.keepNewlines {
			if w.nl == 0 {
				w.newline()
			}
		} else {
			w.space = true
		}
		s = s[j:]
	}
}

// newline ends the current line.
func (w *textWriter) newline() {
	w.space = false
	if w.b.Len() == 0 {
		return
	}
	if w.nl < 2 {
		w.b.WriteByte('\n')
		w.nl++
	}
}

// block makes the next text start a new line.
func (w *textWriter) block() {
	w.space = false
	if w.b.Len() > 0 && w.nl == 0 {
		w.b.WriteByte('\n')
		w.nl = 1
	}
}

func (w *textWriter) String() string {
	lines := strings.Split(w.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
