package advisory

import (
	"fmt"

	"github.com/secinbox/secinbox/triage"
)

// OSV (https://ossf.github.io/osv-schema/). secinbox is not one of OSV's
// home databases, so ids carry the "x_" prefix the schema keeps for a
// local database: x_SA-2026-0001. The products are named, not tied to a
// package ecosystem, so each affected entry carries the product and its
// versions in database_specific rather than as package ranges.

// OSVSchemaVersion is the OSV schema version the documents follow.
const OSVSchemaVersion = "1.7.5"

type osvDoc struct {
	SchemaVersion    string         `json:"schema_version"`
	ID               string         `json:"id"`
	Modified         string         `json:"modified"`
	Published        string         `json:"published"`
	Aliases          []string       `json:"aliases,omitempty"`
	Summary          string         `json:"summary"`
	Details          string         `json:"details"`
	Severity         []osvSeverity  `json:"severity,omitempty"`
	Affected         []osvAffected  `json:"affected"`
	References       []osvReference `json:"references"`
	Credits          []osvCredit    `json:"credits,omitempty"`
	DatabaseSpecific map[string]any `json:"database_specific,omitempty"`
}

type osvSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type osvAffected struct {
	DatabaseSpecific map[string]any `json:"database_specific"`
}

type osvReference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type osvCredit struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// OSVID is the OSV id of advisory public id pid.
func OSVID(pid string) string { return "x_" + pid }

// OSV returns in's advisory as an OSV document, indented JSON. Of the
// vulnerabilities' CVSS vectors, the highest-scored of each version
// is the severity.
func OSV(in Input) ([]byte, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	a := in.Advisory
	d := osvDoc{
		SchemaVersion: OSVSchemaVersion,
		ID:            OSVID(a.PublicID),
		Modified:      rfc3339(in.current()),
		Published:     rfc3339(in.initial()),
		Aliases:       in.cveIDs(),
		Summary:       a.Title,
		Details:       a.Summary,
		References:    []osvReference{{Type: "ADVISORY", URL: in.url(PagePath(a.PublicID))}, {Type: "ADVISORY", URL: in.url(CSAFPath(a.PublicID))}},
	}
	best := map[string]triage.CVSS{}
	for _, v := range in.Vulns {
		if v.CVSS.Vector == "" {
			continue
		}
		typ := "CVSS_V3"
		if v.CVSS.Version == "4.0" {
			typ = "CVSS_V4"
		}
		if cur, ok := best[typ]; !ok || v.CVSS.Score > cur.Score {
			best[typ] = v.CVSS
		}
	}
	for _, typ := range []string{"CVSS_V3", "CVSS_V4"} {
		if c, ok := best[typ]; ok {
			d.Severity = append(d.Severity, osvSeverity{Type: typ, Score: c.Vector})
		}
	}
	for _, p := range a.Products {
		vr, err := parseRange(p.Affected)
		if err != nil {
			return nil, err
		}
		ds := map[string]any{"vendor": in.Publisher.Name, "product": p.Name, "affected": p.Affected, "affected_vers": versRange(vr)}
		if p.Fixed != "" {
			ds["fixed"] = p.Fixed
		}
		d.Affected = append(d.Affected, osvAffected{DatabaseSpecific: ds})
	}
	for _, r := range a.Refs {
		d.References = append(d.References, osvReference{Type: "WEB", URL: r})
	}
	for _, id := range in.cveIDs() {
		d.References = append(d.References, osvReference{Type: "ADVISORY", URL: "https://www.cve.org/CVERecord?id=" + id})
	}
	for _, c := range in.credits() {
		d.Credits = append(d.Credits, osvCredit{Name: c, Type: "FINDER"})
	}
	if a.CWE != "" {
		d.DatabaseSpecific = map[string]any{"cwe_ids": []string{a.CWE}}
	}
	return marshal(d)
}

func parseRange(s string) (triage.VersionRange, error) {
	vr, err := triage.ParseVersionRange(s)
	if err != nil {
		return vr, fmt.Errorf("advisory: affected versions %q: %s", s, triage.ErrorMessage(err))
	}
	return vr, nil
}
