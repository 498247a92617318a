package triage

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Credit with consent: staff offer credit for a report, the researcher
// chooses how to be named (or not at all) through an expiring link, and
// can change or revoke that choice later. Nothing is published without
// a choice.

// CreditChoice is how a researcher chose to be credited.
type CreditChoice string

const (
	CreditUndecided CreditChoice = ""          // offered, no answer yet: nothing is published
	CreditName      CreditChoice = "name"      // by name
	CreditHandle    CreditChoice = "handle"    // by a handle (pseudonym)
	CreditAnonymous CreditChoice = "anonymous" // counted, unnamed
	CreditNone      CreditChoice = "none"      // not at all
)

// ParseCreditChoice returns the choice named s, or EINVALID.
func ParseCreditChoice(s string) (CreditChoice, error) {
	switch c := CreditChoice(s); c {
	case CreditName, CreditHandle, CreditAnonymous, CreditNone:
		return c, nil
	}
	return "", Errorf(EINVALID, "unknown credit choice %q: name, handle, anonymous or none", s)
}

// Named reports whether the choice publishes a display name.
func (c CreditChoice) Named() bool { return c == CreditName || c == CreditHandle }

// Listed reports whether the choice puts the report in the hall of fame.
func (c CreditChoice) Listed() bool { return c.Named() || c == CreditAnonymous }

// CreditOfferLifetime is how long an unanswered offer's link works.
// Once the researcher has chosen, the link keeps working for
// CreditLinkLifetime after the choice, to change or revoke it.
const (
	CreditOfferLifetime = 30 * 24 * time.Hour
	CreditLinkLifetime  = 365 * 24 * time.Hour
)

// Credit is the credit offered for one report and the researcher's answer.
type Credit struct {
	ReportID   int64
	TrackingID string // filled in by the store
	OfferedAt  time.Time
	OfferedBy  int64
	ExpiresAt  time.Time // the link stops working then
	Choice     CreditChoice
	// DisplayName and Link are published when Choice is Named.
	DisplayName string
	Link        string // "" or an http(s) URL
	ChosenAt    time.Time
	RevokedAt   time.Time // the researcher withdrew: nothing is published
	// AdvisoryTitle is the public title staff give the report, shown in
	// the hall of fame only once the report is disclosed (the tracking
	// id shows when it is empty).
	AdvisoryTitle string
}

// Published reports whether the credit appears in the hall of fame at
// all (the report's status decides the rest).
func (c *Credit) Published() bool { return c.RevokedAt.IsZero() && c.Choice.Listed() }

// Limits of what a researcher may enter.
const (
	MaxDisplayName = 80  // runes
	MaxCreditLink  = 300 // bytes
)

// CleanCredit validates a researcher's choice: a display name (1 to
// MaxDisplayName printable runes) is required for name and handle and
// dropped otherwise; a link must be an absolute http(s) URL without
// credentials. Neither may hold an Invisible character (a bidi override
// could make a name or link display as another): those are refused,
// not dropped, so that what is published is what the researcher saw.
// EINVALID otherwise, naming the field. It returns the cleaned name and
// link.
func CleanCredit(choice CreditChoice, name, link string) (string, string, error) {
	if !choice.Named() {
		return "", "", nil
	}
	name = strings.TrimSpace(name)
	if HasInvisible(name) {
		return "", "", Errorf(EINVALID, "The display name holds invisible or text-direction characters (such as U+202E or U+200B) that could make it display as something else: remove them.")
	}
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxDisplayName ||
		strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return "", "", Errorf(EINVALID, "a display name of 1 to %d printable characters is required", MaxDisplayName)
	}
	link = strings.TrimSpace(link)
	if HasInvisible(link) {
		return "", "", Errorf(EINVALID, "The link holds invisible or text-direction characters (such as U+202E or U+200B) that could make it display as another address: remove them.")
	}
	if link != "" {
		u, err := url.Parse(link)
		if err != nil || len(link) > MaxCreditLink || (u.Scheme != "https" && u.Scheme != "http") ||
			u.Host == "" || u.User != nil || strings.ContainsFunc(link, unicode.IsSpace) {
			return "", "", Errorf(EINVALID, "the link must be an http(s) URL of at most %d characters", MaxCreditLink)
		}
	}
	return name, link, nil
}

// HallOfFame is the public list of credited researchers.
type HallOfFame struct {
	Years   []HallYear // newest year first
	Updated time.Time  // the newest credit's time; zero when empty
}

// HallYear is one year of the hall of fame: the year the credited
// reports were received.
type HallYear struct {
	Year      int
	Entries   []HallEntry // by count, then name
	Anonymous int         // reports credited anonymously
}

// HallEntry is one named researcher in one year.
type HallEntry struct {
	Name  string
	Link  string
	Count int // acknowledged reports credited under this name that year
	// Advisories name their disclosed reports: the advisory title staff
	// set, or the tracking id, never the report's own title.
	// Undisclosed reports are only counted.
	Advisories []string
	// AdvisoryIDs are, in step with Advisories, the public ids of the
	// published advisories covering those reports ("" for none); nil
	// when none is.
	AdvisoryIDs []string
}

// HallStatuses are the statuses whose reports the hall of fame counts:
// acknowledged as real vulnerabilities.
var HallStatuses = []Status{StatusAccepted, StatusFixing, StatusFixed, StatusDisclosed}
