package triage

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Advisories: the public end of a report's life. An advisory covers one
// or more reports; triagers draft it (from a report) and edit it; it is
// published once every report it covers is disclosed and no embargo
// holds. Publishing freezes the documents made from it (CSAF, OSV, CVE
// JSON; package advisory builds them) under a version: an edit after
// publication is published again as the next version.

// Advisory is one security advisory.
type Advisory struct {
	ID        int64
	PublicID  string // "SA-2026-0001": the public pages' and documents' id
	ReportIDs []int64
	Title     string
	Summary   string // plain text
	Products  []AdvisoryProduct
	CWE       string   // "CWE-79"; "" for none
	Refs      []string // http(s) URLs
	CreatedAt time.Time
	CreatedBy int64
	UpdatedAt time.Time
	// PublishedAt is the first publication; zero for a draft.
	PublishedAt time.Time
	// Revisions are the published versions, oldest first: Version is
	// len(Revisions).
	Revisions []AdvisoryRevision
}

// AdvisoryProduct is one affected product: its name, the versions
// affected as an expression ("<2.3.1", ">=2.0 <2.3.1", "<=1.9", "2.2.0"),
// and the first fixed version ("" when there is none yet).
type AdvisoryProduct struct {
	Name     string `json:"name"`
	Affected string `json:"affected"`
	Fixed    string `json:"fixed"`
}

// AdvisoryRevision is one published version.
type AdvisoryRevision struct {
	Number  int       `json:"number"`
	Date    time.Time `json:"date"`
	Summary string    `json:"summary"`
}

// Version is the number of the latest published version; 0 for a draft.
func (a *Advisory) Version() int { return len(a.Revisions) }

// Published reports whether a has been published.
func (a *Advisory) Published() bool { return !a.PublishedAt.IsZero() }

// Changed reports whether a was edited after its latest publication.
func (a *Advisory) Changed() bool {
	return a.Published() && a.UpdatedAt.After(a.Revisions[len(a.Revisions)-1].Date)
}

// Limits of an advisory.
const (
	MaxAdvisoryReports   = 20
	MaxAdvisoryTitle     = 200 // runes
	MaxAdvisorySummary   = 16 << 10
	MaxAdvisoryProducts  = 50
	MaxProductName       = 200 // runes
	MaxVersionExpression = 100
	MaxAdvisoryRefs      = 20
	MaxAdvisoryRef       = 2048
)

// AdvisoryChange is an edit of an advisory (a draft's first fields, or
// a PATCH). Nil fields are left alone.
type AdvisoryChange struct {
	ReportIDs *[]int64
	Title     *string
	Summary   *string
	Products  *[]AdvisoryProduct
	CWE       *string
	Refs      *[]string
}

var cweRE = regexp.MustCompile(`^CWE-[1-9][0-9]{0,5}$`)

// Apply makes change c to a at now, all or nothing: every value is
// checked (EINVALID naming the field). a is unchanged on error.
func (a *Advisory) Apply(c AdvisoryChange, now time.Time) error {
	n := *a
	if c.ReportIDs != nil {
		ids := slices.Clone(*c.ReportIDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if len(ids) == 0 || len(ids) > MaxAdvisoryReports {
			return Errorf(EINVALID, "report_ids: name 1 to %d reports", MaxAdvisoryReports)
		}
		if ids[0] <= 0 {
			return Errorf(EINVALID, "report_ids: report ids are positive numbers")
		}
		n.ReportIDs = ids
	}
	if c.Title != nil {
		t := strings.TrimSpace(*c.Title)
		if err := checkLine("title", t, MaxAdvisoryTitle, true); err != nil {
			return err
		}
		n.Title = t
	}
	if c.Summary != nil {
		s := strings.TrimSpace(strings.ReplaceAll(*c.Summary, "\r\n", "\n"))
		switch {
		case len(s) > MaxAdvisorySummary:
			return Errorf(EINVALID, "summary: at most %d KiB", MaxAdvisorySummary>>10)
		case !utf8.ValidString(s) || HasInvisible(s) || strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && !unicode.IsPrint(r) }):
			return Errorf(EINVALID, "summary: printable text only (no control, invisible or text-direction characters)")
		}
		n.Summary = s
	}
	if c.Products != nil {
		ps := *c.Products
		if len(ps) > MaxAdvisoryProducts {
			return Errorf(EINVALID, "products: at most %d", MaxAdvisoryProducts)
		}
		n.Products = make([]AdvisoryProduct, 0, len(ps))
		for i, p := range ps {
			p.Name, p.Affected, p.Fixed = strings.TrimSpace(p.Name), strings.TrimSpace(p.Affected), strings.TrimSpace(p.Fixed)
			field := fmt.Sprintf("products[%d]", i)
			if err := checkLine(field+".name", p.Name, MaxProductName, true); err != nil {
				return err
			}
			if err := checkLine(field+".affected", p.Affected, MaxVersionExpression, true); err != nil {
				return err
			}
			if _, err := ParseVersionRange(p.Affected); err != nil {
				return Errorf(EINVALID, "%s.affected: %s", field, ErrorMessage(err))
			}
			if err := checkLine(field+".fixed", p.Fixed, MaxVersionExpression, false); err != nil {
				return err
			}
			if strings.ContainsAny(p.Fixed, "<>=,| ") {
				return Errorf(EINVALID, "%s.fixed: one version, such as 2.3.1", field)
			}
			n.Products = append(n.Products, p)
		}
	}
	if c.CWE != nil {
		w := strings.ToUpper(strings.TrimSpace(*c.CWE))
		if w != "" && !cweRE.MatchString(w) {
			return Errorf(EINVALID, "cwe: a CWE id such as CWE-79")
		}
		n.CWE = w
	}
	if c.Refs != nil {
		rs := *c.Refs
		if len(rs) > MaxAdvisoryRefs {
			return Errorf(EINVALID, "references: at most %d", MaxAdvisoryRefs)
		}
		n.Refs = make([]string, 0, len(rs))
		for _, r := range rs {
			r = strings.TrimSpace(r)
			u, err := url.Parse(r)
			if err != nil || len(r) > MaxAdvisoryRef || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
				u.User != nil || HasInvisible(r) || strings.ContainsFunc(r, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
				return Errorf(EINVALID, "references: %q is not an http(s) URL of at most %d characters", cut(r, 80), MaxAdvisoryRef)
			}
			if !slices.Contains(n.Refs, r) {
				n.Refs = append(n.Refs, r)
			}
		}
	}
	n.UpdatedAt = now.UTC()
	if a.Published() {
		// An edit is later than the publication it follows, even on a
		// clock that did not move (or moved back): it is what Changed
		// tells.
		if last := a.Revisions[len(a.Revisions)-1].Date; !n.UpdatedAt.After(last) {
			n.UpdatedAt = last.Add(time.Nanosecond)
		}
	}
	*a = n
	return nil
}

// checkLine checks a one-line field: printable, no invisible characters,
// at most max runes, and not empty when required.
func checkLine(field, s string, max int, required bool) error {
	switch {
	case s == "" && required:
		return Errorf(EINVALID, "%s is required", field)
	case utf8.RuneCountInString(s) > max:
		return Errorf(EINVALID, "%s: at most %d characters", field, max)
	case s != "" && !printable(s):
		return Errorf(EINVALID, "%s: printable text on one line (no control, invisible or text-direction characters)", field)
	}
	return nil
}

// CanPublish checks that a may be published at now: it covers reports,
// each is disclosed, and no embargo holds (deadlines by report id). A
// report not disclosed or embargoed is ECONFLICT, naming it.
func (a *Advisory) CanPublish(reports []*Report, deadlines map[int64]*Deadlines, now time.Time) error {
	if len(a.ReportIDs) == 0 || len(reports) != len(a.ReportIDs) {
		return Errorf(ECONFLICT, "%s covers no report", a.PublicID)
	}
	if len(a.Products) == 0 {
		return Errorf(EINVALID, "%s names no affected product: add one before publishing", a.PublicID)
	}
	if a.Summary == "" {
		return Errorf(EINVALID, "%s has no summary: write one before publishing", a.PublicID)
	}
	for _, r := range reports {
		if r.Status != StatusDisclosed {
			return Errorf(ECONFLICT, "%s is %s, not disclosed: %s cannot be published yet", r.TrackingID, r.Status, a.PublicID)
		}
		if d := deadlines[r.ID]; d != nil && d.Embargoed(now) {
			return Errorf(ECONFLICT, "%s is under embargo until %s: %s cannot be published before", r.TrackingID, d.EmbargoUntil.UTC().Format(time.RFC3339), a.PublicID)
		}
	}
	return nil
}

// Publish records a publication of a at now: the first, or the next
// version after an edit. It returns the new version's number. An
// advisory published and not changed since is ECONFLICT.
func (a *Advisory) Publish(now time.Time) (int, error) {
	now = now.UTC()
	if a.Published() && !a.Changed() {
		return 0, Errorf(ECONFLICT, "%s is published and unchanged since version %d", a.PublicID, a.Version())
	}
	summary := "Initial release."
	if a.Published() {
		summary = "Updated."
	} else {
		a.PublishedAt = now
	}
	if a.UpdatedAt.After(now) {
		now = a.UpdatedAt // a clock that moved back: the publication follows the edit
	}
	a.Revisions = append(a.Revisions, AdvisoryRevision{Number: len(a.Revisions) + 1, Date: now, Summary: summary})
	return a.Version(), nil
}

// AdvisoryPublicID formats the public id of the seq-th advisory of year.
func AdvisoryPublicID(year, seq int) string { return fmt.Sprintf("SA-%04d-%04d", year, seq) }

var publicIDRE = regexp.MustCompile(`^SA-[0-9]{4}-[0-9]{4,}$`)

// ValidAdvisoryPublicID reports whether s has the form of a public id.
func ValidAdvisoryPublicID(s string) bool { return publicIDRE.MatchString(s) }

// VersionRange is a parsed affected-versions expression: versions from
// Introduced (inclusive; "" from the first) up to Fixed (exclusive) or
// LastAffected (inclusive), or one Exact version, or every version.
type VersionRange struct {
	Introduced   string
	Fixed        string // "<X"
	LastAffected string // "<=X"
	Exact        string // "X" or "=X"
	All          bool   // "*"
}

// ParseVersionRange reads an affected-versions expression: "*" (every
// version), "1.2.3" or "=1.2.3", "<2.3.1", "<=2.3.0", ">=2.0 <2.3.1" (a
// comma may separate the two). Versions are free text without spaces or
// operators. Anything else is EINVALID.
func ParseVersionRange(s string) (VersionRange, error) {
	var vr VersionRange
	s = strings.TrimSpace(s)
	if s == "*" {
		vr.All = true
		return vr, nil
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	// Join an operator written apart from its version: "< 2.3".
	var terms []string
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		if (p == "<" || p == "<=" || p == ">=" || p == "=") && i+1 < len(parts) {
			p += parts[i+1]
			i++
		}
		terms = append(terms, p)
	}
	bad := Errorf(EINVALID, `write the affected versions as "<2.3.1", "<=2.3.0", ">=2.0 <2.3.1", "2.2.0" or "*"`)
	if len(terms) == 0 || len(terms) > 2 {
		return vr, bad
	}
	for _, t := range terms {
		op, v := "", t
		for _, o := range []string{"<=", ">=", "<", "="} {
			if strings.HasPrefix(t, o) {
				op, v = o, t[len(o):]
				break
			}
		}
		if v == "" || strings.ContainsAny(v, "<>=|*") {
			return vr, bad
		}
		switch op {
		case ">=":
			if vr.Introduced != "" {
				return vr, bad
			}
			vr.Introduced = v
		case "<":
			if vr.Fixed != "" || vr.LastAffected != "" {
				return vr, bad
			}
			vr.Fixed = v
		case "<=":
			if vr.Fixed != "" || vr.LastAffected != "" {
				return vr, bad
			}
			vr.LastAffected = v
		default:
			if len(terms) != 1 {
				return vr, bad
			}
			vr.Exact = v
		}
	}
	if vr.Introduced != "" && vr.Fixed == "" && vr.LastAffected == "" {
		return vr, bad // ">=2.0" alone: every later version, never fixed; say "*" or bound it
	}
	return vr, nil
}
