package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

// TestSender_CreditOfferAndStatusLink: the credit offer carries its link,
// expiry and the four choices; the acknowledgement of a web submission
// carries its status link. Both links are the tokens the web pages
// accept (their hashes are what the database stored).
func TestSender_CreditOfferAndStatusLink(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	s := e.sender(inbox.SenderConfig{Maildir: dir})

	// A web submission: its raw message has a status link.
	nonce := triage.NewNonce()
	raw := &triage.RawMessage{MailFrom: researcherAddr, Recipients: []string{teamAddr}, ReceivedAt: e.received,
		Data: []byte("Subject: x\r\n\r\nx\r\n")}
	hash := func(id int64) []byte {
		return triage.TokenHash(triage.LinkToken(linkKey, triage.LinkStatus, id, nonce))
	}
	if err := e.db.AddWebSubmission(ctx, raw, nonce, hash); err != nil {
		t.Fatal(err)
	}
	r := triage.NewReport(e.received)
	r.MessageID, r.Title, r.ResearcherEmail, r.Encrypted, r.Decrypted = raw.ID, "XSS", researcherAddr, true, true
	ack := &triage.OutMail{Kind: triage.MailAck, To: researcherAddr, HeaderMessageID: triage.NewMessageID("example.com"), CreatedAt: e.received}
	if err := e.db.FileReportAck(ctx, r, ack); err != nil {
		t.Fatal(err)
	}
	e.tick(s, 1)
	text := e.read(onlyMail(t, dir, 1)).Text
	statusURL := publicURL + "/status/" + triage.LinkToken(linkKey, triage.LinkStatus, raw.ID, nonce)
	if !strings.Contains(text, statusURL) {
		t.Errorf("acknowledgement lacks the status link %s:\n%s", statusURL, text)
	}
	if _, rid, err := e.db.StatusLink(ctx, triage.TokenHash(strings.TrimPrefix(statusURL, publicURL+"/status/"))); err != nil || rid != r.ID {
		t.Errorf("the status link does not lead to the report: %d, %v", rid, err)
	}

	// A credit offer.
	cnonce := triage.NewNonce()
	token := triage.LinkToken(linkKey, triage.LinkCredit, r.ID, cnonce)
	offer := &triage.OutMail{Kind: triage.MailCreditOffer, To: researcherAddr, Body: "Thank you for this one!",
		HeaderMessageID: triage.NewMessageID("example.com"), CreatedAt: e.received}
	c := &triage.Credit{ReportID: r.ID, OfferedAt: e.received}
	if err := e.db.OfferCredit(ctx, c, cnonce, triage.TokenHash(token), offer, triage.Actor{Email: "system"}); err != nil {
		t.Fatal(err)
	}
	e.tick(s, 1)
	text = e.read(onlyMail(t, dir, 2)).Text
	for _, want := range []string{"Thank you for this one!", publicURL + "/credit/" + token, "21 December 2026",
		"name", "handle", "anonymous", "none", r.TrackingID} {
		if !strings.Contains(text, want) {
			t.Errorf("credit offer lacks %q:\n%s", want, text)
		}
	}
	if got, err := e.db.CreditByTokenHash(ctx, triage.TokenHash(token)); err != nil || got.ReportID != r.ID {
		t.Errorf("the credit link does not lead to the offer: %v", err)
	}
}

// onlyMail returns the newest of the n mails in maildir dir.
func onlyMail(t *testing.T, dir string, n int) []byte {
	t.Helper()
	files, err := os.ReadDir(filepath.Join(dir, "new"))
	if err != nil || len(files) != n {
		t.Fatalf("new/ holds %d files, want %d: %v", len(files), n, err)
	}
	var newest []byte
	var newestTime time.Time
	for _, f := range files {
		fi, err := f.Info()
		if err != nil {
			t.Fatal(err)
		}
		if newest == nil || !fi.ModTime().Before(newestTime) {
			if newest, err = os.ReadFile(filepath.Join(dir, "new", f.Name())); err != nil {
				t.Fatal(err)
			}
			newestTime = fi.ModTime()
		}
	}
	return newest
}
