package db

import (
	"bytes"
	"unicode/utf8"
)

// Matching a search against a report's text in Go, as the full-text index
// would: the board's ranked walk (board.go) tests the reports it meets in
// rank order one by one, where asking the index (FTS4) would read the
// whole list of a common word's reports each time. The tokenizer is a
// port of SQLite's unicode61 with remove_diacritics=2 (the tables in
// ftstables.go); TestFTSMatch_AgreesWithSQLite compares the two.

// uniIsAlnum reports whether unicode61 keeps c in a token.
func uniIsAlnum(c rune) bool {
	if c < 0 {
		return false
	}
	if c < 128 {
		return uniASCII[c>>5]&(1<<(uint32(c)&0x1F)) == 0
	}
	if c >= 1<<22 {
		return true
	}
	key := uint32(c)<<10 | 0x3FF
	lo, hi, res := 0, len(uniAlnumRanges)-1, 0
	for hi >= lo {
		mid := (lo + hi) / 2
		if key >= uniAlnumRanges[mid] {
			res, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	e := uniAlnumRanges[res]
	return uint32(c) >= (e>>10)+(e&0x3FF)
}

// uniIsDiacritic reports whether c is a combining diacritic that
// unicode61 keeps inside a token (and drops from it).
func uniIsDiacritic(c rune) bool {
	const mask0, mask1 = 0x08029FDF, 0x000361F8
	if c < 768 || c > 817 {
		return false
	}
	if c < 768+32 {
		return mask0&(1<<uint(c-768)) != 0
	}
	return mask1&(1<<uint(c-768-32)) != 0
}

// uniRemoveDiacritic is c without its diacritic (remove_diacritics=2).
func uniRemoveDiacritic(c rune) rune {
	key := uint32(c)<<3 | 7
	lo, hi, res := 0, len(uniDia)-1, 0
	for hi >= lo {
		mid := (lo + hi) / 2
		if key >= uint32(uniDia[mid]) {
			res, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	d := uint32(uniDia[res])
	if uint32(c) > (d>>3)+(d&7) {
		return c
	}
	return rune(uniDiaChar[res] & 0x7F)
}

// uniFoldRune is c as unicode61 folds it: lower case, without diacritics;
// 0 drops it.
func uniFoldRune(c rune) rune {
	switch {
	case c < 128:
		if c >= 'A' && c <= 'Z' {
			return c + ('a' - 'A')
		}
		return c
	case c < 65536:
		ret := c
		lo, hi, res := 0, len(uniFold)-1, -1
		for hi >= lo {
			mid := (lo + hi) / 2
			if c-rune(uniFold[mid].code) >= 0 {
				res, lo = mid, mid+1
			} else {
				hi = mid - 1
			}
		}
		if res >= 0 {
			p := uniFold[res]
			if c < rune(p.code)+rune(p.nRange) && 0 == (1&rune(p.flags)&(rune(p.code)^c)) {
				ret = (c + rune(uniFoldOff[p.flags>>1])) & 0xFFFF
			}
		}
		return uniRemoveDiacritic(ret)
	case c >= 66560 && c < 66600:
		return c + 40
	}
	return c
}

// ftsTokenizer splits text into folded tokens as unicode61 does, into
// buffers it reuses: token i is buf[ends[i-1]:ends[i]].
type ftsTokenizer struct {
	buf  []byte
	ends []int
}

func (t *ftsTokenizer) tokenize(s string) {
	t.buf, t.ends = t.buf[:0], t.ends[:0]
	i := 0
	for i < len(s) {
		// Skip separators, ASCII ones quickly.
		if b := s[i]; b < utf8.RuneSelf && uniASCII[b>>5]&(1<<(b&0x1F)) != 0 {
			i++
			continue
		}
		c, n := rune(s[i]), 1
		if c >= utf8.RuneSelf {
			c, n = utf8.DecodeRuneInString(s[i:])
		}
		if !uniIsAlnum(c) {
			i += n
			continue
		}
		for {
			if c < utf8.RuneSelf {
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				t.buf = append(t.buf, byte(c))
			} else if f := uniFoldRune(c); f != 0 {
				t.buf = utf8.AppendRune(t.buf, f)
			}
			i += n
			if i >= len(s) {
				break
			}
			c, n = rune(s[i]), 1
			if c < utf8.RuneSelf {
				if uniASCII[c>>5]&(1<<(uint32(c)&0x1F)) != 0 {
					i++ // an ASCII separator ends the token and is consumed
					break
				}
				continue
			}
			c, n = utf8.DecodeRuneInString(s[i:])
			if !uniIsAlnum(c) && !uniIsDiacritic(c) {
				i += n // the separator ends the token and is consumed
				break
			}
		}
		t.ends = append(t.ends, len(t.buf))
	}
}

func (t *ftsTokenizer) token(i int) []byte {
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.buf[start:t.ends[i]]
}

// ftsTokens splits s into folded tokens as unicode61 does.
func ftsTokens(s string) []string {
	var t ftsTokenizer
	t.tokenize(s)
	out := make([]string, len(t.ends))
	for i := range out {
		out[i] = string(t.token(i))
	}
	return out
}

// ftsPhrase is one term of a search as the index reads it: tokens that
// must follow each other in one column, the last matching as a prefix
// when prefix is set.
type ftsPhrase struct {
	tokens [][]byte
	prefix bool
}

// ftsPhrases reads terms (ftsTerms) as the index's query parser does.
// It returns false when one reads as no token at all: the matcher then
// cannot stand in for the index.
func ftsPhrases(terms []ftsTerm) ([]ftsPhrase, bool) {
	var out []ftsPhrase
	for _, t := range terms {
		p := ftsPhrase{prefix: t.prefix}
		for _, tok := range ftsTokens(t.words) {
			p.tokens = append(p.tokens, []byte(tok))
		}
		if len(p.tokens) == 0 {
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
}

// ftsMatcher tests reports' columns against phrases.
type ftsMatcher struct {
	phrases []ftsPhrase
	tok     ftsTokenizer
	found   []bool
	lower   []byte // a column lower-cased, for the ASCII shortcut
}

// matches reports whether the columns of one report contain every phrase.
func (m *ftsMatcher) matches(columns ...string) bool {
	if !m.mayMatch(columns) {
		return false
	}
	if cap(m.found) < len(m.phrases) {
		m.found = make([]bool, len(m.phrases))
	}
	m.found = m.found[:len(m.phrases)]
	clear(m.found)
	left := len(m.phrases)
	for _, c := range columns {
		m.tok.tokenize(c)
		for i, p := range m.phrases {
			if !m.found[i] && m.phraseIn(p) {
				m.found[i] = true
				if left--; left == 0 {
					return true
				}
			}
		}
	}
	return false
}

// mayMatch is a quick test: false when the columns, all ASCII, do not
// hold the first token of every phrase, so they cannot match. (In ASCII
// text a token is the text's own letters, lower-cased; outside it,
// folding can make ASCII of other letters, and the test says true.)
func (m *ftsMatcher) mayMatch(columns []string) bool {
	m.lower = m.lower[:0]
	for _, c := range columns {
		for i := 0; i < len(c); i++ {
			b := c[i]
			if b >= utf8.RuneSelf {
				return true
			}
			if b >= 'A' && b <= 'Z' {
				b += 'a' - 'A'
			}
			m.lower = append(m.lower, b)
		}
		m.lower = append(m.lower, 0) // no token spans two columns
	}
	for _, p := range m.phrases {
		if !bytes.Contains(m.lower, p.tokens[0]) {
			return false
		}
	}
	return true
}

// ftsMatches is a one-off ftsMatcher.
func ftsMatches(phrases []ftsPhrase, columns ...string) bool {
	m := ftsMatcher{phrases: phrases}
	return m.matches(columns...)
}

func (m *ftsMatcher) phraseIn(p ftsPhrase) bool {
	n, count := len(p.tokens), len(m.tok.ends)
	for i := 0; i+n <= count; i++ {
		ok := true
		for j, want := range p.tokens {
			got := m.tok.token(i + j)
			if j == n-1 && p.prefix {
				ok = bytes.HasPrefix(got, want)
			} else {
				ok = bytes.Equal(got, want)
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
