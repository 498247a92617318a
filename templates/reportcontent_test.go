package templates_test

import (
	"strings"
	"testing"

	"github.com/secinbox/secinbox/templates"
)

// TestReportContent: every body part is printed as text in a <pre> with
// its own signature mark, the researcher's keys are listed, and the
// lookup form is only there when its URL is.
func TestReportContent(t *testing.T) {
	v := templates.ReportView{
		TrackingID: "SEC-2026-0001", Title: "t", ResearcherEmail: "m@example.org", BoardURL: "/board", RawURL: "/r",
		Body: "not shown when there are parts",
		Parts: []templates.PartView{
			{Path: "1", ContentType: "text/plain", Text: "unsigned " + payload,
				Signature: templates.PartSignature{Label: "Not signed", Class: "badge-neutral"}},
			{Path: "2", ContentType: "text/plain", Text: "signed", Encrypted: true,
				Signature: templates.PartSignature{Signed: true, Label: "Signed by " + payload, Class: "badge-warn",
					Fingerprint: "0123 4567", Warning: "Signer is not the sender: " + payload}},
			{Path: "3", ContentType: "text/html", Text: "from html", FromHTML: true, SourceURL: "javascript:alert(1)",
				Signature: templates.PartSignature{Signed: true, Label: "Signed by an unknown key", KeyID: "FEDCBA9876543210", Reason: payload}},
		},
		Keys: []templates.ResearcherKeyRow{{Fingerprint: "AAAA BBBB", UserID: payload, Source: "signature", Sources: "signature, wkd",
			FirstSeen: "2026-01-01 00:00 UTC", LastSeen: "2026-01-02 00:00 UTC", Expires: "never", Best: true}},
		KeyNotice: payload,
	}
	out, doc := render(t, templates.ReportPage(v))
	if strings.Contains(out, "<script>alert") || strings.Contains(out, "<img") {
		t.Error("payload rendered as markup")
	}
	parts := find(doc, "report-part")
	if len(parts) != 3 || len(find(doc, "report-body")) != 0 {
		t.Fatalf("%d parts, body shown %v", len(parts), len(find(doc, "report-body")) != 0)
	}
	texts := find(doc, "part-text")
	if texts[0].Data != "pre" || text(texts[0]) != "unsigned "+payload {
		t.Errorf("part text %q", text(texts[0]))
	}
	if !strings.Contains(attr(parts[1], "class"), "part-signed") || !strings.Contains(attr(parts[0], "class"), "part-unsigned") {
		t.Errorf("classes %q %q", attr(parts[0], "class"), attr(parts[1], "class"))
	}
	if got := text(find(doc, "part-signature")[1]); got != "Signed by "+payload {
		t.Errorf("label %q", got)
	}
	if w := find(doc, "part-signature-warning"); len(w) != 1 || attr(w[0], "role") != "alert" {
		t.Error("warning not shown as an alert")
	}
	if got := text(find(doc, "part-signature-keyid")[0]); got != "FEDCBA9876543210" {
		t.Errorf("key id %q", got)
	}
	if src := find(doc, "part-html-source"); len(src) != 1 || strings.HasPrefix(attr(src[0], "href"), "javascript:") {
		t.Error("source link missing or unsafe")
	}
	if len(find(doc, "headers-unsigned")) != 1 {
		t.Error("no note about unsigned headers")
	}
	if rows := find(doc, "researcher-key"); len(rows) != 1 || len(find(doc, "researcher-key-best")) != 1 {
		t.Error("key row or its in-use mark missing")
	}
	if len(find(doc, "key-lookup")) != 0 {
		t.Error("lookup button without a URL")
	}

	v.KeyLookupURL = "/reports/1/lookup-key"
	v.Parts, v.Keys = nil, nil
	_, doc = render(t, templates.ReportPage(v))
	if b := find(doc, "key-lookup"); len(b) != 1 || attr(b[0].Parent, "method") != "post" || attr(b[0].Parent, "action") != "/reports/1/lookup-key" {
		t.Error("lookup form missing or not a POST")
	}
	if len(find(doc, "researcher-keys-empty")) != 1 || text(find(doc, "report-body")[0]) != v.Body {
		t.Error("no empty-keys note, or no body without parts")
	}
}

func TestSourcePage(t *testing.T) {
	out, doc := render(t, templates.SourcePage(templates.SourceView{
		TrackingID: "SEC-2026-0001", ReportURL: "/reports/1", Name: payload, ContentType: "text/html",
		Text: payload, Truncated: true, DownloadURL: "/reports/1/attachments/2",
	}))
	if strings.Contains(out, "<script>alert") || strings.Contains(out, "<img") {
		t.Error("source rendered as markup")
	}
	if pre := find(doc, "source-text"); len(pre) != 1 || pre[0].Data != "pre" || text(pre[0]) != payload {
		t.Error("source not printed as text in a <pre>")
	}
	if len(find(doc, "source-truncated")) != 1 {
		t.Error("no truncation note")
	}
	_, doc = render(t, templates.SourcePage(templates.SourceView{Binary: true}))
	if len(find(doc, "source-binary")) != 1 || len(find(doc, "source-text")) != 0 {
		t.Error("binary file shown as text")
	}
}
