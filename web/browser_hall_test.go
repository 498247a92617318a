package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/secinbox/secinbox/triage"
)

// The hall of fame and the credit page on a phone: a researcher opens
// the link from the offer mail, or looks for their name, on a small
// touch screen.

// longHandle is a display name a phone cannot fit on one line and that
// has no space to break at.
const longHandle = "AVeryLongResearcherHandleWithoutAnySpacesAtAll_1234567890"

// credited files a report from email received at received, moves it to
// status, offers credit (with advisory as its public title) and records
// the researcher's choice. It returns the report and its credit link's
// token, derived as the offer mail derives it.
func (s *formSite) credited(email string, received time.Time, status triage.Status, advisory string,
	choice triage.CreditChoice, name, link string) (*triage.Report, string) {
	s.t.Helper()
	ctx := context.Background()
	raw := &triage.RawMessage{MailFrom: email, Recipients: []string{"security@secinbox.example"},
		RemoteAddr: "192.0.2.1:1234", ReceivedAt: received, Data: []byte("Subject: a finding\r\n\r\nbody\r\n")}
	if err := s.db.AddRawMessage(ctx, raw); err != nil {
		s.t.Fatal(err)
	}
	r := triage.NewReport(received)
	r.MessageID, r.Title, r.ResearcherEmail = raw.ID, "Undisclosed finding TOPSECRET from "+email, email
	r.Body = "Steps to reproduce.\n"
	if err := s.db.FileReport(ctx, r); err != nil {
		s.t.Fatal(err)
	}
	by := triage.Actor{UserID: s.admin.ID, Email: s.admin.Email}
	// The way the workflow allows: accepted, fixing, fixed, disclosed.
	for _, st := range []triage.Status{triage.StatusAccepted, triage.StatusFixing, triage.StatusFixed, triage.StatusDisclosed} {
		if _, err := s.db.UpdateReport(ctx, r.ID, triage.Change{Status: &st}, by, time.Now()); err != nil {
			s.t.Fatal(err)
		}
		if st == status {
			break
		}
	}
	nonce := triage.NewNonce()
	token := triage.LinkToken(testLinkKey, triage.LinkCredit, r.ID, nonce)
	c := &triage.Credit{ReportID: r.ID, AdvisoryTitle: advisory}
	mail := &triage.OutMail{To: email, HeaderMessageID: fmt.Sprintf("<credit-%d@secinbox.example>", r.ID)}
	if err := s.db.OfferCredit(ctx, c, nonce, triage.TokenHash(token), mail, by); err != nil {
		s.t.Fatal(err)
	}
	if err := s.db.ChooseCredit(ctx, r.ID, choice, name, link, time.Now()); err != nil {
		s.t.Fatal(err)
	}
	return r, token
}

// phone makes the tab a phone held upright: 375×667 CSS pixels at
// device scale 2, mobile (the page's viewport meta tag decides its
// width) and touch.
func (b *tab) phone() {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(375, 667, chromedp.EmulateScale(2), chromedp.EmulateMobile,
		chromedp.EmulateTouch, chromedp.EmulatePortrait))
}

// phoneJS lists what a phone user would find wrong with the page shown:
// a viewport not laid out for the phone, sideways scrolling, text under
// 14px, links and buttons under WCAG 2.2's 24×24px target size minimum
// (links inside a sentence are exempt, as WCAG exempts them), and any
// element matching the selector %q that is not wholly on screen:
// outside the viewport or clipped by an ancestor.
const phoneJS = `((whole) => {
	const problems = [];
	const vw = window.innerWidth;
	const describe = (el) => {
		let d = el.tagName.toLowerCase();
		if (el.id) d += "#" + el.id;
		if (el.dataset && el.dataset.testid) d += "[data-testid=" + el.dataset.testid + "]";
		else if (typeof el.className === "string" && el.className.trim()) d += "." + el.className.trim().split(/\s+/).join(".");
		return d;
	};
	const short = (s) => { s = s.trim().replace(/\s+/g, " "); return s.length > 60 ? s.slice(0, 57) + "..." : s; };
	const visible = (el) => {
		if (!el.getClientRects().length) return false;
		const cs = getComputedStyle(el);
		if (cs.visibility !== "visible" || parseFloat(cs.opacity) === 0) return false;
		const r = el.getBoundingClientRect();
		// Screen-reader-only text (1px, clipped) and off-screen skip links.
		return r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > -window.scrollY;
	};

	const meta = document.querySelector('meta[name="viewport"]');
	if (!meta || !/width=device-width/.test(meta.content) || !/initial-scale=1(\.0*)?\b/.test(meta.content)) {
		problems.push("viewport: no <meta name=viewport content=\"width=device-width, initial-scale=1\">: " + (meta ? meta.content : "none"));
	}
	if (vw !== 375 || document.documentElement.clientWidth !== 375) {
		problems.push("viewport: laid out " + document.documentElement.clientWidth + "px wide, shown " + vw + "px wide, want 375px");
	}
	const sw = document.scrollingElement.scrollWidth;
	if (sw > vw) {
		const wide = Array.from(document.body.querySelectorAll("*")).filter(e => visible(e) && e.getBoundingClientRect().right > vw + 0.5)
			.map(e => describe(e) + " (right edge at " + Math.round(e.getBoundingClientRect().right) + "px)");
		problems.push("scroll: the page is " + sw + "px wide on a " + vw + "px screen: " + wide.slice(0, 5).join(", "));
	}

	for (const el of document.body.querySelectorAll("*")) {
		if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "OPTION", "TITLE"].includes(el.tagName)) continue;
		const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join("");
		if (!own.trim() || !visible(el)) continue;
		const size = parseFloat(getComputedStyle(el).fontSize);
		if (size < 14) problems.push("text: " + size + "px < 14px: " + describe(el) + " " + JSON.stringify(short(own)));
	}

	// A link in a sentence: its parent says something (a letter) besides it.
	const inSentence = (el) => Array.from(el.parentElement.childNodes)
		.some(n => n !== el && n.nodeType === 3 && /\p{L}/u.test(n.textContent));
	for (const el of document.body.querySelectorAll("a[href], button")) {
		if (!visible(el) || (el.tagName === "A" && inSentence(el))) continue;
		const r = el.getBoundingClientRect();
		if (r.height < 24 || r.width < 24) {
			problems.push("target: " + describe(el) + " " + JSON.stringify(short(el.textContent)) + " is " +
				r.width.toFixed(1) + "×" + r.height.toFixed(1) + "px, under 24×24px");
		}
	}

	const clips = (e) => ["hidden", "clip", "scroll", "auto"].includes(getComputedStyle(e).overflowX);
	for (const el of document.querySelectorAll(whole)) {
		if (!visible(el)) { problems.push("hidden: " + describe(el) + " " + JSON.stringify(short(el.textContent)) + " is not visible"); continue; }
		const range = document.createRange();
		range.selectNodeContents(el);
		const rects = [el.getBoundingClientRect(), ...range.getClientRects()];
		const bad = rects.find(r => r.left < -0.5 || r.right > vw + 0.5);
		if (bad) {
			problems.push("clipped: " + describe(el) + " " + JSON.stringify(short(el.textContent)) + " spans " +
				Math.round(bad.left) + "px to " + Math.round(bad.right) + "px of a " + vw + "px screen");
			continue;
		}
		if (getComputedStyle(el).display !== "inline" && el.scrollWidth > el.clientWidth + 1) {
			problems.push("clipped: " + describe(el) + " " + JSON.stringify(short(el.textContent)) + " overflows its box (" +
				el.scrollWidth + "px in " + el.clientWidth + "px)");
			continue;
		}
		for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
			if (!clips(a)) continue;
			const box = a.getBoundingClientRect();
			const out = rects.find(r => r.left < box.left - 0.5 || r.right > box.right + 0.5);
			if (out) {
				problems.push("clipped: " + describe(el) + " " + JSON.stringify(short(el.textContent)) + " is cut off by " + describe(a));
				break;
			}
		}
	}
	return problems;
})(%q)`

// checkPhone fails the test for each problem phoneJS finds on the page
// shown; whole selects what must be wholly on screen; page names it.
func (b *tab) checkPhone(page, whole string) {
	b.t.Helper()
	b.waitFor(page+" to load", `document.readyState === "complete"`)
	for _, p := range eval[[]string](b, fmt.Sprintf(phoneJS, whole)) {
		b.t.Errorf("%s on a phone: %s", page, p)
	}
}

// testHallOfFameOnPhone opens the hall of fame and a credit page on an
// emulated phone, with credited researchers whose names, links and
// advisory titles are long, and checks what a phone user sees.
func testHallOfFameOnPhone(t *testing.T, browser context.Context) {
	s := newFormSite(t)
	s.admin = s.user("ada@secinbox.example", triage.RoleAdmin)
	now := time.Now()
	s.credited("alice@example.org", now.Add(-48*time.Hour), triage.StatusAccepted, "", triage.CreditName, "Alice Example", "https://alice.example/about")
	s.credited("alice@example.org", now.Add(-24*time.Hour), triage.StatusDisclosed,
		"Billing: SQL injection in the invoice export of the customer portal (fixed in 2.3)", triage.CreditName, "Alice Example", "https://alice.example/about")
	_, token := s.credited("long@example.org", now.Add(-3*time.Hour), triage.StatusFixed, "", triage.CreditHandle, longHandle,
		"https://research.example/~"+strings.ToLower(longHandle)+"/profile")
	s.credited("zoe@example.org", now.Add(-2*time.Hour), triage.StatusDisclosed,
		"Authentication bypass through the password reset token (CVE-2026-12345)", triage.CreditName, "Zoë Researcher", "")
	s.credited("anon@example.org", now.Add(-time.Hour), triage.StatusAccepted, "", triage.CreditAnonymous, "", "")
	s.credited("old@example.org", now.AddDate(-1, 0, -1), triage.StatusFixing, "", triage.CreditHandle, "0ldtimer", "https://old.example")

	b := newTab(t, browser, s.site)
	b.phone()
	b.open("/hall-of-fame")
	b.waitFor("the hall of fame", `document.querySelector("[data-testid=hall-of-fame-entry]")`)
	names := b.texts("[data-testid=hall-name]")
	want := []string{"Alice Example", longHandle, "Zoë Researcher", "0ldtimer"}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("the hall of fame lacks %q: %q", w, names)
		}
	}
	if len(names) != len(want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if got := b.texts("[data-testid=hall-advisory]"); len(got) != 2 {
		t.Errorf("advisories %q, want the two disclosed reports'", got)
	}
	if strings.Contains(eval[string](b, `document.body.textContent`), "TOPSECRET") {
		t.Error("the hall of fame shows a report's own title")
	}
	b.checkPhone("hall of fame", "[data-testid=hall-name], [data-testid=hall-count], [data-testid=hall-advisory], [data-testid=hall-anonymous]")
	b.checkAccessibility("hall of fame on a phone")

	b.open("/credit/" + token)
	b.waitFor("the credit page", `document.querySelector("[data-testid=credit-form]")`)
	if got := b.text("[data-testid=credit-current]"); !strings.Contains(got, longHandle) {
		t.Errorf("the credit page says %q", got)
	}
	b.checkPhone("credit page", "[data-testid=credit-current], [data-testid=credit-tracking], [data-testid=credit-save], [data-testid=credit-revoke], legend, label")
	b.checkAccessibility("credit page on a phone")
}
