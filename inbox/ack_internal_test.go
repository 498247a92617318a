package inbox

import (
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

func TestAckRecipient(t *testing.T) {
	t.Parallel()
	own := []string{"security@example.com", "psirt@example.com"}
	for _, tc := range []struct {
		name      string
		envelope  string
		from      string
		automated bool
		list      bool
		wantTo    string // "" when no ack is due
		reason    string // part of the reason when no ack is due
	}{
		{"a researcher", "r@example.org", "r@example.org", false, false, "r@example.org", ""},
		{"lower-cased", "bounces@lists.example.org", "Alice@Example.ORG", false, false, "alice@example.org", ""},
		{"envelope differs", "srs=abc@forwarder.example", "r@example.org", false, false, "r@example.org", ""},
		{"plus detail", "r@example.org", "r+sec@example.org", false, false, "r+sec@example.org", ""},
		{"null sender", "", "r@example.org", false, false, "", "bounce"},
		{"null sender brackets", "<>", "r@example.org", false, false, "", "bounce"},
		{"automated", "r@example.org", "r@example.org", true, false, "", "automated"},
		{"list", "r@example.org", "r@example.org", false, true, "", "list"},
		{"no From", "r@example.org", "", false, false, "", "no From"},
		{"From without a domain", "r@example.org", "root@localhost", false, false, "", "invalid"},
		{"From with a display name", "r@example.org", "R <r@example.org>", false, false, "", "invalid"},
		{"From with CRLF", "r@example.org", "r@example.org\r\nBcc: x@example.net", false, false, "", "invalid"},
		{"our address", "x@example.net", "security@example.com", false, false, "", "our own"},
		{"our alias in capitals", "x@example.net", "PSIRT@Example.com", false, false, "", "our own"},
		{"MAILER-DAEMON", "x@example.net", "MAILER-DAEMON@mx.example.net", false, false, "", "mailer-daemon"},
		{"postmaster", "x@example.net", "postmaster@example.net", false, false, "", "mailer-daemon"},
		{"noreply", "x@example.net", "noreply@example.net", false, false, "", "no-reply"},
		{"no-reply", "x@example.net", "no-reply@example.net", false, false, "", "no-reply"},
		{"no_reply with detail", "x@example.net", "No_Reply+42@example.net", false, false, "", "no-reply"},
		{"noreply-notifications", "x@example.net", "noreply-notifications@example.net", false, false, "", "no-reply"},
		{"do-not-reply", "x@example.net", "do-not-reply@example.net", false, false, "", "no-reply"},
		{"VERP bounce", "x@example.net", "bounces+123-abc@example.net", false, false, "", "no-reply"},
		{"a person named like a robot, almost", "x@example.net", "norene@example.net", false, false, "norene@example.net", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			to, ok, reason := ackRecipient(tc.envelope, tc.from, tc.automated, tc.list, own)
			if tc.wantTo != "" {
				if !ok || to != tc.wantTo || reason != "" {
					t.Fatalf("got (%q, %v, %q), want an ack to %q", to, ok, reason, tc.wantTo)
				}
				return
			}
			if ok || to != "" {
				t.Fatalf("got an ack to %q, want none", to)
			}
			if !strings.Contains(reason, tc.reason) {
				t.Errorf("reason %q, want it to mention %q", reason, tc.reason)
			}
		})
	}
}

func TestAckWithinLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                             string
		toRecipient, total, per, perHour int
		ok                               bool
		reason                           string
	}{
		{"first", 0, 0, 3, 100, true, ""},
		{"third to one address", 2, 50, 3, 100, true, ""},
		{"fourth to one address", 3, 50, 3, 100, false, "per-recipient"},
		{"cap reached", 0, 100, 3, 100, false, "cap"},
		{"cap just below", 0, 99, 3, 100, true, ""},
		{"defaults: fourth", 3, 0, 0, 0, false, "per-recipient"},
		{"defaults: cap", 0, DefaultAckPerHour, 0, 0, false, "cap"},
		{"defaults: below", 2, DefaultAckPerHour - 1, 0, 0, true, ""},
		{"limit one", 1, 1, 1, 5, false, "per-recipient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason := ackWithinLimits(tc.toRecipient, tc.total, tc.per, tc.perHour)
			if ok != tc.ok || !strings.Contains(reason, tc.reason) || (ok && reason != "") {
				t.Errorf("got (%v, %q), want (%v, %q)", ok, reason, tc.ok, tc.reason)
			}
		})
	}
}

func TestThreadHelpers(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"<abc@example.org>":                    true,
		"<no-at-sign>":                         true,
		"abc@example.org":                      false,
		"<a b@example.org>":                    false,
		"<a<b@example.org>":                    false,
		"<ab@example.org>\r\nBcc: x":           false,
		"<é@example.org>":                      false,
		"<>":                                   false,
		"<" + strings.Repeat("a", 300) + "@x>": false,
	} {
		if got := validMessageID(id); got != want {
			t.Errorf("validMessageID(%q) = %v, want %v", id, got, want)
		}
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"alice@example.org", "alice@EXAMPLE.org", true},
		{"alice@example.org", "Alice@example.org", false},
		{"alice@example.org", "alice@example.org.evil", false},
		{"alice@example.org", "bob@example.org", false},
		{"", "", false},
		{"alice", "alice", false},
	} {
		if got := sameAddress(tc.a, tc.b); got != tc.want {
			t.Errorf("sameAddress(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestIncomingMessage_Caps: a reply with more attachments than the store
// keeps is cut down rather than refused (which would leave it pending and
// tried again forever), and no part points at a file left out.
func TestIncomingMessage_Caps(t *testing.T) {
	t.Parallel()
	r := triage.NewReport(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	r.Attachments = make([]triage.Attachment, maxReplyAttachments+5)
	r.Parts = []triage.BodyPart{{Path: "1", Source: 2}, {Path: "2", Source: maxReplyAttachments + 3}}
	m := incomingMessage(7, &triage.RawMessage{ID: 9}, r)
	if len(m.Attachments) != maxReplyAttachments {
		t.Errorf("%d attachments kept, want %d", len(m.Attachments), maxReplyAttachments)
	}
	if m.Parts[0].Source != 2 || m.Parts[1].Source != 0 {
		t.Errorf("part sources %d, %d; want 2, 0", m.Parts[0].Source, m.Parts[1].Source)
	}
	if r.Parts[1].Source != maxReplyAttachments+3 {
		t.Error("the report's parts were changed in place")
	}
	if m.ReportID != 7 || m.RawMessageID != 9 || m.Direction != triage.DirectionIn || m.Via != triage.ViaMail || !m.At.Equal(r.ReceivedAt) {
		t.Errorf("message %+v", m)
	}
}
