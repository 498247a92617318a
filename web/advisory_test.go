package web_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/advisory/advisorytest"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// advisoryEnv is a triage env whose site signs CSAF documents with a
// real key and publishes as "Example Corp".
func advisoryEnv(t *testing.T) (*triageEnv, *openpgp.Entity) {
	t.Helper()
	key := teamKey(t, t0)
	e := newEnv(t, func(c *web.Config) {
		c.DetachSign = func(_ context.Context, data []byte) ([]byte, error) { return pgp.DetachSign(data, key, t0) }
		c.AdvisoryPublisher = "Example Corp"
		c.PublicKeyArmored = armoredPublic(t, key)
	})
	te := &triageEnv{env: e}
	te.triager = e.addUser("tina@localhost", triage.RoleTriager, "triager password 1")
	te.admin = e.addUser("root@localhost", triage.RoleAdmin, "admin password 12")
	te.triagerToken, te.adminToken = e.newToken(te.triager.ID), e.newToken(te.admin.ID)
	return te, key
}

// credit records a researcher's credit choice for r.
func (te *triageEnv) credit(r *triage.Report, choice triage.CreditChoice, name string) {
	te.t.Helper()
	te.offerCredit(r, fmt.Sprintf("tok-%d-0123456789abcdefghijklmnopqrstuvwxyz", r.ID), time.Time{})
	if err := te.db.RecordCredit(context.Background(), r.ID, choice, name, "", triage.Actor{UserID: te.triager.ID, Email: te.triager.Email}, te.clock.Now()); err != nil {
		te.t.Fatal(err)
	}
}

func (te *triageEnv) public(path string) (int, string, string) {
	te.t.Helper()
	resp, body := te.get(te.client(), path)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// TestAdvisories_Publish: a draft is refused publication while a report
// is not disclosed or under embargo; published, it is served as a page
// and as CSAF (signed, hashed), OSV and CVE JSON, each valid against its
// schema, naming only the researcher who chose to be named.
func TestAdvisories_Publish(t *testing.T) {
	t.Parallel()
	te, key := advisoryEnv(t)
	ada := te.fileReport(t0.Add(-20*24*time.Hour), func(r *triage.Report) {
		r.Title, r.ResearcherEmail, r.Body = "SECRET-TITLE xss", "ada@example.org", "SECRET-BODY"
	})
	bob := te.fileReport(t0.Add(-19*24*time.Hour), func(r *triage.Report) { r.Title, r.ResearcherEmail = "SECRET-TITLE 2", "bob@example.org" })
	te.update(ada.ID, triage.Change{Status: ptr(triage.StatusAccepted), CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N")}, t0.Add(-18*24*time.Hour))
	te.update(bob.ID, triage.Change{Status: ptr(triage.StatusAccepted)}, t0.Add(-18*24*time.Hour))
	te.credit(ada, triage.CreditName, "Ada Lovelace")
	te.credit(bob, triage.CreditNone, "")

	code, m := te.sendJSON("POST", "/api/v1/advisories", te.triagerToken, map[string]any{"report_ids": []int64{ada.ID, bob.ID}, "title": "Stored XSS in invoices",
		"summary": "Script stored in an invoice note ran in other users' browsers.", "cwe": "CWE-79",
		"products": []map[string]string{{"name": "Example Billing", "affected": "<2.3.1", "fixed": "2.3.1"}}})
	if code != 201 || m["public_id"] != "SA-2026-0001" || m["state"] != "draft" {
		t.Fatalf("create: %d %v", code, m)
	}
	id := int64(m["id"].(float64))
	path := fmt.Sprintf("/api/v1/advisories/%d", id)
	if code, m := te.sendJSON("POST", "/api/v1/advisories", te.triagerToken, map[string]any{"report_ids": []int64{ada.ID}, "title": "x",
		"products": []map[string]string{{"name": "P", "affected": ">=2"}}}); code != 422 {
		t.Errorf("unbounded range: %d %v", code, m)
	}
	if code, m := te.sendJSON("POST", "/api/v1/advisories", viewerToken, map[string]any{"report_ids": []int64{ada.ID}, "title": "x"}); code != 403 {
		t.Errorf("viewer creates: %d %v", code, m)
	}
	if code, _, _ := te.public("/advisories/SA-2026-0001"); code != 404 {
		t.Errorf("draft page: %d", code)
	}

	// Not disclosed: 409.
	if code, m := te.sendJSON("POST", path+"/publish", te.triagerToken, nil); code != 409 || !strings.Contains(fmt.Sprint(m["error"]), "not disclosed") {
		t.Errorf("publish before disclosure: %d %v", code, m)
	}
	// Disclosed, but one under embargo: 409 (the embargo is set on a
	// fixed report; disclosure waits for it, so the embargo is lifted to
	// disclose, then set again on the other, still fixed).
	for _, r := range []*triage.Report{ada, bob} {
		te.update(r.ID, triage.Change{Status: ptr(triage.StatusFixed)}, t0.Add(-2*24*time.Hour))
	}
	te.update(ada.ID, triage.Change{Status: ptr(triage.StatusDisclosed)}, t0.Add(-time.Hour))
	te.update(bob.ID, triage.Change{Deadlines: &triage.DeadlineChange{EmbargoUntil: ptr(t0.Add(2 * time.Hour))}}, t0.Add(-time.Hour))
	if code, m := te.sendJSON("POST", path+"/publish", te.triagerToken, nil); code != 409 || !strings.Contains(fmt.Sprint(m["error"]), "not disclosed") {
		t.Errorf("publish with one report not disclosed: %d %v", code, m)
	}
	te.clock.Set(t0.Add(3 * time.Hour))
	te.update(bob.ID, triage.Change{Status: ptr(triage.StatusDisclosed)}, t0.Add(3*time.Hour))
	code, m = te.sendJSON("POST", path+"/publish", te.triagerToken, nil)
	if code != 200 || m["state"] != "published" || m["version"] != 1.0 {
		t.Fatalf("publish: %d %v", code, m)
	}
	if code, m := te.sendJSON("POST", path+"/publish", te.triagerToken, nil); code != 409 {
		t.Errorf("publish again unchanged: %d %v", code, m)
	}

	// The documents.
	code, ct, csaf := te.public("/advisories/SA-2026-0001.csaf.json")
	if code != 200 || ct != "application/json" {
		t.Fatalf("csaf: %d %s", code, ct)
	}
	if err := advisorytest.Validate(advisorytest.CSAF, []byte(csaf)); err != nil {
		t.Errorf("CSAF invalid: %v", err)
	}
	_, _, sig := te.public("/advisories/SA-2026-0001.csaf.json.asc")
	if _, _, err := openpgp.VerifyArmoredDetachedSignature(openpgp.EntityList{key}, strings.NewReader(csaf), strings.NewReader(sig), nil); err != nil {
		t.Errorf("signature: %v", err)
	}
	_, _, sum := te.public("/advisories/SA-2026-0001.csaf.json.sha512")
	want := sha512.Sum512([]byte(csaf))
	if sum != hex.EncodeToString(want[:])+"  SA-2026-0001.csaf.json\n" {
		t.Errorf("sha512 file %q", sum)
	}
	_, _, osv := te.public("/advisories/SA-2026-0001.osv.json")
	if err := advisorytest.Validate(advisorytest.OSV, []byte(osv)); err != nil {
		t.Errorf("OSV invalid: %v", err)
	}
	_, _, cve := te.public("/advisories/SA-2026-0001.cve.json")
	if err := advisorytest.Validate(advisorytest.CVECNA, []byte(cve)); err != nil {
		t.Errorf("CVE invalid: %v", err)
	}
	code, _, page := te.public("/advisories/SA-2026-0001")
	if code != 200 {
		t.Fatalf("page: %d", code)
	}
	for name, doc := range map[string]string{"CSAF": csaf, "OSV": osv, "CVE": cve, "page": page} {
		if !strings.Contains(doc, "Ada Lovelace") {
			t.Errorf("%s does not credit Ada, who chose to be named", name)
		}
		for _, secret := range []string{"SECRET", "ada@example.org", "bob@example.org"} {
			if strings.Contains(doc, secret) {
				t.Errorf("%s shows %s", name, secret)
			}
		}
	}
	if got := byTestID(t, page, "advisory-credit"); len(got) != 1 {
		t.Errorf("page credits %q", got)
	}
	if !strings.Contains(csaf, `"publisher": {`) || !strings.Contains(csaf, `"name": "Example Corp"`) {
		t.Error("CSAF publisher is not Example Corp")
	}

	// The provider and its feed; the lists.
	_, _, meta := te.public("/.well-known/csaf/provider-metadata.json")
	if err := advisorytest.Validate(advisorytest.Provider, []byte(meta)); err != nil {
		t.Errorf("provider metadata invalid: %v\n%s", err, meta)
	}
	_, _, feed := te.public("/.well-known/csaf/feed-tlp-white.json")
	if !strings.Contains(feed, `"href": "http://localhost:8080/advisories/SA-2026-0001.csaf.json.asc"`) {
		t.Errorf("feed %s", feed)
	}
	if _, _, atom := te.public("/advisories.atom"); !strings.Contains(atom, "SA-2026-0001: Stored XSS in invoices") {
		t.Errorf("atom %s", atom)
	}
	if _, _, idx := te.public("/advisories"); len(byTestID(t, idx, "advisory-item")) != 1 {
		t.Error("index lacks the advisory")
	}
	_, _, hall := te.public("/hall-of-fame")
	if !strings.Contains(hall, `href="/advisories/SA-2026-0001"`) {
		t.Error("the hall of fame does not link to the advisory")
	}

	// An edit shows once published again, as version 2.
	if code, m := te.sendJSON("PATCH", path, te.triagerToken, map[string]any{"title": "Stored XSS in invoice notes"}); code != 200 || m["state"] != "changed" {
		t.Fatalf("edit: %d %v", code, m)
	}
	if _, _, page := te.public("/advisories/SA-2026-0001"); strings.Contains(page, "invoice notes") {
		t.Error("an unpublished edit shows")
	}
	te.clock.Set(t0.Add(4 * time.Hour))
	if code, m := te.sendJSON("POST", path+"/publish", te.triagerToken, nil); code != 200 || m["version"] != 2.0 {
		t.Fatalf("publish v2: %d %v", code, m)
	}
	_, _, csaf = te.public("/advisories/SA-2026-0001.csaf.json")
	if !strings.Contains(csaf, "invoice notes") || !strings.Contains(csaf, `"version": "2"`) {
		t.Error("version 2 not served")
	}
	_, _, sig = te.public("/advisories/SA-2026-0001.csaf.json.asc")
	if _, _, err := openpgp.VerifyArmoredDetachedSignature(openpgp.EntityList{key}, bytes.NewReader([]byte(csaf)), strings.NewReader(sig), nil); err != nil {
		t.Errorf("version 2 signature: %v", err)
	}
	if err := advisorytest.Validate(advisorytest.CSAF, []byte(csaf)); err != nil {
		t.Errorf("CSAF v2 invalid: %v", err)
	}
}

// TestSecurityTxt_CSAFByDefault: with an https public URL, security.txt's
// CSAF line points at secinbox's own provider metadata.
func TestSecurityTxt_CSAFByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *web.Config) { c.PublicURL = "https://security.example.com" })
	_, body := e.get(e.client(), "/.well-known/security.txt")
	if got := parseSecurityTxt(t, body)["CSAF"]; len(got) != 1 || got[0] != "https://security.example.com/.well-known/csaf/provider-metadata.json" {
		t.Errorf("CSAF = %q", got)
	}
	if resp, _ := e.get(e.client(), "/.well-known/csaf/provider-metadata.json"); resp.StatusCode != http.StatusOK {
		t.Errorf("provider metadata: %d", resp.StatusCode)
	}
}

// TestAdvisories_Editor drafts an advisory from the report page and edits
// and publishes it with the editor's forms, without JavaScript.
func TestAdvisories_Editor(t *testing.T) {
	t.Parallel()
	te, _ := advisoryEnv(t)
	_, hdr := te.staffCookie("tri@localhost", triage.RoleTriager)
	rep := te.fileReport(t0.Add(-10*24*time.Hour), func(r *triage.Report) { r.Title = "SECRET-TITLE" })
	te.update(rep.ID, triage.Change{Status: ptr(triage.StatusAccepted)}, t0.Add(-9*24*time.Hour))
	resp, _ := te.do(te.client(), "POST", fmt.Sprintf("/reports/%d/advisory", rep.ID), nil, hdr...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/advisories/1" {
		t.Fatalf("draft: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := te.do(te.client(), "GET", "/staff/advisories/1", nil, hdr...)
	if got := byTestID(t, page, "advisory-state"); len(got) != 1 || got[0] != "draft" || strings.Contains(page, "SECRET-TITLE") {
		t.Errorf("editor: state %q, or the report's title shows", got)
	}
	form := map[string][]string{"title": {"Open redirect in login"}, "summary": {"The next parameter was not checked."},
		"products": {"Example Portal | <5.2 | 5.2\nExample App | * |"}, "cwe": {"cwe-601"}, "refs": {"https://example.com/changelog"}}
	resp, _ = te.do(te.client(), "POST", "/staff/advisories/1", form, hdr...)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	a, err := te.db.Advisory(context.Background(), 1)
	if err != nil || a.CWE != "CWE-601" || len(a.Products) != 2 || a.Products[1].Affected != "*" || a.Refs[0] != "https://example.com/changelog" {
		t.Fatalf("stored %+v %v", a, err)
	}
	form["products"] = []string{"no bars here"}
	resp, page = te.do(te.client(), "POST", "/staff/advisories/1", form, hdr...)
	if resp.StatusCode != http.StatusBadRequest || len(byTestID(t, page, "advisory-error")) != 1 || !strings.Contains(page, "no bars here") {
		t.Errorf("bad products: %d %q", resp.StatusCode, byTestID(t, page, "advisory-error"))
	}
	resp, page = te.do(te.client(), "POST", "/staff/advisories/1/publish", nil, hdr...)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(strings.Join(byTestID(t, page, "advisory-error"), ""), "not disclosed") {
		t.Errorf("publish before disclosure: %d %q", resp.StatusCode, byTestID(t, page, "advisory-error"))
	}
	// Without CVE Services the CNA container is downloaded to hand over.
	resp, cve := te.do(te.client(), "GET", "/staff/advisories/1/cve.json", nil, hdr...)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "SA-2026-0001.cve.json") {
		t.Errorf("cve.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if err := advisorytest.Validate(advisorytest.CVECNA, []byte(cve)); err != nil {
		t.Errorf("draft CVE JSON invalid: %v", err)
	}
	te.update(rep.ID, triage.Change{Status: ptr(triage.StatusFixed)}, t0.Add(-time.Hour))
	te.update(rep.ID, triage.Change{Status: ptr(triage.StatusDisclosed)}, t0.Add(-time.Minute))
	if resp, _ := te.do(te.client(), "POST", "/staff/advisories/1/publish", nil, hdr...); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	_, page = te.do(te.client(), "GET", fmt.Sprintf("/reports/%d", rep.ID), nil, hdr...)
	if got := byTestID(t, page, "advisory-staff-item"); len(got) != 1 || !strings.Contains(got[0], "published") {
		t.Errorf("report page advisories %q", got)
	}
	if code, _, _ := te.public("/advisories/SA-2026-0001"); code != 200 {
		t.Errorf("public page: %d", code)
	}
}
