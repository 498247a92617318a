package advisory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// CSAF 2.0 (https://docs.oasis-open.org/csaf/csaf/v2.0/os/csaf-v2.0-os.html),
// profile csaf_security_advisory (section 4.5): besides the base profile's
// document fields it has a product tree, and each vulnerability notes
// and a product status. Its mandatory tests for the profile (6.1.27) ask
// a note of category summary, a reference of category external when
// there is one to give, vulnerabilities, and a product tree.

type csafDoc struct {
	Document        csafDocument        `json:"document"`
	ProductTree     csafProductTree     `json:"product_tree"`
	Vulnerabilities []csafVulnerability `json:"vulnerabilities"`
}

type csafDocument struct {
	Acknowledgments []csafAck       `json:"acknowledgments,omitempty"`
	Category        string          `json:"category"`
	CSAFVersion     string          `json:"csaf_version"`
	Distribution    csafDistrib     `json:"distribution"`
	Lang            string          `json:"lang"`
	Notes           []csafNote      `json:"notes"`
	Publisher       csafPublisher   `json:"publisher"`
	References      []csafReference `json:"references"`
	Title           string          `json:"title"`
	Tracking        csafTracking    `json:"tracking"`
}

type csafAck struct {
	Names   []string `json:"names"`
	Summary string   `json:"summary,omitempty"`
}

type csafDistrib struct {
	TLP struct {
		Label string `json:"label"`
		URL   string `json:"url"`
	} `json:"tlp"`
}

type csafNote struct {
	Category string `json:"category"`
	Text     string `json:"text"`
	Title    string `json:"title,omitempty"`
}

type csafPublisher struct {
	Category       string `json:"category"`
	ContactDetails string `json:"contact_details,omitempty"`
	Name           string `json:"name"`
	Namespace      string `json:"namespace"`
}

type csafReference struct {
	Category string `json:"category"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

type csafTracking struct {
	CurrentReleaseDate string         `json:"current_release_date"`
	Generator          csafGenerator  `json:"generator"`
	ID                 string         `json:"id"`
	InitialReleaseDate string         `json:"initial_release_date"`
	RevisionHistory    []csafRevision `json:"revision_history"`
	Status             string         `json:"status"`
	Version            string         `json:"version"`
}

type csafGenerator struct {
	Date   string `json:"date"`
	Engine struct {
		Name string `json:"name"`
	} `json:"engine"`
}

type csafRevision struct {
	Date    string `json:"date"`
	Number  string `json:"number"`
	Summary string `json:"summary"`
}

type csafProductTree struct {
	Branches []csafBranch `json:"branches"`
}

type csafBranch struct {
	Branches []csafBranch     `json:"branches,omitempty"`
	Category string           `json:"category"`
	Name     string           `json:"name"`
	Product  *csafFullProduct `json:"product,omitempty"`
}

type csafFullProduct struct {
	Name      string `json:"name"`
	ProductID string `json:"product_id"`
}

type csafVulnerability struct {
	Acknowledgments []csafAck         `json:"acknowledgments,omitempty"`
	CVE             string            `json:"cve,omitempty"`
	CWE             *csafCWE          `json:"cwe,omitempty"`
	IDs             []csafID          `json:"ids,omitempty"`
	Notes           []csafNote        `json:"notes"`
	ProductStatus   csafProductStatus `json:"product_status"`
	References      []csafReference   `json:"references,omitempty"`
	Remediations    []csafRemediation `json:"remediations,omitempty"`
	Scores          []csafScore       `json:"scores,omitempty"`
	Title           string            `json:"title,omitempty"`
}

type csafCWE struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type csafID struct {
	SystemName string `json:"system_name"`
	Text       string `json:"text"`
}

type csafProductStatus struct {
	Fixed         []string `json:"fixed,omitempty"`
	KnownAffected []string `json:"known_affected,omitempty"`
}

type csafRemediation struct {
	Category   string   `json:"category"`
	Details    string   `json:"details"`
	ProductIDs []string `json:"product_ids"`
	URL        string   `json:"url,omitempty"`
}

type csafScore struct {
	CVSSv3   *cvssJSON `json:"cvss_v3,omitempty"`
	Products []string  `json:"products"`
}

// cvssJSON is the FIRST CVSS v3.x/v4.0 JSON's required fields.
type cvssJSON struct {
	Version      string  `json:"version"`
	VectorString string  `json:"vectorString"`
	BaseScore    float64 `json:"baseScore"`
	BaseSeverity string  `json:"baseSeverity"`
}

// CSAF returns in's advisory as a CSAF 2.0 document, indented JSON. A
// CVSS v4.0 vector is left out: CSAF 2.0 has no field for it (2.1 has).
func CSAF(in Input) ([]byte, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	a, p := in.Advisory, in.Publisher
	d := csafDoc{}
	doc := &d.Document
	doc.Category, doc.CSAFVersion, doc.Lang, doc.Title = "csaf_security_advisory", "2.0", "en", a.Title
	doc.Distribution.TLP.Label, doc.Distribution.TLP.URL = "WHITE", "https://www.first.org/tlp/"
	doc.Publisher = csafPublisher{Category: "vendor", ContactDetails: p.Contact, Name: p.Name, Namespace: p.BaseURL}
	doc.Notes = []csafNote{{Category: "summary", Title: "Summary", Text: a.Summary}}
	doc.References = []csafReference{{Category: "self", Summary: "This advisory", URL: in.url(PagePath(a.PublicID))}}
	for _, r := range a.Refs {
		doc.References = append(doc.References, csafReference{Category: "external", Summary: "Reference", URL: r})
	}
	for _, id := range in.cveIDs() {
		doc.References = append(doc.References, csafReference{Category: "external", Summary: id, URL: "https://www.cve.org/CVERecord?id=" + id})
	}
	if names := in.credits(); len(names) > 0 {
		doc.Acknowledgments = []csafAck{{Names: names, Summary: "reporting the vulnerability"}}
	}
	t := &doc.Tracking
	t.ID, t.Status, t.Version = a.PublicID, "final", strconv.Itoa(a.Version())
	t.InitialReleaseDate, t.CurrentReleaseDate = rfc3339(in.initial()), rfc3339(in.current())
	t.Generator.Date, t.Generator.Engine.Name = rfc3339(in.current()), "secinbox"
	for _, r := range a.Revisions {
		t.RevisionHistory = append(t.RevisionHistory, csafRevision{Date: rfc3339(r.Date), Number: strconv.Itoa(r.Number), Summary: r.Summary})
	}

	// Products: vendor → product name → the affected range and the fixed
	// version, each a full product with an id.
	vendor := csafBranch{Category: "vendor", Name: p.Name}
	var affected, fixed []string
	n := 0
	pid := func() string { n++; return fmt.Sprintf("CSAFPID-%04d", n) }
	var fixes []csafRemediation
	for _, prod := range a.Products {
		vr, err := parseRange(prod.Affected)
		if err != nil {
			return nil, err
		}
		pb := csafBranch{Category: "product_name", Name: prod.Name}
		aff := pid()
		cat := "product_version_range"
		name := versRange(vr)
		if vr.Exact != "" {
			cat, name = "product_version", vr.Exact
		}
		pb.Branches = append(pb.Branches, csafBranch{Category: cat, Name: name,
			Product: &csafFullProduct{Name: prod.Name + " " + prod.Affected, ProductID: aff}})
		affected = append(affected, aff)
		if prod.Fixed != "" {
			fx := pid()
			pb.Branches = append(pb.Branches, csafBranch{Category: "product_version", Name: prod.Fixed,
				Product: &csafFullProduct{Name: prod.Name + " " + prod.Fixed, ProductID: fx}})
			fixed = append(fixed, fx)
			fixes = append(fixes, csafRemediation{Category: "vendor_fix", Details: fmt.Sprintf("Update %s to %s or later.", prod.Name, prod.Fixed),
				ProductIDs: []string{aff}, URL: in.url(PagePath(a.PublicID))})
		} else {
			fixes = append(fixes, csafRemediation{Category: "none_available", Details: fmt.Sprintf("No fixed version of %s is available yet.", prod.Name), ProductIDs: []string{aff}})
		}
		vendor.Branches = append(vendor.Branches, pb)
	}
	d.ProductTree.Branches = []csafBranch{vendor}

	for _, v := range in.Vulns {
		cv := csafVulnerability{
			CVE:           v.CVEID,
			Title:         a.Title,
			Notes:         []csafNote{{Category: "description", Title: "Description", Text: a.Summary}},
			ProductStatus: csafProductStatus{KnownAffected: affected, Fixed: fixed},
			Remediations:  fixes,
			IDs:           []csafID{{SystemName: p.Name + " security report", Text: v.TrackingID}},
		}
		if a.CWE != "" && CWEName(a.CWE) != "" {
			cv.CWE = &csafCWE{ID: a.CWE, Name: CWEName(a.CWE)}
		}
		if len(v.Credits) > 0 {
			cv.Acknowledgments = []csafAck{{Names: v.Credits, Summary: "reporting the vulnerability"}}
		}
		if (v.CVSS.Version == "3.1" || v.CVSS.Version == "3.0") && v.CVSS.Vector != "" && len(affected) > 0 {
			cv.Scores = []csafScore{{CVSSv3: &cvssJSON{Version: v.CVSS.Version, VectorString: v.CVSS.Vector,
				BaseScore: v.CVSS.Score, BaseSeverity: cvssSeverity(v.CVSS)}, Products: affected}}
		}
		d.Vulnerabilities = append(d.Vulnerabilities, cv)
	}
	return marshal(d)
}

// marshal is indented JSON without HTML escaping ("<2.3.1" stays as is),
// ending in a newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
