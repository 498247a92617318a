package advisory_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/advisory"
	"github.com/secinbox/secinbox/advisory/advisorytest"
	"github.com/secinbox/secinbox/triage"
)

var published = time.Date(2026, 9, 20, 10, 0, 0, 0, time.UTC)

func cvss(t *testing.T, v string) triage.CVSS {
	t.Helper()
	c, err := triage.ParseCVSS(v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func input(t *testing.T) advisory.Input {
	t.Helper()
	a := &triage.Advisory{ID: 1, PublicID: "SA-2026-0001", ReportIDs: []int64{3, 4}, Title: "Stored XSS in the invoice editor",
		Summary: "An attacker with an account could store script in an invoice's note field.\nUpdate to 2.3.1.",
		Products: []triage.AdvisoryProduct{
			{Name: "Example Billing", Affected: "<2.3.1", Fixed: "2.3.1"},
			{Name: "Example Billing Server", Affected: ">=1.0, <=1.9", Fixed: ""},
			{Name: "Example Agent", Affected: "4.0.2", Fixed: "4.0.3"},
		},
		CWE: "CWE-79", Refs: []string{"https://github.com/example/billing/commit/abc"},
		Revisions: []triage.AdvisoryRevision{{Number: 1, Date: published, Summary: "Initial release."}},
	}
	a.PublishedAt = published
	return advisory.Input{
		Advisory: a,
		Vulns: []advisory.Vulnerability{
			{TrackingID: "SEC-2026-0003", CVEID: "CVE-2026-12345", CVSS: cvss(t, "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N"), Credits: []string{"Ada Lovelace"}},
			{TrackingID: "SEC-2026-0004", CVSS: cvss(t, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")},
		},
		Publisher: advisory.Publisher{Name: "example.com", BaseURL: "https://security.example.com", Contact: "security@example.com"},
	}
}

func valid(t *testing.T, schema string, doc []byte) {
	t.Helper()
	if err := advisorytest.Validate(schema, doc); err != nil {
		t.Errorf("not valid against %s: %v\n%s", schema, err, doc)
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCSAF(t *testing.T) {
	in := input(t)
	b, err := advisory.CSAF(in)
	if err != nil {
		t.Fatal(err)
	}
	valid(t, advisorytest.CSAF, b)
	d := decode(t, b)
	doc := d["document"].(map[string]any)
	tr := doc["tracking"].(map[string]any)
	if doc["category"] != "csaf_security_advisory" || tr["id"] != "SA-2026-0001" || tr["version"] != "1" || tr["status"] != "final" {
		t.Errorf("document %v", doc)
	}
	// The profile's mandatory tests (6.1.27): a summary note, an external
	// reference, vulnerabilities with notes and product status, a
	// product tree.
	if doc["notes"].([]any)[0].(map[string]any)["category"] != "summary" {
		t.Error("no summary note")
	}
	external := false
	for _, r := range doc["references"].([]any) {
		external = external || r.(map[string]any)["category"] == "external"
	}
	if !external {
		t.Error("no external reference")
	}
	vs := d["vulnerabilities"].([]any)
	v0 := vs[0].(map[string]any)
	if len(vs) != 2 || v0["cve"] != "CVE-2026-12345" || v0["notes"] == nil || v0["product_status"] == nil {
		t.Errorf("vulnerabilities %v", vs)
	}
	score := v0["scores"].([]any)[0].(map[string]any)["cvss_v3"].(map[string]any)
	if score["baseScore"] != 5.4 || score["baseSeverity"] != "MEDIUM" {
		t.Errorf("score %v", score)
	}
	if _, ok := vs[1].(map[string]any)["scores"]; ok {
		t.Error("a CVSS 4.0 vector in CSAF 2.0")
	}
	if v0["cwe"].(map[string]any)["name"] != "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')" {
		t.Errorf("cwe %v", v0["cwe"])
	}
	if acks := doc["acknowledgments"].([]any); len(acks) != 1 || acks[0].(map[string]any)["names"].([]any)[0] != "Ada Lovelace" {
		t.Errorf("acknowledgments %v", acks)
	}
	if !strings.Contains(string(b), `"name": "vers:generic/>=1.0|<=1.9"`) {
		t.Error("no vers range for >=1.0, <=1.9")
	}

	// The validator is real: a document without tracking fails.
	delete(doc, "tracking")
	broken, _ := json.Marshal(d)
	if err := advisorytest.Validate(advisorytest.CSAF, broken); err == nil {
		t.Error("a CSAF document without tracking validated")
	}
	// An unknown CWE is left out rather than misnamed.
	in.Advisory.CWE = "CWE-1234"
	b, _ = advisory.CSAF(in)
	valid(t, advisorytest.CSAF, b)
	if strings.Contains(string(b), `"cwe"`) {
		t.Error("an unnamed CWE in CSAF")
	}
}

func TestOSV(t *testing.T) {
	b, err := advisory.OSV(input(t))
	if err != nil {
		t.Fatal(err)
	}
	valid(t, advisorytest.OSV, b)
	d := decode(t, b)
	if d["id"] != "x_SA-2026-0001" || d["modified"] != "2026-09-20T10:00:00Z" || d["aliases"].([]any)[0] != "CVE-2026-12345" {
		t.Errorf("osv %v", d)
	}
	if sev := d["severity"].([]any); len(sev) != 2 || sev[1].(map[string]any)["type"] != "CVSS_V4" {
		t.Errorf("severity %v", sev)
	}
	if c := d["credits"].([]any); len(c) != 1 || c[0].(map[string]any)["name"] != "Ada Lovelace" {
		t.Errorf("credits %v", c)
	}
	d["id"] = "SA-2026-0001" // not a known prefix
	broken, _ := json.Marshal(d)
	if err := advisorytest.Validate(advisorytest.OSV, broken); err == nil {
		t.Error("an OSV id without a known prefix validated")
	}
}

func TestCVE(t *testing.T) {
	in := input(t)
	for i := range in.Vulns {
		b, err := advisory.CVE(in, i)
		if err != nil {
			t.Fatal(err)
		}
		valid(t, advisorytest.CVECNA, b)
	}
	b, _ := advisory.CVE(in, 0)
	c := decode(t, b)["cnaContainer"].(map[string]any)
	aff := c["affected"].([]any)
	v := aff[0].(map[string]any)["versions"].([]any)[0].(map[string]any)
	if v["version"] != "0" || v["lessThan"] != "2.3.1" || v["status"] != "affected" {
		t.Errorf("affected %v", aff[0])
	}
	if m := c["metrics"].([]any)[0].(map[string]any); m["cvssV3_1"].(map[string]any)["baseScore"] != 5.4 {
		t.Errorf("metrics %v", m)
	}
	if cr := c["credits"].([]any); len(cr) != 1 || cr[0].(map[string]any)["value"] != "Ada Lovelace" {
		t.Errorf("credits %v", cr)
	}
	b, _ = advisory.CVE(in, 1)
	if strings.Contains(string(b), "Ada") {
		t.Error("the second report's record credits the first's researcher")
	}
	// A long summary is cut to what the schema allows.
	in.Advisory.Summary = strings.Repeat("é", 5000)
	b, err := advisory.CVE(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	valid(t, advisorytest.CVECNA, b)
	// The validator is real: no references fails.
	m := decode(t, b)
	delete(m["cnaContainer"].(map[string]any), "references")
	broken, _ := json.Marshal(m)
	if err := advisorytest.Validate(advisorytest.CVECNA, broken); err == nil {
		t.Error("a CNA container without references validated")
	}
}

func TestProvider(t *testing.T) {
	p := input(t).Publisher
	b, err := advisory.ProviderMetadata(p, "0123456789abcdef0123456789abcdef01234567", "/pgp-key.asc", published)
	if err != nil {
		t.Fatal(err)
	}
	valid(t, advisorytest.Provider, b)
	d := decode(t, b)
	feed := d["distributions"].([]any)[0].(map[string]any)["rolie"].(map[string]any)["feeds"].([]any)[0].(map[string]any)
	if d["canonical_url"] != "https://security.example.com/.well-known/csaf/provider-metadata.json" ||
		feed["url"] != "https://security.example.com/.well-known/csaf/feed-tlp-white.json" {
		t.Errorf("provider metadata %s", b)
	}
	b, err = advisory.ROLIEFeed(p, []advisory.FeedEntry{{PublicID: "SA-2026-0001", Title: "T", Published: published, Updated: published, Signed: true}}, published)
	if err != nil {
		t.Fatal(err)
	}
	f := decode(t, b)["feed"].(map[string]any)
	links := f["entry"].([]any)[0].(map[string]any)["link"].([]any)
	if len(links) != 3 || links[2].(map[string]any)["href"] != "https://security.example.com/advisories/SA-2026-0001.csaf.json.asc" {
		t.Errorf("feed links %v", links)
	}
}

func TestParseVersionRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want triage.VersionRange
		bad  bool
	}{
		{in: "<2.3.1", want: triage.VersionRange{Fixed: "2.3.1"}},
		{in: "< 2.3.1", want: triage.VersionRange{Fixed: "2.3.1"}},
		{in: "<=2.3.0", want: triage.VersionRange{LastAffected: "2.3.0"}},
		{in: ">=2.0 <2.3.1", want: triage.VersionRange{Introduced: "2.0", Fixed: "2.3.1"}},
		{in: ">=2.0, <2.3.1", want: triage.VersionRange{Introduced: "2.0", Fixed: "2.3.1"}},
		{in: "2.2.0", want: triage.VersionRange{Exact: "2.2.0"}},
		{in: "=2.2.0", want: triage.VersionRange{Exact: "2.2.0"}},
		{in: "*", want: triage.VersionRange{All: true}},
		{in: "", bad: true},
		{in: ">=2.0", bad: true},
		{in: "<1 <2", bad: true},
		{in: "1.0 2.0", bad: true},
		{in: "<1|2", bad: true},
		{in: "<", bad: true},
	} {
		got, err := triage.ParseVersionRange(tc.in)
		if tc.bad != (err != nil) || (!tc.bad && got != tc.want) {
			t.Errorf("%q: %+v, %v", tc.in, got, err)
		}
	}
}
