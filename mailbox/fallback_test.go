package mailbox

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap"

	"github.com/secinbox/secinbox/triage"
)

// The capabilities Dovecot announces after sign-in in the fallback
// tests: its usual ones without MOVE (and, in one, without UIDPLUS).
// Dovecot still executes what it does not announce, so only a client
// that reads the capabilities behaves as tested.
const capsNoMove = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE UNSELECT CHILDREN"

// uids returns the UIDs in folder, and those of them marked \Deleted.
func (p *peer) uids(folder string) (all, deleted []uint32) {
	p.t.Helper()
	if _, err := p.c.Select(folder, true); err != nil {
		p.t.Fatalf("select %s: %v", folder, err)
	}
	defer p.c.Unselect()
	all, err := p.c.UidSearch(imap.NewSearchCriteria())
	if err != nil {
		p.t.Fatal(err)
	}
	crit := imap.NewSearchCriteria()
	crit.WithFlags = []string{imap.DeletedFlag}
	if deleted, err = p.c.UidSearch(crit); err != nil {
		p.t.Fatal(err)
	}
	slices.Sort(all)
	slices.Sort(deleted)
	return all, deleted
}

// appendDeleted adds a message already marked \Deleted to folder: one a
// person deleted in a mail client and did not expunge.
func (p *peer) appendDeleted(folder string, data []byte) {
	p.t.Helper()
	if err := p.c.Append(folder, []string{imap.DeletedFlag}, time.Now(), bytes.NewBuffer(data)); err != nil {
		p.t.Fatalf("append to %s: %v", folder, err)
	}
}

// TestPoller_MoveFallback: a server without MOVE (RFC 6851) but with
// UIDPLUS gets COPY, \Deleted and UID EXPUNGE of that message alone: the
// message is in the done folder and gone from INBOX, and a message
// someone else marked \Deleted in INBOX is still there (a plain EXPUNGE
// would have removed it).
func TestPoller_MoveFallback(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, false, "imap_capability = "+capsNoMove+" UIDPLUS\n")
	r := newRig(t)
	mua := d.peer(t)
	mua.appendDeleted("INBOX", plainMessage("trash", "Someone else's deleted mail"))
	mua.appendMessage("INBOX", plainMessage("nomove", "Filed without MOVE"))
	before, _ := mua.uids("INBOX")

	p, statuses := r.poller("imap://"+testUser+"@"+d.imapAddr+"/INBOX", TLSNone, d, nil)
	run(t, p)
	waitStatus(t, statuses, "ok", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
	waitFor(t, "the report", func() bool { return len(r.reports()) == 1 })
	all, deleted := mua.uids("INBOX")
	if len(before) != 2 || !slices.Equal(all, before[:1]) || !slices.Equal(deleted, before[:1]) {
		t.Errorf("INBOX UIDs %v (deleted %v), want only %v, the other person's deleted message (before: %v)", all, deleted, before[:1], before)
	}
	if n := mua.count("secinbox-filed"); n != 1 {
		t.Errorf("done folder holds %d messages, want 1", n)
	}
	if n := r.rawCount(); n != 1 {
		t.Errorf("%d raw messages stored, want 1", n)
	}
}

// TestPoller_MoveFallbackNoUIDPlus: without MOVE and UIDPLUS the message
// is copied to the done folder and marked \Deleted, not expunged (that
// would take everything marked); the next check skips it, and a message
// delivered afterwards is filed too.
func TestPoller_MoveFallbackNoUIDPlus(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, false, "imap_capability = "+capsNoMove+"\n")
	r := newRig(t)
	mua := d.peer(t)
	mua.appendMessage("INBOX", plainMessage("plain1", "Filed without MOVE or UIDPLUS"))

	p, statuses := r.poller("imap://"+testUser+"@"+d.imapAddr+"/INBOX", TLSNone, d, nil)
	run(t, p)
	waitStatus(t, statuses, "ok", func(s triage.MailboxStatus) bool { return s.State == triage.MailboxOK })
	waitFor(t, "the report", func() bool { return len(r.reports()) == 1 })
	all, deleted := mua.uids("INBOX")
	if len(all) != 1 || !slices.Equal(all, deleted) {
		t.Errorf("INBOX UIDs %v, deleted %v: want the filed message, kept and marked \\Deleted", all, deleted)
	}
	if n := mua.count("secinbox-filed"); n != 1 {
		t.Errorf("done folder holds %d messages, want 1", n)
	}

	mua.appendMessage("INBOX", plainMessage("plain2", "The next one"))
	waitFor(t, "the second report", func() bool { return len(r.reports()) == 2 })
	waitFor(t, "both in the done folder", func() bool { return mua.count("secinbox-filed") == 2 })
	if n := r.rawCount(); n != 2 {
		t.Errorf("%d raw messages stored, want 2", n)
	}
	if n := mua.count("INBOX"); n != 0 {
		t.Errorf("INBOX holds %d messages not marked deleted, want 0", n)
	}
}
