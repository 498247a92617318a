package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/secinbox/secinbox/triage"
)

// openAPISchema compiles one schema of openapi.json's components (its
// schemas are JSON Schema 2020-12, as OpenAPI 3.1 says).
func openAPISchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const u = "https://secinbox.invalid/openapi.json"
	if err := c.AddResource(u, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(u + "#/components/schemas/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validAgainst(t *testing.T, s *jsonschema.Schema, what string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err := s.Validate(doc); err != nil {
		t.Errorf("%s does not match openapi.json: %v\n%s", what, err, b)
	}
}

// TestOpenAPI_DisclosureAndAdvisories: the report JSON with its
// disclosure, cra and cve_ids, and an advisory, as the API answers them,
// match their schemas in openapi.json.
func TestOpenAPI_DisclosureAndAdvisories(t *testing.T) {
	t.Parallel()
	te, _ := advisoryEnv(t)
	rep := te.fileReport(t0.Add(-3*24*time.Hour), func(r *triage.Report) { r.Title = "CSRF" })
	path := fmt.Sprintf("/api/v1/reports/%d", rep.ID)
	report, advisory := openAPISchema(t, "Report"), openAPISchema(t, "Advisory")
	code, m := te.sendJSON("PATCH", path, te.triagerToken, map[string]any{"status": "accepted", "actively_exploited": true, "aware_at": t0.Add(-time.Hour).Format(time.RFC3339)})
	if code != 200 {
		t.Fatalf("PATCH: %d %v", code, m)
	}
	validAgainst(t, report, "PATCH's answer", m)
	te.sendJSON("POST", path+"/cve-id", te.triagerToken, map[string]string{"cve_id": "CVE-2026-3333"})
	te.update(rep.ID, triage.Change{Status: ptr(triage.StatusFixed), Deadlines: &triage.DeadlineChange{EmbargoUntil: ptr(t0.Add(time.Hour)),
		Sent: []triage.CRASent{{Report: triage.CRAEarlyWarning, SentAt: t0, Reference: "CSIRT 1"}}}}, t0)
	_, m = te.sendJSON("GET", path, viewerToken, nil)
	validAgainst(t, report, "GET report", m)
	_, m = te.sendJSON("GET", "/api/v1/reports", viewerToken, nil)
	for _, r := range m["reports"].([]any) {
		validAgainst(t, openAPISchema(t, "Report"), "a list item", r)
	}
	code, m = te.sendJSON("POST", "/api/v1/advisories", te.triagerToken, map[string]any{"report_ids": []int64{rep.ID}, "title": "CSRF in settings",
		"summary": "s", "products": []map[string]string{{"name": "App", "affected": "<3", "fixed": "3"}}})
	if code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	validAgainst(t, advisory, "a draft", m)
	te.clock.Set(t0.Add(2 * time.Hour))
	te.update(rep.ID, triage.Change{Status: ptr(triage.StatusDisclosed)}, t0.Add(2*time.Hour))
	code, m = te.sendJSON("POST", fmt.Sprintf("/api/v1/advisories/%v/publish", m["id"]), te.triagerToken, nil)
	if code != 200 {
		t.Fatalf("publish: %d %v", code, m)
	}
	validAgainst(t, advisory, "a published advisory", m)
	// The validator is real: an advisory without its state fails.
	delete(m, "state")
	b, _ := json.Marshal(m)
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if advisory.Validate(doc) == nil {
		t.Error("an advisory without state matches")
	}
}
