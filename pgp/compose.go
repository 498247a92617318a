package pgp

import (
	"errors"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
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

// ComposeMail returns the RFC 5322 message for m, signed by signer. When
// recipients is not empty it is encrypted to them and to signer (so the
// team can read what it sent): multipart/encrypted (RFC 3156 section 4)
// over a signed-and-encrypted MIME entity whose header repeats the
// Subject (protected headers). Otherwise it is multipart/signed (section
// 5). Either way an Autocrypt header carries signer's public key for
// From.
func ComposeMail(m OutgoingMail, signer *openpgp.Entity, recipients openpgp.EntityList, now time.Time) ([]byte, error) {
	return nil, errors.New("pgp: ComposeMail: not implemented yet")
}

// ClearSign returns text with an OpenPGP cleartext signature by signer
// (RFC 9580 section 7), as `gpg --verify` checks it: security.txt.
func ClearSign(text []byte, signer *openpgp.Entity, now time.Time) ([]byte, error) {
	return nil, errors.New("pgp: ClearSign: not implemented yet")
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
func MIMEEntity(subject, text string, files []File) ([]byte, error) {
	return nil, errors.New("pgp: MIMEEntity: not implemented yet")
}

// EncryptedMail returns an RFC 5322 message with the given header fields
// whose body is armored, an OpenPGP message, as RFC 3156
// multipart/encrypted: how a web-form submission is stored, so that
// intake decrypts and files it like mail. Outer Subject is "...".
func EncryptedMail(from, to, messageID string, date time.Time, armored []byte) ([]byte, error) {
	return nil, errors.New("pgp: EncryptedMail: not implemented yet")
}
