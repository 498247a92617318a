package advisory

import (
	"fmt"
	"unicode/utf8"
)

// CVE JSON 5.1 (https://github.com/CVEProject/cve-schema): the CNA
// container of a published record, wrapped as CVE Services takes it in
// POST /cve/{id}/cna: {"cnaContainer": {...}}. CVE Services fills in the
// provider metadata (the CNA's org id) itself, so the container has
// none, and the same file is what a team without CVE Services
// credentials hands to its CNA.

type cveBody struct {
	CNAContainer cveContainer `json:"cnaContainer"`
}

type cveContainer struct {
	Title        string           `json:"title,omitempty"`
	DatePublic   string           `json:"datePublic,omitempty"`
	Descriptions []cveText        `json:"descriptions"`
	Affected     []cveProduct     `json:"affected"`
	ProblemTypes []cveProblemType `json:"problemTypes,omitempty"`
	References   []cveReference   `json:"references"`
	Metrics      []cveMetric      `json:"metrics,omitempty"`
	Credits      []cveCredit      `json:"credits,omitempty"`
	Generator    map[string]any   `json:"x_generator,omitempty"`
}

type cveText struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

type cveProduct struct {
	Vendor        string       `json:"vendor"`
	Product       string       `json:"product"`
	DefaultStatus string       `json:"defaultStatus"`
	Versions      []cveVersion `json:"versions,omitempty"`
}

type cveVersion struct {
	Version         string `json:"version"`
	Status          string `json:"status"`
	LessThan        string `json:"lessThan,omitempty"`
	LessThanOrEqual string `json:"lessThanOrEqual,omitempty"`
	VersionType     string `json:"versionType,omitempty"`
}

type cveProblemType struct {
	Descriptions []cveProblem `json:"descriptions"`
}

type cveProblem struct {
	Lang        string `json:"lang"`
	Description string `json:"description"`
	CWEID       string `json:"cweId"`
	Type        string `json:"type"`
}

type cveReference struct {
	URL  string   `json:"url"`
	Tags []string `json:"tags,omitempty"`
}

type cveMetric struct {
	Format    string    `json:"format"`
	Scenarios []cveText `json:"scenarios"`
	CVSSv31   *cvssJSON `json:"cvssV3_1,omitempty"`
	CVSSv30   *cvssJSON `json:"cvssV3_0,omitempty"`
	CVSSv40   *cvssJSON `json:"cvssV4_0,omitempty"`
}

type cveCredit struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
	Type  string `json:"type"`
}

// maxCVEDescription is the schema's bound on a description's value.
const maxCVEDescription = 4096

// CVE returns the CNA container of in's i-th vulnerability, as CVE
// Services' POST /cve/{id}/cna takes it, indented JSON. A summary
// longer than the schema allows is cut, with a pointer to the advisory.
func CVE(in Input, i int) ([]byte, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	if i < 0 || i >= len(in.Vulns) {
		return nil, fmt.Errorf("advisory %s: no vulnerability %d", in.Advisory.PublicID, i)
	}
	a, v := in.Advisory, in.Vulns[i]
	page := in.url(PagePath(a.PublicID))
	desc := a.Summary
	if len(desc) > maxCVEDescription {
		more := "… (see " + page + ")"
		desc = cutBytes(desc, maxCVEDescription-len(more)) + more
	}
	c := cveContainer{
		Title:        a.Title,
		DatePublic:   rfc3339(in.initial()),
		Descriptions: []cveText{{Lang: "en", Value: desc}},
		References:   []cveReference{{URL: page, Tags: []string{"vendor-advisory"}}},
		Generator:    map[string]any{"engine": "secinbox"},
	}
	for _, r := range a.Refs {
		c.References = append(c.References, cveReference{URL: r})
	}
	for _, p := range a.Products {
		vr, err := parseRange(p.Affected)
		if err != nil {
			return nil, err
		}
		cp := cveProduct{Vendor: in.Publisher.Name, Product: p.Name, DefaultStatus: "unaffected"}
		from := vr.Introduced
		if from == "" {
			from = "0"
		}
		switch {
		case vr.All:
			cp.DefaultStatus = "affected"
		case vr.Exact != "":
			cp.DefaultStatus = "unknown"
			cp.Versions = append(cp.Versions, cveVersion{Version: vr.Exact, Status: "affected"})
		case vr.Fixed != "":
			cp.Versions = append(cp.Versions, cveVersion{Version: from, Status: "affected", LessThan: vr.Fixed, VersionType: "custom"})
		default:
			cp.Versions = append(cp.Versions, cveVersion{Version: from, Status: "affected", LessThanOrEqual: vr.LastAffected, VersionType: "custom"})
		}
		if p.Fixed != "" && p.Fixed != vr.Fixed {
			cp.Versions = append(cp.Versions, cveVersion{Version: p.Fixed, Status: "unaffected"})
		}
		c.Affected = append(c.Affected, cp)
	}
	if a.CWE != "" {
		d := a.CWE
		if name := CWEName(a.CWE); name != "" {
			d += " " + name
		}
		c.ProblemTypes = []cveProblemType{{Descriptions: []cveProblem{{Lang: "en", Description: d, CWEID: a.CWE, Type: "CWE"}}}}
	}
	if v.CVSS.Vector != "" {
		m := cveMetric{Format: "CVSS", Scenarios: []cveText{{Lang: "en", Value: "GENERAL"}}}
		j := &cvssJSON{Version: v.CVSS.Version, VectorString: v.CVSS.Vector, BaseScore: v.CVSS.Score, BaseSeverity: cvssSeverity(v.CVSS)}
		switch v.CVSS.Version {
		case "3.1":
			m.CVSSv31 = j
		case "3.0":
			m.CVSSv30 = j
		case "4.0":
			m.CVSSv40 = j
		}
		c.Metrics = []cveMetric{m}
	}
	for _, name := range v.Credits {
		c.Credits = append(c.Credits, cveCredit{Lang: "en", Value: name, Type: "finder"})
	}
	return marshal(cveBody{CNAContainer: c})
}

// cutBytes cuts s to at most n bytes on a rune boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
