package web_test

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/advisory/advisorytest"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// TestEndToEnd_ReportToAdvisory is the promise, tried as a team
// would, on a real SQLite file with the clock moved along: a report
// accepted with CVSS, marked actively exploited, given a CVE ID by (a
// fake) CVE Services, fixed and disclosed once its embargo passed,
// publishes a CSAF advisory that the CSAF schema and `gpg --verify`
// accept, OSV and CVE records their schemas accept (the CVE record is
// the one CVE Services received), naming only the researcher who
// consented; and every clock (disclosure, embargo, CRA) shows the truth
// along the way, in the API, on the report and status pages, on the
// board and in the notifications decided.
func TestEndToEnd_ReportToAdvisory(t *testing.T) {
	t.Parallel()
	gpgPath, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("GnuPG is not installed (Debian: apt-get install gnupg): skipped")
	}
	ctx := context.Background()
	key := teamKey(t, t0)
	fake := newFakeCVEServices(t)
	e, _ := formEnv(t, func(c *web.Config) {
		c.PublicKeyArmored, c.KeyFingerprint = armoredPublic(t, key), pgp.Fingerprint(key)
		c.DetachSign = func(_ context.Context, data []byte) ([]byte, error) { return pgp.DetachSign(data, key, t0) }
		c.CVEServices = fake.client()
		c.AdvisoryPublisher = "Example Corp"
	})
	te := &triageEnv{env: e}
	te.triager = e.addUser("tina@localhost", triage.RoleTriager, "triager password 1")
	te.admin = e.addUser("root@localhost", triage.RoleAdmin, "admin password 12")
	te.triagerToken, te.adminToken = e.newToken(te.triager.ID), e.newToken(te.admin.ID)
	tok := te.triagerToken
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	day := 24 * time.Hour
	move := func(d time.Duration) { te.clock.Set(at(d)) }
	api := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		code, m := te.sendJSON(method, path, tok, body)
		if code != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, code, want, m)
		}
		return m
	}
	rfc := func(d time.Duration) string { return at(d).Format(time.RFC3339) }

	// Ada reports through the web form (she has a status page); Bob by
	// mail. Both are credited in the advisory's reports, but only Ada
	// consents to be named.
	raw := &triage.RawMessage{MailFrom: "ada@example.org", Recipients: []string{"security@secinbox.example"},
		RemoteAddr: "192.0.2.7", ReceivedAt: t0, Data: []byte("-----BEGIN PGP MESSAGE-----\r\n...")}
	nonce := triage.NewNonce()
	if err := e.db.AddWebSubmission(ctx, raw, nonce, func(id int64) []byte {
		return triage.TokenHash(triage.LinkToken(testLinkKey, triage.LinkStatus, id, nonce))
	}); err != nil {
		t.Fatal(err)
	}
	ada := triage.NewReport(t0)
	ada.MessageID, ada.Title, ada.ResearcherEmail, ada.ResearcherName = raw.ID, "SECRET-TITLE stored XSS", "ada@example.org", "Ada L."
	ada.Body = "SECRET-BODY"
	if err := e.db.FileReport(ctx, ada); err != nil {
		t.Fatal(err)
	}
	status := "/status/" + triage.LinkToken(testLinkKey, triage.LinkStatus, raw.ID, nonce)
	bob := te.fileReport(at(time.Hour), func(r *triage.Report) {
		r.Title, r.ResearcherEmail, r.ResearcherName = "SECRET-TITLE 2", "bob@example.org", "Bob Builder"
	})
	adaPath, bobPath := fmt.Sprintf("/api/v1/reports/%d", ada.ID), fmt.Sprintf("/api/v1/reports/%d", bob.ID)
	disclosure := func(m map[string]any) map[string]any { return m["disclosure"].(map[string]any) }
	cra := func(m map[string]any, k string) map[string]any {
		c, _ := m["cra"].(map[string]any)[k].(map[string]any)
		return c
	}

	// Accepted with CVSS: the disclosure deadline is 90 days after receipt.
	move(2 * time.Hour)
	m := api("PATCH", adaPath, map[string]any{"status": "accepted", "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:N"}, 200)
	due := 90 * day
	if d := disclosure(m); d["due_at"] != rfc(due) || d["state"] != "running" || d["remaining_seconds"] != float64((due-2*time.Hour)/time.Second) || d["embargoed"] != false {
		t.Errorf("accepted: disclosure %v", d)
	}
	if m["cra"].(map[string]any)["actively_exploited"] != false || cra(m, "early_warning") != nil {
		t.Errorf("accepted: cra %v", m["cra"])
	}
	api("PATCH", bobPath, map[string]any{"status": "accepted", "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"}, 200)
	_, page := te.get(te.client(), status)
	if got := byTestID(t, page, "status-disclosure-time"); len(got) != 1 || got[0] != at(due).Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("status page deadline %q", got)
	}

	// Actively exploited: the CRA clocks run from awareness.
	move(3 * time.Hour)
	aware := 150 * time.Minute
	m = api("PATCH", adaPath, map[string]any{"actively_exploited": true, "aware_at": rfc(aware)}, 200)
	if ew, n, f := cra(m, "early_warning"), cra(m, "notification"), cra(m, "final_report"); ew["due_at"] != rfc(aware+24*time.Hour) || ew["state"] != "running" ||
		n["due_at"] != rfc(aware+72*time.Hour) || f["state"] != "waiting" || f["due_at"] != nil {
		t.Errorf("exploited: cra %v", m["cra"])
	}
	_, hdr := te.staffCookie("tri@localhost", triage.RoleTriager)
	_, board := te.do(te.client(), "GET", "/board", nil, hdr...)
	if rows := byTestID(t, board, "due-soon-row"); len(rows) != 2 || !strings.Contains(rows[0], "CRA early warning") || !strings.Contains(rows[1], "CRA notification") {
		t.Errorf("board due-soon group %q", rows)
	}

	// The early warning goes out in time; the notifier warns before the
	// notification is due.
	move(20 * time.Hour)
	m = api("PATCH", adaPath, map[string]any{"cra_sent": []map[string]string{{"report": "early_warning", "sent_at": rfc(20 * time.Hour), "reference": "CSIRT-DE BSI-2026-0042"}}}, 200)
	if ew := cra(m, "early_warning"); ew["state"] != "met" || ew["reference"] != "CSIRT-DE BSI-2026-0042" {
		t.Errorf("early warning %v", ew)
	}
	if _, err := e.db.DecideNotifications(ctx, at(aware+71*time.Hour), []string{triage.ChannelEmail}); err != nil {
		t.Fatal(err)
	}
	if got := notificationsOf(t, e, ada.ID, at(aware+71*time.Hour)); got != "cra_notification/due_soon" {
		t.Errorf("notifications 71 hours after awareness: %s", got)
	}
	move(aware + 71*time.Hour + 30*time.Minute)
	m = api("PATCH", adaPath, map[string]any{"cra_sent": []map[string]string{{"report": "notification", "sent_at": rfc(aware + 71*time.Hour + 30*time.Minute), "reference": "ENISA SRP 2026-17"}}}, 200)
	if n := cra(m, "notification"); n["state"] != "met" {
		t.Errorf("notification %v", n)
	}

	// A CVE ID from CVE Services; an embargo until day 10.
	m = api("POST", adaPath+"/cve-id", nil, 201)
	if m["cve_id"] != "CVE-2026-50001" {
		t.Fatalf("reserved %v", m)
	}
	move(4 * day)
	m = api("PATCH", adaPath, map[string]any{"embargo_until": rfc(10 * day)}, 200)
	if d := disclosure(m); d["embargo_until"] != rfc(10*day) || d["embargoed"] != true || fmt.Sprint(m["cve_ids"]) != "[CVE-2026-50001]" {
		t.Errorf("embargo: %v %v", d, m["cve_ids"])
	}
	_, page = te.get(te.client(), status)
	if got := byTestID(t, page, "status-embargo-time"); len(got) != 1 || got[0] != at(10*day).Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("status page embargo %q", got)
	}

	// Fixed: the CRA final report is due 14 days later.
	move(5 * day)
	m = api("PATCH", adaPath, map[string]any{"status": "fixed"}, 200)
	if f := cra(m, "final_report"); f["due_at"] != rfc(19*day) || f["state"] != "running" {
		t.Errorf("final report after the fix %v", f)
	}
	api("PATCH", bobPath, map[string]any{"status": "fixed"}, 200)

	// Day 6: the embargo holds back the disclosure and the advisory.
	move(6 * day)
	if code, m := te.sendJSON("PATCH", adaPath, tok, map[string]any{"status": "disclosed"}); code != 409 || !strings.Contains(fmt.Sprint(m["error"]), "under embargo") {
		t.Errorf("disclosed under embargo: %d %v", code, m)
	}
	api("PATCH", bobPath, map[string]any{"status": "disclosed"}, 200)
	m = api("POST", "/api/v1/advisories", map[string]any{"report_ids": []int64{ada.ID, bob.ID}, "title": "Stored XSS in the invoice editor",
		"summary":  "Script stored in an invoice note ran in other users' browsers. Update Example Billing to 2.3.1.",
		"products": []map[string]string{{"name": "Example Billing", "affected": "<2.3.1", "fixed": "2.3.1"}}, "cwe": "CWE-79",
		"references": []string{"https://example.com/billing/changelog#2.3.1"}}, 201)
	adv := fmt.Sprintf("/api/v1/advisories/%v", m["id"])
	if code, m := te.sendJSON("POST", adv+"/publish", tok, nil); code != 409 {
		t.Errorf("publish while Ada's report is embargoed: %d %v", code, m)
	}
	if code, _, _ := te.public("/advisories/SA-2026-0001.csaf.json"); code != 404 {
		t.Errorf("CSAF before publication: %d", code)
	}

	// Credit: Ada chooses to be named, Bob not to be.
	for _, c := range []struct {
		r      *triage.Report
		choice url.Values
	}{{ada, url.Values{"action": {"choose"}, "choice": {"name"}, "name": {"Ada Lovelace"}}}, {bob, url.Values{"action": {"choose"}, "choice": {"none"}}}} {
		token := fmt.Sprintf("tok-e2e-%d-0123456789abcdefghijklmnopqrstuvwxyz", c.r.ID)
		te.offerCredit(c.r, token, time.Time{})
		if resp, body := te.postForm(te.client(), "/credit/"+token, c.choice); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("credit choice: %d\n%s", resp.StatusCode, body)
		}
	}

	// Day 10: the embargo passed; disclosed in time, the advisory goes out.
	move(10*day + time.Minute)
	m = api("PATCH", adaPath, map[string]any{"status": "disclosed"}, 200)
	if d := disclosure(m); d["state"] != "met" || d["disclosed_at"] != rfc(10*day+time.Minute) || d["embargoed"] != false {
		t.Errorf("disclosed: %v", d)
	}
	m = api("POST", adv+"/publish", nil, 200)
	if m["state"] != "published" || m["cve_records"].([]any)[0].(map[string]any)["published_at"] == nil {
		t.Fatalf("published: %v", m)
	}
	move(11 * day)
	m = api("PATCH", adaPath, map[string]any{"cra_sent": []map[string]string{{"report": "final_report", "sent_at": rfc(11 * day), "reference": "ENISA SRP 2026-17-F"}}}, 200)
	for _, k := range []string{"early_warning", "notification", "final_report"} {
		if c := cra(m, k); c["state"] != "met" {
			t.Errorf("CRA %s at the end: %v", k, c)
		}
	}

	// The CSAF document: schema-valid, signed (gpg checks it), hashed.
	dir := t.TempDir()
	var docs = map[string]string{}
	for _, f := range []string{"SA-2026-0001.csaf.json", "SA-2026-0001.csaf.json.asc", "SA-2026-0001.csaf.json.sha512", "SA-2026-0001.osv.json", "SA-2026-0001.cve.json", "SA-2026-0001"} {
		code, _, body := te.public("/advisories/" + f)
		if code != 200 {
			t.Fatalf("GET /advisories/%s: %d", f, code)
		}
		docs[f] = body
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	csaf := docs["SA-2026-0001.csaf.json"]
	if err := advisorytest.Validate(advisorytest.CSAF, []byte(csaf)); err != nil {
		t.Errorf("CSAF: %v", err)
	}
	home := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "team.asc"), armoredPublic(t, key), 0o600); err != nil {
		t.Fatal(err)
	}
	gpg := func(args ...string) (string, error) {
		cmd := exec.Command(gpgPath, append([]string{"--homedir", home, "--batch", "--no-tty"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := gpg("--import", filepath.Join(dir, "team.asc")); err != nil {
		t.Fatalf("gpg --import: %v\n%s", err, out)
	}
	out, err := gpg("--verify", filepath.Join(dir, "SA-2026-0001.csaf.json.asc"), filepath.Join(dir, "SA-2026-0001.csaf.json"))
	if err != nil || !strings.Contains(out, "Good signature") {
		t.Errorf("gpg --verify: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "tampered.json"), []byte(strings.Replace(csaf, "2.3.1", "2.3.2", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := gpg("--verify", filepath.Join(dir, "SA-2026-0001.csaf.json.asc"), filepath.Join(dir, "tampered.json")); err == nil {
		t.Errorf("gpg accepts a tampered document:\n%s", out)
	}
	sum := sha512.Sum512([]byte(csaf))
	if docs["SA-2026-0001.csaf.json.sha512"] != hex.EncodeToString(sum[:])+"  SA-2026-0001.csaf.json\n" {
		t.Errorf("sha512: %q", docs["SA-2026-0001.csaf.json.sha512"])
	}

	// OSV and CVE: schema-valid; the CVE record is what CVE Services got.
	if err := advisorytest.Validate(advisorytest.OSV, []byte(docs["SA-2026-0001.osv.json"])); err != nil {
		t.Errorf("OSV: %v", err)
	}
	if err := advisorytest.Validate(advisorytest.CVECNA, []byte(docs["SA-2026-0001.cve.json"])); err != nil {
		t.Errorf("CVE: %v", err)
	}
	if fake.record("CVE-2026-50001") != docs["SA-2026-0001.cve.json"] {
		t.Error("CVE Services got another record than the one published")
	}
	for _, want := range []string{`"cve": "CVE-2026-50001"`, `"baseScore": 8.1`, `"id": "CWE-79"`, `"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:N"`} {
		if !strings.Contains(csaf, want) {
			t.Errorf("CSAF lacks %s", want)
		}
	}

	// Only Ada is named, and nothing of the reports but what was published.
	for name, doc := range docs {
		if name == "SA-2026-0001.csaf.json.asc" || name == "SA-2026-0001.csaf.json.sha512" {
			continue
		}
		if name != "SA-2026-0001.cve.json" || strings.Contains(doc, "Ada") { // the CVE record is Ada's report's
			if !strings.Contains(doc, "Ada Lovelace") {
				t.Errorf("%s does not credit Ada", name)
			}
		}
		for _, not := range []string{"Bob", "bob@", "ada@", "Ada L.", "SECRET"} {
			if strings.Contains(doc, not) {
				t.Errorf("%s shows %q", name, not)
			}
		}
	}
	if _, _, hall := te.public("/hall-of-fame"); !strings.Contains(hall, `href="/advisories/SA-2026-0001"`) || strings.Contains(hall, "Bob") {
		t.Error("hall of fame: no link to the advisory, or Bob is named")
	}
	if _, _, meta := te.public("/.well-known/csaf/provider-metadata.json"); advisorytest.Validate(advisorytest.Provider, []byte(meta)) != nil ||
		!strings.Contains(meta, strings.ToUpper(pgp.Fingerprint(key))) {
		t.Errorf("provider metadata %s", meta)
	}

	// Nothing counts down any more.
	_, board = te.do(te.client(), "GET", "/board", nil, hdr...)
	if rows := byTestID(t, board, "due-soon-row"); len(rows) != 0 {
		t.Errorf("board due-soon group at the end %q", rows)
	}
	_, page = te.get(te.client(), status)
	if got := byTestID(t, page, "status-disclosure-due"); len(got) != 1 || !strings.Contains(got[0], "Disclosed "+at(10*day+time.Minute).Format("2006-01-02 15:04")) {
		t.Errorf("status page at the end %q", got)
	}
}

// notificationsOf lists report id's pending email notifications of the
// deadlines as "clock/event", space-separated.
func notificationsOf(t *testing.T, e *env, id int64, now time.Time) string {
	t.Helper()
	ns, err := e.db.PendingNotifications(context.Background(), triage.ChannelEmail, now.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		if n.ReportID == id && (n.Clock == triage.ClockDisclosure || strings.HasPrefix(string(n.Clock), "cra_")) {
			out = append(out, string(n.Clock)+"/"+n.Event)
		}
	}
	return strings.Join(out, " ")
}
