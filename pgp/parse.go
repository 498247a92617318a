package pgp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// the decrypted part, if any: a Subject field on the top entity of the
	// decrypted content (or, for sign-then-encrypt, on the signed entity
	// inside it), as Thunderbird and K-9 send with "..." outside
	// (draft-autocrypt-lamps-protected-headers, RFC 9788), else the
	// Subject of a text/rfc822-headers legacy-display part. Never taken
	// from content that was not encrypted: anyone can put headers there.
	ProtectedSubject string
	MessageID        string // outer Message-ID field, trimmed, with its angle brackets
	// Thread and list fields of the outer header, for threading replies
	// into reports and for deciding whether to acknowledge (issue 5).
	// Each is bounded and unfolded; message ids keep their angle brackets.
	InReplyTo     []string // In-Reply-To message ids
	References    []string // References message ids, in order (at most 100)
	AutoSubmitted string   // Auto-Submitted value, lower-cased ("" when absent)
	Precedence    string   // Precedence value, lower-cased
	ListID        string   // List-Id value
	// Automated: the header marks the mail as automatic or bulk: a
	// List-Unsubscribe, List-Post or X-Autoreply / X-Autorespond field,
	// Auto-Submitted other than "no", Precedence bulk, list, junk or
	// auto_reply, or a delivery report (multipart/report). List-Id alone
	// does not count: check ListID too to leave mailing lists alone.
	Automated bool

	// Encrypted: the message carried OpenPGP encryption (PGP/MIME, an
	// inline armored PGP MESSAGE, or an encrypted .pgp/.asc attachment).
	Encrypted bool
	// Decrypted: every encrypted block was decrypted, read to EOF, and
	// its integrity (MDC or AEAD) verified.
	Decrypted bool
	// DecryptError is why not, when Encrypted && !Decrypted: wraps
	// ErrNoKey, ErrIntegrity, ErrTooLarge, ErrMalformed or ErrPanic.
	DecryptError error

	// Signature summarizes Signatures: status none when there are none;
	// the one status they share when they all agree and every readable
	// part is covered; partial when every signature is good but some
	// readable parts are not covered; otherwise the worst status (bad,
	// revoked_key, weak, expired_key, unknown_key, from worst). The other
	// fields are those of the first signature with that status (for
	// partial, the first good one), and Reason says what is wrong.
	Signature triage.Signature
	// Signatures are every signature found, in message order, each with
	// the Paths of the Parts it covers. See verify.go for what each status
	// means. Outer headers are never covered. What a signature covers is
	// what its signed data holds: the signed entity of a multipart/signed
	// (RFC 3156 section 5), the decrypted content of a signed-and-
	// encrypted message (section 6.2), the text of a cleartext-signed or
	// signed inline block. A signature over ciphertext (encrypt-then-sign:
	// multipart/signed around multipart/encrypted) covers the parts
	// decrypted from it, since only its signer could have made that
	// ciphertext say anything. A forwarded message (message/rfc822) is
	// kept as an attachment and its signatures are not checked: they are
	// not the sender's.
	Signatures []triage.Signature
	// Parts are the readable body parts in message order: text/plain
	// parts, text extracted from text/html parts (FromHTML), the text
	// around and inside inline OpenPGP blocks ("1", "1+inline1",
	// "1+after1"...), and decrypted text attachments. Each points at the
	// signature covering it (triage.BodyPart.Signature); parts taken from
	// HTML point at the attachment holding their source (Source). Blank
	// parts are left out.
	Parts []triage.BodyPart
	// Keys are researcher public keys the message carried, for the From
	// address only: attached application/pgp-keys parts or armored public
	// key blocks, and the outer Autocrypt header (see mailkeys.go). Source
	// is set; FirstSeen/LastSeen are left for the store. These keys also
	// verify the message's signatures: a key sent along proves possession,
	// not identity, which is what FromMatches and the key's Source show.
	Keys []triage.ResearcherKey

	// Text is the plain-text body for staff: the Parts' texts joined by
	// blank lines. It is never HTML: render it escaped.
	Text string
	// Attachments are the parts with a file name or Content-Disposition
	// attachment (inside the decrypted part when encrypted), HTML bodies
	// as "body.html" (their source, never rendered), forwarded messages as
	// "message.eml", and the plaintext of decrypted attachments (named
	// without .pgp/.gpg/.asc) next to their ciphertext. Names are cleaned
	// by triage.CleanFilename.
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

// Concurrency: go-crypto caches each signature's verification result
// inside the key entity (VerifiableSignature.Valid) without locking. So
// the functions of this package that take an entity must not run at
// once on the same entity; whoever shares one guards it (teamkey.Ring
// does the team's keys). ParseMessage never needs that: its KeyRing
// hands out entities of its own (resolve.go).

// maxMessageSignatures bounds the signatures recorded for one message;
// later ones are dropped (their parts then count as not covered, which
// can only make the summary worse, never better).
const maxMessageSignatures = 64

// parser is the state of one ParseMessage call.
type parser struct {
	lim    Limits
	keys   openpgp.KeyRing // the caller's ring, then the keys the message carries
	now    time.Time
	budget int64 // plaintext bytes left (Limits.MaxDecompressedSize)
	// keyAttempts counts the session-key decryptions ReadMessage may
	// try; preflight refuses past maxKeyAttempts.
	keyAttempts int

	msg        *Message
	parts      int                // entities and inline blocks seen
	decrypted  int                // encrypted blocks decrypted
	failure    error              // first decryption failure
	protected  bool               // the first decrypted entity was seen
	panicValue any                // a recovered non-crypto panic
	mailKeys   openpgp.EntityList // the entities of msg.Keys
	partSigs   [][]int            // for each of msg.Parts, the signatures covering it
	rechecks   []recheck          // blocks whose signatures a key found later may verify
}

// recheck is a block of signatures (indexes in msg.Signatures) that
// verify checks again, with every key known by then.
type recheck struct {
	idx    []int
	verify func() []triage.Signature
}

// node is where the walker stands in the message.
type node struct {
	// path is the MIME part number of the entity (RFC 3501 section
	// 6.4.5): "" for a multipart at the top, "1", "2.1"... Decrypted
	// content takes the number of the part that held the ciphertext.
	path   string
	depth  int
	sigs   []int // indexes in msg.Signatures of the signatures covering this entity
	inside bool  // within decrypted content
	root   bool  // the top entity of the first decrypted content: protected headers live here
}

// child is the i-th (from 1) child of a multipart at n.
func (n node) child(i int) node {
	c := n
	c.depth++
	c.root = false
	if n.path == "" {
		c.path = strconv.Itoa(i)
	} else {
		c.path = n.path + "." + strconv.Itoa(i)
	}
	return c
}

// leaf is the part number of a non-multipart entity at n.
func (n node) leaf() string {
	if n.path == "" {
		return "1"
	}
	return n.path
}

// covered returns n also covered by the signatures idx.
func (n node) covered(idx []int) node {
	if len(idx) > 0 {
		n.sigs = append(append([]int(nil), n.sigs...), idx...)
	}
	return n
}

// ParseMessage reads one RFC 5322 message (bounded: the caller has already
// capped its size), decrypts what it can and verifies signatures with
// the keys keys resolves by key ID (see resolve.go: typically the team's
// TeamKeys and the store's researcher keys; may be nil) and the keys
// the message itself carries, and returns what it found. It fails only
// when the header block itself cannot be read (the error wraps
// ErrMalformed); undecryptable or malformed bodies are reported in
// Message (Encrypted true, Decrypted false, DecryptError set), never as
// an error and never as a panic. now is the time of receipt: signature
// expiry is judged at now, key validity at each signature's creation.
//
// Each message is walked once, each OpenPGP block decrypted and
// decompressed once. ParseMessage takes no lock: calls run in parallel,
// provided the entities keys hands out are not in use elsewhere
// meanwhile (TeamKeys and per-message lookups guarantee that). The
// Limits and the package's own caps on signature and session-key
// packets bound the work of one call.
func ParseMessage(raw []byte, keys openpgp.KeyRing, lim Limits, now time.Time) (*Message, error) {
	p, err := parse(raw, keys, lim, now)
	if err != nil {
		return nil, err
	}
	return p.msg, nil
}

// parse is ParseMessage, returning the parser for tests to inspect.
//
// Keys found in the message verify its signatures too, but they are
// often found after those signatures were checked (a key attached inside
// the signed and encrypted part). So a block with a signature that came
// out unknown_key for want of a key the message turns out to carry is
// verified again at the end (finish), from the plaintext kept: no second
// decryption, no second walk.
func parse(raw []byte, keys openpgp.KeyRing, lim Limits, now time.Time) (*parser, error) {
	lim = lim.withDefaults()
	p := &parser{
		lim:    lim,
		now:    now,
		budget: lim.MaxDecompressedSize,
		msg:    &Message{Signature: triage.Signature{Status: triage.SignatureNone}},
	}
	p.keys = KeyChain{keys, mailKeyRing{p}}
	hdr, body := splitHeader(raw)
	h, err := p.readTopHeader(hdr)
	if err != nil {
		return nil, err
	}
	p.headers(h)
	p.autocrypt(h)
	p.walkTop(h, body)
	p.finish()
	return p, nil
}

// needsMailKey reports whether a signature of idx came out unknown_key
// and the message carries a key with its key ID.
func (p *parser) needsMailKey(idx []int) bool {
	for _, i := range idx {
		s := p.msg.Signatures[i]
		if s.Status != triage.SignatureUnknownKey {
			continue
		}
		id, err := strconv.ParseUint(s.KeyID, 16, 64)
		if err != nil {
			continue
		}
		if len(p.mailKeys.EntitiesById(id)) > 0 {
			return true
		}
	}
	return false
}

// recheckWith registers verify as the way to check the signatures idx
// again (finish does, when the message carries a key they need).
func (p *parser) recheckWith(idx []int, verify func() []triage.Signature) {
	if verify != nil && len(idx) > 0 {
		p.rechecks = append(p.rechecks, recheck{idx: idx, verify: verify})
	}
}

// checkAgain verifies again the blocks that a key carried by the message
// can verify, and replaces their results.
func (p *parser) checkAgain() {
	if len(p.mailKeys) == 0 {
		return
	}
	for _, rc := range p.rechecks {
		if !p.needsMailKey(rc.idx) {
			continue
		}
		sigs := rc.verify()
		if len(sigs) < len(rc.idx) {
			continue // cannot happen: the same packets give the same count
		}
		for j, i := range rc.idx {
			s := sigs[j]
			s.Parts = nil
			p.msg.Signatures[i] = s
		}
	}
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
	p.threadHeaders(h)
}

// threadHeaders records the thread fields (RFC 5322 section 3.6.4) and
// the marks of automatic or bulk mail: Auto-Submitted (RFC 3834),
// Precedence, List-* (RFC 2369, RFC 2919), X-Autoreply / X-Autorespond,
// multipart/report (RFC 6522).
func (p *parser) threadHeaders(h message.Header) {
	m := p.msg
	m.InReplyTo = messageIDs(h.Get("In-Reply-To"))
	m.References = messageIDs(h.Get("References"))
	m.AutoSubmitted = strings.ToLower(boundedLine(headerText(h, "Auto-Submitted")))
	m.Precedence = strings.ToLower(boundedLine(headerText(h, "Precedence")))
	m.ListID = boundedLine(headerText(h, "List-Id"))
	auto, _, _ := strings.Cut(m.AutoSubmitted, ";")
	auto = strings.TrimSpace(auto)
	mt, _ := contentType(h)
	switch {
	case h.Has("List-Unsubscribe"), h.Has("List-Post"), h.Has("X-Autoreply"), h.Has("X-Autorespond"):
		m.Automated = true
	case auto != "" && auto != "no":
		m.Automated = true
	case m.Precedence == "bulk" || m.Precedence == "list" || m.Precedence == "junk" || m.Precedence == "auto_reply":
		m.Automated = true
	case mt == "multipart/report":
		m.Automated = true
	}
}

// maxHeaderValue bounds the single-line thread and list values kept.
const maxHeaderValue = 250

// boundedLine cuts s to maxHeaderValue bytes, at a rune boundary.
func boundedLine(s string) string {
	if len(s) <= maxHeaderValue {
		return s
	}
	s = s[:maxHeaderValue]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// messageIDs returns the message ids ("<left@right>") in a field value,
// in order, without duplicates: at most maxThreadIDs of them (the first
// and the latest, as RFC 5322 section 3.6.4 trims References), each at
// most maxMessageID bytes. Text outside angle brackets (comments,
// folding) is skipped; malformed ids are dropped.
func messageIDs(v string) []string {
	var ids []string
	seen := map[string]bool{}
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		v = v[i:]
		j := strings.IndexByte(v[1:], '>')
		if j < 0 {
			break
		}
		id := v[:j+2]
		v = v[j+2:]
		if k := strings.LastIndexByte(id, '<'); k > 0 {
			id = id[k:] // "<a <b@c>": the id is the last "<" on
		}
		if !validMessageID(id) || seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if len(ids) > maxThreadIDs {
		ids = append(ids[:1:1], ids[len(ids)-maxThreadIDs+1:]...)
	}
	return ids
}

// walkTop walks the body, recovering a non-crypto panic: what was found
// so far is kept.
func (p *parser) walkTop(h message.Header, body []byte) {
	defer func() {
		if r := recover(); r != nil {
			p.panicValue = r
		}
	}()
	p.walk(h, body, node{})
}

// finish assembles p.msg.
func (p *parser) finish() {
	m := p.msg
	p.checkAgain()
	p.linkParts()
	texts := make([]string, 0, len(m.Parts))
	for _, bp := range m.Parts {
		texts = append(texts, bp.Text)
	}
	m.Text = strings.Join(texts, "\n\n")
	m.Signature = summarize(m.Signatures, m.Parts)

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

// statusRank orders statuses from worst (0) to best, for the summary.
var statusRank = map[triage.SignatureStatus]int{
	triage.SignatureBad:        0,
	triage.SignatureRevokedKey: 1,
	triage.SignatureWeak:       2,
	triage.SignatureExpiredKey: 3,
	triage.SignatureUnknownKey: 4,
	triage.SignatureGood:       5,
}

// summarize is Message.Signature: see there.
func summarize(sigs []triage.Signature, parts []triage.BodyPart) triage.Signature {
	if len(sigs) == 0 {
		return triage.Signature{Status: triage.SignatureNone}
	}
	uncovered := 0
	for _, bp := range parts {
		if bp.Signature == 0 {
			uncovered++
		}
	}
	worst := 0
	same := true
	for i, s := range sigs {
		if s.Status != sigs[0].Status {
			same = false
		}
		if statusRank[s.Status] < statusRank[sigs[worst].Status] {
			worst = i
		}
	}
	if same && uncovered == 0 {
		return sigs[0]
	}
	sum := sigs[worst]
	if sum.Status == triage.SignatureGood {
		// Every signature is good, and some parts are covered by none.
		sum.Status = triage.SignaturePartial
		sum.Reason = fmt.Sprintf("%d of %d readable parts are not covered by any signature", uncovered, len(parts))
	}
	return sum
}

// fail records a decryption failure; the first one is reported.
func (p *parser) fail(err error) {
	p.msg.Encrypted = true
	if p.failure == nil {
		p.failure = err
	}
}

// addSignatures records sigs and returns their indexes in msg.Signatures.
func (p *parser) addSignatures(sigs []triage.Signature) []int {
	idx := make([]int, 0, len(sigs))
	for _, s := range sigs {
		if len(p.msg.Signatures) >= maxMessageSignatures {
			break
		}
		s.Parts = nil
		idx = append(idx, len(p.msg.Signatures))
		p.msg.Signatures = append(p.msg.Signatures, s)
	}
	return idx
}

// addPart records one readable part covered by the signatures of n
// (linkParts links them once every result is final).
func (p *parser) addPart(bp triage.BodyPart, n node) {
	bp.Text = strings.ReplaceAll(strings.ReplaceAll(bp.Text, "\r\n", "\n"), "\r", "\n") // LF only: a lone CR is a line break too
	bp.Text = strings.TrimLeft(strings.TrimRight(bp.Text, " \t\n"), "\n")
	if strings.TrimSpace(bp.Text) == "" {
		return
	}
	bp.Encrypted = bp.Encrypted || n.inside
	p.msg.Parts = append(p.msg.Parts, bp)
	p.partSigs = append(p.partSigs, n.sigs)
}

// linkParts points each part at the first good signature covering it,
// else at the innermost, and has each signature list the parts it
// covers, in order.
func (p *parser) linkParts() {
	for k := range p.msg.Parts {
		bp := &p.msg.Parts[k]
		sigs := p.partSigs[k]
		if len(sigs) == 0 {
			continue
		}
		best := sigs[len(sigs)-1]
		for _, i := range sigs {
			if p.msg.Signatures[i].Status == triage.SignatureGood {
				best = i
				break
			}
		}
		bp.Signature = best + 1
		for _, i := range sigs {
			s := &p.msg.Signatures[i]
			if len(s.Parts) == 0 || s.Parts[len(s.Parts)-1] != bp.Path {
				s.Parts = append(s.Parts, bp.Path)
			}
		}
	}
}

// take counts one part against MaxParts; false when over.
func (p *parser) take() bool {
	p.parts++
	return p.parts <= p.lim.MaxParts
}

// walk handles one MIME entity (RFC 2045, RFC 2046) at n. Past MaxDepth
// or MaxParts it stops quietly: what was found is kept.
func (p *parser) walk(h message.Header, body []byte, n node) {
	if n.depth > p.lim.MaxDepth || !p.take() {
		return
	}
	mt, params := contentType(h)
	if n.root {
		if s := headerText(h, "Subject"); s != "" && p.msg.ProtectedSubject == "" {
			p.msg.ProtectedSubject = s
		}
	}
	switch {
	case mt == "multipart/encrypted" && strings.EqualFold(params["protocol"], "application/pgp-encrypted"):
		p.walkEncrypted(body, params["boundary"], n)
	case mt == "multipart/signed" && strings.EqualFold(params["protocol"], "application/pgp-signature"):
		p.walkSigned(body, params["boundary"], n)
	case strings.HasPrefix(mt, "multipart/"):
		p.walkMultipart(mt, body, params["boundary"], n)
	case mt == "message/rfc822":
		// A forwarded message: kept whole, not walked, so that its text
		// and signatures are never taken for the sender's.
		p.attach(h, mt, body, "message.eml")
	case mt == "text/rfc822-headers" || params["hp-legacy-display"] != "":
		// Legacy display of protected headers (draft-autocrypt-lamps-
		// protected-headers section 2.1.2, RFC 9788 section 4.5.3.3):
		// a copy of the headers for old clients, not body text.
		if n.inside && p.msg.ProtectedSubject == "" && mt == "text/rfc822-headers" {
			hdr, _ := splitHeader(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
			if lh, err := readHeader(hdr, p.lim.MaxHeaderBytes); err == nil {
				p.msg.ProtectedSubject = headerText(lh, "Subject")
			}
		}
	case mt == "application/pgp-signature":
		// A signature out of place: nothing for staff.
	case mt == "application/pgp-encrypted" && !isAttachment(h) && !looksLikeOpenPGP(decodeTransfer(h.Get("Content-Transfer-Encoding"), body)):
		// The PGP/MIME control part ("Version: 1") out of place.
	case isAttachment(h), mt != "text/plain" && mt != "text/html":
		p.file(h, mt, body, n)
	case mt == "text/plain":
		data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
		p.text(data, params["charset"], n, mt, false)
	case mt == "text/html":
		// Never rendered (EFAIL): its source is kept as a file, and staff
		// read text extracted from it.
		src := p.attach(h, mt, body, "body.html")
		p.htmlFrom(src, params["charset"], n)
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
func (p *parser) walkMultipart(mt string, body []byte, boundary string, n node) {
	children := splitMultipart(body, boundary, p.lim.MaxParts-p.parts+1)
	type child struct {
		h    message.Header
		body []byte
		n    node
	}
	cs := make([]child, 0, len(children))
	for i, c := range children {
		hdr, b := splitHeader(c)
		h, _ := readHeader(hdr, p.lim.MaxHeaderBytes) // keep what parsed
		cs = append(cs, child{h, b, n.child(i + 1)})
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
		p.walk(c.h, c.body, c.n)
	}
}

// walkEncrypted handles RFC 3156 section 4 PGP/MIME: two parts, an
// application/pgp-encrypted control part ("Version: 1") and an
// application/octet-stream part holding the (armored) OpenPGP message.
// The plaintext is itself a MIME entity (section 4, last paragraph).
func (p *parser) walkEncrypted(body []byte, boundary string, n node) {
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
	idx := p.addSignatures(res.sigs)
	p.recheckWith(idx, res.verify)
	c := n.child(2).covered(idx)
	c.inside = true
	p.walkDecrypted(res.plain, c)
}

// walkDecrypted walks decrypted plaintext at n. It is a MIME entity when
// it has a Content-Type field; otherwise (some clients encrypt bare text)
// all of it is text. The first decrypted entity carries the protected
// headers (draft-autocrypt-lamps-protected-headers section 2).
func (p *parser) walkDecrypted(plain []byte, n node) {
	hdr, body := splitHeader(plain)
	h, err := readHeader(hdr, p.lim.MaxHeaderBytes)
	if err != nil || !h.Has("Content-Type") {
		if p.take() {
			p.text(plain, "", n, "text/plain", false)
		}
		return
	}
	n.root = !p.protected
	p.protected = true
	p.walk(h, body, n)
}

// walkSigned handles RFC 3156 section 5 multipart/signed: the first part
// is the signed entity, the second an application/pgp-signature
// detached signature over the first part's canonical (CRLF) bytes,
// headers included, without the line break before the delimiter. The
// signatures cover what the first part holds, nested multiparts and
// encrypted content included.
func (p *parser) walkSigned(body []byte, boundary string, n node) {
	parts := splitMultipart(body, boundary, 2)
	if len(parts) == 0 {
		return
	}
	var idx []int
	switch {
	case len(parts) == 2:
		if !p.take() {
			return
		}
		hdr, b := splitHeader(parts[1])
		h, _ := readHeader(hdr, p.lim.MaxHeaderBytes)
		sig := decodeTransfer(h.Get("Content-Transfer-Encoding"), b)
		signed := canonicalCRLF(parts[0])
		check := func() []triage.Signature { return p.verifyDetached(signed, sig) }
		idx = p.addSignatures(check())
		p.recheckWith(idx, check)
	default:
		idx = p.addSignatures([]triage.Signature{{Status: triage.SignatureBad, Reason: "a multipart/signed message without its signature part"}})
	}
	hdr, b := splitHeader(parts[0])
	h, _ := readHeader(hdr, p.lim.MaxHeaderBytes)
	c := n.child(1).covered(idx)
	c.root = n.root // sign-then-encrypt: the protected headers are on the signed entity
	p.walk(h, b, c)
}

// file handles a part that is a file: it is kept as an attachment, and
// if it is OpenPGP data (an encrypted or signed .pgp/.gpg/.asc file, a
// public key) that is read too.
func (p *parser) file(h message.Header, mt string, body []byte, n node) {
	data := p.attach(h, mt, body, "attachment")
	name := filename(h)
	switch openPGPKind(mt, name, data) {
	case kindMessage:
		p.openFile(name, data, n)
	case kindPublicKey:
		p.addKeys(data, triage.KeySourceAttachment)
	}
}

// openFile decrypts (or reads the signed content of) an OpenPGP message
// sent as a file, at n. The ciphertext was kept already; the plaintext is
// kept too, named without its .pgp/.gpg/.asc, and read as body text when
// it is text (or HTML, as PGP Desktop's "PGPexch.htm.pgp" is).
func (p *parser) openFile(name string, data []byte, n node) {
	res, err := p.open(data)
	if err != nil {
		p.fail(err)
		return
	}
	if res.encrypted {
		p.msg.Encrypted = true
		p.decrypted++
		n.inside = true
	}
	idx := p.addSignatures(res.sigs)
	p.recheckWith(idx, res.verify)
	n = n.covered(idx)
	plainName := stripOpenPGPExtension(triage.CleanFilename(name))
	if plainName == "" {
		plainName = stripOpenPGPExtension(triage.CleanFilename(res.name))
	}
	if plainName == "" {
		plainName = "decrypted"
	}
	ext := strings.ToLower(extensionOf(plainName))
	switch {
	case ext == ".htm" || ext == ".html":
		p.attachData(plainName, "text/html", res.plain)
		p.htmlFrom(res.plain, "", n)
	case looksLikeText(res.plain):
		p.attachData(plainName, "text/plain", res.plain)
		p.text(res.plain, "", n, "text/plain", false)
	default:
		p.attachData(plainName, "application/octet-stream", res.plain)
	}
}

// htmlFrom reads the text of HTML whose source is the attachment just
// stored, and points the parts taken from it at that attachment, so
// staff are led to this part's own source even when the sender attached
// another file of the same name.
func (p *parser) htmlFrom(data []byte, charset string, n node) {
	source := len(p.msg.Attachments) // 1 + index of the last attachment
	start := len(p.msg.Parts)
	p.html(data, charset, n)
	for i := start; i < len(p.msg.Parts); i++ {
		if p.msg.Parts[i].FromHTML {
			p.msg.Parts[i].Source = source
		}
	}
}

// attach stores a part as an attachment and returns its data: the body
// with the transfer encoding undone but not its charset (the file is kept
// as sent). The name is the part's file name, else defaultName.
func (p *parser) attach(h message.Header, mt string, body []byte, defaultName string) []byte {
	data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	if len(data) > 0 && &data[0] == &body[0] {
		data = append([]byte(nil), data...) // never alias the caller's raw message
	}
	name := filename(h)
	if name == "" {
		name = defaultName
	}
	p.attachData(name, mt, data)
	return data
}

// attachData stores data, which it takes over, as an attachment named
// name (cleaned here).
func (p *parser) attachData(name, mt string, data []byte) {
	sum := sha256.Sum256(data)
	p.msg.Attachments = append(p.msg.Attachments, triage.Attachment{
		Name:        triage.CleanFilename(name),
		ContentType: mt,
		Size:        int64(len(data)),
		SHA256:      hex.EncodeToString(sum[:]),
		Data:        data,
	})
}
