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

// Icon is a small symbol that says what most rows say (encrypted,
// unsigned), so that it does not take a word's room on every row; Label
// is its text for screen readers and the tooltip. Kind picks the symbol:
// "lock", "unlock", "signed", "unsigned".
type Icon struct {
	Kind  string
	Label string
}

// BoardView is the triage board: reports in risk order (breached first,
// then due within 2 h, then severity, then least time left), narrowed by
// the filters.
type BoardView struct {
	Nav     StaffNav
	Now     string // "2026-01-02 15:04:05 UTC", when the clocks were computed
	Filters BoardFilters
	Rows    []BoardRow
	Error   string // why the filters were refused; no rows then
	// ResultsURL is this board (filters and page) for a refresh of the
	// results in place; PrevURL and NextURL page through, "" at an end.
	ResultsURL string
	PrevURL    string
	NextURL    string
	Page       int // 1-based
	// CanAct: the user may change reports (triager or admin), so the
	// a (assign) and s (status) shortcuts open their forms, and rows can
	// be selected for the bulk actions.
	CanAct bool
	// DueSoon is the due-soon group of deadlines (deadline_views.go).
	DueSoon []DueSoonRow
	// Notice says what a bulk action did; Refused lists the reports it
	// could not change, and why.
	Notice  string
	Refused []string
	// BulkAssignees and BulkStatuses are the bulk form's choices.
	BulkAssignees []Option
	BulkStatuses  []Option
	// Quarantine: this is the quarantine view (held mail of quarantined
	// senders), not the board; Rules are the senders in quarantine.
	Quarantine bool
	Rules      []QuarantineRuleRow
}

// QuarantineRuleRow is one sender in quarantine.
type QuarantineRuleRow struct {
	ID         int64
	Kind       string // address, domain, fingerprint
	Value      string
	Note       string
	Created    string
	CreatedBy  string
	Held       int
	ReleaseURL string // "" unless the user may release
}

// SenderView is the report page's view of the sender: their other
// reports by address and by signing key, with what became of them, and
// for admins the form to quarantine them.
type SenderView struct {
	ByAddress      []SenderReport
	AddressTotal   int
	AddressSummary string // "2 spam, 1 fixed"
	Fingerprint    string // of the key that signed this report, grouped; "" unsigned
	ByKey          []SenderReport
	KeyTotal       int
	KeySummary     string
	// QuarantineURL is the quarantine form's action ("" unless admin);
	// Choices what it may hold (address, domain, key), ReportID the page
	// to come back to.
	QuarantineURL string
	Choices       []Option
	ReportID      int64
	// Held is set when this report is held in quarantine: the rule, and
	// its release form's action for admins.
	Held       bool
	HeldRule   string // "domain junk.example"
	ReleaseURL string
	Notice     string
}

// SenderReport is one of a sender's other reports.
type SenderReport struct {
	TrackingID string
	Title      string
	URL        string
	Status     string
	Held       bool
	Received   string
}

// BoardFilters are the board's filter form, its values as submitted and
// its choices.
type BoardFilters struct {
	Status     string
	Severity   string
	Assignee   string
	Breached   string
	Label      string
	Query      string
	Active     int // how many filters differ from the defaults
	Statuses   []Option
	Severities []Option
	Assignees  []Option
	BreachedOf []Option
}

// Option is one choice of a select element.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// BoardRow is one report on the board.
type BoardRow struct {
	ID         int64
	TrackingID string
	URL        string // the report page
	QuickURL   string // the quick status/assign form, for the a and s shortcuts
	Title      string
	// The researcher's display name ("" for none) and address, shown
	// each isolated: "Name <email>", or the address alone.
	ResearcherName  string
	ResearcherEmail string
	Received        string // "2026-01-02 15:04 UTC"
	ReceivedAt      string // RFC 3339, for <time datetime>
	Status          string
	Severity        string // "critical 9.8", "high", "unscored"
	SevClass        string // sev-critical, sev-high, ..., sev-unscored
	Assignee        string // email, "" for nobody
	Labels          []string
	// Next is the one clock due next (the earliest that counts down, else
	// a paused one); Name is "" when none runs.
	Next ClockView
	// Tier is where the risk rank puts the report: "breached", "soon"
	// (a clock due within 2 h), "open" or "closed". Group is set on the
	// first row of each tier: the heading shown above it.
	Tier  string
	Group string
	// Icons say what is usual (encrypted, signed or not); Badges only
	// what needs a look (undecryptable, a bad or unknown signature).
	Icons  []Icon
	Badges []Badge
}

// ClockView is one SLA clock, formatted.
type ClockView struct {
	Name       string // "First response"
	Short      string // "Reply", "Triage", "Fix": the board's column
	Key        string // first_response, triage, remediation
	State      string // running, paused, met, breached, closed
	DueAt      string // "2026-01-02 17:00 CET"
	DueRFC3339 string
	Text       string // "23h 12m left", "overdue by 2h 05m", "paused, 3h 00m left", "met", "closed"
	When       string // "met 2026-01-02 10:00 UTC", "breached 2026-01-02 17:00 CET"
	// Remaining is the time left in whole seconds (negative when over),
	// from which the page's script keeps Text counting (to the minute)
	// while Live.
	Remaining int64
	Live      bool
	Class     string // clock-ok, clock-soon, clock-overdue, clock-paused, clock-met
}

// ReportView is one report's page.
type ReportView struct {
	Nav             StaffNav
	Authentication  AuthenticationView // who really sent it (authentication.templ)
	TrackingID      string
	Title           string
	Status          string
	ResearcherName  string
	ResearcherEmail string
	Received        string
	ReceivedAt      string    // RFC 3339
	FirstResponse   ClockView // the first-response clock under the SLA policy
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
	// Triage is the panel with the report's SLA clocks, CVSS, history
	// and (for triagers) the actions that change them.
	Triage TriageView
	// Conversation is the timeline after the first message: researcher
	// messages, staff replies, internal notes; and the reply and credit
	// forms (conversation_views.go).
	Conversation ConversationView
	// Deadlines is the disclosure panel (deadline_views.go).
	Deadlines DeadlinesView
	// Advisories is the advisories panel (advisory_views.go).
	Advisories AdvisoriesPanelView
	// Sender is who sent it: their other reports, the junk lane.
	Sender SenderView
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
// SSO shows the single sign-on button (and says the password form is for
// admins only).
type LoginView struct {
	Email string
	Error string
	SSO   bool
}

// ErrorView is an error page. Message is safe to show.
type ErrorView struct {
	Status  int
	Title   string
	Message string
}

// CrossSiteView is the page that stands in for an audited view or
// download asked for by another site. URL is a path on this site.
type CrossSiteView struct {
	Nav StaffNav
	URL string
}

// The public pages below take only public fields: nothing about reports
// or staff can reach them.

// LandingView is the front page for the public.
type LandingView struct {
	Contact string // security@example.com
}

// PolicyView is the disclosure policy. The texts an admin wrote
// (Organisation, ScopeIn, ScopeOut, SafeHarbour, Languages) are plain
// text, shown with RichText's safe subset; "" leaves a section out (the
// safe harbour falls back to the built-in text).
type PolicyView struct {
	Contact        string // security@example.com
	KeyURL         string // absolute URL of the armored key
	Fingerprint    string // grouped hex; empty when not configured
	ResponseWindow string // "24 hours"
	Organisation   string
	ScopeIn        string
	ScopeOut       string
	SafeHarbour    string
	Languages      string
}

// SiteView is the admin's form for the organisation's name and logo and
// the policy page's texts.
type SiteView struct {
	Nav          StaffNav
	Notice       string
	Error        string
	ErrorField   string // the field Error is about
	Organisation string
	HasLogo      bool
	LogoURL      string
	ScopeIn      string
	ScopeOut     string
	SafeHarbour  string
	Languages    string
	MaxLogoKiB   int
}

// HallOfFameView and CreditChoiceView are in halloffame_views.go.

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

	Tokens       []TokenRow
	TokenDays    []int  // the expiries offered, in days
	DefaultDays  int    // the one selected
	NewToken     string // a token just made: shown once
	NewTokenName string
}

// TokenRow is one of the user's API tokens.
type TokenRow struct {
	ID        int64
	Name      string
	Created   string
	Expires   string
	LastUsed  string // "" if never; coarse (about a minute)
	State     string // active, expired or revoked
	RevokeURL string // "" unless active
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
	FirstURL  string // the newest page, "" when on it
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
	TargetURL  string // the page of what it names ("report:7"), "" when none
	Detail     string // as recorded
	DetailLine string // a one-line summary, cut
	DetailFull string // indented for reading, "" when Detail is short
	RemoteAddr string
	UserAgent  string
}

// Triage: the report page's actions (status, assignee, labels,
// duplicate, CVSS), its SLA clocks and history, the board's quick
// forms, the SLA settings and the team metrics.

// TriageView is the triage panel of a report page. Forms post to
// ActionBase + "/status", "/assign", ...; they are shown only with CanAct.
type TriageView struct {
	ID         int64
	TrackingID string
	ActionBase string // "/reports/7"
	CanAct     bool   // triager or admin
	Error      string // the domain's refusal of the last action
	// ErrorForm names the form whose field the refusal is about
	// ("status", "assign", "labels", "duplicate", "cvss"): Error is shown
	// inside it, next to the field. "" shows it at the top of the panel.
	ErrorForm string
	Notice    string // what the last action did
	Status    string
	// NextStatuses are the moves the workflow allows from Status, except
	// duplicate (the duplicate form names the original).
	NextStatuses []Option
	Assignee     string // email, "" for nobody
	Assignees    []Option
	Labels       string // "auth, web"
	LabelsInput  string // the labels field's value
	DuplicateOf  Link   // set when the report is a duplicate
	Duplicates   []Link // reports merged into this one
	DupInput     string // the duplicate field's value after a refusal
	CVSS         CVSSView
	Clocks       []ClockView
	ClockZone    string // the policy's time zone, "UTC"
	Events       []EventView
}

// Link is a labelled URL.
type Link struct {
	Label string
	URL   string
}

// CVSSView is the CVSS calculator: the stored vector, its score, and the
// metric radio groups of both versions.
type CVSSView struct {
	Vector   string // stored, "" for none
	Version  string // "3.1", "4.0"; the calculator's version
	Score    string // "9.8"
	Severity string // "critical"
	Input    string // the vector field's value
	Result   CVSSResult
	ScoreURL string // GET, ?vector=: the server's score of a vector
	Versions []CVSSVersion
}

// CVSSVersion is the calculator's radio groups for one CVSS version.
type CVSSVersion struct {
	Version string // "3.1"
	Prefix  string // "CVSS:3.1"
	Groups  []MetricGroup
	Active  bool
}

// MetricGroup is one base metric and its values.
type MetricGroup struct {
	Key    string // "AV"
	Label  string // "Attack vector"
	Values []MetricValue
}

// MetricValue is one value of a metric.
type MetricValue struct {
	Value   string // "N"
	Label   string // "Network"
	Checked bool
}

// CVSSResult is the server's verdict on a vector, shown live as it is
// built or typed.
type CVSSResult struct {
	Vector   string // normalized
	Score    string // "9.8"
	Severity string
	Error    string // why the vector is invalid
	Empty    bool   // no vector given
}

// EventView is one entry of a report's history.
type EventView struct {
	At        string
	AtRFC3339 string
	Actor     string
	Text      string // "status new → triaging"
}

// QuickView is the board's small form for one report, opened with the
// a or s shortcut: a status change or an assignment.
type QuickView struct {
	TrackingID string
	Title      string
	Action     string // "status" or "assign"
	PostURL    string
	Status     string
	Options    []Option
	Error      string
	Notice     string
}

// SettingsView is the admin's SLA policy and business-hours form.
type SettingsView struct {
	Nav           StaffNav
	Notice        string
	Error         string
	FirstResponse string // hours
	Triage        string
	Remediation   []SettingField // critical, high, medium, low
	BusinessHours bool
	TimeZone      string
	Days          []DayOption
	Start, End    string        // "09:00"
	Holidays      string        // one YYYY-MM-DD per line
	Mailboxes     []MailboxView // mailbox intake over IMAP; none: not configured
	Disclosure    string        // the disclosure deadline, days after receipt
}

// SettingField is a named numeric field.
type SettingField struct {
	Name  string // form field name
	Label string
	Value string
}

// DayOption is one working-day checkbox.
type DayOption struct {
	Value   string // "mon"
	Label   string // "Monday"
	Checked bool
}

// TeamMetricsView is the team metrics page.
type TeamMetricsView struct {
	Nav     StaffNav
	Now     string
	Policy  string // "First response within 24 hours"
	Windows []MetricsWindowRow
	Open    []MetricsCount
	OpenAll string
	Chart   ChartView
}

// MetricsWindowRow is the first-response figures over one window.
type MetricsWindowRow struct {
	Label     string // "Last 30 days"
	Received  string
	Responded string
	Median    string // "3h 05m", "—"
	P90       string
	WithinSLA string // "92 %", "—"
	Met       string // answered in time
	Breached  string // answered late, or not answered by the due time
	Closed    string // closed in time without a reply
	Pending   string // still running or paused
}

// MetricsCount is a labelled count.
type MetricsCount struct {
	Label string
	Count string
	Class string
}

// ChartView is a stacked bar chart drawn as SVG by the server; every
// number is already a coordinate.
type ChartView struct {
	Width, Height int
	Title         string
	Bars          []ChartBar
	YTicks        []ChartTick
	Legend        []ChartLegend
	Summary       string // the chart in words, for screen readers
}

// ChartBar is one week: up to three stacked segments and its label.
type ChartBar struct {
	X, Width int
	Segments []ChartSegment
	Label    string // "10 Mar"
	LabelX   int
	Title    string // "Week of 10 Mar: 5 met, 1 breached"
}

// ChartSegment is one rectangle of a bar.
type ChartSegment struct {
	Y, Height int
	Class     string // bar-met, bar-breached, bar-pending
}

// ChartTick is a horizontal grid line with its value.
type ChartTick struct {
	Y     int
	Label string
}

// ChartLegend is one entry of the legend.
type ChartLegend struct {
	Label string
	Class string
}
