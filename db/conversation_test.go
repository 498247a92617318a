package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// newAck returns an acknowledgement for researcher r@example.org with a
// fresh Message-ID, created at at.
func newAck(at time.Time) *triage.OutMail {
	return &triage.OutMail{Kind: triage.MailAck, To: "r@example.org",
		HeaderMessageID: triage.NewMessageID("sec.example"), CreatedAt: at}
}

// fileAcked files a report received at at from a new raw message whose
// Message-ID is msgID, acknowledging it.
func fileAcked(tb testing.TB, d *db.DB, at time.Time, msgID string) (*triage.Report, *triage.OutMail) {
	tb.Helper()
	r := triage.NewReport(at)
	r.MessageID = addMessage(tb, d, at)
	r.Title = "XSS in /search"
	r.ResearcherEmail = "r@example.org"
	r.HeaderMessageID = msgID
	ack := newAck(at)
	if err := d.FileReportAck(context.Background(), r, ack); err != nil {
		tb.Fatal(err)
	}
	return r, ack
}

// mustRaw stores a raw message for a reply and returns its id.
func mustRaw(tb testing.TB, d *db.DB, at time.Time) int64 {
	tb.Helper()
	return addMessage(tb, d, at)
}

// newReply returns a staff reply to report reportID at at, and its mail.
func newReply(reportID int64, at time.Time, body string) (*triage.Message, *triage.OutMail) {
	m := &triage.Message{ReportID: reportID, At: at, From: "security@sec.example", Body: body}
	mail := &triage.OutMail{To: "r@example.org", Subject: triage.ReplySubject("SEC-2026-0001"),
		HeaderMessageID: triage.NewMessageID("sec.example")}
	return m, mail
}

// mustQueue queues a reply-kind mail created at at and returns it.
func mustQueue(tb testing.TB, d *db.DB, at time.Time) *triage.OutMail {
	tb.Helper()
	m := &triage.OutMail{Kind: triage.MailNotification, To: "team@example.com", Subject: "SLA",
		Body: "due soon", HeaderMessageID: triage.NewMessageID("sec.example"), CreatedAt: at}
	if err := d.QueueMail(context.Background(), m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func outboxByID(tb testing.TB, d *db.DB, id int64) *triage.OutMail {
	tb.Helper()
	ms, err := d.Outbox(context.Background(), triage.OutboxFilter{Limit: db.MaxMailLimit})
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	tb.Fatalf("mail %d not in the outbox", id)
	return nil
}

func pendingIDs(tb testing.TB, d *db.DB, now time.Time, limit int) []int64 {
	tb.Helper()
	ms, err := d.PendingMail(context.Background(), now, limit)
	if err != nil {
		tb.Fatal(err)
	}
	var ids []int64
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestFileReportAck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	r, ack := fileAcked(t, d, t0, "<first@example.org>")

	if ack.ID == 0 || ack.ReportID != r.ID || ack.TrackingID != r.TrackingID || r.TrackingID == "" {
		t.Fatalf("ack %+v for report %d %s", ack, r.ID, r.TrackingID)
	}
	if want := "[" + r.TrackingID + "] Report received"; ack.Subject != want {
		t.Errorf("subject %q, want %q", ack.Subject, want)
	}
	got, err := d.Report(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.HeaderMessageID != "<first@example.org>" {
		t.Errorf("HeaderMessageID = %q", got.HeaderMessageID)
	}
	list, err := d.Reports(ctx, triage.ReportFilter{})
	if err != nil || len(list) != 1 || list[0].HeaderMessageID != "<first@example.org>" {
		t.Fatalf("Reports: %v, %+v", err, list)
	}
	pending := func() []*triage.OutMail {
		ms, err := d.PendingMail(ctx, t0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	if ms := pending(); len(ms) != 1 || ms[0].ID != ack.ID || ms[0].TrackingID != r.TrackingID ||
		ms[0].Kind != triage.MailAck || ms[0].State != triage.DeliveryQueued || !ms[0].NextAttempt.Equal(t0) {
		t.Fatalf("pending %+v", ms)
	}

	t.Run("FiledTwice", func(t *testing.T) {
		again := triage.NewReport(t0)
		again.MessageID = r.MessageID
		again.Title = "again"
		ack2 := newAck(t0)
		err := d.FileReportAck(ctx, again, ack2)
		wantCode(t, err, triage.ECONFLICT)
		if ack2.ID != 0 || ack2.ReportID != 0 {
			t.Errorf("second ack got ids %d, %d", ack2.ID, ack2.ReportID)
		}
		if n := countRows(t, rawSQL(t, path), "outbox"); n != 1 {
			t.Errorf("%d outbox rows, want 1", n)
		}
		if n, err := d.CountMail(ctx, triage.MailAck, "r@example.org", t0); err != nil || n != 1 {
			t.Errorf("CountMail = %d, %v, want 1", n, err)
		}
	})
	t.Run("SecondAckOfReport", func(t *testing.T) {
		ack2 := newAck(t0)
		ack2.ReportID, ack2.Subject = r.ID, triage.AckSubject(r.TrackingID)
		wantCode(t, d.QueueMail(ctx, ack2), triage.ECONFLICT)
		if len(pending()) != 1 {
			t.Error("a second ack was queued")
		}
	})
	t.Run("InvalidAckFilesNothing", func(t *testing.T) {
		nr := triage.NewReport(t0)
		nr.MessageID = addMessage(t, d, t0)
		bad := newAck(t0)
		bad.To = "r@example.org\r\nBcc: everyone@example.org"
		wantCode(t, d.FileReportAck(ctx, nr, bad), triage.EINVALID)
		ids, err := d.PendingRawMessages(ctx)
		if err != nil || !slices.Contains(ids, nr.MessageID) {
			t.Fatalf("the message was filed anyway: pending %v, %v", ids, err)
		}
		// Filing it without an ack works.
		if err := d.FileReportAck(ctx, nr, nil); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, rawSQL(t, path), "outbox"); n != 1 {
			t.Errorf("%d outbox rows, want 1", n)
		}
	})
}

func TestReportByMessageIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	r1, ack := fileAcked(t, d, t0, "<first@example.org>")
	r2, _ := fileAcked(t, d, t0.Add(time.Minute), "<other@example.org>")
	in := &triage.Message{ReportID: r1.ID, RawMessageID: mustRaw(t, d, t0.Add(time.Hour)), At: t0.Add(time.Hour),
		From: "r@example.org", Body: "more", HeaderMessageID: "<reply@example.org>"}
	if err := d.AddIncomingMessage(ctx, in); err != nil {
		t.Fatal(err)
	}
	out, mail := newReply(r1.ID, t0.Add(2*time.Hour), "thanks")
	if err := d.AddReply(ctx, out, mail, triage.Actor{}); err != nil {
		t.Fatal(err)
	}
	// An SLA notification mailed to the team about r1: answers to it are
	// the team's, not the researcher's.
	team := &triage.OutMail{Kind: triage.MailNotification, ReportID: r1.ID, To: "lead@example.com",
		Subject: "[" + r1.TrackingID + "] SLA", Body: "due soon", HeaderMessageID: "<sla.1@localhost>", CreatedAt: t0}
	if err := d.QueueMail(ctx, team); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ids  []string
		want int64
	}{
		{"TeamNotification", []string{"<sla.1@localhost>"}, 0},
		{"FirstMessage", []string{"<first@example.org>"}, r1.ID},
		{"Acknowledgement", []string{ack.HeaderMessageID}, r1.ID},
		{"ResearcherReply", []string{"<reply@example.org>"}, r1.ID},
		{"StaffReply", []string{mail.HeaderMessageID}, r1.ID},
		{"SkipsUnknown", []string{"<nope@example.org>", "<other@example.org>"}, r2.ID},
		{"EarliestIDWins", []string{"<other@example.org>", "<first@example.org>"}, r2.ID},
		{"Unknown", []string{"<nope@example.org>"}, 0},
		{"NotAMessageID", []string{"first@example.org", "", "<a b@example.org>"}, 0},
		{"None", nil, 0},
		{"Bounded", manyIDs(150, "<first@example.org>"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.ReportByMessageIDs(ctx, tc.ids)
			if tc.want == 0 {
				wantCode(t, err, triage.ENOTFOUND)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v, want %d", got, err, tc.want)
			}
		})
	}
	t.Run("TrackingID", func(t *testing.T) {
		got, err := d.ReportByTrackingID(ctx, r2.TrackingID)
		if err != nil || got != r2.ID {
			t.Fatalf("got %d, %v, want %d", got, err, r2.ID)
		}
		_, err = d.ReportByTrackingID(ctx, "SEC-1999-0001")
		wantCode(t, err, triage.ENOTFOUND)
	})
}

// manyIDs returns n distinct unknown Message-IDs followed by last: only
// the first 100 ids are looked up, so last is never found.
func manyIDs(n int, last string) []string {
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("<junk%d@example.org>", i))
	}
	return append(ids, last)
}

func TestAddIncomingMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r, _ := fileAcked(t, d, t0, "<first@example.org>")
	if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusNeedsInfo)}, actor(alice), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	at := t0.Add(5 * time.Hour)
	m := &triage.Message{
		ReportID: r.ID, RawMessageID: mustRaw(t, d, at), At: at, From: "r@example.org",
		Subject: "Re: [SEC-2026-0001] Report received", Body: "Here is the PoC for Tomcat.\n\nHTML text",
		Encrypted: true, Decrypted: true, HeaderMessageID: "<reply1@example.org>",
		Signature:  triage.Signature{Status: triage.SignaturePartial, KeyID: "89ABCDEF01234567"},
		Signatures: []triage.Signature{{Status: triage.SignatureGood, KeyID: "89ABCDEF01234567", Parts: []string{"1"}}},
		Parts: []triage.BodyPart{
			{Path: "1", ContentType: "text/plain", Text: "Here is the PoC.", Encrypted: true, Signature: 1},
			{Path: "2", ContentType: "text/html", Text: "HTML text", FromHTML: true, Source: 2},
		},
		Attachments: []triage.Attachment{
			{Name: "poc.py", ContentType: "text/x-python", Size: 5, SHA256: "aa", Data: []byte("print")},
			{Name: "body.html", ContentType: "text/html", Size: 4, SHA256: "bb", Data: []byte("<p/>")},
		},
	}
	if err := d.AddIncomingMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || m.Attachments[0].ID == 0 || m.Attachments[1].ID == 0 {
		t.Fatalf("ids not set: %d, %+v", m.ID, m.Attachments)
	}

	t.Run("ResumesNeedsInfo", func(t *testing.T) {
		got, err := d.Report(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != triage.StatusTriaging {
			t.Errorf("status %s, want triaging", got.Status)
		}
		ps := got.Timeline.Pauses
		if len(ps) != 1 || !ps[0].Start.Equal(t0.Add(time.Hour)) || !ps[0].End.Equal(at) {
			t.Errorf("pauses %+v, want one from +1h to +5h", ps)
		}
		evs, err := d.ReportEvents(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		if last.Kind != triage.EventStatus || last.From != "needs-info" || last.To != "triaging" || last.ActorID != 0 || !last.At.Equal(at) {
			t.Errorf("last event %+v", last)
		}
		acts := auditActions(t, d)
		if !slices.Contains(acts, "report.status report:"+fmt.Sprint(r.ID)) ||
			!slices.Contains(acts, triage.AuditResearcherReply+" report:"+fmt.Sprint(r.ID)) {
			t.Errorf("audit %v", acts)
		}
	})
	t.Run("KeepsContentAndAttachments", func(t *testing.T) {
		msgs, err := d.Messages(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 {
			t.Fatalf("%d messages", len(msgs))
		}
		g := msgs[0]
		if g.ID != m.ID || g.Direction != triage.DirectionIn || g.Via != triage.ViaMail || g.Body != m.Body ||
			g.From != "r@example.org" || !g.At.Equal(at) || !g.Encrypted || !g.Decrypted ||
			g.HeaderMessageID != "<reply1@example.org>" || g.RawMessageID != m.RawMessageID || g.Subject != m.Subject {
			t.Errorf("message %+v", g)
		}
		if g.Signature.Status != triage.SignaturePartial || len(g.Signatures) != 1 || g.Signatures[0].Parts[0] != "1" {
			t.Errorf("signatures %+v %+v", g.Signature, g.Signatures)
		}
		if len(g.Parts) != 2 || g.Parts[0].Signature != 1 || g.Parts[1].Source != 2 || g.Parts[1].Text != "HTML text" {
			t.Errorf("parts %+v", g.Parts)
		}
		if len(g.Attachments) != 2 || g.Attachments[0].Name != "poc.py" || g.Attachments[1].Name != "body.html" || g.Attachments[0].Data != nil {
			t.Fatalf("attachments %+v", g.Attachments)
		}
		a, err := d.Attachment(ctx, r.ID, g.Attachments[0].ID)
		if err != nil || string(a.Data) != "print" {
			t.Fatalf("download: %v, %+v", err, a)
		}
		rep, err := d.Report(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Attachments) != 2 {
			t.Errorf("report lists %d attachments, want the reply's 2", len(rep.Attachments))
		}
		ids, err := d.PendingRawMessages(ctx)
		if err != nil || slices.Contains(ids, m.RawMessageID) {
			t.Errorf("raw message still pending: %v, %v", ids, err)
		}
		found, err := d.ReportByMessageIDs(ctx, []string{"<reply1@example.org>"})
		if err != nil || found != r.ID {
			t.Errorf("threading by the reply: %d, %v", found, err)
		}
	})
	t.Run("Searchable", func(t *testing.T) {
		for _, q := range []string{"tomcat", "poc.py", "XSS search"} {
			rs, err := d.Board(ctx, triage.ReportFilter{Query: q}, at)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 || rs[0].ID != r.ID {
				t.Errorf("search %q found %d reports, want the report", q, len(rs))
			}
		}
		// Later changes to the report keep the replies indexed.
		if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Labels: ptr([]string{"web"})}, actor(alice), at); err != nil {
			t.Fatal(err)
		}
		if rs, err := d.Board(ctx, triage.ReportFilter{Query: "tomcat"}, at); err != nil || len(rs) != 1 {
			t.Errorf("after an update: %d reports, %v", len(rs), err)
		}
	})
	t.Run("FiledTwice", func(t *testing.T) {
		again := *m
		again.ID, again.HeaderMessageID = 0, "<reply1-again@example.org>"
		again.Attachments = nil
		again.Parts = nil
		wantCode(t, d.AddIncomingMessage(ctx, &again), triage.ECONFLICT)
		// The raw message a report was filed from is filed too.
		again.RawMessageID = r.MessageID
		wantCode(t, d.AddIncomingMessage(ctx, &again), triage.ECONFLICT)
		msgs, _ := d.Messages(ctx, r.ID)
		if len(msgs) != 1 {
			t.Errorf("%d messages after refused filings", len(msgs))
		}
	})
	t.Run("OtherStatusUnchanged", func(t *testing.T) {
		at := at.Add(time.Hour)
		m2 := &triage.Message{ReportID: r.ID, RawMessageID: mustRaw(t, d, at), At: at, Body: "and more on Jetty"}
		if err := d.AddIncomingMessage(ctx, m2); err != nil {
			t.Fatal(err)
		}
		got, _ := d.Report(ctx, r.ID)
		if got.Status != triage.StatusTriaging || len(got.Timeline.Pauses) != 1 {
			t.Errorf("status %s, pauses %+v", got.Status, got.Timeline.Pauses)
		}
		// A message without attachments is indexed too.
		if rs, err := d.Board(ctx, triage.ReportFilter{Query: "jetty"}, at); err != nil || len(rs) != 1 {
			t.Errorf("search for the second reply: %d reports, %v", len(rs), err)
		}
		if m2.From != "r@example.org" {
			t.Errorf("From defaults to %q, want the researcher", m2.From)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for name, m := range map[string]*triage.Message{
			"NoRaw":       {ReportID: r.ID, At: at, Body: "x"},
			"NoTime":      {ReportID: r.ID, RawMessageID: mustRaw(t, d, at), Body: "x"},
			"BadPart":     {ReportID: r.ID, RawMessageID: mustRaw(t, d, at), At: at, Parts: []triage.BodyPart{{Signature: 3}}},
			"BadSource":   {ReportID: r.ID, RawMessageID: mustRaw(t, d, at), At: at, Parts: []triage.BodyPart{{Source: 1}}},
			"NoSuchRaw":   {ReportID: r.ID, RawMessageID: 9999, At: at},
			"NoSuchReprt": {ReportID: 9999, RawMessageID: mustRaw(t, d, at), At: at},
		} {
			err := d.AddIncomingMessage(ctx, m)
			var e *triage.Error
			if !errors.As(err, &e) || (e.Code != triage.EINVALID && e.Code != triage.ENOTFOUND) {
				t.Errorf("%s: %v", name, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "db: add incoming message: ") {
				t.Errorf("%s: error %q not wrapped", name, err)
			}
		}
	})
}

func TestAddWebReply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r, _ := fileAcked(t, d, t0, "")
	if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusNeedsInfo)}, actor(alice), t0); err != nil {
		t.Fatal(err)
	}
	wantCode(t, d.AddWebReply(ctx, &triage.Message{ReportID: r.ID, At: t0, Body: " \n"}, triage.Actor{}), triage.EINVALID)
	m := &triage.Message{ReportID: r.ID, At: t0.Add(time.Hour), Body: "version 2.3\r\n"}
	if err := d.AddWebReply(ctx, m, triage.Actor{RemoteAddr: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := d.Messages(ctx, r.ID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%v, %d messages", err, len(msgs))
	}
	if g := msgs[0]; g.Via != triage.ViaWeb || g.Direction != triage.DirectionIn || g.Body != "version 2.3\n" || g.From != "r@example.org" {
		t.Errorf("message %+v", g)
	}
	got, _ := d.Report(ctx, r.ID)
	if got.Status != triage.StatusTriaging {
		t.Errorf("status %s, want triaging", got.Status)
	}
	evs, err := d.ReportEvents(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.Kind != triage.EventStatus || last.To != "triaging" || last.ActorID != 0 {
		t.Errorf("last event %+v", last)
	}
	// Audited in the same transaction, as the researcher from the client's address.
	if aud, err := d.AuditEvents(ctx, triage.AuditFilter{Action: triage.AuditResearcherReply}); err != nil || len(aud) != 1 ||
		aud[0].ActorEmail != triage.ActorResearcher || aud[0].RemoteAddr != "192.0.2.7" {
		t.Errorf("audit %v %+v", err, aud)
	}
}

func TestAddReply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r, ack := fileAcked(t, d, t0, "<first@example.org>")

	t1 := t0.Add(3 * time.Hour)
	m, mail := newReply(r.ID, t1, "We are looking into it.\r\n")
	if err := d.AddReply(ctx, m, mail, actor(alice)); err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || mail.ID == 0 || mail.MessageID != m.ID || m.OutboxID != mail.ID || m.Delivery != triage.DeliveryQueued {
		t.Fatalf("ids: message %d, mail %d, mail.MessageID %d, OutboxID %d", m.ID, mail.ID, mail.MessageID, m.OutboxID)
	}
	responded := func() time.Time {
		got, err := d.Report(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Timeline.RespondedAt
	}
	if got := responded(); !got.Equal(t1) {
		t.Fatalf("RespondedAt = %v, want %v", got, t1)
	}

	t2 := t1.Add(time.Hour)
	m2, mail2 := newReply(r.ID, t2, "Fixed in 2.4.")
	if err := d.AddReply(ctx, m2, mail2, actor(alice)); err != nil {
		t.Fatal(err)
	}
	if got := responded(); !got.Equal(t1) {
		t.Errorf("the second reply moved RespondedAt to %v", got)
	}

	msgs, err := d.Messages(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].ID != m.ID || msgs[1].ID != m2.ID {
		t.Fatalf("messages %+v", msgs)
	}
	g := msgs[0]
	if g.Direction != triage.DirectionOut || g.Via != triage.ViaMail || g.Body != "We are looking into it.\n" ||
		g.AuthorID != alice.ID || g.AuthorEmail != "alice@example.com" || g.From != "security@sec.example" ||
		g.OutboxID != mail.ID || g.Delivery != triage.DeliveryQueued || g.HeaderMessageID != mail.HeaderMessageID {
		t.Errorf("message %+v", g)
	}
	q := outboxByID(t, d, mail.ID)
	if q.Kind != triage.MailReply || q.ReportID != r.ID || q.TrackingID != r.TrackingID || q.Body != "We are looking into it.\n" ||
		q.AuthorID != alice.ID || q.MessageID != m.ID || !q.NextAttempt.Equal(t1) {
		t.Errorf("outbox row %+v", q)
	}
	if n := strings.Count(strings.Join(auditActions(t, d), "\n"), triage.AuditReply+" report:"); n != 2 {
		t.Errorf("%d reply audit records, want 2", n)
	}

	t.Run("DeliveryShown", func(t *testing.T) {
		sent := t2.Add(time.Minute)
		if err := d.MarkMail(ctx, mail.ID, triage.MailAttempt{Encrypted: true, Via: "relay smtp.example.com:587"}, sent); err != nil {
			t.Fatal(err)
		}
		if err := d.MarkMail(ctx, mail2.ID, triage.MailAttempt{Err: errors.New("550 no such user"), Permanent: true}, sent); err != nil {
			t.Fatal(err)
		}
		msgs, err := d.Messages(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g := msgs[0]; g.Delivery != triage.DeliverySent || !g.SentAt.Equal(sent) || !g.Encrypted {
			t.Errorf("sent message %+v", g)
		}
		if g := msgs[1]; g.Delivery != triage.DeliveryFailed || g.LastError != "550 no such user" || !g.SentAt.IsZero() {
			t.Errorf("failed message %+v", g)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		before := countRows(t, rawSQL(t, path), "messages")
		m, mail := newReply(r.ID, t2, "   ")
		wantCode(t, d.AddReply(ctx, m, mail, actor(alice)), triage.EINVALID)
		m, mail = newReply(r.ID, t2, "hi")
		mail.Subject = "hi\r\nBcc: x@example.org"
		wantCode(t, d.AddReply(ctx, m, mail, actor(alice)), triage.EINVALID)
		m, mail = newReply(r.ID, t2, "hi")
		mail.HeaderMessageID = ack.HeaderMessageID // taken
		wantCode(t, d.AddReply(ctx, m, mail, actor(alice)), triage.ECONFLICT)
		if m.ID != 0 || mail.ID != 0 {
			t.Errorf("ids kept after a rollback: %d, %d", m.ID, mail.ID)
		}
		m, mail = newReply(9999, t2, "hi")
		wantCode(t, d.AddReply(ctx, m, mail, actor(alice)), triage.ENOTFOUND)
		if after := countRows(t, rawSQL(t, path), "messages"); after != before {
			t.Errorf("%d messages stored by refused replies", after-before)
		}
		_, err := d.Messages(ctx, 9999)
		wantCode(t, err, triage.ENOTFOUND)
	})
}

func TestMarkMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	temp := triage.MailAttempt{Err: errors.New("451 try later"), Via: "relay smtp.example.com:587"}

	t.Run("Backoff", func(t *testing.T) {
		m := mustQueue(t, d, t0)
		now := t0
		for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
			if err := d.MarkMail(ctx, m.ID, temp, now); err != nil {
				t.Fatal(err)
			}
			g := outboxByID(t, d, m.ID)
			if g.State != triage.DeliveryQueued || g.Attempts != i+1 || !g.NextAttempt.Equal(now.Add(wait)) ||
				g.LastError != "451 try later" || g.Via != "relay smtp.example.com:587" {
				t.Fatalf("after try %d: %+v", i+1, g)
			}
			if slices.Contains(pendingIDs(t, d, now.Add(wait-time.Second), 0), m.ID) {
				t.Fatalf("due before its backoff ended")
			}
			now = now.Add(wait)
			if !slices.Contains(pendingIDs(t, d, now, 0), m.ID) {
				t.Fatalf("not due after its backoff")
			}
		}
		if err := d.MarkMail(ctx, m.ID, triage.MailAttempt{Encrypted: true, Via: "maildir"}, now); err != nil {
			t.Fatal(err)
		}
		g := outboxByID(t, d, m.ID)
		if g.State != triage.DeliverySent || !g.SentAt.Equal(now) || !g.Encrypted || g.Via != "maildir" || g.Attempts != 4 || g.LastError != "" {
			t.Fatalf("sent: %+v", g)
		}
		if slices.Contains(pendingIDs(t, d, now.Add(time.Hour), 0), m.ID) {
			t.Error("sent mail still pending")
		}
		wantCode(t, d.MarkMail(ctx, m.ID, triage.MailAttempt{}, now), triage.ECONFLICT)
	})
	t.Run("Permanent", func(t *testing.T) {
		m := mustQueue(t, d, t0)
		if err := d.MarkMail(ctx, m.ID, triage.MailAttempt{Err: errors.New("550 5.1.1 unknown user"), Permanent: true}, t0); err != nil {
			t.Fatal(err)
		}
		g := outboxByID(t, d, m.ID)
		if g.State != triage.DeliveryFailed || g.Attempts != 1 || g.LastError != "550 5.1.1 unknown user" {
			t.Fatalf("%+v", g)
		}
		if slices.Contains(pendingIDs(t, d, t0.Add(time.Hour), 0), m.ID) {
			t.Error("failed mail still pending")
		}
	})
	t.Run("Exhausted", func(t *testing.T) {
		m := mustQueue(t, d, t0)
		now := t0
		for i := 1; i <= triage.MaxMailAttempts; i++ {
			if err := d.MarkMail(ctx, m.ID, temp, now); err != nil {
				t.Fatal(err)
			}
			g := outboxByID(t, d, m.ID)
			want := triage.DeliveryQueued
			if i == triage.MaxMailAttempts {
				want = triage.DeliveryFailed
			}
			if g.State != want || g.Attempts != i {
				t.Fatalf("after try %d: state %s, attempts %d, want %s", i, g.State, g.Attempts, want)
			}
			now = g.NextAttempt
		}
		wantCode(t, d.MarkMail(ctx, m.ID, temp, now), triage.ECONFLICT)
	})
	t.Run("Unknown", func(t *testing.T) {
		wantCode(t, d.MarkMail(ctx, 9999, temp, t0), triage.ENOTFOUND)
	})
}

func TestClaimMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	m := mustQueue(t, d, t0)
	until := t0.Add(time.Hour)
	if err := d.ClaimMail(ctx, m.ID, t0, until); err != nil {
		t.Fatal(err)
	}
	g := outboxByID(t, d, m.ID)
	if g.State != triage.DeliveryQueued || g.Attempts != 0 || !g.NextAttempt.Equal(until) || !strings.Contains(g.LastError, "not recorded") {
		t.Fatalf("claimed: %+v", g)
	}
	if slices.Contains(pendingIDs(t, d, until.Add(-time.Second), 0), m.ID) {
		t.Error("a claimed mail is due before its claim ends")
	}
	wantCode(t, d.ClaimMail(ctx, m.ID, t0.Add(time.Minute), until), triage.ECONFLICT) // claimed already
	// MarkMail records the try as usual.
	if err := d.MarkMail(ctx, m.ID, triage.MailAttempt{Via: "maildir"}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if g := outboxByID(t, d, m.ID); g.State != triage.DeliverySent || g.Attempts != 1 || g.LastError != "" {
		t.Fatalf("marked after the claim: %+v", g)
	}
	wantCode(t, d.ClaimMail(ctx, m.ID, until, until.Add(time.Hour)), triage.ECONFLICT) // sent
	wantCode(t, d.ClaimMail(ctx, 9999, t0, until), triage.ENOTFOUND)
	// Once the claim's hold has passed, the mail is due again.
	m2 := mustQueue(t, d, t0)
	if err := d.ClaimMail(ctx, m2.ID, t0, until); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pendingIDs(t, d, until, 0), m2.ID) {
		t.Error("an unrecorded try is never due again")
	}
	if err := d.ClaimMail(ctx, m2.ID, until, until.Add(time.Hour)); err != nil {
		t.Error(err)
	}
}

func TestRetryMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	admin := mustCreateUser(t, d, "admin@example.com", triage.RoleAdmin)
	m := mustQueue(t, d, t0)
	wantCode(t, d.RetryMail(ctx, m.ID, actor(admin), t0), triage.ECONFLICT) // still queued
	if err := d.MarkMail(ctx, m.ID, triage.MailAttempt{Err: errors.New("554 rejected"), Permanent: true}, t0); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(24 * time.Hour)
	if err := d.RetryMail(ctx, m.ID, actor(admin), later); err != nil {
		t.Fatal(err)
	}
	g := outboxByID(t, d, m.ID)
	if g.State != triage.DeliveryQueued || g.Attempts != 0 || !g.NextAttempt.Equal(later) {
		t.Fatalf("%+v", g)
	}
	if !slices.Equal(pendingIDs(t, d, later, 0), []int64{m.ID}) {
		t.Error("retried mail not pending")
	}
	evs, err := d.AuditEvents(ctx, triage.AuditFilter{Action: triage.AuditMailRetry})
	if err != nil || len(evs) != 1 || evs[0].ActorEmail != "admin@example.com" || evs[0].Target != fmt.Sprintf("mail:%d", m.ID) {
		t.Fatalf("audit %v %+v", err, evs)
	}
	wantCode(t, d.RetryMail(ctx, m.ID, actor(admin), later), triage.ECONFLICT)
	wantCode(t, d.RetryMail(ctx, 9999, actor(admin), later), triage.ENOTFOUND)
}

func TestPendingMail_Order(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	c := mustQueue(t, d, t0.Add(2*time.Minute))
	a := mustQueue(t, d, t0)
	b := mustQueue(t, d, t0.Add(time.Minute))
	future := mustQueue(t, d, t0.Add(time.Hour))

	if got, want := pendingIDs(t, d, t0.Add(2*time.Minute), 0), []int64{a.ID, b.ID, c.ID}; !slices.Equal(got, want) {
		t.Errorf("pending %v, want %v", got, want)
	}
	if got, want := pendingIDs(t, d, t0.Add(2*time.Minute), 2), []int64{a.ID, b.ID}; !slices.Equal(got, want) {
		t.Errorf("pending with limit 2: %v, want %v", got, want)
	}
	// A retried mail goes behind the ones waiting longer.
	if err := d.MarkMail(ctx, a.ID, triage.MailAttempt{Err: errors.New("421 busy")}, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingIDs(t, d, t0.Add(time.Hour), 0), []int64{b.ID, c.ID, a.ID, future.ID}; !slices.Equal(got, want) {
		t.Errorf("pending %v, want %v", got, want)
	}

	t.Run("Outbox", func(t *testing.T) {
		all, err := d.Outbox(ctx, triage.OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range all {
			ids = append(ids, m.ID)
		}
		if want := []int64{future.ID, c.ID, b.ID, a.ID}; !slices.Equal(ids, want) {
			t.Errorf("outbox %v, want newest first %v", ids, want)
		}
		_, err = d.Outbox(ctx, triage.OutboxFilter{State: "lost"})
		wantCode(t, err, triage.EINVALID)
		sent, err := d.Outbox(ctx, triage.OutboxFilter{State: triage.DeliverySent})
		if err != nil || len(sent) != 0 {
			t.Errorf("sent: %v, %v", sent, err)
		}
	})
	t.Run("Count", func(t *testing.T) {
		n, err := d.CountMail(ctx, triage.MailNotification, "", t0.Add(time.Minute))
		if err != nil || n != 3 {
			t.Errorf("count since +1m = %d, %v, want 3", n, err)
		}
		n, err = d.CountMail(ctx, triage.MailNotification, "team@EXAMPLE.com", t0)
		if err != nil || n != 4 {
			t.Errorf("count to team = %d, %v, want 4", n, err)
		}
		n, err = d.CountMail(ctx, triage.MailAck, "", t0)
		if err != nil || n != 0 {
			t.Errorf("count acks = %d, %v, want 0", n, err)
		}
	})
}

func TestQueueMail_Invalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	valid := func() *triage.OutMail {
		return &triage.OutMail{Kind: triage.MailReply, To: "r@example.org", Subject: "s",
			HeaderMessageID: triage.NewMessageID("sec.example"), CreatedAt: t0}
	}
	for name, edit := range map[string]func(*triage.OutMail){
		"Kind":          func(m *triage.OutMail) { m.Kind = "spam" },
		"ToInjection":   func(m *triage.OutMail) { m.To = "r@example.org\nBcc: all@example.org" },
		"ToList":        func(m *triage.OutMail) { m.To = "r@example.org, s@example.org" },
		"SubjectCRLF":   func(m *triage.OutMail) { m.Subject = "a\r\nBcc: all@example.org" },
		"NoSubject":     func(m *triage.OutMail) { m.Subject = "" },
		"NoMessageID":   func(m *triage.OutMail) { m.HeaderMessageID = "" },
		"BadMessageID":  func(m *triage.OutMail) { m.HeaderMessageID = "<a\r\nb@x>" },
		"BadInReplyTo":  func(m *triage.OutMail) { m.InReplyTo = "x@y" },
		"BadReference":  func(m *triage.OutMail) { m.References = []string{"<ok@x>", "<a b@x>"} },
		"TooManyRefs":   func(m *triage.OutMail) { m.References = manyIDs(triage.MaxReferences, "<last@x>") },
		"BodyTooLong":   func(m *triage.OutMail) { m.Body = strings.Repeat("x", 1<<20+1) },
		"UnknownReport": func(m *triage.OutMail) { m.ReportID = 9999 },
	} {
		m := valid()
		edit(m)
		err := d.QueueMail(ctx, m)
		var e *triage.Error
		if !errors.As(err, &e) || (e.Code != triage.EINVALID && e.Code != triage.ENOTFOUND) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := countRows(t, rawSQL(t, path), "outbox"); n != 0 {
		t.Fatalf("%d invalid mails queued", n)
	}
	m := valid()
	m.References = []string{"<a@x>", "<b@x>"}
	m.InReplyTo = "<b@x>"
	if err := d.QueueMail(ctx, m); err != nil {
		t.Fatal(err)
	}
	if g := outboxByID(t, d, m.ID); !slices.Equal(g.References, m.References) || g.InReplyTo != "<b@x>" {
		t.Errorf("threading fields %+v", g)
	}
	dup := valid()
	dup.HeaderMessageID = m.HeaderMessageID
	wantCode(t, d.QueueMail(ctx, dup), triage.ECONFLICT)
}
