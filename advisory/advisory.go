// Package advisory builds the documents a published advisory is served
// as: CSAF 2.0 (the csaf_security_advisory profile), OSV, and the CNA
// container of a CVE JSON 5.1 record; and the CSAF provider's
// provider-metadata.json and ROLIE feed. Builders are pure: they take
// an Input (the advisory, its vulnerabilities, the publisher) and return
// JSON, deterministic for the same input.
//
// Only what was consented to is published: credits are the display
// names of researchers who chose to be named (the caller passes only
// those), and nothing of a report but its tracking id, CVE ID, CVSS and
// the advisory's own text appears.
package advisory

import (
	"fmt"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// Publisher is who publishes the advisories.
type Publisher struct {
	// Name is the organization, as CSAF's publisher and the products'
	// vendor: "Example Corp" or the mail domain.
	Name string
	// BaseURL is the site's public URL without a trailing slash; it is
	// also the CSAF publisher namespace.
	BaseURL string
	Contact string // "security@example.com"
}

// Vulnerability is one report an advisory covers, as published.
type Vulnerability struct {
	TrackingID string // SEC-2026-0001
	CVEID      string // the first CVE ID; "" when the report has none
	// OtherCVEIDs are further CVE IDs of the report (rare: one given by
	// another CNA as well): they get the same CVE record.
	OtherCVEIDs []string    `json:",omitempty"`
	CVSS        triage.CVSS // zero: no vector
	Credits     []string    // display names of researchers who chose to be named
}

// Input is what the document builders need.
type Input struct {
	Advisory  *triage.Advisory // published: at least one revision
	Vulns     []Vulnerability  // in the order of Advisory.ReportIDs
	Publisher Publisher
}

// Paths of an advisory's public documents, under the site's base URL.
func PagePath(pid string) string { return "/advisories/" + pid }
func CSAFPath(pid string) string { return "/advisories/" + pid + ".csaf.json" }
func OSVPath(pid string) string  { return "/advisories/" + pid + ".osv.json" }
func CVEPath(pid string) string  { return "/advisories/" + pid + ".cve.json" }

// Provider paths.
const (
	ProviderMetadataPath = "/.well-known/csaf/provider-metadata.json"
	FeedPath             = "/.well-known/csaf/feed-tlp-white.json"
	AtomPath             = "/advisories.atom"
)

// Document kinds, as stores keep them.
const (
	KindCSAF          = "csaf"
	KindCSAFSignature = "csaf.asc"
	KindOSV           = "osv"
	// KindCVE is the CNA container of the advisory's first
	// vulnerability; KindCVE + ":" + CVE ID those of each vulnerability
	// with a CVE ID.
	KindCVE = "cve"
)

func (in *Input) check() error {
	a := in.Advisory
	switch {
	case a == nil || len(a.Revisions) == 0:
		return fmt.Errorf("advisory: not published")
	case len(in.Vulns) == 0:
		return fmt.Errorf("advisory %s: no vulnerability", a.PublicID)
	case in.Publisher.BaseURL == "" || in.Publisher.Name == "":
		return fmt.Errorf("advisory %s: no publisher", a.PublicID)
	}
	return nil
}

func (in *Input) url(path string) string { return strings.TrimRight(in.Publisher.BaseURL, "/") + path }

func (in *Input) initial() time.Time { return in.Advisory.Revisions[0].Date.UTC() }
func (in *Input) current() time.Time {
	return in.Advisory.Revisions[len(in.Advisory.Revisions)-1].Date.UTC()
}

// cveIDs are the vulnerabilities' CVE IDs, in order, without repeats.
func (in *Input) cveIDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range in.Vulns {
		if v.CVEID != "" && !seen[v.CVEID] {
			seen[v.CVEID] = true
			out = append(out, v.CVEID)
		}
	}
	return out
}

// credits are every vulnerability's credits, without repeats.
func (in *Input) credits() []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range in.Vulns {
		for _, c := range v.Credits {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// rfc3339 is how every document writes times: UTC, seconds.
func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// cvssSeverity is the qualitative rating in the upper case CVSS JSON uses.
func cvssSeverity(c triage.CVSS) string {
	return strings.ToUpper(string(triage.SeverityFromScore(c.Score)))
}

// cweNames are the names of common CWEs (the CWE Top 25 and a few more),
// for CSAF, which wants the name with the id. A CWE not listed is left
// out of the CSAF document (a wrong name would fail its mandatory tests)
// and given by id elsewhere.
var cweNames = map[string]string{
	"CWE-20":   "Improper Input Validation",
	"CWE-22":   "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
	"CWE-77":   "Improper Neutralization of Special Elements used in a Command ('Command Injection')",
	"CWE-78":   "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
	"CWE-79":   "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
	"CWE-89":   "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
	"CWE-94":   "Improper Control of Generation of Code ('Code Injection')",
	"CWE-119":  "Improper Restriction of Operations within the Bounds of a Memory Buffer",
	"CWE-125":  "Out-of-bounds Read",
	"CWE-190":  "Integer Overflow or Wraparound",
	"CWE-200":  "Exposure of Sensitive Information to an Unauthorized Actor",
	"CWE-269":  "Improper Privilege Management",
	"CWE-276":  "Incorrect Default Permissions",
	"CWE-287":  "Improper Authentication",
	"CWE-306":  "Missing Authentication for Critical Function",
	"CWE-312":  "Cleartext Storage of Sensitive Information",
	"CWE-319":  "Cleartext Transmission of Sensitive Information",
	"CWE-352":  "Cross-Site Request Forgery (CSRF)",
	"CWE-362":  "Concurrent Execution using Shared Resource with Improper Synchronization ('Race Condition')",
	"CWE-400":  "Uncontrolled Resource Consumption",
	"CWE-416":  "Use After Free",
	"CWE-434":  "Unrestricted Upload of File with Dangerous Type",
	"CWE-476":  "NULL Pointer Dereference",
	"CWE-502":  "Deserialization of Untrusted Data",
	"CWE-601":  "URL Redirection to Untrusted Site ('Open Redirect')",
	"CWE-611":  "Improper Restriction of XML External Entity Reference",
	"CWE-639":  "Authorization Bypass Through User-Controlled Key",
	"CWE-770":  "Allocation of Resources Without Limits or Throttling",
	"CWE-787":  "Out-of-bounds Write",
	"CWE-798":  "Use of Hard-coded Credentials",
	"CWE-862":  "Missing Authorization",
	"CWE-863":  "Incorrect Authorization",
	"CWE-918":  "Server-Side Request Forgery (SSRF)",
	"CWE-1321": "Improperly Controlled Modification of Object Prototype Attributes ('Prototype Pollution')",
}

// CWEName is the name of a common CWE id, "" when not known here.
func CWEName(id string) string { return cweNames[id] }

// versRange is a product's affected versions as a vers range
// (https://github.com/package-url/purl-spec/blob/master/VERSION-RANGE-SPEC.rst),
// generic scheme.
func versRange(vr triage.VersionRange) string {
	var cs []string
	switch {
	case vr.All:
		return "vers:generic/*"
	case vr.Exact != "":
		return "vers:generic/" + vr.Exact
	}
	if vr.Introduced != "" {
		cs = append(cs, ">="+vr.Introduced)
	}
	if vr.Fixed != "" {
		cs = append(cs, "<"+vr.Fixed)
	}
	if vr.LastAffected != "" {
		cs = append(cs, "<="+vr.LastAffected)
	}
	return "vers:generic/" + strings.Join(cs, "|")
}
