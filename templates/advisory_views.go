package templates

// Advisories: the public page of a published advisory, the public list,
// the report page's advisories panel and the staff editor
// (advisory.templ). The public views take only what the advisory
// published: never a report's title or content.

// AdvisoryPageView is one published advisory, as its latest version
// published it.
type AdvisoryPageView struct {
	PublicID    string
	Title       string
	Summary     string // plain text, shown as paragraphs
	Published   string // "2026-09-20 10:00 UTC"
	PublishedAt string // RFC 3339
	Updated     string
	Version     string
	Products    []AdvisoryProductView
	CWE         string // "CWE-79 Improper Neutralization…", "" for none
	Vulns       []AdvisoryVulnView
	Refs        []string
	Credits     []string
	Docs        []Link // CSAF, its signature and hash, OSV, CVE JSON
	Revisions   []AdvisoryRevisionView
}

// AdvisoryProductView is one affected product.
type AdvisoryProductView struct {
	Name     string
	Affected string
	Fixed    string // "" when none yet
}

// AdvisoryVulnView is one vulnerability of an advisory.
type AdvisoryVulnView struct {
	TrackingID string
	CVEID      string
	CVEURL     string
	Score      string // "5.4 (medium)", "" without a vector
	Vector     string
}

// AdvisoryRevisionView is one published version.
type AdvisoryRevisionView struct {
	Number  string
	Date    string
	Summary string
}

// AdvisoryIndexView lists the published advisories, newest first.
type AdvisoryIndexView struct {
	Items   []AdvisoryIndexItem
	FeedURL string
	CSAFURL string // provider-metadata.json
}

// AdvisoryIndexItem is one line of the list.
type AdvisoryIndexItem struct {
	PublicID  string
	Title     string
	URL       string
	Published string
}

// AdvisoriesPanelView is the report page's advisories panel: those
// covering the report, and for triagers the form that drafts one.
type AdvisoriesPanelView struct {
	Items     []AdvisoryStaffItem
	CanAct    bool
	DraftURL  string // POST: draft an advisory from this report
	Error     string
	Published bool // the report is disclosed: an advisory can be published
}

// AdvisoryStaffItem is one advisory as staff see it.
type AdvisoryStaffItem struct {
	PublicID string
	Title    string
	State    string // draft, published, changed (edited since publication)
	EditURL  string
	PageURL  string // the public page, "" for a draft
}

// AdvisoryEditView is the staff editor of one advisory.
type AdvisoryEditView struct {
	Nav        StaffNav
	PublicID   string
	State      string
	Version    string
	ActionURL  string // POST: save
	PublishURL string // POST: publish
	PageURL    string // the public page once published
	CanAct     bool
	Error      string
	Notice     string
	Title      string
	Summary    string
	Products   string // one product a line: name | affected | fixed
	CWE        string
	Refs       string // one URL a line
	Reports    []Link
	CVEURL     string // the CVE JSON file of an unpublished draft's first report, to submit by hand
}
