package web_test

import (
	"context"
	"testing"
	"time"
)

// testRightToLeftOverride files a report whose title hides a
// right-to-left override, "Invoice ‮fdp.exe", which a browser would
// display as "Invoice exe.pdf", and checks where Chromium lays out its
// letters on the board: in logical order, f before d before x.
func testRightToLeftOverride(t *testing.T, browser context.Context) {
	s := newSite(t)
	s.report(time.Hour, "Invoice "+rlo+"fdp.exe", "")
	b := newTab(t, browser, s)
	b.signIn(s.triager)
	b.open("/board")
	b.waitFor("the report on the board", `document.querySelector("[data-testid=board-title]")`)
	order := eval[[]float64](b, `(() => {
		const el = document.querySelector("[data-testid=board-title]");
		const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		let node = null;
		while (walk.nextNode()) { if (walk.currentNode.data.includes("fdp")) { node = walk.currentNode; break; } }
		if (!node) return [];
		const left = ch => {
			const i = node.data.indexOf(ch), r = document.createRange();
			r.setStart(node, i); r.setEnd(node, i + 1);
			return r.getBoundingClientRect().left;
		};
		return [left("f"), left("d"), left("x")];
	})()`)
	if len(order) != 3 || !(order[0] < order[1] && order[1] < order[2]) {
		t.Errorf("the title's letters f, d, x are laid out at x = %v: not in logical order", order)
	}
	if got := b.text("[data-testid=board-title]"); got != "Invoice fdp.exe" {
		t.Errorf("the board shows the title as %q", got)
	}
}
