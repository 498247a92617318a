package templates

// The view models below are filled in by package web with every value
// already formatted for display. Components only lay them out; templ
// escapes every string they print.

// StaffNav is what the staff layout shows about the signed-in user.
type StaffNav struct {
	Email string
	Role  string
}

// KeyWarning is the banner staff see while the team's primary key
// expires soon or has expired (see WithKeyWarning). An empty Message
// shows nothing.
type KeyWarning struct {
	Message string // "The team key … expires on 2026-12-01 (in 10 days): …"
	Expired bool   // expired already: shown as an error, not a warning
}

// Badge is a small label such as "encrypted" or "signed: good". Class is
// one of the badge-* classes in style.css.
type Badge struct {
	Label string
	Class string
}

// BoardView is the triage board: every report, newest first.
type BoardView struct {
	Nav    StaffNav
	Now    string // "2026-01-02 15:04 UTC", when the clocks were computed
	Filter string // the status shown, "" for all
	Rows   []BoardRow
}

// BoardRow is one report on the board.
type BoardRow struct {
	TrackingID string
	URL        string // the report page
	Title      string
	Researcher string // "Name <email>" or just the email
	Received   string // "2026-01-02 15:04 UTC"
	ReceivedAt string // RFC 3339, for <time datetime>
	Clock      string // "23h 12m left", "overdue by 2h 5m"
	ClockClass string // clock-ok, clock-soon, clock-overdue
	Status     string
	Badges     []Badge
}

// ReportView is one report's page.
type ReportView struct {
	Nav             StaffNav
	TrackingID      string
	Title           string
	Status          string
	ResearcherName  string
	ResearcherEmail string
	Received        string
	ReceivedAt      string // RFC 3339
	Due             string
	DueAt           string // RFC 3339
	Clock           string
	ClockClass      string
	Badges          []Badge
	Signature       SignatureView
	Body            string // plain text, printed escaped in a <pre>
	DecryptError    string // set for undecryptable reports
	Attachments     []AttachmentRow
	RawURL          string
	BoardURL        string
}

// SignatureView is the result of checking a report's signature.
type SignatureView struct {
	Label       string // "Good signature", "No signature", ...
	Class       string // badge class
	Fingerprint string // grouped hex, empty when unknown
	KeyID       string
}

// AttachmentRow is one attachment with its download link.
type AttachmentRow struct {
	Name        string
	ContentType string
	Size        string // "1.2 KiB"
	SHA256      string
	URL         string
}

// LoginView is the sign-in form. Error is the generic failure message.
type LoginView struct {
	Email string
	Error string
}

// ErrorView is an error page. Message is safe to show.
type ErrorView struct {
	Status  int
	Title   string
	Message string
}

// The public pages below take only public fields: nothing about reports
// or staff can reach them.

// LandingView is the front page for the public.
type LandingView struct {
	Contact string // security@example.com
}

// PolicyView is the disclosure policy.
type PolicyView struct {
	Contact        string // security@example.com
	KeyURL         string // absolute URL of the armored key
	Fingerprint    string // grouped hex; empty when not configured
	ResponseWindow string // "24 hours"
}

// HallOfFameView lists the researchers who agreed to be credited.
type HallOfFameView struct {
	Entries []HallOfFameEntry
}

// HallOfFameEntry is one credited researcher.
type HallOfFameEntry struct {
	Name string
	URL  string // optional; only http(s) links are rendered as links
	Year string
}
