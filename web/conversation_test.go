package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// firstMessageID is the Message-ID of the mail convEnv's report was
// filed from.
const firstMessageID = "<first-report@example.org>"

// convEnv is triageEnv with a link key, a sender kick that counts, and
// a report whose first message has a Message-ID.
type convEnv struct {
	*triageEnv
	kicks  *atomic.Int32
	rep    *triage.Report
	linkKy []byte
}

func newConvEnv(t *testing.T, opts ...envOption) *convEnv {
	t.Helper()
	kicks := new(atomic.Int32)
	key := []byte("0123456789abcdef0123456789abcdef")
	opts = append([]envOption{func(c *web.Config) {
		c.LinkKey = key
		c.Outbox = triage.WakeFunc(func() { kicks.Add(1) })
	}}, opts...)
	e := newEnv(t, opts...)
	te := &triageEnv{env: e}
	te.triager = e.addUser("tina@localhost", triage.RoleTriager, "triager password 1")
	te.admin = e.addUser("root@localhost", triage.RoleAdmin, "admin password 12")
	te.triagerToken, te.adminToken = e.newToken(te.triager.ID), e.newToken(te.admin.ID)
	rep := e.fileReport(t0.Add(-2*time.Hour), func(r *triage.Report) {
		r.Title = "Open redirect"
		r.ResearcherEmail = "rita@example.org"
		r.HeaderMessageID = firstMessageID
		r.Body = "The login page redirects anywhere."
	})
	return &convEnv{triageEnv: te, kicks: kicks, rep: rep, linkKy: key}
}

func (ce *convEnv) outbox(reportID int64) []*triage.OutMail {
	ce.t.Helper()
	mails, err := ce.db.Outbox(context.Background(), triage.OutboxFilter{ReportID: reportID})
	if err != nil {
		ce.t.Fatal(err)
	}
	return mails
}

func TestReply_API(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	path := fmt.Sprintf("/api/v1/reports/%d/replies", ce.rep.ID)

	code, m := ce.sendJSON("POST", path, ce.triagerToken, map[string]string{"body": "Thanks, we are looking.\r\nTina"})
	if code != http.StatusCreated {
		t.Fatalf("reply: status %d: %v", code, m)
	}
	if m["direction"] != "out" || m["from"] != "security@localhost" || m["body"] != "Thanks, we are looking.\nTina" ||
		m["encrypted"] != false || m["delivery"].(map[string]any)["state"] != "queued" {
		t.Errorf("reply answered %v", m)
	}
	if ce.kicks.Load() != 1 {
		t.Errorf("sender kicked %d times, want 1", ce.kicks.Load())
	}

	mails := ce.outbox(ce.rep.ID)
	if len(mails) != 1 {
		t.Fatalf("%d mails in the outbox, want 1", len(mails))
	}
	first := mails[0]
	if first.Kind != triage.MailReply || first.State != triage.DeliveryQueued || first.To != "rita@example.org" ||
		first.Subject != "["+ce.rep.TrackingID+"] Your security report" || first.InReplyTo != firstMessageID ||
		!slices.Equal(first.References, []string{firstMessageID}) || !strings.HasSuffix(first.HeaderMessageID, "@localhost>") {
		t.Errorf("queued mail %+v", first)
	}
	if strings.Contains(first.Subject, ce.rep.Title) {
		t.Error("the subject carries the report's title in the clear")
	}

	// The second reply answers the first and references both.
	if code, m := ce.sendJSON("POST", path, ce.triagerToken, map[string]string{"body": "Fixed."}); code != http.StatusCreated {
		t.Fatalf("second reply: status %d: %v", code, m)
	}
	mails = ce.outbox(ce.rep.ID)
	if len(mails) != 2 {
		t.Fatalf("%d mails, want 2", len(mails))
	}
	var second *triage.OutMail
	for _, ml := range mails {
		if ml.ID != first.ID {
			second = ml
		}
	}
	if second.InReplyTo != first.HeaderMessageID || !slices.Equal(second.References, []string{firstMessageID, first.HeaderMessageID}) {
		t.Errorf("second reply threads %q %q", second.InReplyTo, second.References)
	}

	// The first reply stopped the first-response clock, and was audited.
	code, rep := ce.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d", ce.rep.ID), viewerToken, nil)
	if code != http.StatusOK {
		t.Fatalf("report: %d", code)
	}
	if fr := rep["sla"].(map[string]any)["first_response"].(map[string]any); fr["state"] != "met" {
		t.Errorf("first-response clock %v, want met", fr)
	}
	if !ce.hasAudit(triage.AuditReply, "tina@localhost", fmt.Sprintf("report:%d", ce.rep.ID)) {
		t.Error("reply not audited")
	}

	t.Run("Refused", func(t *testing.T) {
		for name, c := range map[string]struct {
			token, path, body string
			want              int
		}{
			"viewer":      {viewerToken, path, `{"body": "hi"}`, http.StatusForbidden},
			"empty":       {ce.triagerToken, path, `{"body": " \n "}`, http.StatusUnprocessableEntity},
			"oversized":   {ce.triagerToken, path, fmt.Sprintf(`{"body": %q}`, strings.Repeat("a", triage.MaxMessageBytes+1)), http.StatusUnprocessableEntity},
			"not json":    {ce.triagerToken, path, `{"body": `, http.StatusBadRequest},
			"no report":   {ce.triagerToken, "/api/v1/reports/999999/replies", `{"body": "hi"}`, http.StatusNotFound},
			"no address":  {ce.triagerToken, fmt.Sprintf("/api/v1/reports/%d/replies", ce.noAddress().ID), `{"body": "hi"}`, http.StatusUnprocessableEntity},
			"extra field": {ce.triagerToken, path, `{"body": "hi", "to": "x@example.org"}`, http.StatusBadRequest},
		} {
			t.Run(name, func(t *testing.T) {
				code, m := ce.sendJSON("POST", c.path, c.token, c.body)
				if code != c.want {
					t.Errorf("status %d, want %d: %v", code, c.want, m)
				}
			})
		}
		if n := len(ce.outbox(ce.rep.ID)); n != 2 {
			t.Errorf("%d mails after refusals, want 2", n)
		}
	})
}

// noAddress files a report whose researcher address is unusable (a
// bounce with a null sender).
func (ce *convEnv) noAddress() *triage.Report {
	return ce.fileReport(t0.Add(-time.Hour), func(r *triage.Report) { r.Title = "bounce"; r.ResearcherEmail = "" })
}

func TestReply_Page(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	_, hdr := ce.staffCookie("tri@localhost", triage.RoleTriager)
	path := fmt.Sprintf("/reports/%d/replies", ce.rep.ID)

	// The form says how the reply will go out.
	_, page := ce.do(ce.client(), "GET", reportURL(ce.rep.ID), nil, hdr...)
	if got := strings.Join(byTestID(t, page, "reply-protection"), ""); !strings.Contains(got, "not encrypted") || !strings.Contains(got, "signed with the team key") {
		t.Errorf("reply form says %q", got)
	}
	if len(byTestID(t, page, "reply-no-relay")) != 1 {
		t.Error("the form does not say that no relay is configured")
	}

	resp, _ := ce.do(ce.client(), "POST", path, url.Values{"body": {"We reproduced it. " + xssScript}}, hdr...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != reportURL(ce.rep.ID)+"?conv=reply#conversation" {
		t.Fatalf("reply: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	mails := ce.outbox(ce.rep.ID)
	if len(mails) != 1 || mails[0].InReplyTo != firstMessageID || mails[0].State != triage.DeliveryQueued {
		t.Fatalf("outbox %+v", mails)
	}
	if !ce.hasAudit(triage.AuditReply, "tri@localhost", fmt.Sprintf("report:%d", ce.rep.ID)) {
		t.Error("reply not audited")
	}

	_, page = ce.do(ce.client(), "GET", reportURL(ce.rep.ID)+"?conv=reply", nil, hdr...)
	if got := byTestID(t, page, "conversation-notice"); len(got) != 1 || got[0] != "Reply queued." {
		t.Errorf("notice %q", got)
	}
	if got := byTestID(t, page, "entry-delivery"); len(got) != 1 || !strings.Contains(got[0], "no relay configured: waiting in the outbox") {
		t.Errorf("delivery shown %q", got)
	}
	if got := byTestID(t, page, "entry-body"); len(got) != 1 || got[0] != "We reproduced it. "+xssScript {
		t.Errorf("reply shown %q", got)
	}
	if strings.Contains(page, xssScript) {
		t.Error("the reply is rendered as markup")
	}

	// Refused: the page again, 422, with the error and the text typed.
	resp, page = ce.do(ce.client(), "POST", path, url.Values{"body": {"   "}}, hdr...)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("empty reply: status %d, want 422", resp.StatusCode)
	}
	if got := byTestID(t, page, "conversation-error"); len(got) != 1 || got[0] != "empty message" {
		t.Errorf("error %q", got)
	}
	if got := byTestID(t, page, "action-error"); len(got) != 0 {
		t.Errorf("the triage panel shows the reply's error too: %q", got)
	}

	// With htmx: the conversation panel, in place.
	resp, frag := ce.do(ce.client(), "POST", path, url.Values{"body": {"Second."}}, append(hdr, "HX-Request", "true")...)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(frag), `<section id="conversation"`) {
		t.Errorf("htmx reply: %d %.120s", resp.StatusCode, frag)
	}
	if got := byTestID(t, frag, "timeline-entry"); len(got) != 2 {
		t.Errorf("htmx panel has %d entries, want 2", len(got))
	}

	// A viewer sees no form and may not post.
	_, vhdr := ce.staffCookie("view2@localhost", triage.RoleViewer)
	_, page = ce.do(ce.client(), "GET", reportURL(ce.rep.ID), nil, vhdr...)
	if len(byTestID(t, page, "reply-form")) != 0 || len(byTestID(t, page, "credit-form")) != 0 {
		t.Error("a viewer is offered the reply or credit form")
	}
	if resp, _ := ce.do(ce.client(), "POST", path, url.Values{"body": {"hi"}}, vhdr...); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer reply: status %d, want 403", resp.StatusCode)
	}

	// A report without a usable address offers no reply form.
	bounce := ce.noAddress()
	_, page = ce.do(ce.client(), "GET", reportURL(bounce.ID), nil, hdr...)
	if len(byTestID(t, page, "reply-blocked")) != 1 || len(byTestID(t, page, "reply-form")) != 0 {
		t.Error("a report without an address offers a reply")
	}
}

func reportURL(id int64) string { return fmt.Sprintf("/reports/%d", id) }

// TestTimeline checks the report page's one timeline: the researcher's
// reply, a staff reply with its delivery (failed, with the relay's
// error and a retry), and an internal note marked as never sent, in
// time order, all escaped.
func TestTimeline(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t, func(c *web.Config) { c.OutboundMail = "relay smtp.example.com:587" })
	ctx := context.Background()
	_, hdr := ce.staffCookie("tri@localhost", triage.RoleTriager)

	in := &triage.Message{ReportID: ce.rep.ID, At: t0.Add(-90 * time.Minute), Body: "More detail: " + xssScript}
	if err := ce.db.AddWebReply(ctx, in, triage.Actor{}); err != nil {
		t.Fatal(err)
	}
	ce.clock.Set(t0.Add(-80 * time.Minute)) // the database's clock too (newEnv)
	if code, m := ce.sendJSON("POST", fmt.Sprintf("/api/v1/reports/%d/replies", ce.rep.ID), ce.triagerToken, map[string]string{"body": "Thanks."}); code != http.StatusCreated {
		t.Fatalf("reply: %d %v", code, m)
	}
	n, err := triage.NewNote(ce.rep.ID, ce.triager.ID, "Internal: vendor is slow "+xssImg, t0.Add(-70*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := ce.db.AddNote(ctx, n, triage.Actor{UserID: ce.triager.ID, Email: ce.triager.Email}); err != nil {
		t.Fatal(err)
	}
	ce.clock.Set(t0)
	mail := ce.outbox(ce.rep.ID)[0]
	if err := ce.db.MarkMail(ctx, mail.ID, triage.MailAttempt{Err: errors.New("550 5.1.1 no such user"), Permanent: true, Via: "relay smtp.example.com:587"}, t0); err != nil {
		t.Fatal(err)
	}

	_, page := ce.do(ce.client(), "GET", reportURL(ce.rep.ID), nil, hdr...)
	entries := byTestID(t, page, "timeline-entry")
	if len(entries) != 3 {
		t.Fatalf("%d timeline entries, want 3: %q", len(entries), entries)
	}
	kinds := regexpAll(page, `data-testid="timeline-entry" data-kind="([a-z]+)"`)
	if !slices.Equal(kinds, []string{"in", "out", "note"}) {
		t.Errorf("timeline order %v, want in, out, note", kinds)
	}
	if got := byTestID(t, page, "entry-internal"); len(got) != 1 || got[0] != "Internal — not sent" {
		t.Errorf("note marked %q", got)
	}
	if got := byTestID(t, page, "note-body"); len(got) != 1 || got[0] != "Internal: vendor is slow "+xssImg {
		t.Errorf("note body %q", got)
	}
	if got := byTestID(t, page, "entry-delivery"); len(got) != 1 || !strings.Contains(got[0], "failed: 550 5.1.1 no such user") {
		t.Errorf("delivery %q", got)
	}
	if got := byTestID(t, page, "entry-body"); len(got) != 2 || got[0] != "More detail: "+xssScript {
		t.Errorf("bodies %q", got)
	}
	if strings.Contains(page, xssScript) || strings.Contains(page, xssImg) {
		t.Error("conversation content rendered as markup")
	}

	// Retry from the timeline: back to the report, the mail queued again.
	retry := fmt.Sprintf("/outbox/%d/retry?report=%d", mail.ID, ce.rep.ID)
	if !strings.Contains(page, `action="`+strings.ReplaceAll(retry, "&", "&amp;")+`"`) && !strings.Contains(page, `action="`+retry+`"`) {
		t.Errorf("no retry form for %s", retry)
	}
	resp, _ := ce.do(ce.client(), "POST", retry, url.Values{}, hdr...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != reportURL(ce.rep.ID)+"?conv=retry#conversation" {
		t.Fatalf("retry: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st := ce.outbox(ce.rep.ID)[0].State; st != triage.DeliveryQueued {
		t.Errorf("after retry: %s", st)
	}
	if resp, _ := ce.do(ce.client(), "POST", retry, url.Values{}, hdr...); resp.StatusCode != http.StatusConflict {
		t.Errorf("retrying a queued mail: status %d, want 409", resp.StatusCode)
	}

	// The outbox page lists it and says how mail leaves.
	_, page = ce.do(ce.client(), "GET", "/outbox", nil, hdr...)
	if got := byTestID(t, page, "outbox-state"); len(got) != 1 || got[0] != "queued" {
		t.Errorf("outbox states %q", got)
	}
	if got := strings.Join(byTestID(t, page, "outbox-transport"), ""); !strings.Contains(got, "relay smtp.example.com:587") {
		t.Errorf("outbox transport %q", got)
	}
	if !strings.Contains(page, `data-testid="nav-outbox"`) {
		t.Error("no outbox link in the nav")
	}
	if resp, _ := ce.do(ce.client(), "GET", "/outbox?state=bogus", nil, hdr...); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad state filter: %d", resp.StatusCode)
	}

	// A note added from the timeline's form comes back to the timeline.
	resp, _ = ce.do(ce.client(), "POST", fmt.Sprintf("/reports/%d/notes", ce.rep.ID), url.Values{"from": {"conversation"}, "body": {"second note"}}, hdr...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != reportURL(ce.rep.ID)+"?conv=note#conversation" {
		t.Errorf("note: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestReportJSON_Messages(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	ctx := context.Background()
	in := &triage.Message{ReportID: ce.rep.ID, At: t0.Add(-90 * time.Minute), Body: "Any news?"}
	if err := ce.db.AddWebReply(ctx, in, triage.Actor{}); err != nil {
		t.Fatal(err)
	}
	if code, m := ce.sendJSON("POST", fmt.Sprintf("/api/v1/reports/%d/replies", ce.rep.ID), ce.triagerToken, map[string]string{"body": "Yes."}); code != http.StatusCreated {
		t.Fatalf("reply: %d %v", code, m)
	}
	n, _ := triage.NewNote(ce.rep.ID, ce.triager.ID, "internal only", t0)
	if err := ce.db.AddNote(ctx, n, triage.Actor{UserID: ce.triager.ID, Email: ce.triager.Email}); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{fmt.Sprintf("/api/v1/reports/%d", ce.rep.ID), fmt.Sprintf("/api/v1/reports/%d/messages", ce.rep.ID)} {
		code, m := ce.sendJSON("GET", path, viewerToken, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", path, code)
		}
		msgs, _ := m["messages"].([]any)
		if len(msgs) != 3 {
			t.Fatalf("%s: %d messages, want 3 (no notes): %v", path, len(msgs), m["messages"])
		}
		first, reply, answer := msgs[0].(map[string]any), msgs[1].(map[string]any), msgs[2].(map[string]any)
		if first["direction"] != "in" || first["body"] != ce.rep.Body || first["from"] != "rita@example.org" || first["at"] != "2026-03-10T10:00:00Z" {
			t.Errorf("%s: first message %v", path, first)
		}
		if _, ok := first["delivery"]; ok {
			t.Errorf("%s: the first message has a delivery", path)
		}
		if reply["direction"] != "in" || reply["body"] != "Any news?" || reply["via"] != "web" {
			t.Errorf("%s: researcher reply %v", path, reply)
		}
		d, _ := answer["delivery"].(map[string]any)
		if answer["direction"] != "out" || answer["body"] != "Yes." || d == nil || d["state"] != "queued" ||
			d["attempts"] != float64(0) || d["last_error"] != "" || d["sent_at"] != nil {
			t.Errorf("%s: staff reply %v", path, answer)
		}
		for _, k := range []string{"direction", "from", "at", "body", "encrypted", "signature"} {
			if _, ok := answer[k]; !ok {
				t.Errorf("%s: message lacks %s", path, k)
			}
		}
	}
	if code, m := ce.sendJSON("GET", "/api/v1/reports/999999/messages", viewerToken, nil); code != http.StatusNotFound {
		t.Errorf("messages of a missing report: %d %v", code, m)
	}
	code, m := ce.sendJSON("GET", "/api/v1/outbox?state=queued", viewerToken, nil)
	if mails, _ := m["mail"].([]any); code != http.StatusOK || len(mails) != 1 || m["outbound"] != "" {
		t.Errorf("outbox: %d %v", code, m)
	}
	if _, ok := m["mail"].([]any)[0].(map[string]any)["body"]; ok {
		t.Error("the outbox listing carries mail bodies")
	}
}

func TestCreditOffer(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	ctx := context.Background()
	path := fmt.Sprintf("/api/v1/reports/%d/credit-offer", ce.rep.ID)

	code, m := ce.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d/credit", ce.rep.ID), viewerToken, nil)
	if code != http.StatusOK || m["state"] != "not_offered" {
		t.Errorf("credit before an offer: %d %v", code, m)
	}
	if code, _ := ce.sendJSON("POST", path, viewerToken, `{}`); code != http.StatusForbidden {
		t.Errorf("viewer offer: %d, want 403", code)
	}

	raw := ce.rawJSON("POST", path, ce.triagerToken, `{"advisory_title": "Open redirect in login", "message": "Would you like credit?"}`)
	if raw.code != http.StatusCreated {
		t.Fatalf("offer: %d %s", raw.code, raw.body)
	}
	nonce, c, err := ce.db.CreditLink(ctx, ce.rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	token := triage.LinkToken(ce.linkKy, triage.LinkCredit, ce.rep.ID, nonce)
	if strings.Contains(raw.body, token) || strings.Contains(raw.body, nonce) {
		t.Error("the offer's answer carries the link token or its nonce")
	}
	m = decodeJSON(t, raw.body)
	if m["state"] != "offered" || m["choice"] != "undecided" || m["advisory_title"] != "Open redirect in login" ||
		m["expires_at"] != t0.Add(triage.CreditOfferLifetime).Format(time.RFC3339) || m["published"] != false {
		t.Errorf("offer answered %v", m)
	}
	if c.AdvisoryTitle != "Open redirect in login" {
		t.Errorf("stored %+v", c)
	}
	mails := ce.outbox(ce.rep.ID)
	if len(mails) != 1 || mails[0].Kind != triage.MailCreditOffer || mails[0].To != "rita@example.org" ||
		mails[0].Body != "Would you like credit?" || strings.Contains(mails[0].Body, token) {
		t.Errorf("offer mail %+v", mails)
	}
	if ce.kicks.Load() != 1 {
		t.Errorf("sender kicked %d times", ce.kicks.Load())
	}

	// The researcher chose; offering again makes a new link and keeps the choice.
	if err := ce.db.ChooseCredit(ctx, ce.rep.ID, triage.CreditHandle, "r1ta", "https://rita.example.org", t0); err != nil {
		t.Fatal(err)
	}
	code, m = ce.sendJSON("POST", path, ce.triagerToken, `{}`)
	if code != http.StatusCreated || m["choice"] != "handle" || m["display_name"] != "r1ta" {
		t.Errorf("re-offer: %d %v", code, m)
	}
	if nonce2, _, _ := ce.db.CreditLink(ctx, ce.rep.ID); nonce2 == nonce {
		t.Error("a new offer kept the old link")
	}

	// The page shows the state and the choice.
	_, hdr := ce.staffCookie("tri@localhost", triage.RoleTriager)
	_, page := ce.do(ce.client(), "GET", reportURL(ce.rep.ID), nil, hdr...)
	if got := byTestID(t, page, "credit-choice"); len(got) != 1 || got[0] != "handle" {
		t.Errorf("credit choice shown %q", got)
	}
	if got := byTestID(t, page, "credit-name"); len(got) != 1 || got[0] != "r1ta" {
		t.Errorf("credit name shown %q", got)
	}
	resp, _ := ce.do(ce.client(), "POST", fmt.Sprintf("/reports/%d/credit-offer", ce.rep.ID), url.Values{"advisory_title": {"x\ny"}}, hdr...)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("two-line title: %d, want 422", resp.StatusCode)
	}
	resp, _ = ce.do(ce.client(), "POST", fmt.Sprintf("/reports/%d/credit-offer", ce.rep.ID), url.Values{"advisory_title": {"Open redirect"}}, hdr...)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("page offer: %d", resp.StatusCode)
	}
	if !ce.hasAudit(triage.AuditCreditOffer, "tri@localhost", fmt.Sprintf("report:%d", ce.rep.ID)) {
		t.Error("offer not audited")
	}

	t.Run("NoLinkKey", func(t *testing.T) {
		ce := newConvEnv(t, func(c *web.Config) { c.LinkKey = nil })
		code, m := ce.sendJSON("POST", fmt.Sprintf("/api/v1/reports/%d/credit-offer", ce.rep.ID), ce.triagerToken, `{}`)
		if code != http.StatusInternalServerError {
			t.Errorf("offer without a link key: %d %v", code, m)
		}
		if n := len(ce.outbox(ce.rep.ID)); n != 0 {
			t.Errorf("%d mails queued", n)
		}
	})
}

type rawAnswer struct {
	code int
	body string
}

// rawJSON sends a JSON body and returns the answer as text, to search
// it for what must not be there.
func (e *env) rawJSON(method, path, token, body string) rawAnswer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return rawAnswer{resp.StatusCode, readBody(e.t, resp)}
}

// regexpAll returns the first group of every match of expr in s.
func regexpAll(s, expr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(expr).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestHallOfFame_StatusChange checks that a status change shows in the
// hall of fame at once, not after its cache expires.
func TestHallOfFame_StatusChange(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	ctx := context.Background()
	ce.update(ce.rep.ID, triage.Change{Status: ptr(triage.StatusAccepted)}, t0)
	if code, m := ce.sendJSON("POST", fmt.Sprintf("/api/v1/reports/%d/credit-offer", ce.rep.ID), ce.triagerToken, `{}`); code != http.StatusCreated {
		t.Fatalf("offer: %d %v", code, m)
	}
	if err := ce.db.ChooseCredit(ctx, ce.rep.ID, triage.CreditName, "Rita Example", "", t0); err != nil {
		t.Fatal(err)
	}
	// ChooseCredit went to the database directly: make the web side see it.
	ce.clock.Set(t0.Add(time.Minute))
	hall := func() string {
		_, body := ce.get(ce.client(), "/hall-of-fame.json")
		return body
	}
	if !strings.Contains(hall(), "Rita Example") {
		t.Fatalf("the credited researcher is not listed: %s", hall())
	}
	for _, via := range []string{"api", "page"} {
		to, back := "not-applicable", "triaging"
		if via == "page" {
			_, hdr := ce.staffCookie("tri-"+via+"@localhost", triage.RoleTriager)
			resp, _ := ce.do(ce.client(), "POST", fmt.Sprintf("/reports/%d/status", ce.rep.ID), url.Values{"status": {to}}, hdr...)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: status change %d", via, resp.StatusCode)
			}
		} else if code, m := ce.sendJSON("PATCH", fmt.Sprintf("/api/v1/reports/%d", ce.rep.ID), ce.triagerToken, map[string]string{"status": to}); code != http.StatusOK {
			t.Fatalf("%s: status change %d %v", via, code, m)
		}
		if strings.Contains(hall(), "Rita Example") {
			t.Errorf("%s: a report closed as %s is still in the hall of fame", via, to)
		}
		ce.update(ce.rep.ID, triage.Change{Status: ptr(triage.Status(back))}, t0.Add(time.Minute))
		ce.update(ce.rep.ID, triage.Change{Status: ptr(triage.StatusAccepted)}, t0.Add(time.Minute))
		// Offering again invalidates the cache too (the status moved
		// back behind the web side's back).
		if code, m := ce.sendJSON("POST", fmt.Sprintf("/api/v1/reports/%d/credit-offer", ce.rep.ID), ce.triagerToken, `{}`); code != http.StatusCreated {
			t.Fatalf("re-offer: %d %v", code, m)
		}
		if !strings.Contains(hall(), "Rita Example") {
			t.Fatalf("%s: accepted again, but not listed", via)
		}
	}
}

// TestReportJSON_MessageAttempts: a staff reply's delivery attempts come
// from its own outbox row, however much other mail the report has had
// since.
func TestReportJSON_MessageAttempts(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	ctx := context.Background()
	code, m := ce.sendJSON("POST", fmt.Sprintf("/api/v1/reports/%d/replies", ce.rep.ID), ce.triagerToken, map[string]string{"body": "First."})
	if code != http.StatusCreated {
		t.Fatalf("reply: %d %v", code, m)
	}
	mails := ce.outbox(ce.rep.ID)
	if len(mails) != 1 {
		t.Fatalf("outbox %v", mails)
	}
	if err := ce.db.MarkMail(ctx, mails[0].ID, triage.MailAttempt{Err: errors.New("451 try later")}, t0); err != nil {
		t.Fatal(err)
	}
	// More mail about the report than one default page of the outbox.
	for i := range 120 {
		n := &triage.OutMail{
			Kind: triage.MailNotification, ReportID: ce.rep.ID, To: "team@localhost",
			Subject: fmt.Sprintf("[%s] reminder %d", ce.rep.TrackingID, i), Body: "reminder",
			HeaderMessageID: fmt.Sprintf("<reminder-%d@localhost>", i), CreatedAt: t0.Add(time.Duration(i+1) * time.Second),
		}
		if err := ce.db.QueueMail(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	code, m = ce.sendJSON("GET", fmt.Sprintf("/api/v1/reports/%d/messages", ce.rep.ID), viewerToken, nil)
	if code != http.StatusOK {
		t.Fatalf("messages: %d %v", code, m)
	}
	msgs, _ := m["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("messages %v", msgs)
	}
	d, _ := msgs[1].(map[string]any)["delivery"].(map[string]any)
	if d == nil || d["attempts"] != float64(1) || d["last_error"] != "451 try later" {
		t.Errorf("delivery of the reply %v, want 1 attempt", d)
	}
}

// TestReply_ThreadsUnderAck: when the researcher's mail had no
// Message-ID (or the report came from the web form), a reply threads
// under the acknowledgement the researcher received.
func TestReply_ThreadsUnderAck(t *testing.T) {
	t.Parallel()
	ce := newConvEnv(t)
	rep := ce.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.ResearcherEmail = "nomid@example.org"
	})
	ack := &triage.OutMail{Kind: triage.MailAck, ReportID: rep.ID, To: "nomid@example.org",
		Subject: triage.AckSubject(rep.TrackingID), HeaderMessageID: "<ack-1@localhost>", CreatedAt: t0.Add(-time.Hour)}
	if err := ce.db.QueueMail(context.Background(), ack); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/reports/%d/replies", rep.ID)
	if code, m := ce.sendJSON("POST", path, ce.triagerToken, map[string]string{"body": "Which version?"}); code != http.StatusCreated {
		t.Fatalf("reply: %d %v", code, m)
	}
	for _, m := range ce.outbox(rep.ID) {
		if m.Kind == triage.MailReply && (m.InReplyTo != "<ack-1@localhost>" || !slices.Equal(m.References, []string{"<ack-1@localhost>"})) {
			t.Errorf("reply threads %q %q, want under the acknowledgement", m.InReplyTo, m.References)
		}
	}
}
