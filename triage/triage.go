// Package triage is secinbox's domain: reports and their workflow
// (workflow.go: the status state machine, Report.Apply), SLA clocks with
// an optional business-hours calendar (sla.go, calendar.go), CVSS scoring
// and the board's risk rank (cvss.go, risk.go), labels and internal
// notes, staff users and roles, and the errors every other package maps
// onto its own boundary (SMTP reply, HTTP status).
//
// It does no I/O. Time always comes in as an argument.
package triage

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FirstResponseWindow is the promise on the policy page: a human answer
// within 24 hours of receipt.
const FirstResponseWindow = 24 * time.Hour

// Status is where a report stands in the workflow.
type Status string

const (
	// StatusNew is a report nobody has looked at yet.
	StatusNew Status = "new"
	// StatusUndecryptable is a report the team's keys could not decrypt,
	// or whose ciphertext failed its integrity check. The raw message is kept.
	StatusUndecryptable Status = "undecryptable"

	// The workflow (workflow.go has the transitions).
	StatusTriaging  Status = "triaging"   // someone is assessing it
	StatusNeedsInfo Status = "needs-info" // waiting for the researcher; SLA clocks pause
	StatusAccepted  Status = "accepted"   // a real vulnerability; remediation clock runs
	StatusFixing    Status = "fixing"
	StatusFixed     Status = "fixed"
	StatusDisclosed Status = "disclosed" // published; the end of the road

	// Closed without a fix.
	StatusDuplicate     Status = "duplicate" // Report.DuplicateOf names the original
	StatusNotApplicable Status = "not-applicable"
	StatusInformative   Status = "informative"
	StatusSpam          Status = "spam"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// ParseStatus returns the status named s, or an EINVALID error.
func ParseStatus(s string) (Status, error) {
	if st := Status(s); st.Valid() {
		return st, nil
	}
	return "", Errorf(EINVALID, "unknown status %q", s)
}

// SignatureStatus is the outcome of checking one OpenPGP signature, or
// (as Report.Signature) the summary of all of a report's signatures.
type SignatureStatus string

const (
	SignatureNone       SignatureStatus = "none"        // the message was not signed
	SignatureGood       SignatureStatus = "good"        // verified against a key we hold
	SignatureBad        SignatureStatus = "bad"         // the signature does not verify
	SignatureUnknownKey SignatureStatus = "unknown_key" // signed by a key we do not have
	SignatureExpiredKey SignatureStatus = "expired_key" // the signer's key (or signature) had expired when it was made
	SignatureRevokedKey SignatureStatus = "revoked_key" // the signer's key is revoked
	SignatureWeak       SignatureStatus = "weak"        // made with a broken algorithm (SHA-1, MD5...): never shown as good
	// SignaturePartial is only a summary: some body parts are covered by
	// a good signature and others are not covered at all. Staff must look
	// at which (Report.Parts).
	SignaturePartial SignatureStatus = "partial"
)

// Signature is the recorded result of verifying one signature.
type Signature struct {
	Status      SignatureStatus
	Fingerprint string // signer's primary-key fingerprint, upper hex, when we hold the key
	KeyID       string // issuer key ID, 16 upper hex, whenever the packet names one
	// SignerUserID is the primary user ID of the signer's key, when known.
	SignerUserID string
	// FromMatches: one of the signer key's user IDs carries the outer
	// From address. A good signature with FromMatches false is someone
	// else's signature (a forwarded mail, or an impersonation).
	FromMatches bool
	Hash        string    // hash algorithm, "SHA256"; empty if unknown
	SignedAt    time.Time // signature creation time; zero if unknown
	Reason      string    // for anything but good and none: what was wrong, for staff
	// Parts are the Paths of the body parts (Report.Parts) this
	// signature covers. Outer headers are never covered.
	Parts []string
}

// BodyPart is one piece of a report's readable content, in message order,
// so staff can see exactly which text is signed and which is not.
type BodyPart struct {
	Path        string // where in the message: MIME part numbers "1.2", "+inline1" for inline OpenPGP blocks
	ContentType string // "text/plain", "text/html"
	Text        string // UTF-8 text, LF line endings; for HTML, the text extracted from it
	FromHTML    bool   // Text was extracted from an HTML part; its source is kept as an attachment
	Encrypted   bool   // came out of decrypted OpenPGP content
	// Signature is 1 + the index in Report.Signatures of the signature
	// that covers this part; 0 when no signature covers it.
	Signature int
	// Source is 1 + the index in Report.Attachments of the file holding
	// this part's HTML source; 0 when there is none (not FromHTML).
	Source int
}

// Attachment is a file that came inside a report (inside the decrypted
// part when the report was encrypted).
type Attachment struct {
	ID          int64
	Name        string // sanitized file name, never a path
	ContentType string
	Size        int64
	SHA256      string // hex
	Data        []byte // nil when only metadata was loaded
}

// Report is one vulnerability report, as filed from one incoming message.
type Report struct {
	ID               int64
	TrackingID       string // SEC-2026-0001
	Title            string
	ResearcherEmail  string
	ResearcherName   string
	ReceivedAt       time.Time
	FirstResponseDue time.Time
	Status           Status
	Encrypted        bool   // the message carried OpenPGP encryption
	Decrypted        bool   // and we decrypted it with integrity
	DecryptError     string // why decryption failed, for staff; empty otherwise
	// Signature summarizes Signatures for lists: none, the one status
	// when every signature agrees and covers every part, partial when a
	// good signature leaves parts uncovered, else the worst status.
	Signature   Signature
	Signatures  []Signature
	Parts       []BodyPart
	Body        string // plain text of all Parts; never rendered as HTML
	Attachments []Attachment
	MessageID   int64 // the raw message this report was filed from
	// HeaderMessageID is the Message-ID field of that message ("<...>"),
	// for threading replies; "" when it had none.
	HeaderMessageID string
	// Authentication is what SPF and DKIM said about the sender, checked
	// while filing; filled in by the store on single loads.
	Authentication Authentication

	// Triage state (workflow.go). Change it with Apply, which validates
	// and returns the events to record.
	Assignee      int64    // staff user id; 0: nobody
	AssigneeEmail string   // filled in by the store for display
	Labels        []string // sorted, unique, each valid (ParseLabels)
	DuplicateOf   int64    // the original, when Status is duplicate
	Duplicates    []int64  // reports merged into this one; filled in by the store on single loads
	CVSS          CVSS     // zero: no vector
	Severity      Severity // "": not assessed yet
	// Timeline is what the SLA clocks are computed from (sla.go).
	Timeline Timeline
	// Quarantine is the rule holding the report in quarantine
	// (quarantine.go); 0 when it is on the board.
	Quarantine int64
}

// NewReport returns a report received at receivedAt with its clocks set.
// Callers fill in the content.
func NewReport(receivedAt time.Time) *Report {
	receivedAt = receivedAt.UTC()
	return &Report{
		ReceivedAt:       receivedAt,
		FirstResponseDue: receivedAt.Add(FirstResponseWindow),
		Status:           StatusNew,
		Signature:        Signature{Status: SignatureNone},
	}
}

// TrackingID formats the human-facing id of the seq-th report of year,
// as used in every message to the researcher.
func TrackingID(year, seq int) string {
	return fmt.Sprintf("SEC-%04d-%04d", year, seq)
}

// RawMessage is a message exactly as accepted over SMTP. It is committed
// before the 250 reply and never changed afterwards.
type RawMessage struct {
	ID         int64
	MailFrom   string   // the envelope sender (may be empty: a bounce)
	Recipients []string // the envelope recipients we accepted
	RemoteAddr string
	ReceivedAt time.Time // when the transfer began (DATA)
	// StoredAt is when the message was committed, which is when the
	// sender got its 250 (set by the store; zero for messages stored
	// before it recorded it).
	StoredAt time.Time
	Data     []byte
}

// ReportFilter narrows a list of reports. The zero value lists all.
// Conditions combine with AND; the values of one list with OR.
type ReportFilter struct {
	Status   Status
	Statuses []Status   // any of these (together with Status)
	Severity []Severity // any of these; SeverityUnscored for reports without one
	// Assignee is a staff user id; with Unassigned, reports without one.
	Assignee   int64
	Unassigned bool
	Breached   *bool  // true: a clock is breached; false: none is
	Label      string // carries this label
	Query      string // full-text search over title, body and attachment names
	// Quarantined lists only the reports held in quarantine; without it
	// they are left out.
	Quarantined bool
	Limit       int
	Offset      int
}

// MaxTitleLength bounds a report title, in runes.
const MaxTitleLength = 300

// CleanTitle makes s fit for a one-line title: control characters become
// spaces, runs of white space collapse, Invisible characters are dropped
// (so it reads as it is), and it is cut to MaxTitleLength. Intake cleans
// report titles and researcher names with it.
func CleanTitle(s string) string {
	var b strings.Builder
	space, n := false, 0
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) || c == utf8.RuneError {
			space = b.Len() > 0
			continue
		}
		if Invisible(c) {
			continue
		}
		if n >= MaxTitleLength {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
			n++
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}
