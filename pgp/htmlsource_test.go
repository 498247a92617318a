package pgp

import (
	"bytes"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// fromHTML are the parts of m taken from HTML.
func fromHTML(m *Message) []triage.BodyPart {
	var out []triage.BodyPart
	for _, p := range m.Parts {
		if p.FromHTML {
			out = append(out, p)
		}
	}
	return out
}

// An HTML part points at the attachment holding its own source, even when
// the sender attached another file named body.html before it.
func TestParseMessage_HTMLPartSource(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)

	t.Run("AttachedFileOfTheSameName", func(t *testing.T) {
		decoy := []byte("<p>an attached page, not the body</p>")
		raw := mixedMessage("a@b.example", "html", base64Part("text/html", "body.html", decoy),
			"Content-Type: text/html; charset=utf-8\r\n\r\n<p>the real <b>body</b></p>")
		m, err := ParseMessage(raw, Keys(keys.all(), nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attachments) != 2 || m.Attachments[0].Name != "body.html" || m.Attachments[1].Name != "body.html" {
			t.Fatalf("attachments %q", names(m.Attachments))
		}
		parts := fromHTML(m)
		if len(parts) != 1 || parts[0].Text != "the real body" {
			t.Fatalf("HTML parts %+v", parts)
		}
		if parts[0].Source != 2 || !bytes.Contains(m.Attachments[parts[0].Source-1].Data, []byte("the real <b>body</b>")) {
			t.Errorf("the HTML part points at attachment %d, want 2 (its own source)", parts[0].Source)
		}
		for _, p := range m.Parts {
			if !p.FromHTML && p.Source != 0 {
				t.Errorf("part %q not from HTML has Source %d", p.Path, p.Source)
			}
		}
	})
	t.Run("DecryptedHTMLFile", func(t *testing.T) {
		m, err := ParseMessage(readFixture(t, "attachment-encrypted.eml"), Keys(keys.all(), keys.researcher), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		parts := fromHTML(m)
		if len(parts) == 0 {
			t.Fatalf("no HTML part in %+v", m.Parts)
		}
		for _, p := range parts {
			if p.Source < 1 || p.Source > len(m.Attachments) || m.Attachments[p.Source-1].Name != "PGPexch.htm" {
				t.Errorf("part %q points at attachment %d of %q, want PGPexch.htm", p.Path, p.Source, names(m.Attachments))
			}
		}
	})
}
