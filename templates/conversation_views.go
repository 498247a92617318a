package templates

// The conversation with the researcher (issue 5): the report page's
// timeline, its reply and credit forms, and the outbox page.

// ConversationView is the report page's timeline after the first
// message (the report itself, shown above it), with the reply, note and
// credit forms. Entries are oldest first.
type ConversationView struct {
	ActionBase string // "/reports/7"
	CanAct     bool   // triager or admin: the forms are shown
	Entries    []TimelineEntry
	Error      string // why the last reply or offer was refused
	// ErrorForm names the form the refusal is about ("reply", "note",
	// "credit", "credit-set"): Error is shown inside it, next to its
	// fields. "" shows it at the top of the panel.
	ErrorForm string
	Notice    string // what the last one did
	// The reply form. ReplyBlocked says why no reply can be sent (no
	// usable researcher address); the form is then left out.
	ReplyInput   string
	ReplyBlocked string
	// ReplyEncrypted: a key is known for the researcher, so the reply is
	// encrypted to it; ReplyKey names it ("0123 4567 … (wkd)").
	ReplyEncrypted bool
	ReplyKey       string
	// NoRelay: no relay is configured, so mail waits in the outbox.
	NoRelay bool
	// Responses are the canned responses to insert into the reply;
	// ResponseURL is where one is fetched filled in, with its id
	// appended ("/reports/7/responses/").
	Responses   []Option
	ResponseURL string
	Credit      CreditView
	// NoteInput is the internal note field's value after a refusal.
	NoteInput string
}

// TimelineEntry is one message of the conversation or an internal note.
type TimelineEntry struct {
	// Kind is "in" (the researcher), "out" (a staff reply or credit
	// offer) or "note" (internal, never sent).
	Kind      string
	Anchor    string // element id: "message-3", "note-2"
	Label     string // "Researcher", "Reply", "Credit offer", "Internal — not sent"
	From      string
	At        string
	AtRFC3339 string
	Via       string // "by mail", "from the status page"
	Body      string // plain text, printed escaped in a <pre>
	Badges    []Badge
	// Incoming only: the signature check, as for the first message, and
	// why it could not be decrypted.
	Signature    SignatureView
	Parts        []PartView
	DecryptError string
	// Outgoing only: where its delivery stands.
	Delivery     string // queued, sent, failed
	DeliveryText string // "no relay configured: waiting in the outbox", "sent 2026-… UTC", "failed: 550 …"
	DeliveryCls  string // badge class
	RetryURL     string // set for a failed one the user may retry
}

// CreditView is the report page's credit panel.
type CreditView struct {
	Offered     bool
	State       string // "not offered", "offered, no answer yet", "chosen", "revoked", "link expired"
	Choice      string // name, handle, anonymous, none, undecided
	DisplayName string
	Link        string // shown as text, never as a link: the researcher typed it
	OfferedAt   string
	OfferedBy   string
	ExpiresAt   string
	ChosenAt    string
	RevokedAt   string
	Advisory    string
	OfferURL    string // the offer form's action; "" when the user may not offer
	// SetURL is the action of the form recording the researcher's answer
	// by mail and the advisory title; "" unless offered and allowed.
	SetURL       string
	TitleInput   string
	MessageInput string
	// Unavailable says why credit cannot be offered (no link key, no
	// address); the form is then left out.
	Unavailable string
	// Error is the refusal of the form named ErrorForm ("credit" or
	// "credit-set"), shown inside it.
	Error     string
	ErrorForm string
}

// OutboxView is the outbox page: outgoing mail and its delivery.
type OutboxView struct {
	Nav          StaffNav
	OutboundMail string // how mail leaves: "relay smtp.example.com:587"; "" for none
	State        string // the filter: "", queued, sent, failed
	States       []Option
	Rows         []OutboxRow
	Notice       string
	Error        string
	// PrevURL and NextURL page through, "" at an end; Page is 1-based.
	PrevURL string
	NextURL string
	Page    int
}

// OutboxRow is one outgoing mail.
type OutboxRow struct {
	ID          int64
	Kind        string // "reply", "acknowledgement", ...
	ReportURL   string
	TrackingID  string
	To          string
	Subject     string
	State       string
	StateClass  string
	Attempts    string
	LastError   string
	Created     string
	CreatedAt   string // RFC 3339
	Sent        string // "" until sent
	NextAttempt string // for queued mail
	Encrypted   bool
	RetryURL    string // set for failed mail when the user may retry
}

// ResponsesView is the admin's page of canned responses.
type ResponsesView struct {
	Nav       StaffNav
	Notice    string
	Variables []string // tracking_id, researcher, ...
	Responses []ResponseForm
	New       ResponseForm
}

// ResponseForm is one canned response's edit form (or the new one's).
type ResponseForm struct {
	ID         int64 // 0 for the new one
	Action     string
	DeleteURL  string
	Name       string
	Body       string
	DefaultFor string
	Statuses   []Option // the default-for choice
	Updated    string
	Error      string // why the last save was refused
}
