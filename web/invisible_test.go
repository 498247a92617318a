package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/secinbox/secinbox/triage"
)

// Text someone else wrote (a report's title, a researcher's name, a
// credit name or link) could hide characters that make it display as
// something else: a right-to-left override turns "Invoice ‮fdp.exe" into
// "Invoice exe.pdf". The pages show such text without them, isolated in
// <bdi> so that right-to-left text cannot reorder the page around it.

const rlo = "\u202E" // RIGHT-TO-LEFT OVERRIDE

// noInvisible fails when body holds an invisible character.
func noInvisible(t *testing.T, what, body string) {
	t.Helper()
	if i := strings.IndexFunc(body, triage.Invisible); i >= 0 {
		t.Errorf("%s holds U+%04X: …%s…", what, []rune(body[i:])[0], body[max(0, i-60):min(len(body), i+60)])
	}
}

// isolated fails unless an element with data-testid id holds a <bdi>
// whose text is want.
func isolated(t *testing.T, what, page, id, want string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	var inside func(n *html.Node, in bool)
	inside = func(n *html.Node, in bool) {
		if n.Type == html.ElementNode {
			if attrOf(n, "data-testid") == id {
				in = true
			}
			if in && n.Data == "bdi" {
				found = append(found, textOf(n))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			inside(c, in)
		}
	}
	inside(doc, false)
	for _, f := range found {
		if f == want {
			return
		}
	}
	t.Errorf("%s: no <bdi>%s</bdi> in [data-testid=%s] (found %q)", what, want, id, found)
}

// rawExec runs SQL on e's database file behind the store's back: rows
// as an older secinbox may have stored them.
func (e *env) rawExec(query string, args ...any) {
	e.t.Helper()
	d, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=10000")
	if err != nil {
		e.t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Exec(query, args...); err != nil {
		e.t.Fatal(err)
	}
}

// TestInvisible_Pages: a title, researcher name, credit name, link and
// advisory title stored with bidi overrides and zero-width characters
// (by an older version, or from mail) show on the board, the report
// page, the hall of fame (HTML, JSON, Atom), the credit page and the
// audit log without them, names and titles isolated in <bdi>.
func TestInvisible_Pages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rep := e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.Title = "Invoice " + rlo + "fdp.exe review\u200b"
		r.ResearcherEmail = "mallory@example.org"
		r.ResearcherName = "\u2067Mallory\u2069 \ufeffSmith"
		r.Status = triage.StatusDisclosed
	})
	const token = "tok-mallory-0123456789abcdefghijklmnopqrstuvwxyz"
	e.offerCredit(rep, token, time.Time{})
	if err := e.db.ChooseCredit(context.Background(), rep.ID, triage.CreditName, "Mallory", "https://mallory.example/", t0); err != nil {
		t.Fatal(err)
	}
	e.rawExec(`UPDATE credits SET display_name = ?, link = ?, advisory_title = ? WHERE report_id = ?`,
		"Mal"+rlo+"yrol\u200d", "https://good.example/"+rlo+"/moc.live", "Billing: "+rlo+"noitcejni LQS", rep.ID)
	// A failed sign-in puts what was typed as the email in the audit log.
	e.do(e.client(), "POST", "/login", url.Values{"email": {"eve" + rlo + "gro.elpmaxe@"}, "password": {"x"}})

	admin, cookie := e.staffCookie("admin@localhost", triage.RoleAdmin)
	_ = admin
	pages := map[string]string{}
	for _, path := range []string{"/board?status=disclosed", fmt.Sprintf("/reports/%d", rep.ID), "/admin/audit"} {
		resp, body := e.do(e.client(), "GET", path, nil, cookie...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		noInvisible(t, path, body)
		pages[path] = body
	}
	const title, researcher = "Invoice fdp.exe review", "Mallory Smith"
	isolated(t, "board", pages["/board?status=disclosed"], "board-title", title)
	isolated(t, "board", pages["/board?status=disclosed"], "board-researcher", researcher)
	report := pages[fmt.Sprintf("/reports/%d", rep.ID)]
	isolated(t, "report page", report, "report-title", title)
	isolated(t, "report page", report, "report-researcher", researcher)
	isolated(t, "report page", report, "credit-name", "Malyrol")
	isolated(t, "report page", report, "credit-link", "https://good.example//moc.live")
	isolated(t, "report page", report, "credit-advisory", "Billing: noitcejni LQS")
	isolated(t, "audit log", pages["/admin/audit"], "audit-actor", "evegro.elpmaxe@")

	h := e.hall()
	noInvisible(t, "hall of fame", h.html)
	noInvisible(t, "hall of fame JSON", h.json)
	noInvisible(t, "hall of fame feed", h.atom)
	isolated(t, "hall of fame", h.html, "hall-name", "Malyrol")
	isolated(t, "hall of fame", h.html, "hall-advisory", "Billing: noitcejni LQS")
	// A link is not cleaned into another address: it is not shown.
	h.notAnywhere(t, "the spoofed link", "moc.live")
	if rs, _ := h.researchers(t); len(rs) != 1 || rs[0]["name"] != "Malyrol" || rs[0]["link"] != "" {
		t.Errorf("JSON researchers %v", rs)
	}

	resp, body := e.get(e.client(), "/credit/"+token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("credit page: %d", resp.StatusCode)
	}
	noInvisible(t, "credit page", body)
	isolated(t, "credit page", body, "credit-current", "Malyrol")
	if got := byTestID(t, body, "credit-current"); len(got) != 1 || strings.Join(strings.Fields(got[0]), " ") != "You chose to be credited by name, as “Malyrol”. Your name links to https://good.example//moc.live." {
		t.Errorf("credit page reads %q", got)
	}
}

// TestInvisible_CreditRefused: a researcher cannot choose a display name
// or link with invisible characters, on the credit page or in the web
// form; the refusal names the field.
func TestInvisible_CreditRefused(t *testing.T) {
	t.Parallel()
	e, _ := formEnv(t)
	rep := e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.Title, r.ResearcherEmail, r.Status = "Open redirect", "ray@example.org", triage.StatusAccepted
	})
	const token = "tok-ray-0123456789abcdefghijklmnopqrstuvwxyz012"
	e.offerCredit(rep, token, time.Time{})
	c := e.client()
	for _, tc := range []struct {
		name, link, want string
	}{
		{"Ray" + rlo + "kcaH", "", "The display name holds invisible"},
		{"Ray\u200bmond", "", "The display name holds invisible"},
		{"Ray", "https://ray.example/" + rlo + "/moc.live", "The link holds invisible"},
		{"Ray", "https://ray\u2066.example/", "The link holds invisible"},
	} {
		resp, body := e.postForm(c, "/credit/"+token, url.Values{"action": {"choose"}, "choice": {"name"}, "name": {tc.name}, "link": {tc.link}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("name %q link %q: %d, want 422", tc.name, tc.link, resp.StatusCode)
			continue
		}
		if msg := byTestID(t, body, "credit-error"); len(msg) != 1 || !strings.Contains(msg[0], tc.want) {
			t.Errorf("name %q link %q: error %q, want %q", tc.name, tc.link, msg, tc.want)
		}
		noInvisible(t, "the refused credit form", body)
	}
	if cr, err := e.db.Credit(context.Background(), rep.ID); err != nil || cr.Choice != triage.CreditUndecided {
		t.Errorf("a refused choice was stored: %+v %v", cr, err)
	}

	// The web form without JavaScript.
	form := e.formToken()
	e.clock.Set(t0.Add(time.Minute))
	f := plainFields(form)
	f["credit"], f["credit_name"] = "name", "r3"+rlo+"hcraes"
	resp, body := e.postReport(f)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("web form with a spoofed credit name: %d", resp.StatusCode)
	}
	if msg := strings.Join(byTestID(t, body, "submit-error"), ""); !strings.Contains(msg, "name to credit holds invisible") {
		t.Errorf("web form error %q, want one naming the name to credit", msg)
	}
}
