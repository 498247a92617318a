package templates

import "strconv"

// DeadlinesView is the report page's disclosure panel: the disclosure
// deadline, the embargo, the CRA clocks, the CVE IDs, and for triagers
// the forms that change them (deadlines.templ). Times are UTC; the
// page's script adds the viewer's local time.
type DeadlinesView struct {
	ActionURL string // the forms' action: "/reports/7/deadlines"
	CanAct    bool
	Error     string
	Notice    string
	Accepted  bool // the report has a disclosure deadline
	Status    string

	// Clocks are the disclosure deadline, then the CRA clocks.
	Clocks   []ClockView
	Extended bool // the disclosure deadline was moved by staff

	Embargoed      bool
	EmbargoUntil   string // "2026-06-01 12:00 UTC", "" for none
	EmbargoRFC3339 string

	ActivelyExploited bool
	AwareAt           string
	AwareRFC3339      string
	CRASent           []Option // the CRA reports that may be recorded: early_warning ...

	// CVEIDs are the report's CVE IDs; CVEURL the form that adds one;
	// CVEServices whether CVE Services reserves them (else one is
	// recorded by hand).
	CVEIDs      []string
	CVEURL      string
	CVEServices bool

	// Input is what was typed in a refused form, by field.
	Input map[string]string
}

// DueSoonRow is one deadline of the board's due-soon group.
type DueSoonRow struct {
	TrackingID string
	URL        string
	Title      string
	Clock      ClockView
}

// StatusDisclosureView is the disclosure deadline and embargo as the
// researcher's status page shows them; nil before acceptance.
type StatusDisclosureView struct {
	DueAt          string // "2026-06-01 12:00 UTC"
	DueRFC3339     string
	State          string // running, met, breached, stopped
	Text           string // "We plan to publish by 2026-06-01 12:00 UTC."
	EmbargoUntil   string // "" for none
	EmbargoRFC3339 string
}

func int64Attr(n int64) string { return strconv.FormatInt(n, 10) }
