package triage

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// The conversation with the researcher: the message a report was filed
// from, then Messages in and out, and the outbox that delivers the ones
// going out (issue 5). Internal notes (note.go) are never part of it.

// Direction says who wrote a conversation message.
type Direction string

const (
	DirectionIn  Direction = "in"  // from the researcher (mail, or the status page)
	DirectionOut Direction = "out" // from the team (a staff reply, a credit offer)
)

// Delivery is where an outgoing mail stands.
type Delivery string

const (
	// DeliveryQueued: waiting for its first or next try. With no relay
	// configured, mail stays queued (visible in the outbox) until one is.
	DeliveryQueued Delivery = "queued"
	DeliverySent   Delivery = "sent"   // the relay (or the maildir) took it
	DeliveryFailed Delivery = "failed" // refused for good (5xx) or out of attempts: staff must act
)

// MailKind is why a mail goes out.
type MailKind string

const (
	MailAck          MailKind = "ack"          // the automatic acknowledgement of a new report
	MailReply        MailKind = "reply"        // a staff reply
	MailCreditOffer  MailKind = "credit_offer" // the link to choose how to be credited
	MailNotification MailKind = "notification" // an SLA notification to the team
)

// Via says how a message reached us or left.
const (
	ViaMail = "mail" // SMTP
	ViaWeb  = "web"  // the web form or the status page
)

// Message is one entry of a report's conversation after the first
// message (which is the report itself).
type Message struct {
	ID        int64
	ReportID  int64
	Direction Direction
	Via       string // ViaMail or ViaWeb
	At        time.Time
	From      string // address; for staff replies the team address
	Subject   string
	Body      string // plain text; never rendered as HTML
	// Encrypted: an incoming message arrived encrypted and was decrypted;
	// an outgoing one was (or will be, for a queued one whose researcher
	// key is known) sent encrypted.
	Encrypted bool
	// Decrypted is false for an incoming message that arrived encrypted
	// and could not be decrypted (DecryptError says why).
	Decrypted    bool
	DecryptError string
	Signature    Signature   // summary, as Report.Signature
	Signatures   []Signature // incoming: every signature found
	Parts        []BodyPart  // incoming: the readable parts
	// HeaderMessageID is the RFC 5322 Message-ID, with angle brackets:
	// the mail's for an incoming one, ours for an outgoing one.
	HeaderMessageID string
	RawMessageID    int64 // incoming by mail: the stored raw message
	AuthorID        int64 // outgoing: the staff member; 0 for the system
	AuthorEmail     string
	Attachments     []Attachment // incoming: files that came with it (metadata only when listed)
	// Automated: an incoming mail marked automatic (an out-of-office
	// reply, a list): it joins the conversation but does not count as
	// the researcher's answer, so a report in needs-info stays paused.
	// Not stored.
	Automated bool

	// Outgoing only, from the outbox row that delivers it.
	OutboxID  int64
	Delivery  Delivery
	Attempts  int
	LastError string
	SentAt    time.Time
}

// OutMail is one row of the outbox: a mail to send, with its delivery
// state. The body is what the team wrote (replies, notifications) or
// empty for mail whose text the sender renders at send time from the
// report (acknowledgements, credit offers: their links are derived from
// secrets, never stored). Composition, signing and encryption happen at
// send time, so a retry uses the researcher's newest key.
type OutMail struct {
	ID         int64
	Kind       MailKind
	ReportID   int64 // 0 for none (a team notification has one though)
	TrackingID string
	MessageID  int64 // the conversation Message it delivers; 0 for none
	// NotificationID is the SLA notification a MailNotification delivers.
	NotificationID int64
	To             string // one address, validated (ValidAddress)
	Subject        string // one line, validated (ValidSubject)
	Body           string
	// Header fields for threading, each "<id@host>".
	HeaderMessageID string
	InReplyTo       string
	References      []string
	AuthorID        int64
	CreatedAt       time.Time

	State       Delivery
	Attempts    int
	NextAttempt time.Time
	LastError   string
	SentAt      time.Time
	Encrypted   bool   // the last composition was encrypted to the researcher
	Via         string // what took it: "relay smtp.example.com:587", "maildir"
}

// Outbox delivery is retried with backoff on temporary failures, a
// bounded number of times: about two days in all, as MTAs do.
const (
	MaxMailAttempts  = 12
	mailBackoffBase  = time.Minute
	mailBackoffLimit = 6 * time.Hour
)

// MailBackoff is how long to wait after the attempts-th temporary
// failure: 1, 2, 4 ... minutes, at most 6 hours.
func MailBackoff(attempts int) time.Duration {
	d := mailBackoffBase
	for i := 1; i < attempts && d < mailBackoffLimit; i++ {
		d *= 2
	}
	return min(d, mailBackoffLimit)
}

// OutboxFilter narrows the outbox listing. The zero value lists all,
// newest first.
type OutboxFilter struct {
	State    Delivery // "" for any
	ReportID int64    // 0 for any
	Kind     MailKind // "" for any
	Limit    int
	Offset   int // for paging; at most MaxOutboxOffset
}

// MaxOutboxOffset bounds OutboxFilter.Offset: deep pages cost the
// database and no one reads them.
const MaxOutboxOffset = 100_000

// MaxMessageBytes bounds a staff reply or a researcher's reply from the
// status page.
const MaxMessageBytes = 64 << 10

// CleanMessageBody checks the text of a reply written on a page or in
// the API: not empty, at most MaxMessageBytes, UTF-8 without NUL; line
// endings become LF. EINVALID otherwise.
func CleanMessageBody(body string) (string, error) {
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
	switch {
	case strings.TrimSpace(body) == "":
		return "", Errorf(EINVALID, "empty message")
	case len(body) > MaxMessageBytes:
		return "", Errorf(EINVALID, "message longer than %d KiB", MaxMessageBytes>>10)
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		return "", Errorf(EINVALID, "message is not valid UTF-8 text")
	}
	return body, nil
}

// ValidAddress returns addr as a bare, lower-cased-domain address fit
// for an envelope and a To field, or EINVALID: one address, no display
// name, no control characters or white space (no header injection), at
// most 254 bytes, a local part (at most 64, RFC 5321) and a domain. A domain of one label is
// allowed: the development default is security@localhost. Only ASCII:
// outgoing mail does not use SMTPUTF8, so an internationalized address
// could be received from but never answered.
func ValidAddress(addr string) (string, error) {
	if len(addr) > 254 || strings.ContainsFunc(addr, func(r rune) bool { return r < 0x21 || r >= 0x7f || r == '<' || r == '>' || r == ',' || r == ';' }) {
		return "", Errorf(EINVALID, "invalid email address")
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", Errorf(EINVALID, "invalid email address")
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], strings.ToLower(addr[at+1:])
	if local == "" || len(local) > 64 || domain == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", Errorf(EINVALID, "invalid email address")
	}
	return local + "@" + domain, nil
}

// ValidStaffEmail checks a staff member's email address (their login and
// where team mail goes): a ValidAddress whose domain has a dot, so that a
// typo like "alice@example" is caught ("localhost" is allowed, for a
// server tried on one machine). It returns the address with its domain
// lower-cased.
func ValidStaffEmail(addr string) (string, error) {
	a, err := ValidAddress(addr)
	if err != nil {
		return "", err
	}
	domain := a[strings.LastIndexByte(a, '@')+1:]
	if domain != "localhost" && !strings.Contains(domain, ".") {
		return "", Errorf(EINVALID, "email address %q has no domain like example.com", addr)
	}
	return a, nil
}

// MaxSubjectLength bounds a subject, in runes.
const MaxSubjectLength = 200

// ValidSubject checks a subject line: no control characters (C0, DEL,
// C1) nor Unicode line breaks (so no header injection), valid UTF-8, at most MaxSubjectLength runes.
func ValidSubject(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxSubjectLength ||
		strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
		}) {
		return Errorf(EINVALID, "invalid subject")
	}
	return nil
}

// Subjects never carry a report's title: outer headers travel in the
// clear even when the body is encrypted.

// AckSubject is the acknowledgement's subject.
func AckSubject(trackingID string) string { return "[" + trackingID + "] Report received" }

// ReplySubject is the subject of every other mail about a report.
func ReplySubject(trackingID string) string { return "[" + trackingID + "] Your security report" }

var subjectTrackingID = regexp.MustCompile(`\[(SEC-[0-9]{4}-[0-9]{4,})\]`)

// SubjectTrackingID returns the tracking id in brackets in a subject
// ("Re: [SEC-2026-0001] ..."), or "".
func SubjectTrackingID(subject string) string {
	if m := subjectTrackingID.FindStringSubmatch(subject); m != nil {
		return m[1]
	}
	return ""
}

// NewMessageID returns a fresh, unguessable Message-ID at domain, with
// angle brackets.
func NewMessageID(domain string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return "<" + base64.RawURLEncoding.EncodeToString(b) + "@" + domain + ">"
}

// MaxReferences bounds the References field of a reply.
const MaxReferences = 20

// ThreadHeaders returns In-Reply-To and References for a new mail in a
// report's conversation: it answers the newest message with a known
// Message-ID, and references the first message and the latest others
// (at most MaxReferences, RFC 5322 section 3.6.4). first is the
// Message-ID of the mail the report was filed from ("" if unknown);
// msgs are the conversation, oldest first.
func ThreadHeaders(first string, msgs []*Message) (inReplyTo string, references []string) {
	var ids []string
	if first != "" {
		ids = append(ids, first)
	}
	for _, m := range msgs {
		if m.HeaderMessageID != "" {
			ids = append(ids, m.HeaderMessageID)
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	inReplyTo = ids[len(ids)-1]
	if len(ids) > MaxReferences {
		ids = append([]string{ids[0]}, ids[len(ids)-MaxReferences+1:]...)
	}
	return inReplyTo, ids
}

// Link tokens: the status link of a web submission and the credit link
// are capabilities mailed to the researcher. They are derived, never
// stored: token = HMAC-SHA256(key, purpose, id, nonce), where the key is
// the installation's link key (cmd derives it from the key passphrase)
// and the nonce is random and stored per link. The database keeps only
// TokenHash(token) to find the link; the mail sender derives the token
// again when it renders the mail. A new nonce revokes the old link.

// Link token purposes.
const (
	LinkStatus = "status" // id: the raw message of a web submission
	LinkCredit = "credit" // id: the report
)

// NewNonce returns a random nonce for a link token.
func NewNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// LinkToken derives the URL-safe token of link (purpose, id, nonce).
func LinkToken(key []byte, purpose string, id int64, nonce string) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "secinbox link %s\x00", purpose)
	_ = binary.Write(m, binary.BigEndian, id)
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TokenHash is what the database stores to find a link by its token.
func TokenHash(token string) []byte {
	sum := sha256.Sum256([]byte("secinbox link token " + token))
	return sum[:]
}

// MailAttempt is the outcome of one try at sending an outbox mail.
type MailAttempt struct {
	// Err is nil when the relay (or the maildir) took the mail.
	Err error
	// Permanent: the relay refused for good (5xx), or the mail cannot be
	// composed (an invalid address): no retry, the mail is failed.
	Permanent bool
	Encrypted bool   // the mail sent was encrypted to the researcher
	Via       string // what took it (or was tried): "relay HOST:PORT", "maildir"
}
