package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/secinbox/secinbox/triage"
)

// The triage UI as a triager uses it on a laptop (1366 px wide) and a
// phone (390 px), in real Chromium: layout checked by bounding boxes,
// not by pictures. Set SCREENSHOTS to a directory to also save a
// screenshot of each page looked at, to judge the layout by eye.

// Viewports of the issue: a laptop and a phone.
var (
	laptop = viewport{1366, 900, false}
	phone  = viewport{390, 844, true}
)

type viewport struct {
	w, h   int64
	mobile bool
}

func (v viewport) String() string { return fmt.Sprintf("%dpx", v.w) }

// resize makes the tab's page v wide and tall (a phone also gets touch
// and the mobile viewport meta tag honoured).
func (b *tab) resize(v viewport) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: v.w, Height: v.h, DeviceScaleFactor: 1, Mobile: v.mobile,
		})
		return err
	}))
}

// shot saves a screenshot of the first screen of the page as name.png
// under $SCREENSHOTS, when set.
func (b *tab) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// overflowJS lists the elements that stick out to the right of the
// viewport, and says whether the page scrolls sideways.
const overflowJS = `(() => {
	const out = [];
	const w = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth > w + 1) out.push("page scrolls sideways: " + document.documentElement.scrollWidth + " > " + w);
	for (const el of document.body.querySelectorAll("*")) {
		const r = el.getBoundingClientRect();
		if (!r.width || !r.height) continue;
		const cs = getComputedStyle(el);
		if (cs.visibility !== "visible" || cs.position === "fixed") continue;
		// A folded <details> keeps laying out what it hides (Chromium's
		// content-visibility): nothing of it shows but its summary.
		const fold = el.closest("details:not([open])");
		if (fold && !el.closest("summary")) continue;
		if (r.right > w + 1 && !el.closest("dialog:not([open])")) {
			// Cut off by an ancestor that hides its overflow (an ellipsis) is
			// not sticking out; inside one that scrolls, it is: that part of
			// the page scrolls sideways.
			let clipped = false;
			for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
				const ox = getComputedStyle(a).overflowX;
				if ((ox === "hidden" || ox === "clip") && a.getBoundingClientRect().right <= w + 1) { clipped = true; break; }
			}
			if (clipped) continue;
			let d = el.tagName.toLowerCase();
			if (el.id) d += "#" + el.id;
			const tid = el.getAttribute("data-testid"); if (tid) d += "[" + tid + "]";
			if (typeof el.className === "string" && el.className.trim()) d += "." + el.className.trim().split(/\s+/).join(".");
			out.push(d + " right edge " + Math.round(r.right) + " > " + w);
			if (out.length > 10) break;
		}
	}
	return out;
})()`

// checkNoOverflow fails for anything wider than the viewport.
func (b *tab) checkNoOverflow(page string) {
	b.t.Helper()
	b.waitFor(page+" to load", `document.readyState === "complete"`)
	for _, p := range eval[[]string](b, overflowJS) {
		b.t.Errorf("%s: %s", page, p)
	}
}

// seedBoard files n varied reports as a week of a real inbox: long and
// short titles, names and bare addresses, encrypted and plain, signed or
// not, some scored, labelled, assigned or moved on, and a third of them
// past their first-response time.
func (s *site) seedBoard(n int) []*triage.Report {
	s.t.Helper()
	ctx := context.Background()
	titles := []string{
		"Stored XSS in the profile page",
		"IDOR on invoices lets any signed-in customer download every other customer's invoices by changing the number in the URL",
		"SSRF",
		"Open redirect after logout",
		"Account takeover through the password reset flow when the reset token is reused after the email address changed",
		"Verbose server header",
		"Remote code execution in the upload API (image conversion)",
		"CSRF on the settings form",
		"Subdomain takeover: assets-eu.example.com points at a deleted bucket",
		"SQL injection in search?q=",
	}
	vectors := []string{"", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N", "", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"}
	names := []string{"", "Alice Martin", "", "Bob", "Zhang Wei", ""}
	var out []*triage.Report
	for i := range n {
		var age time.Duration
		if i%3 == 0 {
			age = 25*time.Hour + time.Duration(i)*37*time.Minute // breached
		} else {
			age = time.Duration(i%23)*time.Hour + 10*time.Minute
		}
		received := time.Now().Add(-age)
		email := fmt.Sprintf("researcher%d@example.org", i%17)
		if i%7 == 3 {
			email = fmt.Sprintf("a.very.long.researcher.address.number%d@security-research.example.org", i)
		}
		raw := &triage.RawMessage{MailFrom: email, Recipients: []string{"security@localhost"},
			RemoteAddr: "192.0.2.1:1234", ReceivedAt: received, Data: []byte("Subject: r\r\n\r\nbody\r\n")}
		if err := s.db.AddRawMessage(ctx, raw); err != nil {
			s.t.Fatal(err)
		}
		r := triage.NewReport(received)
		r.MessageID, r.Title, r.ResearcherEmail, r.ResearcherName = raw.ID, titles[i%len(titles)], email, names[i%len(names)]
		r.Body = "Steps to reproduce.\n"
		if i%2 == 0 {
			r.Encrypted, r.Decrypted = true, true
		}
		if i%5 == 1 {
			r.Signature = triage.Signature{Status: triage.SignatureGood, Fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567"}
		}
		if i%11 == 4 {
			r.Signature = triage.Signature{Status: triage.SignatureUnknownKey, KeyID: "FEDCBA9876543210"}
		}
		if err := s.db.FileReport(ctx, r); err != nil {
			s.t.Fatal(err)
		}
		var c triage.Change
		if v := vectors[i%len(vectors)]; v != "" {
			c.CVSSVector = &v
		}
		if i%4 == 1 {
			a := s.triager.ID
			c.Assignee = &a
		}
		if i%6 == 2 {
			l := []string{"web", "auth"}
			c.Labels = &l
		}
		if i%9 == 5 {
			st := triage.StatusTriaging
			c.Status = &st
		}
		if c != (triage.Change{}) {
			if _, err := s.db.UpdateReport(ctx, r.ID, c, triage.Actor{UserID: s.admin.ID, Email: s.admin.Email}, time.Now()); err != nil {
				s.t.Fatal(err)
			}
		}
		out = append(out, r)
	}
	return out
}

// TestBrowserUI runs the triage UI scenarios of issue 14 against one
// Chromium, at both widths.
func TestBrowserUI(t *testing.T) {
	t.Parallel()
	browser := startBrowser(t)
	run := func(name string, test func(*testing.T)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			scenario(t)
			test(t)
		})
	}
	run("Board", func(t *testing.T) { testBoardLayout(t, browser) })
	run("ReportPage", func(t *testing.T) { testReportLayout(t, browser) })
	for _, vp := range []viewport{laptop, phone} {
		run("BulkActions/"+vp.String(), func(t *testing.T) { testBulkActions(t, browser, vp) })
		run("StateAfterReply/"+vp.String(), func(t *testing.T) { testStateAfterReply(t, browser, vp) })
		run("CannedResponses/"+vp.String(), func(t *testing.T) { testCannedResponses(t, browser, vp) })
	}
	run("QuarantineAndRelease", func(t *testing.T) { testQuarantineRelease(t, browser) })
	run("EveryPage", func(t *testing.T) { testEveryPage(t, browser) })
}

// rowBoxJS gives each board row's height and whether its clock cell
// shows all its text.
const rowBoxJS = `Array.from(document.querySelectorAll("[data-testid=board-row]")).map(r => {
	const c = r.querySelector(".c-clock");
	const clock = c.querySelector(".clock") || c;
	const cb = c.getBoundingClientRect(), kb = clock.getBoundingClientRect();
	return {h: Math.round(r.getBoundingClientRect().height), clipped: kb.right > cb.right + 1 || c.scrollWidth > c.clientWidth + 1,
		clock: clock.textContent.trim().replace(/\s+/g, " "), right: Math.round(kb.right)};
})`

type rowBox struct {
	H       float64 `json:"h"`
	Clipped bool    `json:"clipped"`
	Clock   string  `json:"clock"`
	Right   float64 `json:"right"`
}

// testBoardLayout: the board of issue 14's "done when": 200 reports, a
// third of them breached, read on a laptop and a phone.
func testBoardLayout(t *testing.T, browser context.Context) {
	s := newSite(t)
	s.seedBoard(200)
	b := newTab(t, browser, s)
	b.resize(laptop)
	b.signIn(s.triager)
	b.shot("board-1366")

	// Laptop: one line per report, the whole clock visible, breached first.
	rows := eval[[]rowBox](b, rowBoxJS)
	if len(rows) != 50 {
		t.Fatalf("%d rows on the first page, want 50", len(rows))
	}
	lineH := eval[float64](b, `parseFloat(getComputedStyle(document.querySelector("[data-testid=board-row] .c-title")).lineHeight)`)
	for i, r := range rows {
		if r.H > 2.4*lineH {
			t.Errorf("row %d is %.0f px tall (line %.0f px): more than one line", i, r.H, lineH)
		}
		if r.Clipped || r.Right > float64(laptop.w) {
			t.Errorf("row %d: clock %q cut off (right edge %.0f)", i, r.Clock, r.Right)
		}
	}
	if !strings.HasPrefix(rows[0].Clock, "Reply overdue by") {
		t.Errorf("first row's clock %q: breached reports come first", rows[0].Clock)
	}
	// A third of 200 are breached: they fill the first page.
	if g := b.texts("[data-testid=board-group]"); len(g) < 1 || g[0] != "Breached" {
		t.Errorf("groups %v", g)
	}
	if n := len(b.texts(`[data-testid=board-row][data-tier=breached]`)); n != 50 {
		t.Errorf("%d breached rows on the first page, want 50", n)
	}
	if bad := eval[[]string](b, `Array.from(document.querySelectorAll("[data-testid=board-clock]")).map(e => e.textContent).filter(t => /\d+s\b/.test(t))`); len(bad) > 0 {
		t.Errorf("clocks in seconds: %v", bad)
	}
	// The title is the link; the words every row would repeat are not
	// shown, only said to screen readers.
	if href := eval[string](b, `document.querySelector("[data-testid=board-row] a[data-testid=board-title]")?.getAttribute("href") ?? ""`); !strings.HasPrefix(href, "/reports/") {
		t.Errorf("title link %q", href)
	}
	shown := eval[string](b, `(() => { const t = document.querySelector("[data-testid=board]").cloneNode(true);
		t.querySelectorAll(".visually-hidden").forEach(e => e.remove()); return t.textContent; })()`)
	for _, w := range []string{"nobody", "unscored", "unsigned", "encrypted"} {
		if strings.Contains(shown, w) {
			t.Errorf("the board spells out %q on its rows", w)
		}
	}
	if got := eval[string](b, `document.querySelector("[data-testid=board-icon]")?.textContent.trim() ?? ""`); got == "" {
		t.Error("icons without words for screen readers")
	}
	if w := eval[float64](b, `document.querySelector("[data-testid=board]").getBoundingClientRect().width`); w < 0.9*float64(laptop.w)-60 {
		t.Errorf("the board is %.0f px wide on a %d px screen", w, laptop.w)
	}
	b.checkNoOverflow("board at 1366 px")
	b.checkAccessibility("board at 1366 px")

	// Phone: cards, filters folded, nothing sideways.
	b.resize(phone)
	b.open("/board")
	b.shot("board-390")
	b.checkNoOverflow("board at 390 px")
	if open := eval[bool](b, `document.querySelector("[data-testid=filters-fold]").open`); open {
		t.Error("filters unfolded on a phone")
	}
	if top := eval[float64](b, `document.querySelector("[data-testid=board-row]").getBoundingClientRect().top`); top > float64(phone.h)/2 {
		t.Errorf("the first report starts %.0f px down a %d px screen", top, phone.h)
	}
	if d := eval[string](b, `getComputedStyle(document.querySelector("[data-testid=board-row]")).display`); d == "table-row" {
		t.Error("rows are table rows on a phone, not cards")
	}
	b.do(chromedp.Click(chromedp.CSS("[data-testid=filters-toggle]")))
	b.waitFor("the filters", `document.querySelector("[data-testid=board-filters]").getBoundingClientRect().height > 0`)
	b.shot("board-390-filters")
	b.checkNoOverflow("board filters at 390 px")
	b.checkAccessibility("board at 390 px")
}

func testBulkActions(t *testing.T, browser context.Context, vp viewport) {
	s := newSite(t)
	a := s.report(time.Hour, "First of a spam wave", "")
	c := s.report(2*time.Hour, "Second of a spam wave", "")
	acc := s.report(3*time.Hour, "A real one, accepted", "")
	s.move(acc.ID, triage.StatusAccepted)
	b := newTab(t, browser, s)
	b.resize(vp)
	b.signIn(s.triager)
	check := func(ids ...int64) {
		for _, id := range ids {
			b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-id="%d"] [data-testid=bulk-select]`, id))))
		}
	}
	check(a.ID, c.ID)
	b.waitFor("the count", `document.querySelector("[data-testid=bulk-count]").textContent.includes("2 selected")`)
	b.do(
		chromedp.SetValue(chromedp.CSS("#bulk-assignee"), fmt.Sprint(s.triager.ID)),
		chromedp.Click(chromedp.CSS("[data-testid=bulk-assign]")),
	)
	b.waitFor("the notice", `document.querySelector("[data-testid=bulk-notice]")?.textContent.includes("2 reports changed")`)
	b.checkNoOverflow("the board after a bulk action at " + vp.String())
	for _, id := range []int64{a.ID, c.ID} {
		if got := b.text(fmt.Sprintf(`[data-id="%d"] [data-testid=board-assignee]`, id)); got != s.triager.Email {
			t.Errorf("report %d assigned to %q", id, got)
		}
	}
	// Close as spam: the accepted one is refused, by name.
	check(a.ID, c.ID, acc.ID)
	b.do(chromedp.Click(chromedp.CSS("[data-testid=bulk-spam]")))
	b.waitFor("the outcome", `document.querySelector("[data-testid=bulk-notice]")?.textContent.includes("2 reports changed. 1 refused")`)
	if got := b.text("[data-testid=bulk-refused]"); !strings.Contains(got, acc.TrackingID) || !strings.Contains(got, "cannot move") {
		t.Errorf("refusal %q", got)
	}
	if ids := b.boardIDs(); len(ids) != 1 || ids[0] != acc.TrackingID {
		t.Errorf("open board after closing two as spam: %v", ids)
	}
	evs, err := s.db.AuditEvents(context.Background(), triage.AuditFilter{Action: "report.status"})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, e := range evs {
		if e.ActorEmail == s.triager.Email {
			targets[e.Target] = true
		}
	}
	if !targets[fmt.Sprintf("report:%d", a.ID)] || !targets[fmt.Sprintf("report:%d", c.ID)] {
		t.Errorf("closing as spam not audited per report: %v", targets)
	}
}

// box is an element's bounding box.
type box struct {
	Top    float64 `json:"top"`
	Bottom float64 `json:"bottom"`
	Left   float64 `json:"left"`
	Right  float64 `json:"right"`
	Height float64 `json:"height"`
}

// boxOf is the bounding box of the first element matching css, in page
// coordinates; zero when there is none or it is not shown.
func (b *tab) boxOf(css string) box {
	b.t.Helper()
	return eval[box](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return {};
		const r = e.getBoundingClientRect(); return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right, height: r.height}; })()`, css))
}

func testReportLayout(t *testing.T, browser context.Context) {
	s := newSite(t)
	rep := s.signedReport()
	b := newTab(t, browser, s)
	b.resize(laptop)
	b.signIn(s.triager)
	b.open(fmt.Sprintf("/reports/%d", rep.ID))
	b.waitFor("the page", `document.readyState === "complete"`)
	b.shot("report-1366")

	msg, panel := b.boxOf("[data-testid=report-content]"), b.boxOf("[data-testid=report-panel]")
	if panel.Left < msg.Right || panel.Top > msg.Bottom || msg.Top > panel.Bottom {
		t.Errorf("the panel %+v is not beside the message %+v", panel, msg)
	}
	// Acting needs no scrolling: status, assignee and the reply button
	// are on the first screen.
	for _, css := range []string{"#status-select", "[data-testid=status-submit]", "#assign-select"} {
		if bx := b.boxOf(css); bx.Height == 0 || bx.Bottom > float64(laptop.h) {
			t.Errorf("%s is not on the first screen: %+v", css, bx)
		}
	}
	// The attachments come right under the message.
	if att := b.boxOf("[data-testid=attachments-section]"); att.Top < msg.Bottom || att.Top-msg.Bottom > 60 {
		t.Errorf("attachments at %.0f, the message ends at %.0f", att.Top, msg.Bottom)
	}
	// The calculator starts folded.
	if open := eval[bool](b, `document.querySelector("[data-testid=cvss-calculator]").open`); open {
		t.Error("the CVSS calculator is unfolded")
	}
	b.checkNoOverflow("report page at 1366 px")
	b.checkAccessibility("report page at 1366 px")

	b.resize(phone)
	b.open(fmt.Sprintf("/reports/%d", rep.ID))
	b.waitFor("the page", `document.readyState === "complete"`)
	b.shot("report-390")
	b.checkNoOverflow("report page at 390 px")
	if open := eval[bool](b, `document.querySelector("[data-testid=panel-fold]").open`); open {
		t.Error("the panel is unfolded on a phone")
	}
	toggle, msg := b.boxOf("[data-testid=panel-toggle]"), b.boxOf("[data-testid=report-content]")
	if toggle.Height == 0 || toggle.Top > msg.Top || toggle.Bottom > float64(phone.h) {
		t.Errorf("the folded actions %+v do not come first, on the first screen (message at %+v)", toggle, msg)
	}
	b.do(chromedp.Click(chromedp.CSS("[data-testid=panel-toggle]")))
	b.waitFor("the actions", `document.querySelector("#status-select").getBoundingClientRect().height > 0`)
	b.shot("report-390-actions")
	b.checkNoOverflow("report page with its actions at 390 px")
	b.checkAccessibility("report page at 390 px")
}

// testStateAfterReply: after a reply sent in place, the header, the SLA
// clocks and the history all say the first response is met.
func testStateAfterReply(t *testing.T, browser context.Context, vp viewport) {
	s := newSite(t)
	rep := s.report(20*time.Minute, "Open redirect after logout", "")
	b := newTab(t, browser, s)
	b.resize(vp)
	b.signIn(s.triager)
	b.open(fmt.Sprintf("/reports/%d", rep.ID))
	if got := b.text("[data-testid=report-clock]"); !strings.HasSuffix(got, "left") {
		t.Fatalf("header clock before the reply %q", got)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#reply-body"), "Thanks, we reproduced it."), chromedp.Click(chromedp.CSS("#reply-submit")))
	b.waitFor("the reply in the timeline", `document.querySelector("[data-testid=timeline-entry][data-kind=out]")`)
	b.waitFor("the header to say met", `document.querySelector("[data-testid=report-clock]").textContent.trim() === "met"`)
	if st := eval[string](b, `document.querySelector("[data-testid=sla-first_response]").dataset.state`); st != "met" {
		t.Errorf("SLA clocks after the reply: first response %s", st)
	}
	b.unfoldPanel()
	if st := b.text("[data-testid=sla-first_response] [data-testid=sla-state]"); st != "met" {
		t.Errorf("the SLA clocks shown say %q", st)
	}
	if got := b.texts("[data-testid=event]"); len(got) == 0 || !strings.Contains(got[len(got)-1], "replied to the researcher") {
		t.Errorf("history after the reply: %v", got)
	}
	if n := eval[int](b, `document.querySelectorAll("#sla, #history, #report-first-response, #report-status").length`); n != 4 {
		t.Errorf("%d state parts on the page after the swap, want 4 (no duplicates)", n)
	}
}

// testCannedResponses: an admin writes a canned response on the admin
// page; a triager inserts it into a reply, where the cursor is, filled in
// for the report, and sends it; a status move with a default response
// puts that one in the empty reply box.
func testCannedResponses(t *testing.T, browser context.Context, vp viewport) {
	s := newSite(t)
	rep := s.report(time.Hour, "Open redirect after logout", "")
	b := newTab(t, browser, s)
	b.resize(vp)
	b.signIn(s.admin)
	b.open("/admin/responses")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#rname-0"), "Thanks"),
		chromedp.SendKeys(chromedp.CSS("#rbody-0"), "we track this as {{tracking_id}}."),
		chromedp.Click(chromedp.CSS("[data-testid=response-form] [data-testid=response-save]")),
	)
	b.waitFor("the saved response", `document.querySelector("[data-testid=responses-notice]")`)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#rname-0"), "Need a PoC"),
		chromedp.SendKeys(chromedp.CSS("#rbody-0"), "Could you send a proof of concept for {{tracking_id}}?"),
		chromedp.SetValue(chromedp.CSS("#rdef-0"), "needs-info"),
		chromedp.Click(chromedp.CSS("form[action='/admin/responses'] [data-testid=response-save]")),
	)
	b.waitFor("the second response", `document.querySelectorAll("[data-testid=response-delete]").length === 2`)
	b.shot("responses-" + vp.String())
	b.checkNoOverflow("canned responses at " + vp.String())
	b.checkAccessibility("canned responses")

	b.signOut()
	b.signIn(s.triager)
	b.open(fmt.Sprintf("/reports/%d", rep.ID))
	b.do(chromedp.SendKeys(chromedp.CSS("#reply-body"), "Hello, "))
	b.do(
		chromedp.SetValue(chromedp.CSS("#response-select"), eval[string](b, `Array.from(document.querySelectorAll("#response-select option")).find(o => o.textContent === "Thanks").value`)),
		chromedp.Click(chromedp.CSS("[data-testid=insert-response]")),
	)
	want := "Hello, we track this as " + rep.TrackingID + "."
	b.waitFor("the inserted text", fmt.Sprintf(`document.querySelector("#reply-body").value === %q`, want))
	if p := b.path(); p != fmt.Sprintf("/reports/%d", rep.ID) {
		t.Errorf("Insert navigated to %s", p)
	}
	b.do(chromedp.Click(chromedp.CSS("#reply-submit")))
	b.waitFor("the reply in the timeline", fmt.Sprintf(`document.querySelector("[data-testid=timeline-entry][data-kind=out] [data-testid=entry-body]")?.textContent === %q`, want))
	if got := b.text("[data-testid=timeline-entry][data-kind=out]"); !strings.Contains(got, "signed") {
		t.Errorf("the reply from a canned response is not marked signed: %q", got)
	}

	// Moving to needs-info puts its default reply in the (empty) box.
	b.unfoldPanel()
	b.do(
		chromedp.SetValue(chromedp.CSS("#status-select"), "needs-info"),
		chromedp.Click(chromedp.CSS("[data-testid=status-submit]")),
	)
	b.waitFor("the suggested reply", fmt.Sprintf(`document.querySelector("#reply-body").value === %q`, "Could you send a proof of concept for "+rep.TrackingID+"?"))
	b.checkNoOverflow("report page with a suggested reply")
}

// click clicks the first element matching css: one click of a person.
func (b *tab) click(css string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(css)))
}

// testQuarantineRelease: a junk sender is silenced in two clicks from
// their report; their mail leaves the board for the quarantine; the
// release brings it back. Then the quarantine page on a phone.
func testQuarantineRelease(t *testing.T, browser context.Context) {
	s := newSite(t)
	junk := s.report(3*time.Hour, "Cheap pills", "")
	legit := s.report(2*time.Hour, "XSS in search", "")
	// The site's reports all come from researcher@example.org: holding
	// the address holds both.
	b := newTab(t, browser, s)
	b.resize(laptop)
	b.signIn(s.admin)
	b.open(fmt.Sprintf("/reports/%d", junk.ID))
	b.waitFor("the page", `document.readyState === "complete"`)
	if bx := b.boxOf("[data-testid=quarantine-open]"); bx.Height == 0 {
		t.Fatal("no quarantine button")
	}
	b.click("[data-testid=quarantine-open]") // 1
	b.shot("quarantine-form-1366")
	b.click("[data-testid=quarantine-submit]") // 2
	b.waitFor("the held banner", `document.querySelector("[data-testid=held-banner]")`)
	b.shot("report-held-1366")
	b.checkAccessibility("held report")
	b.open("/board")
	for _, id := range b.boardIDs() {
		if id == junk.TrackingID || id == legit.TrackingID {
			t.Errorf("%s still on the board: both reports share the sender's address", id)
		}
	}
	b.open("/quarantine")
	if ids := b.boardIDs(); len(ids) != 2 {
		t.Errorf("quarantine view %v, want both held", ids)
	}
	b.shot("quarantine-1366")
	b.checkNoOverflow("quarantine at 1366 px")
	b.checkAccessibility("quarantine")

	b.resize(phone)
	b.open("/quarantine")
	b.shot("quarantine-390")
	b.checkNoOverflow("quarantine at 390 px")

	b.resize(laptop)
	b.open("/quarantine")
	b.click("[data-testid=quarantine-release]")
	b.waitFor("the release notice", `document.querySelector("[data-testid=bulk-notice]")?.textContent.includes("2 reports moved to the board")`)
	b.open("/board")
	if ids := strings.Join(b.boardIDs(), " "); !strings.Contains(ids, junk.TrackingID) || !strings.Contains(ids, legit.TrackingID) {
		t.Errorf("board after the release: %s", ids)
	}
}

// testEveryPage visits every public and staff page at both widths, on a
// site with an organisation, a logo, policy texts, a week of reports, a
// quarantined sender, canned responses, outbox mail and audit events:
// nothing sticks out sideways at 390 px, and every page passes the
// accessibility check (contrast, names) at both widths.
func testEveryPage(t *testing.T, browser context.Context) {
	s := newSite(t)
	ctx := context.Background()
	admin := triage.Actor{UserID: s.admin.ID, Email: s.admin.Email}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
	if err := s.db.SetSite(ctx, &triage.Site{Organisation: "Example Corporation International Holdings", ScopeIn: "- *.example.com\n- https://app.example.com/with/a/very/long/path/that/does/not/wrap/easily",
		ScopeOut: "- Denial of service\n- Social engineering", Languages: "English, German"}, png, admin, time.Now()); err != nil {
		t.Fatal(err)
	}
	reports := s.seedBoard(30)
	signed := s.signedReport()
	if err := s.db.SaveResponse(ctx, &triage.Response{Name: "Thanks", Body: "Hello {{researcher}}", DefaultFor: triage.StatusNeedsInfo}, admin); err != nil {
		t.Fatal(err)
	}
	rule, _ := triage.ParseQuarantineRule("address", reports[3].ResearcherEmail, "a flood")
	if _, err := s.db.AddQuarantine(ctx, &rule, admin, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueueMail(ctx, &triage.OutMail{Kind: triage.MailReply, ReportID: reports[0].ID, To: "researcher0@example.org",
		Subject: triage.ReplySubject(reports[0].TrackingID), HeaderMessageID: triage.NewMessageID("localhost"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	pages := []string{"/", "/policy", "/hall-of-fame", "/report", "/no/such/page"}
	staff := []string{"/board", "/board?status=closed", "/quarantine", fmt.Sprintf("/reports/%d", signed.ID), fmt.Sprintf("/reports/%d", reports[3].ID),
		"/team/metrics", "/outbox", "/account", "/admin/users", "/admin/audit", "/admin/settings", "/admin/responses", "/admin/site"}
	for _, vp := range []viewport{phone, laptop} {
		t.Run(vp.String(), func(t *testing.T) {
			b := newTab(t, browser, s)
			b.resize(vp)
			for _, p := range pages {
				b.open(p)
				b.checkNoOverflow(p + " at " + vp.String())
				b.checkAccessibility(p + " at " + vp.String())
				b.shot("page" + strings.ReplaceAll(p, "/", "_") + "-" + vp.String())
			}
			b.open("/login")
			b.checkNoOverflow("/login at " + vp.String())
			b.signIn(s.admin)
			for _, p := range staff {
				b.open(p)
				b.checkNoOverflow(p + " at " + vp.String())
				b.checkAccessibility(p + " at " + vp.String())
				b.shot("page" + strings.NewReplacer("/", "_", "?", "_", "=", "_").Replace(p) + "-" + vp.String())
			}
			if vp.mobile {
				// The staff menu, folded on a phone, unfolds within the screen.
				b.click("[data-testid=menu-toggle]")
				b.waitFor("the menu", `document.querySelector("[data-testid=nav-quarantine]").getBoundingClientRect().height > 0`)
				b.checkNoOverflow("the unfolded menu at " + vp.String())
				b.shot("menu-" + vp.String())
			}
			if got := b.text("[data-testid=brand-name]"); got != "Example Corporation International Holdings" {
				t.Errorf("header names %q", got)
			}
			if w := eval[float64](b, `document.querySelector("[data-testid=brand-logo]").naturalWidth`); w == 0 {
				t.Error("the logo does not load")
			}
		})
	}
}

// unfoldPanel opens the report page's panel when it is folded (on a
// phone).
func (b *tab) unfoldPanel() {
	b.t.Helper()
	if !eval[bool](b, `document.querySelector("[data-testid=panel-fold]").open`) {
		b.click("[data-testid=panel-toggle]")
		b.waitFor("the panel", `document.querySelector("[data-testid=panel-fold]").open`)
	}
}

// signOut signs out with the menu's button (unfolding the menu on a
// phone).
func (b *tab) signOut() {
	b.t.Helper()
	if !eval[bool](b, `document.querySelector("details[data-menu]").open`) {
		b.click("[data-testid=menu-toggle]")
	}
	b.click("[data-testid=sign-out]")
	b.waitFor("signed out", `!document.querySelector("[data-testid=sign-out]")`)
}
