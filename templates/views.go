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
	// Parts is the body as its parts, in message order, each marked with
	// what signs it. Empty for reports filed without parts: Body is shown.
	Parts []PartView
	// Keys are the researcher's keys, best first; KeyLookupURL is the
	// "Look up key" form's action, empty when the user may not look keys
	// up or lookups are off; KeyNotice tells what the last lookup found.
	Keys         []ResearcherKeyRow
	KeyLookupURL string
	KeyNotice    string
}

// PartView is one body part of a report and the signature covering it.
type PartView struct {
	Path        string // MIME part number, "1.2"
	ContentType string
	Text        string // plain text, printed escaped in a <pre>
	FromHTML    bool   // extracted from an HTML part
	SourceURL   string // page showing that HTML's source, escaped; may be empty
	Encrypted   bool
	Signature   PartSignature
}

// PartSignature is what a part's signature mark says.
type PartSignature struct {
	Signed      bool   // covered by a signature (whatever its result)
	Label       string // "Signed by Alice <a@example.org>", "Not signed", "Bad signature", ...
	Class       string // badge class
	Fingerprint string // grouped hex, when known
	KeyID       string // issuer key ID, when the fingerprint is unknown
	Warning     string // e.g. "signer is not the sender"; shown prominently
	Reason      string // why it is not good
}

// ResearcherKeyRow is one of the researcher's keys with its provenance.
type ResearcherKeyRow struct {
	Fingerprint string // grouped hex
	UserID      string
	Source      string // the strongest source
	Sources     string // every source seen, "signature, wkd"
	FirstSeen   string
	LastSeen    string
	Expires     string // "never" or a time
	Expired     bool
	Best        bool // the key the API names and replies would use
}

// SourceView shows an attachment's bytes as escaped text (HTML source is
// never rendered).
type SourceView struct {
	Nav         StaffNav
	TrackingID  string
	ReportURL   string
	Name        string
	ContentType string
	Size        string
	SHA256      string
	Text        string // the bytes as text, invalid UTF-8 replaced
	Truncated   bool   // only the first part is shown
	Binary      bool   // not text: Text is empty
	DownloadURL string
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
	SourceURL   string // view as escaped text; empty for binary types
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

// Accounts: sign-in's second step, the account page, two-factor
// enrolment, and the admin pages (users, audit log).

// LoginTwoFactorView is the code form after a right password.
type LoginTwoFactorView struct {
	Error string
}

// AccountView is the signed-in user's account page.
type AccountView struct {
	Nav            StaffNav
	Email          string
	Role           string
	Notice         string // after a change: what happened
	Error          string // why a change was refused
	PasswordChange string // "2026-01-02 15:04 UTC", "" if never changed
	MinPassword    int
	TwoFactor      bool // on
	RecoveryLeft   int  // unused recovery codes
	CanEnroll      bool // the server can seal secrets
	Sessions       []SessionRow
}

// SessionRow is one of the user's live sessions.
type SessionRow struct {
	ID        int64
	Created   string
	LastSeen  string
	LastAddr  string
	FirstAddr string // where it signed in
	UserAgent string
	Current   bool // the session of this page view
	RevokeURL string
}

// TwoFactorSetupView is the enrolment page: the QR code, the secret to
// type instead, and the form to confirm with a first code.
type TwoFactorSetupView struct {
	Nav    StaffNav
	QRURL  string // a same-origin PNG
	Secret string // base32 in groups of four
	Error  string
}

// RecoveryCodesView shows the one-time recovery codes, once.
type RecoveryCodesView struct {
	Nav   StaffNav
	Codes []string
}

// AdminUsersView is the admin's list of staff.
type AdminUsersView struct {
	Nav         StaffNav
	Notice      string
	Error       string
	Roles       []string
	Users       []AdminUserRow
	NewEmail    string // the create form's email after a refusal
	NewPassword string // a created user's generated password, shown once
	NewFor      string // whose it is
}

// AdminUserRow is one staff member with the admin's actions.
type AdminUserRow struct {
	ID         int64
	Email      string
	Role       string
	Created    string
	TwoFactor  bool
	Disabled   bool
	Self       bool // the admin looking
	RoleURL    string
	DisableURL string
	EnableURL  string
	Reset2FA   string
}

// AuditView is one page of the audit log with its filters.
type AuditView struct {
	Nav       StaffNav
	Since     string
	Until     string
	Actor     string
	Action    string
	Error     string
	Rows      []AuditRow
	NextURL   string // "" on the last page
	ExportURL string // JSON lines of everything the filters select
}

// AuditRow is one audit event.
type AuditRow struct {
	ID         int64
	At         string
	AtRFC3339  string
	Actor      string
	Action     string
	Target     string
	Detail     string
	RemoteAddr string
	UserAgent  string
}
