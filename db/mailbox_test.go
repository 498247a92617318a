package db_test

import (
	"context"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestAddMailboxMessage: a message fetched from a mailbox is stored once,
// whether it is seen again under its UID or, after the folder changed its
// UIDVALIDITY, by its Message-ID and bytes.
func TestAddMailboxMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	data := []byte("Message-ID: <a@example.org>\r\nSubject: hi\r\n\r\nbody\r\n")
	origin := triage.MailboxOrigin{Mailbox: "imaps://sec@imap.example.com:993/INBOX", UIDValidity: 7, UID: 42, MessageID: "<a@example.org>"}
	add := func(data []byte, o triage.MailboxOrigin) (int64, bool) {
		t.Helper()
		m := &triage.RawMessage{MailFrom: "a@example.org", RemoteAddr: "imap", Data: data}
		dup, err := d.AddMailboxMessage(ctx, m, o)
		if err != nil {
			t.Fatal(err)
		}
		return m.ID, dup
	}
	if seen, err := d.MailboxMessageSeen(ctx, origin.Mailbox, 7, 42); err != nil || seen {
		t.Fatalf("seen before it was stored: %v %v", seen, err)
	}
	first, dup := add(data, origin)
	if dup || first == 0 {
		t.Fatalf("first: id %d dup %v", first, dup)
	}
	if seen, err := d.MailboxMessageSeen(ctx, origin.Mailbox, 7, 42); err != nil || !seen {
		t.Fatalf("not seen after it was stored: %v %v", seen, err)
	}
	if id, dup := add(data, origin); !dup || id != first {
		t.Errorf("same UID again: id %d dup %v, want %d true", id, dup, first)
	}
	other := origin
	other.UIDValidity, other.UID = 8, 1
	if id, dup := add(data, other); !dup || id != first {
		t.Errorf("new UIDVALIDITY, same bytes: id %d dup %v, want %d true", id, dup, first)
	}
	changed := append([]byte("X-Seen: again\r\n"), data...)
	if id, dup := add(changed, other); dup || id == first {
		t.Errorf("other bytes: id %d dup %v, want a new message", id, dup)
	}
	pending, err := d.PendingRawMessages(ctx)
	if err != nil || len(pending) != 2 {
		t.Errorf("pending %v %v, want 2 messages", pending, err)
	}
}
