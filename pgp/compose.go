package pgp

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

// Outgoing mail (issue 5): every mail secinbox sends is signed with the
// team key and, when the researcher's key is known, encrypted to it, as
// RFC 3156 PGP/MIME, with an Autocrypt header carrying the team key.

// OutgoingMail is what ComposeMail needs. Addresses and the subject must
// already be valid (triage.ValidAddress, triage.ValidSubject); ComposeMail
// checks them again and refuses anything that could inject a header.
type OutgoingMail struct {
	From     string // bare address: security@domain
	FromName string // "Security Team"; may be empty
	To       string // bare address
	Subject  string
	Date     time.Time
	// MessageID, InReplyTo and References are "<id@host>" each.
	MessageID  string
	InReplyTo  string
	References []string
	// AutoSubmitted is "auto-replied" for the acknowledgement,
	// "auto-generated" for notifications, "" for mail people wrote.
	AutoSubmitted string
	Body          string // UTF-8 plain text, LF line endings
}

// ErrInvalidMail: a field of an outgoing mail is not acceptable (not a
// single bare address, a control character, a malformed Message-ID...).
// Nothing is produced.
var ErrInvalidMail = errors.New("pgp: invalid outgoing mail")

const (
	// maxComposeBody bounds the text of one outgoing mail or web-form
	// entity; replies are typed by people, acknowledgements are short.
	maxComposeBody = 1 << 20
	// maxMessageID bounds one message id, angle brackets included.
	maxMessageID = 250
	// maxThreadIDs bounds the message ids of In-Reply-To and References,
	// read or written.
	maxThreadIDs = 100
	// maxFromName bounds the display name of From, in bytes.
	maxFromName = 200
	// maxEntityFiles bounds the files of one MIMEEntity.
	maxEntityFiles = 100
)

// ComposeMail returns the RFC 5322 message for m, signed by signer. When
// recipients is not empty it is encrypted to them and to signer (so the
// team can read what it sent): multipart/encrypted (RFC 3156 section 4)
// over a signed-and-encrypted MIME entity whose header repeats the
// Subject (protected headers). Otherwise it is multipart/signed (section
// 5). Either way an Autocrypt header carries signer's public key for
// From.
//
// It fails, wrapping ErrInvalidMail, when From or To is not one bare
// address, when a field holds a control character (CR and LF above all:
// no header injection), when MessageID is not "<id@host>", or when the
// body is not UTF-8 or over 1 MiB. Malformed ids in InReplyTo and
// References are left out (they are hints, often taken from other
// people's mail); ids with control characters fail. It fails too when
// signer has no usable signing key or a recipient no encryption key.
func ComposeMail(m OutgoingMail, signer *openpgp.Entity, recipients openpgp.EntityList, now time.Time) ([]byte, error) {
	if signer == nil || signer.PrimaryKey == nil {
		return nil, errors.New("pgp: composing mail: no signer")
	}
	f, err := checkOutgoing(m, now)
	if err != nil {
		return nil, err
	}
	// The text part carries the protected headers (RFC 9788 section 2):
	// encrypted, they are the only trustworthy copy; signed, they are at
	// least covered by the signature.
	inner := new(bytes.Buffer)
	writeField(inner, "Content-Type", `text/plain; charset=utf-8; protected-headers="v1"`)
	writeField(inner, "Content-Transfer-Encoding", "quoted-printable")
	writeField(inner, "Subject", encodeText(f.subject))
	writeField(inner, "From", f.from)
	writeField(inner, "To", f.to)
	writeField(inner, "Date", f.date)
	writeField(inner, "Message-ID", f.messageID)
	inner.WriteString("\r\n")
	inner.Write(quotedPrintable(m.Body))

	autocrypt, err := autocryptField(signer, f.fromAddr, now)
	if err != nil {
		return nil, err
	}
	out := new(bytes.Buffer)
	writeField(out, "Date", f.date)
	writeField(out, "From", f.from)
	writeField(out, "To", f.to)
	writeField(out, "Subject", encodeText(f.subject))
	writeField(out, "Message-ID", f.messageID)
	if f.inReplyTo != "" {
		writeField(out, "In-Reply-To", f.inReplyTo)
	}
	if len(f.references) > 0 {
		writeField(out, "References", strings.Join(f.references, " "))
	}
	if f.autoSubmitted != "" {
		writeField(out, "Auto-Submitted", f.autoSubmitted)
	}
	writeField(out, "MIME-Version", "1.0")
	out.WriteString(autocrypt)

	if len(recipients) > 0 {
		to := openpgp.EntityList{}
		seen := map[string]bool{}
		for _, e := range append(append(openpgp.EntityList{}, recipients...), signer) {
			if e == nil || e.PrimaryKey == nil || seen[Fingerprint(e)] {
				continue
			}
			seen[Fingerprint(e)] = true
			to = append(to, e)
		}
		armored, err := encryptSigned(inner.Bytes(), to, signer, now)
		if err != nil {
			return nil, err
		}
		writeEncryptedBody(out, armored)
		return out.Bytes(), nil
	}

	// RFC 3156 section 5: the signature is over the first part exactly as
	// it is sent, CRLF line ends, headers included. Quoted-printable kept
	// it 7-bit with no trailing white space, so no relay will change it.
	signed := inner.Bytes()
	sig, hash, err := detachSign(signed, signer, now, packet.SigTypeBinary, openpgp.SignatureType)
	if err != nil {
		return nil, err
	}
	boundary := newBoundary(signed, sig)
	writeField(out, "Content-Type", fmt.Sprintf(`multipart/signed; micalg=pgp-%s; protocol="application/pgp-signature"; boundary="%s"`, strings.ToLower(hashName(hash)), boundary))
	out.WriteString("\r\nThis is an OpenPGP/MIME signed message (RFC 3156).\r\n")
	out.WriteString("--" + boundary + "\r\n")
	out.Write(signed)
	out.WriteString("\r\n--" + boundary + "\r\n")
	writeField(out, "Content-Type", `application/pgp-signature; name="signature.asc"`)
	writeField(out, "Content-Description", "OpenPGP digital signature")
	writeField(out, "Content-Disposition", `attachment; filename="signature.asc"`)
	out.WriteString("\r\n")
	out.Write(crlf(sig))
	out.WriteString("\r\n--" + boundary + "--\r\n")
	return out.Bytes(), nil
}

// outgoing holds the checked, formatted header values of a mail.
type outgoing struct {
	fromAddr, from, to, subject, date string
	messageID, inReplyTo              string
	references                        []string
	autoSubmitted                     string
}

// checkOutgoing validates m (see ComposeMail) and formats its fields.
func checkOutgoing(m OutgoingMail, now time.Time) (outgoing, error) {
	var f outgoing
	from, err := bareAddress(m.From)
	if err != nil {
		return f, fmt.Errorf("pgp: composing mail: From: %w", err)
	}
	to, err := bareAddress(m.To)
	if err != nil {
		return f, fmt.Errorf("pgp: composing mail: To: %w", err)
	}
	if hasControl(m.FromName) || !utf8.ValidString(m.FromName) || len(m.FromName) > maxFromName {
		return f, fmt.Errorf("pgp: composing mail: From name: %w", ErrInvalidMail)
	}
	if err := triage.ValidSubject(m.Subject); err != nil || hasControl(m.Subject) {
		return f, fmt.Errorf("pgp: composing mail: Subject: %w", ErrInvalidMail)
	}
	if !utf8.ValidString(m.Body) || len(m.Body) > maxComposeBody || strings.ContainsFunc(m.Body, bodyControl) {
		return f, fmt.Errorf("pgp: composing mail: body: %w", ErrInvalidMail)
	}
	if !validMessageID(m.MessageID) {
		return f, fmt.Errorf("pgp: composing mail: Message-ID: %w", ErrInvalidMail)
	}
	switch m.AutoSubmitted {
	case "", "no", "auto-replied", "auto-generated":
	default:
		return f, fmt.Errorf("pgp: composing mail: Auto-Submitted %q: %w", m.AutoSubmitted, ErrInvalidMail)
	}
	ids := append([]string{m.InReplyTo}, m.References...)
	for _, id := range ids {
		if hasControl(id) {
			return f, fmt.Errorf("pgp: composing mail: In-Reply-To or References: %w", ErrInvalidMail)
		}
	}
	if validMessageID(m.InReplyTo) {
		f.inReplyTo = m.InReplyTo
	}
	for _, id := range m.References {
		if validMessageID(id) {
			f.references = append(f.references, id)
		}
	}
	if len(f.references) > maxThreadIDs {
		// RFC 5322 section 3.6.4: keep the first (the thread's root) and
		// the latest.
		f.references = append(f.references[:1:1], f.references[len(f.references)-maxThreadIDs+1:]...)
	}
	date := m.Date
	if date.IsZero() {
		date = now
	}
	f.fromAddr = from
	f.from = from
	if m.FromName != "" {
		f.from = encodeText(m.FromName)
		if f.from == m.FromName {
			f.from = quoteDisplayName(m.FromName)
		}
		f.from += " <" + from + ">"
	}
	f.to = to
	f.subject = m.Subject
	f.date = date.Format(time.RFC1123Z)
	f.messageID = m.MessageID
	f.autoSubmitted = m.AutoSubmitted
	return f, nil
}

// bareAddress checks that s is one bare address (no display name, no
// group, no comment) and returns it as triage.ValidAddress does.
func bareAddress(s string) (string, error) {
	a, err := triage.ValidAddress(s)
	if err != nil {
		return "", fmt.Errorf("%q is not one bare address: %w", s, ErrInvalidMail)
	}
	return a, nil
}

// hasControl reports a control character (C0, DEL, C1) or invalid UTF-8.
func hasControl(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
	})
}

// bodyControl is a control character not at home in plain text: line
// breaks and tabs are.
func bodyControl(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f
}

func isASCIIPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// validMessageID: "<left@right>" (RFC 5322 section 3.6.4, msg-id), at
// most maxMessageID bytes, printable ASCII with no white space and no
// angle brackets inside.
func validMessageID(id string) bool {
	if len(id) < 5 || len(id) > maxMessageID || id[0] != '<' || id[len(id)-1] != '>' {
		return false
	}
	in := id[1 : len(id)-1]
	at := strings.LastIndexByte(in, '@')
	if at <= 0 || at == len(in)-1 || !isASCIIPrintable(in) || strings.ContainsAny(in, "<>") {
		return false
	}
	return true
}

// quoteDisplayName makes an ASCII display name a quoted-string (RFC 5322
// section 3.2.4), so that no special in it can start a new address.
func quoteDisplayName(name string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}

// encodeText encodes a header value (RFC 2047) when it is not ASCII:
// as Q encoded words of at most 60 characters, so that writeField can
// fold between them and keep lines within 78 characters (the standard
// library's words run to 75). Only letters, digits and "!*+-/" stay
// literal, so the words are valid in a phrase (a display name) too
// (section 5, rule 3).
func encodeText(s string) string {
	// ASCII stays as it is, unless it holds "=?", which readers would
	// decode as an encoded word of its own.
	if isASCIIPrintable(strings.ReplaceAll(s, " ", "")) && !strings.Contains(s, "=?") {
		return s
	}
	const prefix, suffix, max = "=?utf-8?q?", "?=", 60
	var words []string
	var cur strings.Builder
	for _, r := range s {
		var enc string
		switch {
		case r == ' ':
			enc = "_"
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!*+-/", r)):
			enc = string(r)
		default:
			var b [4]byte
			for _, c := range b[:utf8.EncodeRune(b[:], r)] {
				enc += fmt.Sprintf("=%02X", c)
			}
		}
		if cur.Len() > 0 && len(prefix)+cur.Len()+len(enc)+len(suffix) > max {
			words = append(words, prefix+cur.String()+suffix)
			cur.Reset()
		}
		cur.WriteString(enc)
	}
	if cur.Len() > 0 {
		words = append(words, prefix+cur.String()+suffix)
	}
	return strings.Join(words, " ")
}

// writeField writes "Name: value" CRLF, folded at spaces so that lines
// stay within 78 characters where the value allows (RFC 5322 section
// 2.2.3). Values were checked: they hold no CR or LF.
func writeField(w *bytes.Buffer, name, value string) {
	line := name + ":"
	n := len(line)
	w.WriteString(line)
	for i, word := range strings.Split(value, " ") {
		if i > 0 && word == "" {
			w.WriteByte(' ')
			n++
			continue
		}
		if n+1+len(word) > 78 && n > len(name)+1 {
			w.WriteString("\r\n")
			n = 0
		}
		w.WriteByte(' ')
		w.WriteString(word)
		n += 1 + len(word)
	}
	w.WriteString("\r\n")
}

// quotedPrintable encodes text (LF or CRLF line ends) as quoted-printable
// with CRLF line ends (RFC 2045 section 6.7), and also "=46rom " at the
// start of a line, so that an mbox on the way cannot alter it (RFC 3156
// section 3, item 2).
func quotedPrintable(text string) []byte {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(text))
	w.Close()
	out := b.Bytes()
	if bytes.HasPrefix(out, []byte("From ")) {
		out = append([]byte("=46"), out[1:]...)
	}
	out = bytes.ReplaceAll(out, []byte("\r\nFrom "), []byte("\r\n=46rom "))
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, '\r', '\n')
	}
	return out
}

// crlf converts LF and lone CR line ends to CRLF.
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	b = bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// newBoundary returns a multipart boundary found in none of parts.
func newBoundary(parts ...[]byte) string {
	for {
		var r [16]byte
		_, _ = rand.Read(r[:]) // never fails (Go 1.24+)
		b := "secinbox-" + hex.EncodeToString(r[:])
		found := false
		for _, p := range parts {
			found = found || bytes.Contains(p, []byte(b))
		}
		if !found {
			return b
		}
	}
}

// signConfig is the go-crypto configuration for what secinbox signs and
// encrypts at now: SHA-512 when the key allows it, AES-256, no
// compression.
func signConfig(now time.Time) *packet.Config {
	return &packet.Config{
		DefaultHash:            crypto.SHA512,
		DefaultCipher:          packet.CipherAES256,
		DefaultCompressionAlgo: packet.CompressionNone,
		Time:                   func() time.Time { return now },
	}
}

// detachSign returns signer's armored detached signature over data, of
// type sigType, and the hash it used.
func detachSign(data []byte, signer *openpgp.Entity, now time.Time, sigType packet.SignatureType, blockType string) (sig []byte, hash crypto.Hash, err error) {
	defer func() {
		if r := recover(); r != nil {
			sig, err = nil, fmt.Errorf("pgp: signing: %w: %v", ErrPanic, r)
		}
	}()
	var raw bytes.Buffer
	params := &openpgp.SignParams{TextSig: sigType == packet.SigTypeText, Config: signConfig(now)}
	if err := openpgp.DetachSignWithParams(&raw, []*openpgp.Entity{signer}, bytes.NewReader(data), params); err != nil {
		return nil, 0, fmt.Errorf("pgp: signing: %w", err)
	}
	p, err := packet.Read(bytes.NewReader(raw.Bytes()))
	if err != nil {
		return nil, 0, fmt.Errorf("pgp: signing: reading back: %w", err)
	}
	s, ok := p.(*packet.Signature)
	if !ok {
		return nil, 0, errors.New("pgp: signing: no signature made")
	}
	var out bytes.Buffer
	// With the CRC-24 checksum that RFC 9580 section 6.1 no longer asks
	// for: GnuPG 2.2 reads the END line as data without it.
	aw, err := armor.Encode(&out, blockType, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("pgp: signing: %w", err)
	}
	aw.Write(raw.Bytes())
	if err := aw.Close(); err != nil {
		return nil, 0, fmt.Errorf("pgp: signing: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), s.Hash, nil
}

// encryptSigned returns plaintext signed by signer and encrypted to to,
// armored.
func encryptSigned(plaintext []byte, to openpgp.EntityList, signer *openpgp.Entity, now time.Time) (armored []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			armored, err = nil, fmt.Errorf("pgp: encrypting: %w: %v", ErrPanic, r)
		}
	}()
	return encrypt(plaintext, to, signer, now)
}

// writeEncryptedBody writes the Content-Type field, the blank line and the
// body of an RFC 3156 section 4 multipart/encrypted message holding
// armored.
func writeEncryptedBody(out *bytes.Buffer, armored []byte) {
	armored = crlf(bytes.TrimRight(armored, "\r\n"))
	boundary := newBoundary(armored)
	writeField(out, "Content-Type", fmt.Sprintf(`multipart/encrypted; protocol="application/pgp-encrypted"; boundary="%s"`, boundary))
	out.WriteString("\r\nThis is an OpenPGP/MIME encrypted message (RFC 3156).\r\n")
	out.WriteString("--" + boundary + "\r\n")
	writeField(out, "Content-Type", "application/pgp-encrypted")
	writeField(out, "Content-Description", "PGP/MIME version identification")
	out.WriteString("\r\nVersion: 1\r\n\r\n")
	out.WriteString("--" + boundary + "\r\n")
	writeField(out, "Content-Type", `application/octet-stream; name="encrypted.asc"`)
	writeField(out, "Content-Description", "OpenPGP encrypted message")
	writeField(out, "Content-Disposition", `inline; filename="encrypted.asc"`)
	out.WriteString("\r\n")
	out.Write(armored)
	out.WriteString("\r\n\r\n--" + boundary + "--\r\n")
}

// autocryptField returns the Autocrypt field (Autocrypt Level 1 section
// 2.1) for addr with signer's minimal public key, folded, CRLF-ended.
func autocryptField(signer *openpgp.Entity, addr string, now time.Time) (string, error) {
	key, err := minimalKey(signer, addr, now)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("Autocrypt: addr=" + addr + "; prefer-encrypt=mutual; keydata=\r\n")
	data := base64.StdEncoding.EncodeToString(key)
	for len(data) > 0 {
		n := min(len(data), 76)
		b.WriteString(" " + data[:n] + "\r\n")
		data = data[n:]
	}
	return b.String(), nil
}

// minimalKey returns e's public key as Autocrypt Level 1 section 2.1.1
// asks for it: the primary key, one user ID (the one for addr, else the
// primary one) with its newest valid self-signature, and the subkeys
// valid at now that sign or encrypt, each with its newest valid binding.
// Certifications by others, old self-signatures and dead subkeys are
// left out.
func minimalKey(e *openpgp.Entity, addr string, now time.Time) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("pgp: exporting key: %w: %v", ErrPanic, r)
		}
	}()
	cfg := signConfig(now)
	var id *openpgp.Identity
	for _, i := range e.Identities {
		if identityEmail(i) == strings.ToLower(addr) {
			if _, err := i.Verify(now, cfg); err == nil && (id == nil || i.Name < id.Name) {
				id = i
			}
		}
	}
	if id == nil {
		_, id = e.PrimaryIdentity(now, cfg)
	}
	if id == nil {
		return nil, fmt.Errorf("pgp: exporting key %s: no valid user ID", Fingerprint(e))
	}
	self, err := id.Verify(now, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgp: exporting key %s: %w", Fingerprint(e), err)
	}
	small := &openpgp.Entity{
		PrimaryKey:       e.PrimaryKey,
		DirectSignatures: e.DirectSignatures,
		Identities: map[string]*openpgp.Identity{id.Name: {
			Name:               id.Name,
			UserId:             id.UserId,
			SelfCertifications: []*packet.VerifiableSignature{packet.NewVerifiableSig(self)},
		}},
	}
	for i := range e.Subkeys {
		s := &e.Subkeys[i]
		bind, err := s.Verify(now, cfg)
		if err != nil || !(bind.FlagSign || bind.FlagEncryptCommunications || bind.FlagEncryptStorage) {
			continue
		}
		small.Subkeys = append(small.Subkeys, openpgp.Subkey{
			Primary:   small,
			PublicKey: s.PublicKey,
			Bindings:  []*packet.VerifiableSignature{packet.NewVerifiableSig(bind)},
		})
	}
	var buf bytes.Buffer
	if err := small.Serialize(&buf); err != nil {
		return nil, fmt.Errorf("pgp: exporting key %s: %w", Fingerprint(e), err)
	}
	return buf.Bytes(), nil
}

// ClearSign returns text with an OpenPGP cleartext signature by signer
// (RFC 9580 section 7), as `gpg --verify` checks it: security.txt.
//
// Trailing white space is stripped from every line (it is not signed,
// section 7.2), lines starting with "-" are dash-escaped, and the
// signature is a text signature (type 0x01) over the lines joined by
// CRLF, without the line break before the signature. Line ends of the
// result are LF. It fails when text is not UTF-8 or signer cannot sign.
func ClearSign(text []byte, signer *openpgp.Entity, now time.Time) ([]byte, error) {
	if signer == nil || signer.PrimaryKey == nil {
		return nil, errors.New("pgp: clear-signing: no signer")
	}
	if !utf8.Valid(text) {
		return nil, errors.New("pgp: clear-signing: text is not UTF-8")
	}
	s := strings.ReplaceAll(string(text), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	signed := strings.Join(lines, "\r\n")

	sig, hash, err := detachSign([]byte(signed), signer, now, packet.SigTypeText, openpgp.SignatureType)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString("-----BEGIN PGP SIGNED MESSAGE-----\n")
	out.WriteString("Hash: " + hashName(hash) + "\n\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "-") {
			out.WriteString("- ")
		}
		out.WriteString(l + "\n")
	}
	out.Write(sig)
	return out.Bytes(), nil
}

// File is an attachment for MIMEEntity.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// MIMEEntity returns a MIME entity (header and body) holding text and
// files, with subject as a protected Subject field: the plaintext the
// web form encrypts to the team key (in the browser with OpenPGP.js, or
// on arrival without JavaScript).
//
// Without files it is one text/plain part (UTF-8, quoted-printable);
// with files, multipart/mixed with the text first and each file base64
// with a Content-Disposition file name (cleaned by triage.CleanFilename,
// RFC 2231-encoded when not ASCII). The top entity carries
// protected-headers="v1" (RFC 9788). It fails, wrapping ErrInvalidMail,
// on an invalid subject (triage.ValidSubject), text that is not UTF-8 or
// over 1 MiB, or more than 100 files; a file's content type that does
// not parse becomes application/octet-stream.
func MIMEEntity(subject, text string, files []File) ([]byte, error) {
	if err := triage.ValidSubject(subject); err != nil || hasControl(subject) {
		return nil, fmt.Errorf("pgp: MIME entity: subject: %w", ErrInvalidMail)
	}
	if !utf8.ValidString(text) || len(text) > maxComposeBody || strings.ContainsFunc(text, bodyControl) {
		return nil, fmt.Errorf("pgp: MIME entity: text: %w", ErrInvalidMail)
	}
	if len(files) > maxEntityFiles {
		return nil, fmt.Errorf("pgp: MIME entity: %d files, at most %d: %w", len(files), maxEntityFiles, ErrInvalidMail)
	}
	body := quotedPrintable(text)
	var out bytes.Buffer
	if len(files) == 0 {
		writeField(&out, "Content-Type", `text/plain; charset=utf-8; protected-headers="v1"`)
		writeField(&out, "Content-Transfer-Encoding", "quoted-printable")
		writeField(&out, "Subject", encodeText(subject))
		writeField(&out, "MIME-Version", "1.0")
		out.WriteString("\r\n")
		out.Write(body)
		return out.Bytes(), nil
	}
	parts := make([][]byte, 0, len(files))
	for _, f := range files {
		var p bytes.Buffer
		writeField(&p, "Content-Type", fileType(f.ContentType))
		writeField(&p, "Content-Transfer-Encoding", "base64")
		name := triage.CleanFilename(f.Name)
		if name == "" {
			name = "attachment"
		}
		writeField(&p, "Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		p.WriteString("\r\n")
		enc := base64.StdEncoding.EncodeToString(f.Data)
		for len(enc) > 0 {
			n := min(len(enc), 76)
			p.WriteString(enc[:n] + "\r\n")
			enc = enc[n:]
		}
		parts = append(parts, p.Bytes())
	}
	boundary := newBoundary(append([][]byte{body}, parts...)...)
	writeField(&out, "Content-Type", fmt.Sprintf(`multipart/mixed; boundary="%s"; protected-headers="v1"`, boundary))
	writeField(&out, "Subject", encodeText(subject))
	writeField(&out, "MIME-Version", "1.0")
	out.WriteString("\r\n")
	out.WriteString("--" + boundary + "\r\n")
	writeField(&out, "Content-Type", "text/plain; charset=utf-8")
	writeField(&out, "Content-Transfer-Encoding", "quoted-printable")
	out.WriteString("\r\n")
	out.Write(body)
	for _, p := range parts {
		out.WriteString("\r\n--" + boundary + "\r\n")
		out.Write(p)
	}
	out.WriteString("\r\n--" + boundary + "--\r\n")
	return out.Bytes(), nil
}

// fileType is a file's media type without parameters, lower-cased, or
// application/octet-stream when ct does not parse (it comes from a
// browser, so from anyone).
func fileType(ct string) string {
	t, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(t, "/") || !isASCIIPrintable(t) || strings.HasPrefix(t, "multipart/") || strings.HasPrefix(t, "message/") {
		return "application/octet-stream"
	}
	return strings.ToLower(t)
}

// EncryptedMail returns an RFC 5322 message with the given header fields
// whose body is armored, an OpenPGP message, as RFC 3156
// multipart/encrypted: how a web-form submission is stored, so that
// intake decrypts and files it like mail. Outer Subject is "...".
//
// from may be "" (a submission without a contact address): the message
// then has no From field. It fails, wrapping ErrInvalidMail, when from
// (if given) or to is not one bare address, messageID is not
// "<id@host>", or armored is not an armored PGP MESSAGE.
func EncryptedMail(from, to, messageID string, date time.Time, armored []byte) ([]byte, error) {
	var err error
	if from != "" {
		if from, err = bareAddress(from); err != nil {
			return nil, fmt.Errorf("pgp: encrypted mail: From: %w", err)
		}
	}
	if to, err = bareAddress(to); err != nil {
		return nil, fmt.Errorf("pgp: encrypted mail: To: %w", err)
	}
	if !validMessageID(messageID) {
		return nil, fmt.Errorf("pgp: encrypted mail: Message-ID: %w", ErrInvalidMail)
	}
	a := bytes.TrimSpace(armored)
	if !bytes.HasPrefix(a, []byte("-----BEGIN PGP MESSAGE-----")) || !bytes.HasSuffix(a, []byte("-----END PGP MESSAGE-----")) || !isASCIIText(a) {
		return nil, fmt.Errorf("pgp: encrypted mail: not an armored OpenPGP message: %w", ErrInvalidMail)
	}
	var out bytes.Buffer
	writeField(&out, "Date", date.Format(time.RFC1123Z))
	if from != "" {
		writeField(&out, "From", from)
	}
	writeField(&out, "To", to)
	writeField(&out, "Subject", "...")
	writeField(&out, "Message-ID", messageID)
	writeField(&out, "MIME-Version", "1.0")
	writeEncryptedBody(&out, a)
	return out.Bytes(), nil
}

// isASCIIText: printable ASCII, tabs and line breaks only (armor is).
func isASCIIText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}
