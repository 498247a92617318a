package pgp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/secinbox/secinbox/triage"
)

// Limits bounds the work one message may cause.
type Limits struct {
	// MaxDecompressedSize caps the plaintext of the OpenPGP messages in one
	// raw message, all of them together (so nested or repeated encryption
	// cannot multiply it). Default 64 MiB. We count the plaintext
	// ourselves; go-crypto's packet.Config.MaxDecompressedMessageSize is
	// set a quarter higher, as a backstop (see parser.config).
	MaxDecompressedSize int64
	MaxDepth            int // MIME nesting; default 32
	MaxParts            int // MIME parts and inline OpenPGP blocks in total; default 1000
	MaxHeaderBytes      int // size of one header block; default 256 KiB
}

// DefaultLimits returns the limits ParseMessage uses for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxDecompressedSize: 64 << 20,
		MaxDepth:            32,
		MaxParts:            1000,
		MaxHeaderBytes:      256 << 10,
	}
}

// withDefaults replaces zero or negative fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDecompressedSize <= 0 {
		l.MaxDecompressedSize = d.MaxDecompressedSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxParts <= 0 {
		l.MaxParts = d.MaxParts
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return l
}

// Message is what secinbox learned from one raw message.
type Message struct {
	FromEmail, FromName string // outer From; empty if unparseable
	Subject             string // outer Subject, decoded (RFC 2047)
	// ProtectedSubject is the Subject from the protected headers inside
	// the decrypted part, if any: a Subject field on the decrypted entity
	// or a text/rfc822-headers legacy-display part (Thunderbird and K-9
	// send "..." outside).
	ProtectedSubject string
	MessageID        string // outer Message-ID field, trimmed, with its angle brackets

	Encrypted bool // carried OpenPGP encryption (PGP/MIME or inline armored PGP MESSAGE)
	// Decrypted: every encrypted block was decrypted, read to EOF, and
	// its integrity (MDC or AEAD) verified.
	Decrypted bool
	// DecryptError is why not, when Encrypted && !Decrypted: wraps
	// ErrNoKey, ErrIntegrity, ErrTooLarge, ErrMalformed or ErrPanic.
	DecryptError error

	// Signature is the first OpenPGP signature found: Status none, good,
	// bad or unknown_key; Fingerprint (upper hex) when good; KeyID
	// (upper hex, 16 digits) when the signature named its issuer.
	Signature triage.Signature
	// Signatures are every signature found, in message order; Parts the
	// readable body parts, each pointing at the signature covering it
	// (see triage.BodyPart). Text is the Parts joined.
	Signatures []triage.Signature
	Parts      []triage.BodyPart
	// Keys are researcher public keys the message carried: attached
	// application/pgp-keys parts and Autocrypt headers (Source set;
	// FirstSeen/LastSeen left for the store).
	Keys []triage.ResearcherKey

	// Text is the plain-text body for staff: the text/plain parts decoded
	// to UTF-8 with LF line endings. Inline OpenPGP blocks are replaced
	// by their plaintext, the text around them kept. Mail without any
	// text/plain gets a crude tag-stripped version of its HTML. It is
	// never HTML: render it escaped.
	Text string
	// Attachments are the parts with a file name or Content-Disposition
	// attachment (inside the decrypted part when encrypted), and inline
	// HTML bodies as "body.html".
	Attachments []triage.Attachment
}

// Title is the subject to show: ProtectedSubject when present and not
// "...", else Subject, else "(no subject)".
func (m *Message) Title() string {
	if s := strings.TrimSpace(m.ProtectedSubject); s != "" && s != "..." {
		return s
	}
	if s := strings.TrimSpace(m.Subject); s != "" {
		return s
	}
	return "(no subject)"
}

// parser is the state of one ParseMessage call.
type parser struct {
	lim     Limits
	keyring openpgp.EntityList // decryption keys, then verification keys
	now     time.Time
	budget  int64 // plaintext bytes left (Limits.MaxDecompressedSize)

	msg        *Message
	parts      int      // entities and inline blocks seen
	decrypted  int      // encrypted blocks decrypted
	failure    error    // first decryption failure
	protected  bool     // protected headers taken (from the first decrypted entity)
	inside     int      // > 0 while walking decrypted content
	texts      []string // text/plain bodies
	htmlTexts  []string // stripped text/html bodies, used when texts is empty
	panicValue any      // a recovered non-crypto panic
}

// ParseMessage reads one RFC 5322 message (bounded: the caller has already
// capped its size), decrypts what it can with keys (the team's unlocked
// secret keys; may be empty), verifies signatures against keys plus
// verifyKeys, and returns what it found. It fails only when the header
// block itself cannot be read (the error wraps ErrMalformed); undecryptable
// or malformed bodies are reported in Message (Encrypted true, Decrypted
// false, DecryptError set), never as an error and never as a panic. now is
// used for signature and key validity.
func ParseMessage(raw []byte, keys openpgp.EntityList, verifyKeys openpgp.EntityList, lim Limits, now time.Time) (*Message, error) {
	p, err := parse(raw, keys, verifyKeys, lim, now)
	if err != nil {
		return nil, err
	}
	return p.msg, nil
}

// parse is ParseMessage, returning the parser for tests to inspect.
func parse(raw []byte, keys openpgp.EntityList, verifyKeys openpgp.EntityList, lim Limits, now time.Time) (*parser, error) {
	lim = lim.withDefaults()
	keyring := make(openpgp.EntityList, 0, len(keys)+len(verifyKeys))
	for _, e := range append(append(openpgp.EntityList{}, keys...), verifyKeys...) {
		if e != nil && e.PrimaryKey != nil {
			keyring = append(keyring, e)
		}
	}
	p := &parser{
		lim:     lim,
		keyring: keyring,
		now:     now,
		budget:  lim.MaxDecompressedSize,
		msg:     &Message{Signature: triage.Signature{Status: triage.SignatureNone}},
	}
	hdr, body := splitHeader(raw)
	h, err := p.readTopHeader(hdr)
	if err != nil {
		return nil, err
	}
	p.headers(h)
	p.walkTop(h, body)
	p.finish()
	return p, nil
}

// readTopHeader reads the outer header, recovering a panic into ErrPanic.
func (p *parser) readTopHeader(hdr []byte) (h message.Header, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pgp: reading header: %w: %v", ErrPanic, r)
		}
	}()
	return readHeader(hdr, p.lim.MaxHeaderBytes)
}

// headers records the outer From, Subject and Message-ID (RFC 5322
// section 3.6). Unparseable fields are left empty.
func (p *parser) headers(h message.Header) {
	defer func() { recover() }() // best effort: a panic here costs a field
	p.msg.Subject = headerText(h, "Subject")
	p.msg.MessageID = cleanLine(h.Get("Message-Id"))
	mh := mail.Header{Header: h}
	if addrs, err := mh.AddressList("From"); err == nil && len(addrs) > 0 {
		p.msg.FromEmail = cleanLine(addrs[0].Address)
		p.msg.FromName = cleanLine(addrs[0].Name)
	}
}

// walkTop walks the body, recovering a non-crypto panic: what was found
// so far is kept.
func (p *parser) walkTop(h message.Header, body []byte) {
	defer func() {
		if r := recover(); r != nil {
			p.panicValue = r
		}
	}()
	p.walk(h, body, 0)
}

// finish assembles p.msg.
func (p *parser) finish() {
	m := p.msg
	texts := p.texts
	if strings.TrimSpace(strings.Join(texts, "")) == "" {
		texts = p.htmlTexts
	}
	var nonEmpty []string
	for _, t := range texts {
		t = strings.TrimSpace(strings.ReplaceAll(t, "\r\n", "\n"))
		if t != "" {
			nonEmpty = append(nonEmpty, t)
		}
	}
	m.Text = strings.Join(nonEmpty, "\n\n")

	if p.panicValue != nil && p.failure == nil && m.Encrypted && p.decrypted == 0 {
		p.failure = fmt.Errorf("pgp: parsing: %w: %v", ErrPanic, p.panicValue)
	}
	if m.Encrypted && p.failure == nil && p.decrypted == 0 {
		p.failure = fmt.Errorf("pgp: no encrypted data found: %w", ErrMalformed)
	}
	m.Decrypted = m.Encrypted && p.failure == nil
	if !m.Decrypted && m.Encrypted {
		m.DecryptError = p.failure
	}
}

// fail records a decryption failure; the first one is reported.
func (p *parser) fail(err error) {
	p.msg.Encrypted = true
	if p.failure == nil {
		p.failure = err
	}
}

// setSignature records s unless a signature was recorded already.
func (p *parser) setSignature(s triage.Signature) {
	if p.msg.Signature.Status == triage.SignatureNone && s.Status != "" && s.Status != triage.SignatureNone {
		p.msg.Signature = s
	}
}

// take counts one part against MaxParts; false when over.
func (p *parser) take() bool {
	p.parts++
	return p.parts <= p.lim.MaxParts
}

// walk handles one MIME entity (RFC 2045, RFC 2046) at depth. Past
// MaxDepth or MaxParts it stops quietly: what was found is kept.
func (p *parser) walk(h message.Header, body []byte, depth int) {
	if depth > p.lim.MaxDepth || !p.take() {
		return
	}
	mt, params := contentType(h)
	switch {
	case mt == "multipart/encrypted" && strings.EqualFold(params["protocol"], "application/pgp-encrypted"):
		p.walkEncrypted(body, params["boundary"], depth)
	case mt == "multipart/signed" && strings.EqualFold(params["protocol"], "application/pgp-signature"):
		p.walkSigned(body, params["boundary"], depth)
	case strings.HasPrefix(mt, "multipart/"):
		p.walkMultipart(mt, body, params["boundary"], depth)
	case isAttachment(h):
		p.attach(h, mt, body, "attachment")
	case mt == "text/plain":
		text := toUTF8(params["charset"], decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
		p.texts = append(p.texts, p.inlinePGP(text))
	case mt == "text/html":
		// Never rendered: kept as a file, and as stripped text for mail
		// without text/plain.
		data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
		p.htmlTexts = append(p.htmlTexts, stripHTML(toUTF8(params["charset"], data)))
		p.attach(h, mt, body, "body.html")
	case mt == "text/rfc822-headers" && params["protected-headers"] != "":
		// Legacy display part (draft-autocrypt-lamps-protected-headers
		// section 2.1.2): for old clients only; its Subject is a fallback.
		if p.inside > 0 && p.msg.ProtectedSubject == "" {
			hdr, _ := splitHeader(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
			if lh, err := readHeader(hdr, p.lim.MaxHeaderBytes); err == nil {
				p.msg.ProtectedSubject = headerText(lh, "Subject")
			}
		}
	case mt == "application/pgp-encrypted", mt == "application/pgp-signature":
		// Control parts out of place: nothing for staff.
	case mt == "message/rfc822":
		p.attach(h, mt, body, "message.eml")
	default:
		p.attach(h, mt, body, "attachment")
	}
}

// isAttachment: Content-Disposition attachment (RFC 2183) or a file name.
func isAttachment(h message.Header) bool {
	disp, _, _ := h.ContentDisposition()
	return strings.EqualFold(disp, "attachment") || filename(h) != ""
}

// walkMultipart walks the children of a multipart entity (RFC 2046
// section 5.1). Of a multipart/alternative (section 5.1.4) only the
// text/plain alternative is walked when there is one.
func (p *parser) walkMultipart(mt string, body []byte, boundary string, depth int) {
	children := splitMultipart(body, boundary, p.lim.MaxParts-p.parts+1)
	type child struct {
		h    message.Header
		body []byte
	}
	var cs []child
	for _, c := range children {
		hdr, b := splitHeader(c)
		h, _ := readHeader(hdr, p.lim.MaxHeaderBytes) // keep what parsed
		cs = append(cs, child{h, b})
	}
	if mt == "multipart/alternative" {
		for _, c := range cs {
			if t, _ := contentType(c.h); t == "text/plain" && !isAttachment(c.h) {
				cs = []child{c}
				break
			}
		}
	}
	for _, c := range cs {
		p.walk(c.h, c.body, depth+1)
	}
}

// walkEncrypted handles RFC 3156 section 4 PGP/MIME: two parts, an
// application/pgp-encrypted control part ("Version: 1") and an
// application/octet-stream part holding the (armored) OpenPGP message.
// The plaintext is itself a MIME entity (section 4, last paragraph).
func (p *parser) walkEncrypted(body []byte, boundary string, depth int) {
	p.msg.Encrypted = true
	parts := splitMultipart(body, boundary, 2)
	if len(parts) < 2 {
		p.fail(fmt.Errorf("pgp: multipart/encrypted with %d parts, want 2: %w", len(parts), ErrMalformed))
		return
	}
	hdr, b := splitHeader(parts[1])
	h, _ := readHeader(hdr, p.lim.MaxHeaderBytes)
	res, err := p.open(decodeTransfer(h.Get("Content-Transfer-Encoding"), b))
	if err != nil {
		p.fail(err)
		return
	}
	if !res.encrypted {
		p.fail(fmt.Errorf("pgp: multipart/encrypted holds no encrypted data: %w", ErrMalformed))
		return
	}
	p.decrypted++
	p.setSignature(res.sig)
	p.walkDecrypted(res.plain, depth+1)
}

// walkDecrypted walks decrypted plaintext. It is a MIME entity when it
// has a Content-Type field; otherwise (some clients encrypt bare text)
// all of it is text. The first decrypted entity's Subject is the
// protected Subject (draft-autocrypt-lamps-protected-headers section 2).
func (p *parser) walkDecrypted(plain []byte, depth int) {
	hdr, body := splitHeader(plain)
	h, err := readHeader(hdr, p.lim.MaxHeaderBytes)
	if err != nil || !h.Has("Content-Type") {
		if p.take() {
			p.texts = append(p.texts, toUTF8("", plain))
		}
		return
	}
	if !p.protected {
		p.protected = true
		if s := headerText(h, "Subject"); s != "" {
			p.msg.ProtectedSubject = s
		}
	}
	p.inside++
	defer func() { p.inside-- }()
	p.walk(h, body, depth)
}

// walkSigned handles RFC 3156 section 5 multipart/signed: the first part
// is the signed entity, the second an application/pgp-signature
// detached signature over the first part's canonical (CRLF) bytes,
// headers included, without the line break before the delimiter.
func (p *parser) walkSigned(body []byte, boundary string, depth int) {
	parts := splitMultipart(body, boundary, 2)
	if len(parts) == 0 {
		return
	}
	if len(parts) == 2 && p.take() {
		hdr, b := splitHeader(parts[1])
		h, _ := readHeader(hdr, p.lim.MaxHeaderBytes)
		sig := decodeTransfer(h.Get("Content-Transfer-Encoding"), b)
		p.setSignature(p.verifyDetached(canonicalCRLF(parts[0]), sig))
	}
	hdr, b := splitHeader(parts[0])
	h, _ := readHeader(hdr, p.lim.MaxHeaderBytes)
	p.walk(h, b, depth+1)
}

const (
	armorBegin = "-----BEGIN PGP MESSAGE-----"
	armorEnd   = "-----END PGP MESSAGE-----"
)

// inlinePGP replaces each armored OpenPGP message (RFC 4880 section 6.2)
// that starts a line of text by its plaintext, keeping the text around
// it. A block that cannot be decrypted stays as it is (and is reported
// in DecryptError). Signed-only blocks are replaced by their content
// and their signature recorded; they do not make the message Encrypted.
func (p *parser) inlinePGP(text string) string {
	var out strings.Builder
	for {
		i := indexAtLineStart(text, armorBegin)
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], armorEnd)
		if j < 0 || !p.take() {
			break
		}
		end := i + j + len(armorEnd)
		block := text[i:end]
		out.WriteString(text[:i])
		res, err := p.open([]byte(block))
		switch {
		case err != nil:
			p.fail(err)
			out.WriteString(block)
		default:
			if res.encrypted {
				p.msg.Encrypted = true
				p.decrypted++
			}
			p.setSignature(res.sig)
			out.WriteString(strings.TrimRight(toUTF8("", res.plain), "\r\n"))
		}
		text = text[end:]
	}
	out.WriteString(text)
	return out.String()
}

// indexAtLineStart returns the index of the first occurrence of sub in
// s that begins a line, or -1.
func indexAtLineStart(s, sub string) int {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || s[i-1] == '\n' {
			return i
		}
		off = i + 1
	}
	return -1
}

// attach stores a part as an attachment, after undoing its transfer
// encoding but not its charset: the file is kept as sent.
func (p *parser) attach(h message.Header, mt string, body []byte, defaultName string) {
	data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	if len(data) > 0 && &data[0] == &body[0] {
		data = append([]byte(nil), data...) // do not alias the caller's raw message
	}
	name := filename(h)
	if name == "" {
		name = defaultName
	}
	sum := sha256.Sum256(data)
	p.msg.Attachments = append(p.msg.Attachments, triage.Attachment{
		Name:        sanitizeName(name),
		ContentType: mt,
		Size:        int64(len(data)),
		SHA256:      hex.EncodeToString(sum[:]),
		Data:        data,
	})
}
