package pgp

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"Plain", "just text", "just text"},
		{"Document", "<html><head><title>T</title><style>p{}</style><meta charset=utf-8></head><body><p>one &amp; two</p><script>alert(1)</script>three<br>four</body></html>", "one & two\nthree\nfour"},
		{"Entities", "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &#x263A; &eacute;", `<script>alert(1)</script> "q" ☺ é`},
		{"Comments", "a<!-- hidden <b>x</b> -->b<!--[if mso]>outlook<![endif]-->c", "abc"},
		{"Whitespace", "  lots \n\t of   \r\n space  ", "lots of space"},
		{"Paragraphs", "<p>one</p><p>two</p><div>three</div><h1>Four</h1>five", "one\ntwo\nthree\nFour\nfive"},
		{"Breaks", "a<br>b<br/><br>c", "a\nb\n\nc"},
		{"NoRunsOfBlankLines", "a<br><br><br><br><br>b", "a\n\nb"},
		{"Lists", "<ul><li>one</li><li>two<ol><li>inner</li><li>second</li></ol></li></ul>after", "- one\n- two\n  1. inner\n  2. second\nafter"},
		{"Link", `see <a href="https://example.com/x?a=1&amp;b=2">the report</a>.`, "see the report <https://example.com/x?a=1&b=2>."},
		{"LinkSameAsText", `<a href="https://example.com/">https://example.com/</a>`, "https://example.com/"},
		{"Mailto", `<a href="mailto:bob@example.com">bob@example.com</a> or <a href="mailto:bob@example.com">Bob</a>`, "bob@example.com or Bob <mailto:bob@example.com>"},
		{"JavascriptLink", `<a href="javascript:alert(1)">click</a> <a href="data:text/html,x">data</a> <a href="/relative">rel</a>`, "click data rel"},
		{"Image", `<img src="https://tracker.example/p.gif" alt="logo"><img src="https://tracker.example/q.gif">`, "[logo]"},
		{"Pre", "<pre>  indented\n    code  here\n</pre>after", "indented\n    code  here\nafter"},
		{"Blockquote", "<p>me</p><blockquote><p>you wrote</p><blockquote>deeper</blockquote></blockquote>me again", "me\n> you wrote\n> > deeper\nme again"},
		{"Table", "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>", "a\tb\n1\t2"},
		{"Hr", "above<hr>below", "above\n----\nbelow"},
		{"Noscript", "<noscript><p>enable js</p></noscript>shown", "shown"},
		{"Iframe", `<iframe src="https://evil.example/">fallback</iframe>shown`, "shown"},
		{"UnclosedScript", "before<script>alert(1)", "before"},
		{"UnclosedTags", "<div><p><b>bold <i>both", "bold both"},
		{"Textarea", "<textarea><b>kept as text</b></textarea>", "<b>kept as text</b>"},
		{"StyleAttribute", `<p style="display:none">hidden by CSS, shown here</p>`, "hidden by CSS, shown here"},
		{"InvalidUTF8", "bad \xff\xfe bytes", "bad \ufffd bytes"},
		{"ArmorKeepsLines", "<div>-----BEGIN PGP MESSAGE-----\n\nhQEM\nABCD\n-----END PGP MESSAGE-----</div>", "-----BEGIN PGP MESSAGE-----\nhQEM\nABCD\n-----END PGP MESSAGE-----"},
		{"ArmorWithBr", "-----BEGIN PGP MESSAGE-----<br>\n<br>\nhQEM<br>\nABCD<br>\n-----END PGP MESSAGE-----<br>", "-----BEGIN PGP MESSAGE-----\n\nhQEM\nABCD\n-----END PGP MESSAGE-----"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := htmlToText(strings.ToValidUTF8(tt.in, "\ufffd"))
			if got != tt.want {
				t.Errorf("htmlToText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestHTMLToText_Bounded: hostile HTML costs time and memory in
// proportion to its size, and the text is never much longer than it.
func TestHTMLToText_Bounded(t *testing.T) {
	t.Parallel()
	inputs := map[string]string{
		"DeepNesting":  strings.Repeat("<div><blockquote><ul><li>", 20000) + "x",
		"ManyLinks":    strings.Repeat(`<a href="https://example.com/aaaaaaaaaaaaaaaaaaaa">b</a>`, 20000),
		"ManyItems":    "<ol>" + strings.Repeat("<li>", 50000),
		"ManyBreaks":   strings.Repeat("<br>", 100000),
		"ManyEntities": strings.Repeat("&NotNestedGreaterGreater;", 20000),
		"HugeText":     strings.Repeat("word ", 200000),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			got := htmlToText(in)
			if len(got) > maxHTMLTextFactor*len(in)+1024 {
				t.Errorf("%d bytes of text from %d bytes of HTML", len(got), len(in))
			}
			if !utf8.ValidString(got) {
				t.Error("invalid UTF-8")
			}
		})
	}
}
