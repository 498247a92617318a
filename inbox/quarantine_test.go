package inbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestQuarantine_HeldWithoutAck: mail from a quarantined sender, sent
// over SMTP, is filed held and not acknowledged; the same mail from
// anyone else is; the release sends the acknowledgement it was held with.
func TestQuarantine_HeldWithoutAck(t *testing.T) {
	t.Parallel()
	c := newConv(t)
	ctx := context.Background()
	rule, err := triage.ParseQuarantineRule("address", "junk@spam.example", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ts.db.AddQuarantine(ctx, &rule, triage.Actor{Email: triage.ActorCLI}, time.Now()); err != nil {
		t.Fatal(err)
	}
	data, msgID := c.mail("Junk <JUNK@spam.example>", "Cheap pills", "", "Buy now.")
	held := c.mustReport(c.send("junk@spam.example", data))
	if held.Quarantine != rule.ID {
		t.Fatalf("report from a quarantined sender: quarantine %d, want %d", held.Quarantine, rule.ID)
	}
	if out := c.outbox(held.ID); len(out) != 0 {
		t.Errorf("a held report was acknowledged: %+v", out)
	}
	if n := c.queued.Load(); n != 0 {
		t.Errorf("the sender was woken %d times for nothing", n)
	}
	data, _ = c.mail("Alice <alice@example.org>", "XSS", "", "Steps.")
	legit := c.mustReport(c.send("alice@example.org", data))
	if legit.Quarantine != 0 || len(c.outbox(legit.ID)) != 1 {
		t.Errorf("another sender: quarantine %d, %d mails", legit.Quarantine, len(c.outbox(legit.ID)))
	}

	if _, acked, err := c.ts.db.ReleaseQuarantine(ctx, rule.ID, triage.Actor{Email: triage.ActorCLI}, time.Now()); err != nil || acked != 1 {
		t.Fatalf("release: %d acknowledgements, %v", acked, err)
	}
	out := c.outbox(held.ID)
	if len(out) != 1 || out[0].Kind != triage.MailAck || out[0].To != "junk@spam.example" || out[0].InReplyTo != msgID {
		t.Errorf("acknowledgement after the release: %+v", out)
	}
}
