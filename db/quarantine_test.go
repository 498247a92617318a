package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// fileSender files a report from addr received at at, acknowledging it,
// after asking the store whether the sender is quarantined, as intake
// does.
func fileSender(tb testing.TB, d interface {
	QuarantineFor(context.Context, *triage.Report) (int64, error)
	FileReportAck(context.Context, *triage.Report, *triage.OutMail) error
}, mid int64, addr string, at time.Time) (*triage.Report, *triage.OutMail) {
	tb.Helper()
	r := triage.NewReport(at)
	r.MessageID, r.Title, r.ResearcherEmail = mid, "Buy now", addr
	var err error
	if r.Quarantine, err = d.QuarantineFor(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	ack := newAck(at)
	ack.To = addr
	if err := d.FileReportAck(context.Background(), r, ack); err != nil {
		tb.Fatal(err)
	}
	return r, ack
}

func TestQuarantine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	admin := mustCreateUser(t, d, "root@example.com", triage.RoleAdmin)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	ids := func(rs []*triage.Report) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}

	// An open report from the sender before the rule: held by it too.
	before, _ := fileSender(t, d, addMessage(t, d, t0), "bot@junk.example", t0)
	answered, _ := fileSender(t, d, addMessage(t, d, t0), "bot@junk.example", t0)
	if err := d.RecordResponse(ctx, answered.ID, actor(admin), h(1)); err != nil {
		t.Fatal(err)
	}
	rule, err := triage.ParseQuarantineRule("domain", "junk.example", "crypto spam")
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.AddQuarantine(ctx, &rule, actor(admin), h(2))
	if err != nil || n != 1 || rule.ID == 0 {
		t.Fatalf("add: held %d, %v", n, err)
	}
	dup := rule
	_, err = d.AddQuarantine(ctx, &dup, actor(admin), h(2))
	wantCode(t, err, triage.ECONFLICT)

	// New mail from them is filed held: no acknowledgement, no clock.
	held, ack := fileSender(t, d, addMessage(t, d, h(3)), "other@mail.junk.example", h(3))
	if held.Quarantine != rule.ID || ack.ID != 0 {
		t.Fatalf("filed: quarantine %d, ack %d", held.Quarantine, ack.ID)
	}
	if mails, _ := d.Outbox(ctx, triage.OutboxFilter{ReportID: held.ID}); len(mails) != 0 {
		t.Errorf("a held report was acknowledged: %d mails", len(mails))
	}
	legit, _ := fileSender(t, d, addMessage(t, d, h(3)), "alice@example.org", h(3))
	if legit.Quarantine != 0 {
		t.Fatal("another sender held")
	}

	board, err := d.Board(ctx, triage.ReportFilter{}, h(30))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(board); !slices.Equal(got, []int64{legit.ID, answered.ID}) {
		t.Errorf("board %v, want the legit and the answered report only", got)
	}
	q, err := d.Board(ctx, triage.ReportFilter{Quarantined: true, Query: "buy"}, h(30))
	if err != nil || !slices.Equal(ids(q), []int64{held.ID, before.ID}) {
		t.Errorf("quarantine view %v %v", ids(q), err)
	}
	rules, err := d.QuarantineRules(ctx)
	if err != nil || len(rules) != 1 || rules[0].Held != 2 || rules[0].CreatedBy != "root@example.com" {
		t.Errorf("rules %+v %v", rules, err)
	}
	rs, _ := d.FirstResponses(ctx, t0.Add(-time.Hour))
	if len(rs) != 2 {
		t.Errorf("metrics see %d reports, want 2 (not the held ones)", len(rs))
	}
	got, _ := d.Report(ctx, held.ID)
	if len(got.Clocks(triage.DefaultSLAPolicy(), h(30)).All()) != 0 {
		t.Error("a held report has clocks")
	}

	// Release: on the board, acknowledged now, clocks from now.
	released, acked, err := d.ReleaseQuarantine(ctx, rule.ID, actor(admin), h(40))
	if err != nil || released != 2 || acked != 1 {
		t.Fatalf("release: %d released, %d acked, %v", released, acked, err)
	}
	if mails, _ := d.Outbox(ctx, triage.OutboxFilter{ReportID: held.ID}); len(mails) != 1 || mails[0].Kind != triage.MailAck || !mails[0].CreatedAt.Equal(h(40)) {
		t.Errorf("acknowledgement after the release: %+v", mails)
	}
	got, _ = d.Report(ctx, held.ID)
	if fr := got.Clocks(triage.DefaultSLAPolicy(), h(41)).FirstResponse; got.Held() || fr == nil || !fr.DueAt.Equal(h(64)) {
		t.Errorf("released report: held %v, first response %+v (want due %v)", got.Held(), fr, h(64))
	}
	if board, _ = d.Board(ctx, triage.ReportFilter{}, h(41)); len(board) != 4 {
		t.Errorf("board after the release: %d reports", len(board))
	}
	_, _, err = d.ReleaseQuarantine(ctx, rule.ID, actor(admin), h(41))
	wantCode(t, err, triage.ENOTFOUND)
	// The rule no longer holds new mail.
	if again, _ := fileSender(t, d, addMessage(t, d, h(42)), "bot@junk.example", h(42)); again.Quarantine != 0 {
		t.Error("a released rule still holds mail")
	}
	evs, _ := d.ReportEvents(ctx, held.ID)
	var kinds []triage.EventKind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []triage.EventKind{triage.EventHeld, triage.EventReleased}) {
		t.Errorf("history %v", kinds)
	}

	// The sender's history, without the report itself.
	sh, err := d.SenderHistory(ctx, "BOT@junk.example", "", answered.ID, 10)
	if err != nil || sh.AddressTotal != 2 || len(sh.ByAddress) != 2 || sh.AddressOutcomes[triage.StatusNew] != 2 {
		t.Errorf("sender history %+v %v", sh, err)
	}
}
