package web_test

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// partSourceLinks are the hrefs of the report page's "View the HTML
// source" links, in page order.
func partSourceLinks(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			testID, href := "", ""
			for _, a := range n.Attr {
				switch a.Key {
				case "data-testid":
					testID = a.Val
				case "href":
					href = a.Val
				}
			}
			if testID == "part-html-source" {
				out = append(out, href)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// A sender who attaches a file named body.html next to an HTML body: the
// part still links to its own source, not to the attached file, and
// not to nothing.
func TestReportPage_HTMLPartSource(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.viewerClient()
	raw := "From: mallory@example.org\r\nSubject: two pages\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=\"body.html\"\r\n\r\n" +
		"<p>DECOY attached page</p>\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<p>The REAL body <script>alert(1)</script></p>\r\n" +
		"--b--\r\n"
	r := e.fileMessage([]byte(raw))
	rep, err := e.db.Report(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Attachments) != 2 || rep.Attachments[0].Name != "body.html" || rep.Attachments[1].Name != "body.html" {
		t.Fatalf("attachments %+v", rep.Attachments)
	}
	_, page := e.get(c, fmt.Sprintf("/reports/%d", r.ID))
	links := partSourceLinks(t, page)
	want := fmt.Sprintf("/reports/%d/attachments/%d/source", r.ID, rep.Attachments[1].ID)
	if len(links) != 1 || links[0] != want {
		t.Fatalf("source links %q, want [%q]", links, want)
	}
	_, src := e.get(c, links[0])
	if got := byTestID(t, src, "source-text"); len(got) != 1 || !strings.Contains(got[0], "The REAL body") {
		t.Errorf("the link shows %q, want the body's own source", got)
	}
}
