package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/advisory/advisorytest"
	"github.com/secinbox/secinbox/cveservices"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// fakeCVEServices is CVE Services as secinbox uses it, on loopback:
// POST /api/cve-id reserves the next ID of the year asked, POST and PUT
// /api/cve/{id}/cna publish a record of an ID it reserved, validating the
// body against the schema CVE Services itself uses. It checks the
// credentials on every call.
type fakeCVEServices struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	next    int
	down    bool
	calls   []string
	records map[string]string // published CNA containers by CVE ID
	owned   map[string]bool
}

const (
	cveOrg  = "examplecorp"
	cveUser = "psirt@example.com"
	cveKey  = "cve-api-key-not-in-logs"
)

func newFakeCVEServices(t *testing.T) *fakeCVEServices {
	f := &fakeCVEServices{t: t, next: 50001, records: map[string]string{}, owned: map[string]bool{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCVEServices) client() *cveservices.Client {
	return &cveservices.Client{BaseURL: f.srv.URL + "/api", Org: cveOrg, User: cveUser, Key: cveKey}
}

func (f *fakeCVEServices) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	fail := func(status int, code, msg string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error": %q, "message": %q}`, code, msg)
	}
	switch {
	case f.down:
		fail(http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Maintenance until 14:00 UTC.")
	case r.Header.Get("CVE-API-ORG") != cveOrg || r.Header.Get("CVE-API-USER") != cveUser || r.Header.Get("CVE-API-KEY") != cveKey:
		fail(http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
	case r.Method == "POST" && r.URL.Path == "/api/cve-id":
		q := r.URL.Query()
		if q.Get("amount") != "1" || q.Get("short_name") != cveOrg || len(q.Get("cve_year")) != 4 {
			fail(http.StatusBadRequest, "BAD_INPUT", "amount, cve_year and short_name are required")
			return
		}
		id := fmt.Sprintf("CVE-%s-%d", q.Get("cve_year"), f.next)
		f.next++
		f.owned[id] = true
		fmt.Fprintf(w, `{"cve_ids": [{"cve_id": %q, "cve_year": %q, "owning_cna": %q, "state": "RESERVED", "reserved": "2026-03-10T12:00:00.000Z"}], "meta": {"remaining_quota": 100}}`,
			id, q.Get("cve_year"), cveOrg)
	case (r.Method == "POST" || r.Method == "PUT") && strings.HasPrefix(r.URL.Path, "/api/cve/") && strings.HasSuffix(r.URL.Path, "/cna"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/cve/"), "/cna")
		body, _ := io.ReadAll(r.Body)
		_, exists := f.records[id]
		switch {
		case !f.owned[id]:
			fail(http.StatusForbidden, "NOT_OWNER", "The CVE ID is not owned by your organization.")
		case r.Method == "POST" && exists:
			fail(http.StatusForbidden, "CVE_RECORD_EXISTS", "The record already exists.")
		case r.Method == "PUT" && !exists:
			fail(http.StatusNotFound, "CVE_RECORD_DNE", "The record does not exist.")
		default:
			if err := advisorytest.Validate(advisorytest.CVECNA, body); err != nil {
				f.t.Errorf("CVE Services: %s %s: the CNA container is not valid: %v", r.Method, id, err)
				fail(http.StatusBadRequest, "INVALID_JSON_SCHEMA", "invalid")
				return
			}
			f.records[id] = string(body)
			fmt.Fprintf(w, `{"message": "%s record created"}`, id)
		}
	default:
		fail(http.StatusNotFound, "NOT_FOUND", "no such route")
	}
}

func (f *fakeCVEServices) record(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.records[id]
}

func (f *fakeCVEServices) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// TestCVEIDs: without CVE Services an ID assigned elsewhere is recorded;
// with it one is reserved, and publishing an advisory publishes its
// record, POSTed first and PUT for the next version.
func TestCVEIDs(t *testing.T) {
	t.Parallel()
	t.Run("WithoutCVEServices", func(t *testing.T) {
		te := newTriageEnv(t)
		path := fmt.Sprintf("/api/v1/reports/%d/cve-id", te.xss.ID)
		if code, m := te.sendJSON("POST", path, te.triagerToken, map[string]any{}); code != 422 || !strings.Contains(fmt.Sprint(m["error"]), "not configured") {
			t.Errorf("reserve without CVE Services: %d %v", code, m)
		}
		if code, m := te.sendJSON("POST", path, te.triagerToken, map[string]string{"cve_id": "cve-2026-1111"}); code != 201 || m["cve_id"] != "CVE-2026-1111" || m["source"] != "manual" {
			t.Errorf("record: %d %v", code, m)
		}
		if code, m := te.sendJSON("POST", path, te.triagerToken, map[string]string{"cve_id": "CVE-2026-1111"}); code != 409 {
			t.Errorf("twice: %d %v", code, m)
		}
		if code, m := te.sendJSON("POST", path, te.triagerToken, map[string]string{"cve_id": "CVE-26-1"}); code != 422 {
			t.Errorf("not an ID: %d %v", code, m)
		}
		if code, m := te.sendJSON("POST", path, viewerToken, map[string]string{"cve_id": "CVE-2026-2222"}); code != 403 {
			t.Errorf("viewer: %d %v", code, m)
		}
		_, m := te.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d", te.xss.ID), viewerToken, nil)
		if fmt.Sprint(m["cve_ids"]) != "[CVE-2026-1111]" {
			t.Errorf("cve_ids %v", m["cve_ids"])
		}
	})

	t.Run("WithCVEServices", func(t *testing.T) {
		fake := newFakeCVEServices(t)
		var logs syncBuffer
		key := teamKey(t, t0)
		e := newEnv(t, func(c *web.Config) {
			c.CVEServices = fake.client()
			c.AdvisoryPublisher = "Example Corp"
			c.DetachSign = nil
			c.PublicKeyArmored = armoredPublic(t, key)
			c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		te := &triageEnv{env: e}
		te.triager = e.addUser("tina@localhost", triage.RoleTriager, "triager password 1")
		te.triagerToken = e.newToken(te.triager.ID)
		rep := te.fileReport(t0.Add(-5*24*time.Hour), func(r *triage.Report) { r.Title = "Path traversal" })
		path := fmt.Sprintf("/api/v1/reports/%d/cve-id", rep.ID)

		fake.setDown(true)
		if code, m := te.sendJSON("POST", path, te.triagerToken, nil); code != 502 || !strings.Contains(fmt.Sprint(m["error"]), "Maintenance until 14:00 UTC.") {
			t.Errorf("CVE Services down: %d %v", code, m)
		}
		fake.setDown(false)
		code, m := te.sendJSON("POST", path, te.triagerToken, nil)
		if code != 201 || m["cve_id"] != "CVE-2026-50001" || m["source"] != "cve-services" {
			t.Fatalf("reserve: %d %v", code, m)
		}
		if code, _ := te.sendJSON("POST", path, te.triagerToken, map[string]string{"cve_id": "CVE-2025-7777"}); code != 201 {
			t.Fatalf("record a second one: %d", code)
		}
		for _, st := range []triage.Status{triage.StatusAccepted, triage.StatusFixed, triage.StatusDisclosed} {
			te.update(rep.ID, triage.Change{Status: ptr(st)}, t0.Add(-time.Hour))
		}
		code, m = te.sendJSON("POST", "/api/v1/advisories", te.triagerToken, map[string]any{"report_ids": []int64{rep.ID}, "title": "Path traversal in exports",
			"summary": "A crafted file name read files outside the export directory.", "products": []map[string]string{{"name": "Exporter", "affected": "<1.4", "fixed": "1.4"}}})
		if code != 201 {
			t.Fatalf("create: %d %v", code, m)
		}
		adv := fmt.Sprintf("/api/v1/advisories/%v", m["id"])
		code, m = te.sendJSON("POST", adv+"/publish", te.triagerToken, nil)
		if code != 200 {
			t.Fatalf("publish: %d %v", code, m)
		}
		recs := m["cve_records"].([]any)
		if len(recs) != 2 || recs[0].(map[string]any)["published_at"] == nil || recs[1].(map[string]any)["published_at"] != nil {
			t.Errorf("cve_records %v", recs)
		}
		rec := fake.record("CVE-2026-50001")
		var body struct {
			CNA struct {
				Title string `json:"title"`
			} `json:"cnaContainer"`
		}
		if err := json.Unmarshal([]byte(rec), &body); err != nil || body.CNA.Title != "Path traversal in exports" {
			t.Errorf("published record %q: %v", rec, err)
		}
		if _, _, doc := te.public("/advisories/SA-2026-0001.cve.json"); doc != rec {
			t.Error("the public CVE JSON differs from what CVE Services got")
		}
		if code, m := te.sendJSON("PATCH", adv, te.triagerToken, map[string]any{"title": "Path traversal in the exporter"}); code != 200 {
			t.Fatalf("edit: %d %v", code, m)
		}
		if code, m := te.sendJSON("POST", adv+"/publish", te.triagerToken, nil); code != 200 || m["cve_records"].([]any)[0].(map[string]any)["error"] != nil {
			t.Errorf("publish v2: %d %v", code, m)
		}
		if !strings.Contains(fake.record("CVE-2026-50001"), "Path traversal in the exporter") {
			t.Error("version 2 did not update the record")
		}
		want := "POST /api/cve-id POST /api/cve-id POST /api/cve/CVE-2026-50001/cna PUT /api/cve/CVE-2026-50001/cna"
		if got := strings.Join(fake.calls, " "); got != want {
			t.Errorf("calls %s", got)
		}
		if strings.Contains(logs.String(), cveKey) {
			t.Error("the CVE Services key is in the log")
		}
	})
}
