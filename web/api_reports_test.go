package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// sendJSON sends method path with body (a string, sent as is, or a value
// encoded as JSON) and the bearer token, and decodes the answer.
func (e *env) sendJSON(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var s string
	switch b := body.(type) {
	case nil:
	case string:
		s = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		s = string(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(s))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	raw := readBody(e.t, resp)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("%s %s: Content-Type %q: %s", method, path, ct, raw)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return resp.StatusCode, m
}

// triageEnv is env with a triager, an admin and their tokens.
type triageEnv struct {
	*env
	triager, admin           *triage.User
	triagerToken, adminToken string
}

func newTriageEnv(t *testing.T) *triageEnv {
	e := newEnv(t)
	te := &triageEnv{env: e}
	te.triager = e.addUser("tina@localhost", triage.RoleTriager, "triager password 1")
	te.admin = e.addUser("root@localhost", triage.RoleAdmin, "admin password 12")
	te.triagerToken, te.adminToken = e.newToken(te.triager.ID), e.newToken(te.admin.ID)
	return te
}

func (te *triageEnv) update(id int64, c triage.Change, at time.Time) {
	te.t.Helper()
	if _, err := te.db.UpdateReport(context.Background(), id, c, triage.Actor{UserID: te.triager.ID, Email: te.triager.Email}, at); err != nil {
		te.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func trackingIDs(t *testing.T, m map[string]any) []string {
	t.Helper()
	list, ok := m["reports"].([]any)
	if !ok {
		t.Fatalf("no reports: %v", m)
	}
	out := []string{}
	for _, r := range list {
		out = append(out, r.(map[string]any)["tracking_id"].(string))
	}
	return out
}

func TestAPI_Board(t *testing.T) {
	t.Parallel()
	te := newTriageEnv(t)
	crit := te.fileReport(t0.Add(-2*time.Hour), func(r *triage.Report) { r.Title = "RCE in the upload handler" })
	te.update(crit.ID, triage.Change{
		Status: ptr(triage.StatusAccepted), Assignee: ptr(te.triager.ID), Labels: ptr([]string{"prod"}),
		CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
	}, t0.Add(-time.Hour))
	spam := te.fileReport(t0.Add(-3*time.Hour), func(r *triage.Report) { r.Title = "cheap watches" })
	te.update(spam.ID, triage.Change{Status: ptr(triage.StatusSpam)}, t0.Add(-time.Hour))

	// Board order: the breached first-response clock, then the critical
	// report, then the fresh unscored one, then the closed one.
	code, m := te.sendJSON("GET", "/api/v1/reports", viewerToken, nil)
	if code != 200 {
		t.Fatalf("status %d: %v", code, m)
	}
	want := []string{te.overdue.TrackingID, crit.TrackingID, te.xss.TrackingID, spam.TrackingID}
	if got := trackingIDs(t, m); !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if m["now"] != t0.Format(time.RFC3339) {
		t.Errorf("now %v", m["now"])
	}

	first := m["reports"].([]any)[0].(map[string]any)
	if first["risk_rank"] != float64(3040) {
		t.Errorf("risk_rank of the breached report: %v", first["risk_rank"])
	}
	fr := first["sla"].(map[string]any)["first_response"].(map[string]any)
	if fr["state"] != "breached" || fr["due_at"] != "2026-03-10T09:55:00Z" || fr["remaining_seconds"] != float64(-2*3600-5*60) ||
		fr["breached_at"] != "2026-03-10T09:55:00Z" {
		t.Errorf("first_response clock %v", fr)
	}
	if _, ok := first["body"]; ok {
		t.Error("list item has a body")
	}

	second := m["reports"].([]any)[1].(map[string]any)
	cvss := second["cvss"].(map[string]any)
	if cvss["version"] != "3.1" || cvss["score"] != 9.8 || cvss["severity"] != "critical" || !strings.HasPrefix(cvss["vector"].(string), "CVSS:3.1/AV:N") {
		t.Errorf("cvss %v", cvss)
	}
	if a := second["assignee"].(map[string]any); a["email"] != "tina@localhost" || second["risk_rank"] != float64(1098) {
		t.Errorf("assignee %v, risk_rank %v", a, second["risk_rank"])
	}
	sla := second["sla"].(map[string]any)
	rem := sla["remediation"].(map[string]any)
	if sla["time_zone"] != "UTC" || rem["state"] != "running" || rem["due_at"] != "2026-03-17T11:00:00Z" || rem["remaining_seconds"] != float64(7*24*3600-3600) {
		t.Errorf("sla %v", sla)
	}
	if tri := sla["triage"].(map[string]any); tri["state"] != "met" || tri["met_at"] != "2026-03-10T11:00:00Z" {
		t.Errorf("triage clock %v", tri)
	}
	if xss := m["reports"].([]any)[2].(map[string]any); xss["sla"].(map[string]any)["remediation"] != nil ||
		xss["assignee"] != nil || xss["cvss"].(map[string]any)["score"] != nil || xss["cvss"].(map[string]any)["severity"] != nil {
		t.Errorf("unscored report: %v", xss)
	}

	for q, want := range map[string][]string{
		"status=open":                           {te.overdue.TrackingID, crit.TrackingID, te.xss.TrackingID},
		"status=closed":                         {spam.TrackingID},
		"status=new,undecryptable":              {te.overdue.TrackingID, te.xss.TrackingID},
		"severity=critical":                     {crit.TrackingID},
		"severity=unscored":                     {te.overdue.TrackingID, te.xss.TrackingID, spam.TrackingID},
		"assignee=tina@localhost":               {crit.TrackingID},
		"assignee=none&status=open":             {te.overdue.TrackingID, te.xss.TrackingID},
		"assignee=me":                           {}, // the viewer has none
		"breached=true":                         {te.overdue.TrackingID},
		"breached=false&status=open":            {crit.TrackingID, te.xss.TrackingID},
		"label=prod":                            {crit.TrackingID},
		"q=upload":                              {crit.TrackingID},
		"q=" + strings.ToLower(crit.TrackingID): {crit.TrackingID},
		"q=poc.html":                            {te.xss.TrackingID},
		"limit=1&offset=1":                      {crit.TrackingID},
	} {
		code, m := te.sendJSON("GET", "/api/v1/reports?"+q, viewerToken, nil)
		if code != 200 {
			t.Errorf("%s: status %d %v", q, code, m)
			continue
		}
		if got := trackingIDs(t, m); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	for _, q := range []string{"status=closedish", "severity=severe", "breached=yes", "assignee=nobody@localhost", "label=a,b", "limit=0", "limit=501", "offset=-1", "q=" + strings.Repeat("x", 300)} {
		code, m := te.sendJSON("GET", "/api/v1/reports?"+q, viewerToken, nil)
		if code != 400 || m["error"] == nil {
			t.Errorf("%s: status %d %v, want 400", q, code, m)
		}
	}
}

func TestAPI_PatchReport(t *testing.T) {
	t.Parallel()
	te := newTriageEnv(t)
	path := fmt.Sprintf("/api/v1/reports/%d", te.xss.ID)

	t.Run("Viewer", func(t *testing.T) {
		code, m := te.sendJSON("PATCH", path, viewerToken, map[string]any{"status": "triaging"})
		if code != 403 || m["error"] == nil {
			t.Errorf("status %d %v", code, m)
		}
	})

	t.Run("Everything", func(t *testing.T) {
		code, m := te.sendJSON("PATCH", path, te.triagerToken, map[string]any{
			"status":      "accepted",
			"cvss_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
			"assignee":    "me",
			"labels":      []string{"Web", "xss"},
		})
		if code != 200 {
			t.Fatalf("status %d %v", code, m)
		}
		cvss := m["cvss"].(map[string]any)
		if m["status"] != "accepted" || cvss["score"] != 9.3 || cvss["version"] != "4.0" || cvss["severity"] != "critical" ||
			m["assignee"].(map[string]any)["email"] != "tina@localhost" || fmt.Sprint(m["labels"]) != "[web xss]" {
			t.Errorf("answer %v", m)
		}
		if m["sla"].(map[string]any)["remediation"].(map[string]any)["state"] != "running" {
			t.Errorf("remediation clock %v", m["sla"])
		}
		if _, ok := m["body"]; ok {
			t.Error("PATCH answers the body")
		}
		if !te.hasAudit("report.status", "tina@localhost", fmt.Sprintf("report:%d", te.xss.ID)) || !te.hasAudit("report.cvss", "tina@localhost", "") {
			t.Error("no audit record")
		}
	})

	t.Run("IllegalMove", func(t *testing.T) {
		code, m := te.sendJSON("PATCH", path, te.triagerToken, map[string]any{"status": "new"})
		if code != 409 || m["error"] != "cannot move "+te.xss.TrackingID+" from accepted to new" {
			t.Errorf("status %d %v", code, m)
		}
	})

	t.Run("InvalidVector", func(t *testing.T) {
		code, m := te.sendJSON("PATCH", path, te.triagerToken, map[string]any{"cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"})
		if code != 422 || !strings.Contains(fmt.Sprint(m["error"]), "base metric A is not defined") {
			t.Errorf("status %d %v", code, m)
		}
	})

	for name, tc := range map[string]struct {
		body any
		code int
		msg  string
	}{
		"NotJSON":         {"status=fixed", 400, "malformed JSON"},
		"UnknownField":    {`{"priority": 1}`, 400, "unknown field"},
		"WrongType":       {`{"labels": "web"}`, 400, "labels"},
		"Trailing":        {`{} {}`, 400, "trailing"},
		"UnknownStatus":   {`{"status": "closed"}`, 422, "unknown status"},
		"UnknownSeverity": {`{"severity": "severe"}`, 422, "unknown severity"},
		"BadLabel":        {map[string]any{"labels": []string{"a\u0000b"}}, 422, "label"},
		"UnknownAssignee": {`{"assignee": "ghost@localhost"}`, 422, "no staff member"},
		"ViewerAssignee":  {`{"assignee": "viewer@localhost"}`, 422, "cannot be assigned"},
		"AssigneeNumber":  {`{"assignee": 3}`, 400, "assignee"},
		"MissingOriginal": {`{"duplicate_of": 999}`, 404, "not found"},
	} {
		t.Run(name, func(t *testing.T) {
			code, m := te.sendJSON("PATCH", path, te.triagerToken, tc.body)
			if code != tc.code || !strings.Contains(fmt.Sprint(m["error"]), tc.msg) {
				t.Errorf("status %d %v, want %d with %q", code, m, tc.code, tc.msg)
			}
		})
	}

	t.Run("OverdueFollowsTheClock", func(t *testing.T) {
		// Answered in time, the report is not overdue once the 24 h pass.
		if err := te.db.RecordResponse(context.Background(), te.xss.ID, triage.Actor{UserID: te.triager.ID}, t0); err != nil {
			t.Fatal(err)
		}
		te.clock.Set(t0.Add(48 * time.Hour))
		defer te.clock.Set(t0)
		code, m := te.sendJSON("GET", path, viewerToken, nil)
		fr := m["sla"].(map[string]any)["first_response"].(map[string]any)
		if code != 200 || m["overdue"] != false || fr["state"] != "met" {
			t.Errorf("status %d, overdue %v, first response %v", code, m["overdue"], fr)
		}
	})

	t.Run("Unassign", func(t *testing.T) {
		code, m := te.sendJSON("PATCH", path, te.triagerToken, `{"assignee": null}`)
		if code != 200 || m["assignee"] != nil {
			t.Errorf("status %d %v", code, m)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		code, m := te.sendJSON("PATCH", fmt.Sprintf("/api/v1/reports/%d", te.overdue.ID), te.triagerToken, map[string]any{"duplicate_of": te.xss.ID})
		if code != 200 || m["status"] != "duplicate" || m["duplicate_of"] != float64(te.xss.ID) {
			t.Fatalf("status %d %v", code, m)
		}
		code, m = te.sendJSON("GET", path, te.triagerToken, nil)
		if code != 200 || fmt.Sprint(m["duplicates"]) != fmt.Sprintf("[%d]", te.overdue.ID) {
			t.Errorf("original: %d %v", code, m["duplicates"])
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		code, m := te.sendJSON("PATCH", "/api/v1/reports/999", te.triagerToken, map[string]any{"status": "triaging"})
		if code != 404 || m["error"] == nil {
			t.Errorf("status %d %v", code, m)
		}
	})

	t.Run("Events", func(t *testing.T) {
		code, m := te.sendJSON("GET", path+"/events", viewerToken, nil)
		evs, _ := m["events"].([]any)
		if code != 200 || len(evs) < 5 {
			t.Fatalf("status %d %v", code, m)
		}
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e.(map[string]any)["kind"].(string))
		}
		if !slices.Contains(kinds, "status") || !slices.Contains(kinds, "duplicate") {
			t.Errorf("kinds %v", kinds)
		}
		if a := evs[0].(map[string]any)["actor"].(map[string]any); a["email"] != "tina@localhost" {
			t.Errorf("actor %v", a)
		}
	})
}

func TestAPI_Notes(t *testing.T) {
	t.Parallel()
	te := newTriageEnv(t)
	path := fmt.Sprintf("/api/v1/reports/%d/notes", te.xss.ID)
	code, m := te.sendJSON("POST", path, viewerToken, map[string]any{"body": "read only"})
	if code != 403 {
		t.Errorf("viewer: %d %v", code, m)
	}
	code, m = te.sendJSON("POST", path, te.triagerToken, map[string]any{"body": "Reproduced; <b>not</b> for the researcher."})
	if code != 201 || m["body"] != "Reproduced; <b>not</b> for the researcher." || m["author"].(map[string]any)["email"] != "tina@localhost" {
		t.Fatalf("add: %d %v", code, m)
	}
	for _, bad := range []string{`{"body": ""}`, `{"body": "   "}`} {
		if code, m := te.sendJSON("POST", path, te.triagerToken, bad); code != 422 {
			t.Errorf("%s: %d %v", bad, code, m)
		}
	}
	if code, m := te.sendJSON("POST", "/api/v1/reports/999/notes", te.triagerToken, map[string]any{"body": "x"}); code != 404 {
		t.Errorf("missing report: %d %v", code, m)
	}
	code, m = te.sendJSON("GET", path, viewerToken, nil)
	notes, _ := m["notes"].([]any)
	if code != 200 || len(notes) != 1 {
		t.Fatalf("list: %d %v", code, m)
	}
	// Internal notes stay out of the report itself.
	if code, m := te.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d", te.xss.ID), viewerToken, nil); code != 200 || strings.Contains(fmt.Sprint(m), "Reproduced") {
		t.Errorf("report carries the note: %d", code)
	}
}

func TestAPI_SLASettings(t *testing.T) {
	t.Parallel()
	te := newTriageEnv(t)
	if code, _ := te.sendJSON("GET", "/api/v1/settings/sla", te.triagerToken, nil); code != 403 {
		t.Errorf("triager reads settings: %d", code)
	}
	code, m := te.sendJSON("GET", "/api/v1/settings/sla", te.adminToken, nil)
	if code != 200 || m["first_response_hours"] != float64(24) || m["business_hours"] != nil {
		t.Fatalf("default: %d %v", code, m)
	}
	policy := `{"first_response_hours": 8, "triage_hours": 16,
		"remediation_hours": {"critical": 40, "high": 160, "medium": 480, "low": 960},
		"business_hours": {"time_zone": "Europe/Berlin", "days": ["mon","tue","wed","thu","fri"], "start": "09:00", "end": "17:00", "holidays": []}}`
	code, m = te.sendJSON("PUT", "/api/v1/settings/sla", te.adminToken, policy)
	if code != 200 || m["business_hours"].(map[string]any)["time_zone"] != "Europe/Berlin" {
		t.Fatalf("put: %d %v", code, m)
	}
	// The xss report came in Tuesday 12:10 Berlin: 4 h 50 min that day,
	// 3 h 10 min on Wednesday.
	code, m = te.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d", te.xss.ID), viewerToken, nil)
	sla := m["sla"].(map[string]any)
	if code != 200 || sla["time_zone"] != "Europe/Berlin" || sla["first_response"].(map[string]any)["due_at"] != "2026-03-11T12:10:00+01:00" ||
		sla["triage"].(map[string]any)["due_at"] != "2026-03-12T12:10:00+01:00" {
		t.Errorf("recomputed: %d %v", code, sla)
	}
	if !te.hasAudit(triage.AuditSettingsChange, "root@localhost", "") {
		t.Error("no audit record")
	}
	for _, bad := range []string{`{}`, `{"first_response_hours": 8}`, strings.Replace(policy, "Europe/Berlin", "Nowhere/Land", 1), `[`} {
		if code, m := te.sendJSON("PUT", "/api/v1/settings/sla", te.adminToken, bad); code != 422 || m["error"] == nil {
			t.Errorf("%.40s: %d %v", bad, code, m)
		}
	}
}

// TestOpenAPI_CoversRoutes checks that openapi.json describes every API
// route of the router, with its method, and nothing else.
func TestOpenAPI_CoversRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code, doc := e.sendJSON("GET", "/api/v1/openapi.json", viewerToken, nil)
	if code != 200 || doc["openapi"] != "3.1.0" {
		t.Fatalf("status %d, openapi %v", code, doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	routes := map[string]bool{}
	for _, rt := range web.Routes() {
		if !rt.API {
			continue
		}
		key := strings.ToLower(rt.Method) + " " + rt.Pattern
		routes[key] = true
		ops, ok := paths[rt.Pattern].(map[string]any)
		if !ok {
			t.Errorf("%s %s is not in openapi.json", rt.Method, rt.Pattern)
			continue
		}
		op, ok := ops[strings.ToLower(rt.Method)].(map[string]any)
		if !ok {
			t.Errorf("%s %s: method missing in openapi.json", rt.Method, rt.Pattern)
			continue
		}
		if op["summary"] == nil || op["responses"] == nil {
			t.Errorf("%s %s: no summary or responses", rt.Method, rt.Pattern)
		}
	}
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			if !routes[m+" "+p] {
				t.Errorf("openapi.json describes %s %s, which is not a route", m, p)
			}
		}
	}
	// Every $ref resolves.
	raw, _ := json.Marshal(doc)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, part := range strings.Split(string(raw), `"$ref":"#/components/schemas/`)[1:] {
		name := part[:strings.IndexByte(part, '"')]
		if schemas[name] == nil {
			t.Errorf("$ref to missing schema %s", name)
		}
	}
}
