package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/secinbox/secinbox/triage"
)

// TestBrowser_DisclosureTimes: in Chromium set to Tokyo time, the
// report page shows the disclosure deadline in UTC and, through app.js,
// in the viewer's local time; an embargo set with the panel's form (htmx)
// shows the same way. Without JavaScript only the UTC time shows.
func TestBrowser_DisclosureTimes(t *testing.T) {
	t.Parallel()
	scenario(t)
	browser := startBrowser(t)
	s := newSite(t)
	rep := s.report(2*time.Hour, "Deadline in two zones", "")
	s.move(rep.ID, triage.StatusAccepted)
	dl, err := s.db.Deadlines(context.Background(), rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	due := dl.DisclosureDue

	tokyo := func(b *tab) {
		b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
			return err
		}))
	}
	b := newTab(t, browser, s)
	tokyo(b)
	b.signIn(s.triager)
	b.open(fmt.Sprintf("/reports/%d", rep.ID))
	b.waitFor("the local time", `document.querySelector("[data-testid=deadline-due] + .local-time")`)
	if got := b.text("[data-testid=deadline-due]"); got != due.UTC().Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("UTC time %q", got)
	}
	local := b.text("[data-testid=deadline-due] + .local-time")
	jst := due.In(time.FixedZone("JST", 9*3600))
	if !strings.Contains(local, fmt.Sprintf("%d", jst.Day())) || !strings.Contains(local, jst.Format("3:04")) || !strings.Contains(local, "your time") {
		t.Errorf("local time %q, want the deadline in Tokyo (%s)", local, jst.Format("2006-01-02 15:04"))
	}

	until := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)
	b.do(
		chromedp.SetValue(chromedp.CSS("[data-testid=deadline-embargo-input]"), until.Format("2006-01-02T15:04")),
		chromedp.Click(chromedp.CSS("[data-testid=deadline-embargo-submit]")),
	)
	b.waitFor("the embargo", `document.querySelector("[data-testid=deadline-embargo-until] + .local-time")`)
	if got := b.text("[data-testid=deadline-embargo-until]"); got != until.Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("embargo %q", got)
	}
	if b.path() != fmt.Sprintf("/reports/%d", rep.ID) {
		t.Errorf("htmx form navigated to %s", b.path())
	}

	nb := newTab(t, browser, s)
	nb.noScript()
	nb.signIn(s.triager)
	nb.open(fmt.Sprintf("/reports/%d", rep.ID))
	if got := nb.text("[data-testid=deadline-due]"); got != due.UTC().Format("2006-01-02 15:04")+" UTC" {
		t.Errorf("without JavaScript: %q", got)
	}
	if n := eval[int](nb, `document.querySelectorAll(".local-time").length`); n != 0 {
		t.Errorf("without JavaScript: %d local times", n)
	}
}
