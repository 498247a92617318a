package pgp

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/secinbox/secinbox/triage"
)

// Inline OpenPGP (RFC 9580 sections 6 and 7): armored messages and
// cleartext-signed messages pasted into the text of a mail. Each block
// becomes a body part of its own ("1+inline1"), the text after it
// another ("1+after1"), so that staff see exactly what a signature
// covers: text before and after a signed block is not signed.

const (
	armorBegin      = "-----BEGIN PGP MESSAGE-----"
	armorEnd        = "-----END PGP MESSAGE-----"
	clearBegin      = "-----BEGIN PGP SIGNED MESSAGE-----"
	clearSigBegin   = "-----BEGIN PGP SIGNATURE-----"
	clearSigEnd     = "-----END PGP SIGNATURE-----"
	armorAnyBegin   = "-----BEGIN PGP "
	publicKeyBegin  = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	privateKeyBegin = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
)

// text adds the readable content of one text entity at n: data is its
// body with the transfer encoding undone, in charset. Armored messages
// and cleartext-signed messages that begin a line are opened and become
// parts of their own; a block that cannot be opened stays as text (and
// an undecryptable one is reported in DecryptError). Blocks are found in
// the bytes as sent, before charset conversion, because a cleartext
// signature covers those bytes.
func (p *parser) text(data []byte, charset string, n node, ct string, fromHTML bool) {
	if cs := strings.ToLower(strings.TrimSpace(charset)); strings.HasPrefix(cs, "utf-16") || strings.HasPrefix(cs, "utf-32") {
		// Not ASCII-compatible: armor cannot be found in the bytes.
		data, charset = []byte(toUTF8(charset, data)), "utf-8"
	}
	path := n.leaf()
	segment := path // the part number of the text before the next block
	scan := blockScanner{}
	for k := 1; ; k++ {
		start, end, signed := scan.next(data)
		if start < 0 || !p.take() {
			break
		}
		p.addPart(triage.BodyPart{Path: segment, ContentType: ct, Text: toUTF8(charset, data[:start]), FromHTML: fromHTML}, n)
		block := data[start:end]
		in := n
		in.path = path + "+inline" + strconv.Itoa(k)
		in.depth++
		in.root = false
		var ok bool
		if signed {
			ok = p.clearsigned(block, charset, in, ct, fromHTML)
		} else {
			ok = p.inlineMessage(block, in)
		}
		if !ok {
			p.addPart(triage.BodyPart{Path: in.path, ContentType: ct, Text: toUTF8(charset, block), FromHTML: fromHTML}, n)
		}
		segment = path + "+after" + strconv.Itoa(k)
		data = data[end:]
	}
	p.addPart(triage.BodyPart{Path: segment, ContentType: ct, Text: toUTF8(charset, data), FromHTML: fromHTML}, n)
}

// inlineMessage opens an armored OpenPGP message at n: encrypted, signed,
// or both. Its plaintext is text, read like any other (it may itself
// hold a cleartext-signed message).
func (p *parser) inlineMessage(block []byte, n node) bool {
	res, err := p.open(block)
	if err != nil {
		p.fail(err)
		return false
	}
	if res.encrypted {
		p.msg.Encrypted = true
		p.decrypted++
		n.inside = true
	}
	idx := p.addSignatures(res.sigs)
	p.recheckWith(idx, res.verify)
	n = n.covered(idx)
	if n.depth > p.lim.MaxDepth {
		p.addPart(triage.BodyPart{Path: n.path, ContentType: "text/plain", Text: toUTF8("", res.plain)}, n)
		return true
	}
	p.text(res.plain, "", n, "text/plain", false)
	return true
}

// clearsigned verifies a cleartext-signed message (RFC 9580 section 7)
// at n: the signature covers the text between the armor header and the
// signature, dash-escaping undone, trailing white space dropped and line
// endings made CRLF; clearsign.Decode does that. A Hash: armor header
// that does not name the signature's hash makes the signature bad (RFC
// 9580 section 7.2 says it MUST match; a mismatch means the block was
// altered).
func (p *parser) clearsigned(block []byte, charset string, n node, ct string, fromHTML bool) bool {
	b, _ := clearsign.Decode(block)
	if b == nil {
		return false
	}
	i := bytes.Index(block, []byte(clearSigBegin))
	if i < 0 {
		return false
	}
	check := func() []triage.Signature {
		sigs := p.verifyDetached(b.Bytes, block[i:])
		if declared := b.Headers.Values("Hash"); len(declared) > 0 {
			for j := range sigs {
				if sigs[j].Hash != "" && !containsFold(declared, sigs[j].Hash) {
					sigs[j].Status = triage.SignatureBad
					sigs[j].Reason = "the Hash: header (" + strings.Join(declared, ", ") + ") does not name the signature's hash (" + sigs[j].Hash + "): the block was altered"
				}
			}
		}
		if fromHTML {
			for j := range sigs {
				if sigs[j].Status == triage.SignatureBad {
					sigs[j].Reason += " (the block was read from HTML, whose spaces and line breaks mailers change: the mismatch may be formatting rather than tampering)"
				}
			}
		}
		return sigs
	}
	idx := p.addSignatures(check())
	p.recheckWith(idx, check)
	n = n.covered(idx)
	if n.depth > p.lim.MaxDepth {
		p.addPart(triage.BodyPart{Path: n.path, ContentType: ct, Text: toUTF8(charset, b.Plaintext), FromHTML: fromHTML}, n)
		return true
	}
	p.text(b.Plaintext, charset, n, ct, fromHTML)
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), s) {
			return true
		}
	}
	return false
}

// blockScanner finds inline OpenPGP blocks in one text, in linear time
// overall: once an end marker is known to be missing, the blocks needing
// it are not looked for again.
type blockScanner struct {
	noMessageEnd, noSignature bool
}

// next returns the first block in data that begins a line: an armored
// message up to its END line, or a cleartext-signed message up to the
// END of its signature (signed true). start is -1 when there is none.
func (s *blockScanner) next(data []byte) (start, end int, signed bool) {
	for off := 0; off < len(data); {
		i := indexAtLineStart(data[off:], armorAnyBegin)
		if i < 0 {
			return -1, -1, false
		}
		i += off
		rest := data[i:]
		switch {
		case bytes.HasPrefix(rest, []byte(armorBegin)) && !s.noMessageEnd:
			j := bytes.Index(rest, []byte(armorEnd))
			if j < 0 {
				s.noMessageEnd = true
				break
			}
			return i, i + j + len(armorEnd), false
		case bytes.HasPrefix(rest, []byte(clearBegin)) && !s.noSignature:
			j := indexAtLineStart(rest, clearSigBegin)
			if j < 0 {
				s.noSignature = true
				break
			}
			k := bytes.Index(rest[j:], []byte(clearSigEnd))
			if k < 0 {
				s.noSignature = true
				break
			}
			return i, i + j + k + len(clearSigEnd), true
		}
		off = i + len(armorAnyBegin)
	}
	return -1, -1, false
}

// indexAtLineStart returns the index of the first occurrence of sub in
// b that begins a line, or -1.
func indexAtLineStart(b []byte, sub string) int {
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], []byte(sub))
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || b[i-1] == '\n' {
			return i
		}
		off = i + 1
	}
	return -1
}

// html adds the text of an HTML body (data in charset) at n. Its armored
// blocks are read as in a text part; the text around them is FromHTML.
func (p *parser) html(data []byte, charset string, n node) {
	src := toUTF8(charset, data)
	p.text([]byte(htmlToText(src)), "utf-8", n, "text/html", true)
}

// Kinds of OpenPGP data in a file.
const (
	kindNone = iota
	kindMessage
	kindPublicKey
)

// openPGPKind tells what OpenPGP data a file holds: an armored block is
// recognized whatever the file is called; binary packets only in files
// that say they are OpenPGP (.pgp, .gpg, application/pgp-*), since any
// byte with the high bit set starts a plausible packet.
func openPGPKind(mt, name string, data []byte) int {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte(armorBegin)):
		return kindMessage
	case bytes.HasPrefix(trimmed, []byte(publicKeyBegin)):
		return kindPublicKey
	case bytes.HasPrefix(trimmed, []byte(armorAnyBegin)):
		return kindNone // signatures, secret keys: kept as files only
	}
	ext := strings.ToLower(extensionOf(name))
	if ext != ".pgp" && ext != ".gpg" && mt != "application/pgp-encrypted" && mt != "application/pgp-keys" {
		return kindNone
	}
	switch packetTag(data) {
	case 1, 3, 18, 20, 9, 8, 4, 11: // session keys, encrypted data, compressed, one-pass signature, literal data
		return kindMessage
	case 6: // public key
		return kindPublicKey
	}
	return kindNone
}

// looksLikeOpenPGP reports whether data is an OpenPGP message, armored
// or binary.
func looksLikeOpenPGP(data []byte) bool {
	return openPGPKind("application/pgp-encrypted", "", data) == kindMessage
}

// packetTag returns the tag of the packet data starts with (RFC 9580
// section 4.2), or -1.
func packetTag(data []byte) int {
	if len(data) == 0 || data[0]&0x80 == 0 {
		return -1
	}
	if data[0]&0x40 != 0 {
		return int(data[0] & 0x3f)
	}
	return int(data[0]>>2) & 0x0f
}

// stripOpenPGPExtension drops a trailing .pgp, .gpg or .asc from a
// cleaned name; "" if nothing else is left or there was none.
func stripOpenPGPExtension(name string) string {
	ext := strings.ToLower(extensionOf(name))
	if ext != ".pgp" && ext != ".gpg" && ext != ".asc" {
		return ""
	}
	base := strings.TrimRight(name[:len(name)-len(ext)], ". ")
	if base == "" {
		return ""
	}
	return triage.CleanFilename(base)
}

// extensionOf is name's last ".ext", or "".
func extensionOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[i:]
	}
	return ""
}

// looksLikeText reports whether decrypted data is text to show: valid
// UTF-8, no NUL, and text by net/http's sniffing rules.
func looksLikeText(data []byte) bool {
	if len(data) == 0 || !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return false
	}
	return strings.HasPrefix(http.DetectContentType(data), "text/plain")
}
