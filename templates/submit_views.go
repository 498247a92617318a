package templates

// The web submission form and the researcher's status page (issue 5).
// Public pages: they take only what the researcher typed or may see.

// SubmitFormView is the form at /report.
type SubmitFormView struct {
	Contact string // security@example.com, for those who prefer mail
	// Unavailable explains why the form cannot be used (no team key, no
	// link key); the form is not shown then.
	Unavailable string
	// FormToken is the hidden anti-bot token: when the form was served,
	// signed.
	FormToken string
	Error     string // why the last submission was refused
	// The values typed, shown again after a refusal (never files).
	Title, Description, Asset, Steps, Email, CreditName string
	Credits                                             []Option // the credit choices, one selected
	MaxFiles                                            string   // "5"
	MaxFilesSize                                        string   // "10 MiB"
	MaxFilesBytes                                       string   // "10485760", for submit.js
}

// SubmitDoneView confirms a submission and gives its status link.
type SubmitDoneView struct {
	StatusURL string // absolute; the only way back to the report on the web
}

// StatusView is a web submission's status page.
type StatusView struct {
	ReplyURL string // the reply form's action
	// Filed is false while intake has not filed the submission yet.
	Filed      bool
	TrackingID string
	Status     string // in words: "Being triaged"
	StatusKey  string // the workflow status: "triaging"
	Received   string
	// FirstResponse is the first-response promise: due, answered.
	FirstResponse StatusClockView
	Messages      []StatusMessageView // the first message, then the conversation
	Notice        string              // after a reply: "Your reply was sent."
	Error         string              // why a reply was refused
	Reply         string              // the refused reply's text, shown again
	CanReply      bool
	// Disclosure is the disclosure deadline and embargo; nil before
	// the report is accepted (deadline_views.go).
	Disclosure *StatusDisclosureView
}

// StatusClockView is the first-response clock as a researcher sees it.
type StatusClockView struct {
	State    string // waiting, answered, overdue, paused, none
	Text     string // "We answer by 2026-01-02 17:00 UTC."
	DueAt    string
	Answered string // "2026-01-02 10:00 UTC", "" while unanswered
}

// StatusMessageView is one message of the conversation shown to the
// researcher; never an internal note.
type StatusMessageView struct {
	Team bool   // from the security team
	From string // "You" or "Security team"
	At   string
	Via  string // "web form", "email", "status page"
	Body string // plain text, printed escaped
}
