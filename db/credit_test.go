package db_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// creditKey is the link key of these tests.
var creditKey = []byte("credit test link key")

// fileFrom files a report received at at from researcher email.
func fileFrom(tb testing.TB, d *db.DB, at time.Time, email, title string) *triage.Report {
	tb.Helper()
	m := &triage.RawMessage{MailFrom: email, ReceivedAt: at, Data: []byte("Subject: x\r\n\r\nbody\r\n")}
	if err := d.AddRawMessage(context.Background(), m); err != nil {
		tb.Fatal(err)
	}
	r := triage.NewReport(at)
	r.MessageID, r.Title, r.ResearcherEmail = m.ID, title, email
	if err := d.FileReport(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	return r
}

// moveTo moves report id through the workflow to status.
func moveTo(tb testing.TB, d *db.DB, by triage.Actor, id int64, at time.Time, statuses ...triage.Status) {
	tb.Helper()
	for _, s := range statuses {
		if _, err := d.UpdateReport(context.Background(), id, triage.Change{Status: ptr(s)}, by, at); err != nil {
			tb.Fatal(err)
		}
	}
}

// offerCredit offers credit for report r as by and returns the token of
// the link; the offer mail goes to r's researcher.
func offerCredit(tb testing.TB, d *db.DB, r *triage.Report, by triage.Actor, c triage.Credit) string {
	tb.Helper()
	c.ReportID = r.ID
	c.OfferedBy = by.UserID
	nonce := triage.NewNonce()
	token := triage.LinkToken(creditKey, triage.LinkCredit, r.ID, nonce)
	mail := &triage.OutMail{To: r.ResearcherEmail, Subject: triage.ReplySubject(r.TrackingID),
		HeaderMessageID: triage.NewMessageID("example.com"), AuthorID: by.UserID}
	if err := d.OfferCredit(context.Background(), &c, nonce, triage.TokenHash(token), mail, by); err != nil {
		tb.Fatal(err)
	}
	if mail.ID == 0 {
		tb.Fatal("offer mail has no id")
	}
	return token
}

func TestCredit_OfferChooseRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r := fileFrom(t, d, t0, "ray@example.org", "SQL injection in /admin")
	s := rawSQL(t, path)

	nonce := triage.NewNonce()
	token := triage.LinkToken(creditKey, triage.LinkCredit, r.ID, nonce)
	c := &triage.Credit{ReportID: r.ID, OfferedBy: alice.ID, AdvisoryTitle: "  SQLi in\tthe admin login "}
	mail := &triage.OutMail{To: "ray@EXAMPLE.org", Subject: triage.ReplySubject(r.TrackingID),
		HeaderMessageID: "<offer1@example.com>", AuthorID: alice.ID}
	if err := d.OfferCredit(ctx, c, nonce, triage.TokenHash(token), mail, actor(alice)); err != nil {
		t.Fatal(err)
	}
	if c.TrackingID != r.TrackingID || !c.OfferedAt.Equal(t0) || !c.ExpiresAt.Equal(t0.Add(triage.CreditOfferLifetime)) ||
		c.Choice != triage.CreditUndecided || c.AdvisoryTitle != "SQLi in the admin login" || c.OfferedBy != alice.ID {
		t.Errorf("offer as stored: %+v", c)
	}
	if mail.ID == 0 || mail.Kind != triage.MailCreditOffer || mail.ReportID != r.ID || mail.TrackingID != r.TrackingID {
		t.Errorf("offer mail: %+v", mail)
	}

	t.Run("Outbox", func(t *testing.T) {
		var kind, to, state, next string
		var report int64
		err := s.QueryRow(`SELECT kind, report_id, mail_to, state, next_attempt_at FROM outbox WHERE id = ?`, mail.ID).
			Scan(&kind, &report, &to, &state, &next)
		if err != nil {
			t.Fatal(err)
		}
		if kind != "credit_offer" || report != r.ID || to != "ray@example.org" || state != "queued" || !strings.HasPrefix(next, "2026-03-14T09:26:53") {
			t.Errorf("outbox row %s %d %s %s %s", kind, report, to, state, next)
		}
	})

	t.Run("Lookup", func(t *testing.T) {
		got, err := d.Credit(ctx, r.ID)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("Credit = %+v, %v; want %+v", got, err, c)
		}
		got, err = d.CreditByTokenHash(ctx, triage.TokenHash(token))
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("CreditByTokenHash = %+v, %v", got, err)
		}
		n, got, err := d.CreditLink(ctx, r.ID)
		if err != nil || n != nonce || !reflect.DeepEqual(got, c) {
			t.Errorf("CreditLink = %q %+v, %v", n, got, err)
		}
		// The link token is derived again from the nonce: what the mail
		// sender does.
		if !bytes.Equal(triage.TokenHash(triage.LinkToken(creditKey, triage.LinkCredit, r.ID, n)), triage.TokenHash(token)) {
			t.Error("the stored nonce does not give the link's token")
		}
		_, err = d.Credit(ctx, r.ID+1)
		wantCode(t, err, triage.ENOTFOUND)
		_, err = d.CreditByTokenHash(ctx, triage.TokenHash("guess"))
		wantCode(t, err, triage.ENOTFOUND)
		_, _, err = d.CreditLink(ctx, 999)
		wantCode(t, err, triage.ENOTFOUND)
	})

	t.Run("Refused", func(t *testing.T) {
		outbox := countRows(t, s, "outbox")
		other := fileFrom(t, d, t0, "other@example.org", "another report")
		for name, tc := range map[string]struct {
			id    int64
			nonce string
			hash  []byte
			to    string
			code  string
		}{
			"MissingReport": {999, "n", triage.TokenHash("x"), "ray@example.org", triage.ENOTFOUND},
			"NoNonce":       {r.ID, "", triage.TokenHash("x"), "ray@example.org", triage.EINVALID},
			"ShortHash":     {r.ID, "n", []byte("short"), "ray@example.org", triage.EINVALID},
			"HeaderInject":  {r.ID, "n", triage.TokenHash("x"), "ray@example.org\r\nBcc: all@example.net", triage.EINVALID},
			"TokenInUse":    {other.ID, "n", triage.TokenHash(token), "ray@example.org", triage.ECONFLICT},
		} {
			t.Run(name, func(t *testing.T) {
				m := &triage.OutMail{To: tc.to, Subject: "s", HeaderMessageID: "<" + name + "@example.com>"}
				err := d.OfferCredit(ctx, &triage.Credit{ReportID: tc.id}, tc.nonce, tc.hash, m, actor(alice))
				wantCode(t, err, tc.code)
			})
		}
		if n := countRows(t, s, "outbox"); n != outbox {
			t.Errorf("refused offers queued mail: %d rows, want %d", n, outbox)
		}
		if got, _ := d.Credit(ctx, r.ID); !reflect.DeepEqual(got, c) {
			t.Errorf("refused offers changed the credit: %+v", got)
		}
		_, err := d.Credit(ctx, other.ID)
		wantCode(t, err, triage.ENOTFOUND)
	})

	t.Run("Choose", func(t *testing.T) {
		at := t0.Add(48 * time.Hour)
		for _, tc := range []struct {
			choice     triage.CreditChoice
			name, link string
		}{
			{"", "Ray", ""},
			{"famous", "Ray", ""},
			{triage.CreditName, "  ", ""},
			{triage.CreditHandle, "r\u202eay", ""},
			{triage.CreditName, "Ray", "javascript:alert(1)"},
			{triage.CreditName, "Ray", "https://user:pw@example.org/"},
		} {
			err := d.ChooseCredit(ctx, r.ID, tc.choice, tc.name, tc.link, at)
			wantCode(t, err, triage.EINVALID)
		}
		wantCode(t, d.ChooseCredit(ctx, 999, triage.CreditName, "Ray", "", at), triage.ENOTFOUND)

		if err := d.ChooseCredit(ctx, r.ID, triage.CreditName, " Ray Researcher ", "https://ray.example.org/", at); err != nil {
			t.Fatal(err)
		}
		got, err := d.Credit(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Choice != triage.CreditName || got.DisplayName != "Ray Researcher" || got.Link != "https://ray.example.org/" ||
			!got.ChosenAt.Equal(at) || !got.ExpiresAt.Equal(at.Add(triage.CreditLinkLifetime)) || !got.Published() {
			t.Errorf("after choosing: %+v", got)
		}
		// Anonymous drops the name and link.
		if err := d.ChooseCredit(ctx, r.ID, triage.CreditAnonymous, "Ray", "https://ray.example.org/", at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.Credit(ctx, r.ID); got.Choice != triage.CreditAnonymous || got.DisplayName != "" || got.Link != "" {
			t.Errorf("anonymous keeps a name: %+v", got)
		}
		if err := d.ChooseCredit(ctx, r.ID, triage.CreditHandle, "r4y", "", at.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ReofferKeepsChoice", func(t *testing.T) {
		before, _ := d.Credit(ctx, r.ID)
		d := mustOpenClock(t, path, func() time.Time { return t0.Add(72 * time.Hour) })
		token2 := offerCredit(t, d, r, actor(alice), triage.Credit{})
		if token2 == token {
			t.Fatal("same token twice")
		}
		_, err := d.CreditByTokenHash(ctx, triage.TokenHash(token))
		wantCode(t, err, triage.ENOTFOUND)
		got, err := d.CreditByTokenHash(ctx, triage.TokenHash(token2))
		if err != nil {
			t.Fatal(err)
		}
		if got.Choice != triage.CreditHandle || got.DisplayName != "r4y" || !got.ChosenAt.Equal(before.ChosenAt) ||
			got.AdvisoryTitle != "SQLi in the admin login" || !got.OfferedAt.Equal(t0.Add(72*time.Hour)) ||
			!got.ExpiresAt.Equal(t0.Add(72*time.Hour+triage.CreditOfferLifetime)) {
			t.Errorf("after a new offer: %+v", got)
		}
		if n := countRows(t, s, "outbox"); n != 2 {
			t.Errorf("%d mails queued, want 2 offers", n)
		}
		// A new title given with an offer replaces the old one.
		offerCredit(t, d, r, actor(alice), triage.Credit{AdvisoryTitle: "Admin login SQL injection"})
		if got, _ := d.Credit(ctx, r.ID); got.AdvisoryTitle != "Admin login SQL injection" || got.DisplayName != "r4y" {
			t.Errorf("after an offer with a title: %+v", got)
		}
	})

	t.Run("RevokeAndChooseAgain", func(t *testing.T) {
		at := t0.Add(100 * time.Hour)
		if err := d.RevokeCredit(ctx, r.ID, at); err != nil {
			t.Fatal(err)
		}
		got, _ := d.Credit(ctx, r.ID)
		if !got.RevokedAt.Equal(at) || got.Published() {
			t.Errorf("after revoking: %+v", got)
		}
		wantCode(t, d.RevokeCredit(ctx, 999, at), triage.ENOTFOUND)
		if err := d.ChooseCredit(ctx, r.ID, triage.CreditName, "Ray", "", at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.Credit(ctx, r.ID); !got.RevokedAt.IsZero() || !got.Published() {
			t.Errorf("a new choice keeps the revocation: %+v", got)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		r2 := fileFrom(t, d, t0, "sam@example.org", "XSS")
		offerCredit(t, d, r2, actor(alice), triage.Credit{ExpiresAt: t0.Add(time.Hour)})
		err := d.ChooseCredit(ctx, r2.ID, triage.CreditName, "Sam", "", t0.Add(time.Hour))
		wantCode(t, err, triage.EFORBIDDEN)
		if got, _ := d.Credit(ctx, r2.ID); got.Choice != triage.CreditUndecided {
			t.Errorf("an expired link chose: %+v", got)
		}
		// Withdrawing consent is never refused.
		if err := d.RevokeCredit(ctx, r2.ID, t0.Add(2*time.Hour)); err != nil {
			t.Errorf("revoke on an expired link: %v", err)
		}
	})

	t.Run("AdvisoryTitle", func(t *testing.T) {
		if err := d.SetAdvisoryTitle(ctx, r.ID, "Admin\x00 login\n bypass", actor(alice)); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.Credit(ctx, r.ID); got.AdvisoryTitle != "Admin login bypass" {
			t.Errorf("advisory title %q", got.AdvisoryTitle)
		}
		r3 := fileFrom(t, d, t0, "x@example.org", "no offer")
		wantCode(t, d.SetAdvisoryTitle(ctx, r3.ID, "t", actor(alice)), triage.ENOTFOUND)
	})

	t.Run("Audit", func(t *testing.T) {
		rows, err := s.Query(`SELECT action, actor_email, detail FROM audit_log
			WHERE target = ? AND action NOT LIKE 'report.status' ORDER BY id`, fmt.Sprintf("report:%d", r.ID))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var action, who, detail string
			if err := rows.Scan(&action, &who, &detail); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(detail, nonce) || strings.Contains(detail, token) {
				t.Errorf("audit %s records the link secret: %s", action, detail)
			}
			got = append(got, action+" "+who)
		}
		want := []string{
			"report.credit_offer alice@example.com",
			"credit.choice researcher", "credit.choice researcher", "credit.choice researcher",
			"report.credit_offer alice@example.com", "report.credit_offer alice@example.com",
			"credit.revoke researcher", "credit.choice researcher",
			"report.advisory_title alice@example.com",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestHallOfFame(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	staff := actor(mustCreateUser(t, d, "alice@example.com", triage.RoleTriager))
	y2025 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	y2026 := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	chose := t0.Add(time.Hour)

	h, err := d.HallOfFame(ctx)
	if err != nil || len(h.Years) != 0 || !h.Updated.IsZero() {
		t.Fatalf("empty hall: %+v, %v", h, err)
	}

	// credit files a report, moves it to status, offers credit and
	// records choice (none: left undecided) at chosenAt.
	credit := func(received time.Time, email, title string, choice triage.CreditChoice, name string, chosenAt time.Time, statuses ...triage.Status) *triage.Report {
		t.Helper()
		r := fileFrom(t, d, received, email, title)
		moveTo(t, d, staff, r.ID, received.Add(time.Minute), statuses...)
		offerCredit(t, d, r, staff, triage.Credit{})
		if choice != triage.CreditUndecided {
			if err := d.ChooseCredit(ctx, r.ID, choice, name, "https://"+strings.ToLower(strings.Fields(name + " x")[0])+".example/", chosenAt); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	accepted := []triage.Status{triage.StatusAccepted}
	fixed := []triage.Status{triage.StatusAccepted, triage.StatusFixed}
	disclosed := []triage.Status{triage.StatusAccepted, triage.StatusFixed, triage.StatusDisclosed}

	// Ray: three reports in 2026 under two addresses' cases; the newest
	// choice names him "Ray R."; one is disclosed with an advisory title,
	// one disclosed without (its tracking id shows, never its title: the
	// researcher may have encrypted it), one undisclosed.
	rayDisc := credit(y2026, "ray@example.org", "Title of a disclosed report", triage.CreditName, "Ray", chose, disclosed...)
	if err := d.SetAdvisoryTitle(ctx, rayDisc.ID, "Stored XSS in comments", staff); err != nil {
		t.Fatal(err)
	}
	rayOpen := credit(y2026.Add(48*time.Hour), "Ray@Example.ORG", "UNDISCLOSED-TITLE Open redirect in /login", triage.CreditName, "Ray", chose.Add(time.Minute), disclosed...)
	raySecret := credit(y2026.Add(time.Hour), "ray@example.org", "UNDISCLOSED-SECRET RCE in upload", triage.CreditName, "Ray R.", chose.Add(2*time.Minute), fixed...)
	if err := d.SetAdvisoryTitle(ctx, raySecret.ID, "UNDISCLOSED-ADVISORY RCE", staff); err != nil {
		t.Fatal(err)
	}
	// Ray in 2025 under his handle: a separate year.
	credit(y2025, "ray@example.org", "UNDISCLOSED-2025 CSRF", triage.CreditHandle, "r4y", chose.Add(3*time.Minute), accepted...)
	// Two named researchers with one report each, 2026, to test the order.
	credit(y2026, "zoe@example.net", "UNDISCLOSED-ZOE", triage.CreditName, "zoe", chose, accepted...)
	credit(y2026, "ann@example.net", "UNDISCLOSED-ANN", triage.CreditName, "Ann", chose, fixed...)
	// Anonymous: counted, never named.
	credit(y2026, "anon@example.net", "UNDISCLOSED-ANON disclosed", triage.CreditAnonymous, "Hidden Person", chose, disclosed...)
	credit(y2026, "anon2@example.net", "UNDISCLOSED-ANON2", triage.CreditAnonymous, "", chose, accepted...)
	// Never shown: no consent, undecided, revoked, wrong statuses.
	credit(y2026, "none@example.net", "UNDISCLOSED-NONE", triage.CreditNone, "", chose, disclosed...)
	credit(y2026, "undecided@example.net", "UNDISCLOSED-UNDECIDED", triage.CreditUndecided, "", chose, disclosed...)
	revoked := credit(y2026, "revoked@example.net", "UNDISCLOSED-REVOKED", triage.CreditName, "Revoked Person", chose, disclosed...)
	if err := d.RevokeCredit(ctx, revoked.ID, chose.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	credit(y2026, "spam@example.net", "UNDISCLOSED-SPAM", triage.CreditName, "Spam Person", chose, triage.StatusSpam)
	credit(y2026, "new@example.net", "UNDISCLOSED-NEW", triage.CreditName, "New Person", chose)
	credit(y2026, "triaging@example.net", "UNDISCLOSED-TRIAGING", triage.CreditName, "Triaging Person", chose, triage.StatusTriaging)
	credit(y2026, "info@example.net", "UNDISCLOSED-INFORMATIVE", triage.CreditName, "Informative Person", chose, triage.StatusInformative)
	// Credit for a report that was never offered: nothing at all.
	fileFrom(t, d, y2026, "plain@example.net", "UNDISCLOSED-NO-OFFER")

	want := &triage.HallOfFame{
		Updated: chose.Add(3 * time.Minute),
		Years: []triage.HallYear{
			{Year: 2026, Anonymous: 2, Entries: []triage.HallEntry{
				{Name: "Ray R.", Link: "https://ray.example/", Count: 3,
					Advisories: []string{"Stored XSS in comments", rayOpen.TrackingID}},
				{Name: "Ann", Link: "https://ann.example/", Count: 1},
				{Name: "zoe", Link: "https://zoe.example/", Count: 1},
			}},
			{Year: 2025, Entries: []triage.HallEntry{
				{Name: "r4y", Link: "https://r4y.example/", Count: 1},
			}},
		},
	}
	check := func(t *testing.T, want *triage.HallOfFame, secrets ...string) {
		t.Helper()
		got, err := d.HallOfFame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			g, _ := json.MarshalIndent(got, "", " ")
			w, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("hall of fame:\n%s\nwant:\n%s", g, w)
		}
		dump, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(dump, []byte(s)) {
				t.Errorf("the hall of fame shows %q: %s", s, dump)
			}
		}
	}
	check(t, want, "UNDISCLOSED", "Title of a disclosed report", "Hidden Person", "Revoked", "Spam", "New Person",
		"Triaging", "Informative", "example.org", "example.net", "Ray\"")

	t.Run("Disclosed", func(t *testing.T) {
		moveTo(t, d, staff, raySecret.ID, t0.Add(time.Hour), triage.StatusDisclosed)
		want.Years[0].Entries[0].Advisories = []string{"Stored XSS in comments", "UNDISCLOSED-ADVISORY RCE", rayOpen.TrackingID}
		check(t, want, "UNDISCLOSED-SECRET", "UNDISCLOSED-2025", "UNDISCLOSED-TITLE")
	})

	t.Run("Revoked", func(t *testing.T) {
		if err := d.RevokeCredit(ctx, raySecret.ID, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want.Years[0].Entries[0] = triage.HallEntry{Name: "Ray", Link: "https://ray.example/", Count: 2,
			Advisories: []string{"Stored XSS in comments", rayOpen.TrackingID}}
		check(t, want, "UNDISCLOSED", "Ray R.")
	})
}

func TestStatusLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	s := rawSQL(t, path)

	nonce := triage.NewNonce()
	raw := &triage.RawMessage{MailFrom: "web@example.org", RemoteAddr: "198.51.100.4",
		Recipients: []string{"security@example.com"}, Data: []byte("-----BEGIN PGP MESSAGE-----\r\n...")}
	// The token names the raw message, whose id is known only after the
	// insert: the form derives it from the id once stored, but the hash is
	// stored with the row, so here the token is any unguessable string.
	token := "status-token-" + nonce
	if err := d.AddWebSubmission(ctx, raw, nonce, fixedHash(triage.TokenHash(token))); err != nil {
		t.Fatal(err)
	}
	if raw.ID == 0 || !raw.ReceivedAt.Equal(t0) {
		t.Fatalf("stored raw message: %+v", raw)
	}
	got, err := d.RawMessage(ctx, raw.ID)
	if err != nil || !bytes.Equal(got.Data, raw.Data) || got.MailFrom != raw.MailFrom {
		t.Fatalf("raw message = %+v, %v", got, err)
	}
	if pending, _ := d.PendingRawMessages(ctx); len(pending) != 1 || pending[0] != raw.ID {
		t.Errorf("pending %v", pending)
	}

	rawID, reportID, err := d.StatusLink(ctx, triage.TokenHash(token))
	if err != nil || rawID != raw.ID || reportID != 0 {
		t.Errorf("StatusLink before filing = %d %d %v", rawID, reportID, err)
	}
	n, err := d.StatusLinkNonce(ctx, raw.ID)
	if err != nil || n != nonce {
		t.Errorf("StatusLinkNonce = %q %v", n, err)
	}

	r := triage.NewReport(t0)
	r.MessageID, r.Title = raw.ID, "from the web"
	if err := d.FileReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	rawID, reportID, err = d.StatusLink(ctx, triage.TokenHash(token))
	if err != nil || rawID != raw.ID || reportID != r.ID {
		t.Errorf("StatusLink after filing = %d %d %v", rawID, reportID, err)
	}

	t.Run("NotFound", func(t *testing.T) {
		_, _, err := d.StatusLink(ctx, triage.TokenHash("guess"))
		wantCode(t, err, triage.ENOTFOUND)
		mailed := addMessage(t, d, t0)
		_, err = d.StatusLinkNonce(ctx, mailed)
		wantCode(t, err, triage.ENOTFOUND)
	})

	t.Run("OneTransaction", func(t *testing.T) {
		before := countRows(t, s, "raw_messages")
		again := &triage.RawMessage{MailFrom: "web@example.org", Data: []byte("x")}
		if err := d.AddWebSubmission(ctx, again, "n2", fixedHash(triage.TokenHash(token))); err == nil {
			t.Error("a token hash stored twice")
		}
		if err := d.AddWebSubmission(ctx, again, "", fixedHash(triage.TokenHash("other"))); err == nil {
			t.Error("a link without a nonce")
		}
		if n := countRows(t, s, "raw_messages"); n != before || again.ID != 0 {
			t.Errorf("a refused submission left a raw message: %d rows (was %d), id %d", n, before, again.ID)
		}
	})
}

// fixedHash is a status link hash that does not depend on the message id.
func fixedHash(h []byte) func(int64) []byte { return func(int64) []byte { return h } }
