package templates

// Public credit: the hall of fame and the page where a researcher
// chooses how to be credited. Both take only public fields: never a
// report's title or content (an advisory title only once disclosed).

// HallOfFameView is the public hall of fame, years newest first.
type HallOfFameView struct {
	Years   []HallOfFameYear
	Updated string // "2026-03-10", the newest credit; "" when empty
	// FeedURL and JSONURL are the Atom feed and the JSON form of this page.
	FeedURL string
	JSONURL string
}

// HallOfFameYear is one year: the year the credited reports came in.
type HallOfFameYear struct {
	Year      string // "2026"
	Anchor    string // "y2026", the fragment that links to it
	Entries   []HallOfFameEntry
	Anonymous int // reports credited anonymously
}

// HallOfFameEntry is one researcher credited in one year.
type HallOfFameEntry struct {
	Name string
	// URL is their link, "" for none. Only http(s) URLs reach the view
	// (triage.CleanCredit); the component still renders it through
	// templ.URL, which refuses anything else.
	URL        string
	Reports    string   // "1 report", "3 reports"
	Advisories []string // their disclosed reports: advisory titles or tracking ids
	// AdvisoryLinks are, in step with Advisories, the pages of the
	// published advisories ("" for none).
	AdvisoryLinks []string
}

// CreditChoiceView is the page a credit offer's link opens.
type CreditChoiceView struct {
	TrackingID string // the only thing about the report shown
	Action     string // the form's URL: the page itself
	Choice     string // the choice in the form: name, handle, anonymous, none or ""
	Name       string
	Link       string
	// Current describes the choice on record, Revoked when consent was
	// withdrawn. For a name or handle it is the sentence's start ("You
	// chose to be credited by name, as"), then CurrentName in quotes and,
	// when they gave one, CurrentLink: shown isolated (<bdi>), as what
	// the researcher typed.
	Current     string
	CurrentName string
	CurrentLink string
	Revoked     bool
	Expires     string // "2027-03-10", when the link stops working
	Error       string // why the submitted choice was refused
	Notice      string // "Your choice is saved."
	Choices     []CreditOption
}

// CreditOption is one of the four ways to be credited, explained.
type CreditOption struct {
	Value    string
	Label    string
	Help     string
	Selected bool
}

// CreditExpiredView is the page an expired credit link opens.
type CreditExpiredView struct {
	Contact string // security@example.com
}
