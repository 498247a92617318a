package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// The staff side of the conversation with the researcher: replies, the
// report page's timeline, credit offers and the outbox. Mail is only
// queued here; the sender (inbox) composes, signs, encrypts and sends it,
// so a page never waits on a relay.

// kickSender wakes the mail sender after mail was queued, if cmd gave a
// way to.
func (s *server) kickSender() {
	if s.mailOutbox != nil {
		s.mailOutbox.Wake()
	}
}

// newMail is a mail of kind in rep's conversation, written by by and
// queued at now: to the researcher, threaded (In-Reply-To, References),
// its subject carrying the tracking id, marked encrypted when a key is
// known for them. A report without a usable researcher address (an
// unreadable bounce, a mangled From) is EINVALID.
func (s *server) newMail(ctx context.Context, rep *triage.Report, kind triage.MailKind, body string, by triage.Actor, now time.Time) (*triage.OutMail, error) {
	to, err := triage.ValidAddress(rep.ResearcherEmail)
	if err != nil {
		return nil, triage.Errorf(triage.EINVALID, "%s has no usable researcher address to write to", rep.TrackingID)
	}
	subject := triage.ReplySubject(rep.TrackingID)
	if err := triage.ValidSubject(subject); err != nil {
		return nil, err
	}
	msgs, err := s.store.Messages(ctx, rep.ID)
	if err != nil {
		return nil, err
	}
	root := rep.HeaderMessageID
	if root == "" {
		// The researcher's mail had no Message-ID (or came from the web
		// form): thread under the acknowledgement they received.
		acks, err := s.store.Outbox(ctx, triage.OutboxFilter{ReportID: rep.ID, Kind: triage.MailAck, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(acks) > 0 {
			root = acks[0].HeaderMessageID
		}
	}
	inReplyTo, refs := triage.ThreadHeaders(root, msgs)
	_, encrypted, err := s.researcherKey(ctx, rep, now)
	if err != nil {
		return nil, err
	}
	return &triage.OutMail{
		Kind:            kind,
		ReportID:        rep.ID,
		TrackingID:      rep.TrackingID,
		To:              to,
		Subject:         subject,
		Body:            body,
		HeaderMessageID: triage.NewMessageID(s.domain),
		InReplyTo:       inReplyTo,
		References:      refs,
		AuthorID:        by.UserID,
		CreatedAt:       now,
		State:           triage.DeliveryQueued,
		NextAttempt:     now,
		Encrypted:       encrypted,
	}, nil
}

// researcherKey returns the key a mail to rep's researcher would be
// encrypted to at now, if one is known.
func (s *server) researcherKey(ctx context.Context, rep *triage.Report, now time.Time) (triage.ResearcherKey, bool, error) {
	if rep.ResearcherEmail == "" {
		return triage.ResearcherKey{}, false, nil
	}
	keys, err := s.store.ResearcherKeys(ctx, rep.ResearcherEmail)
	if err != nil {
		return triage.ResearcherKey{}, false, err
	}
	k, ok := triage.BestResearcherKey(keys, now)
	return k, ok, nil
}

// reply queues a staff reply to rep's researcher, written by by, and
// returns the stored message. Storing it records the response: the
// first reply stops the first-response clock.
func (s *server) reply(ctx context.Context, rep *triage.Report, by triage.Actor, text string) (*triage.Message, error) {
	body, err := triage.CleanMessageBody(text)
	if err != nil {
		return nil, err
	}
	now := s.now()
	mail, err := s.newMail(ctx, rep, triage.MailReply, body, by, now)
	if err != nil {
		return nil, err
	}
	m := &triage.Message{
		ReportID:        rep.ID,
		Direction:       triage.DirectionOut,
		Via:             triage.ViaMail,
		At:              now,
		From:            s.contact,
		Subject:         mail.Subject,
		Body:            body,
		Encrypted:       mail.Encrypted,
		Decrypted:       true,
		HeaderMessageID: mail.HeaderMessageID,
		AuthorID:        by.UserID,
		AuthorEmail:     by.Email,
		Delivery:        triage.DeliveryQueued,
	}
	if err := s.store.AddReply(ctx, m, mail, by); err != nil {
		return nil, fmt.Errorf("web: reply to %s: %w", rep.TrackingID, err)
	}
	s.kickSender()
	return m, nil
}

// MaxAdvisoryTitle bounds an advisory title, in runes.
const maxAdvisoryTitle = 200

// cleanAdvisoryTitle checks an advisory title: optional, one line of
// printable text, at most maxAdvisoryTitle runes.
func cleanAdvisoryTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if !utf8.ValidString(t) || utf8.RuneCountInString(t) > maxAdvisoryTitle ||
		strings.ContainsFunc(t, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", triage.Errorf(triage.EINVALID, "the advisory title must be one line of at most %d characters", maxAdvisoryTitle)
	}
	return t, nil
}

// offerCredit offers the researcher credit for rep (again: a new link
// replaces the old one; a choice already made stays) and queues the
// offer's mail. The link's token is derived here only to hash it: it is
// never stored, logged or answered; the sender derives it again from
// the nonce when it renders the mail.
func (s *server) offerCredit(ctx context.Context, rep *triage.Report, by triage.Actor, title, message string) (*triage.Credit, error) {
	if len(s.linkKey) == 0 {
		return nil, triage.Errorf(triage.EINTERNAL, "web: credit offer: no link key configured (Config.LinkKey)")
	}
	title, err := cleanAdvisoryTitle(title)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(message) != "" {
		if message, err = triage.CleanMessageBody(message); err != nil {
			return nil, err
		}
	} else {
		message = ""
	}
	now := s.now()
	mail, err := s.newMail(ctx, rep, triage.MailCreditOffer, message, by, now)
	if err != nil {
		return nil, err
	}
	nonce := triage.NewNonce()
	hash := triage.TokenHash(triage.LinkToken(s.linkKey, triage.LinkCredit, rep.ID, nonce))
	c := &triage.Credit{
		ReportID:      rep.ID,
		TrackingID:    rep.TrackingID,
		OfferedAt:     now,
		OfferedBy:     by.UserID,
		ExpiresAt:     now.Add(triage.CreditOfferLifetime),
		AdvisoryTitle: title,
	}
	if err := s.store.OfferCredit(ctx, c, nonce, hash, mail, by); err != nil {
		return nil, fmt.Errorf("web: offer credit for %s: %w", rep.TrackingID, err)
	}
	// A new offer may change the advisory title the hall of fame shows.
	s.hallChanged()
	s.kickSender()
	return c, nil
}

// creditState names where a credit offer stands at now.
func creditState(c *triage.Credit, now time.Time) string {
	switch {
	case c == nil:
		return "not_offered"
	case !c.RevokedAt.IsZero():
		return "revoked"
	case c.Choice != triage.CreditUndecided:
		return "chosen"
	case !now.Before(c.ExpiresAt):
		return "expired"
	}
	return "offered"
}

// creditStateText is creditState for people.
var creditStateText = map[string]string{
	"not_offered": "not offered",
	"offered":     "offered, no answer yet",
	"chosen":      "the researcher chose",
	"revoked":     "revoked by the researcher: nothing is published",
	"expired":     "offer expired without an answer",
}

func choiceName(c triage.CreditChoice) string {
	if c == triage.CreditUndecided {
		return "undecided"
	}
	return string(c)
}

// mailKindText names outbox mail kinds for people.
var mailKindText = map[triage.MailKind]string{
	triage.MailAck:          "acknowledgement",
	triage.MailReply:        "reply",
	triage.MailCreditOffer:  "credit offer",
	triage.MailNotification: "notification",
}

func deliveryClass(d triage.Delivery) string {
	switch d {
	case triage.DeliverySent:
		return "badge-ok"
	case triage.DeliveryFailed:
		return "badge-bad"
	}
	return "badge-warn"
}

// deliveryText says where an outgoing mail stands, in words.
func (s *server) deliveryText(state triage.Delivery, lastError string, sentAt time.Time) string {
	switch state {
	case triage.DeliverySent:
		return "sent " + formatTime(sentAt)
	case triage.DeliveryFailed:
		if lastError == "" {
			return "failed"
		}
		return "failed: " + lastError
	}
	if s.outboundMail == "" {
		return "no relay configured: waiting in the outbox"
	}
	if lastError != "" {
		return "waiting for the next try; the last one failed: " + lastError
	}
	return "waiting to be sent"
}

// Conversation notices after a redirect (?conv=), fixed texts.
var convNotices = map[string]string{
	"reply":      "Reply queued.",
	"credit":     "Credit offered: the researcher will get a link to choose.",
	"credit-set": "Credit updated.",
	"note":       "Internal note added.",
	"retry":      "The mail is queued again.",
}

type convKey struct{}

// convFrom returns the outcome of a conversation action in ctx, or nil.
func convFrom(ctx context.Context) *actionState {
	st, _ := ctx.Value(convKey{}).(*actionState)
	return st
}

// conversationView builds the report page's timeline and forms for rep
// at now, with the outcome of an action if r carries one.
func (s *server) conversationView(r *http.Request, rep *triage.Report, now time.Time) (templates.ConversationView, error) {
	ctx := r.Context()
	user := userFrom(ctx)
	canAct := user != nil && user.Role.Can(triage.RoleTriager)
	v := templates.ConversationView{ActionBase: reportURL(rep.ID), CanAct: canAct, NoRelay: s.outboundMail == ""}

	msgs, err := s.store.Messages(ctx, rep.ID)
	if err != nil {
		return v, err
	}
	notes, err := s.store.Notes(ctx, rep.ID)
	if err != nil {
		return v, err
	}
	type timed struct {
		at time.Time
		e  templates.TimelineEntry
	}
	var all []timed
	for _, m := range msgs {
		all = append(all, timed{m.At, s.messageEntry(rep, m, canAct)})
	}
	for _, n := range notes {
		all = append(all, timed{n.At, templates.TimelineEntry{
			Kind: "note", Anchor: fmt.Sprintf("note-%d", n.ID), Label: "Internal — not sent",
			From: orSystem(n.AuthorEmail), At: formatTime(n.At), AtRFC3339: formatRFC3339(n.At), Body: n.Body,
		}})
	}
	// Stable: messages before notes of the same instant, each oldest first.
	slices.SortStableFunc(all, func(a, b timed) int { return a.at.Compare(b.at) })
	for _, t := range all {
		v.Entries = append(v.Entries, t.e)
	}

	if _, err := triage.ValidAddress(rep.ResearcherEmail); err != nil {
		v.ReplyBlocked = fmt.Sprintf("No reply can be sent: %s has no usable researcher address.", rep.TrackingID)
	}
	if canAct && v.ReplyBlocked == "" {
		if v.Responses, err = s.responseOptions(ctx); err != nil {
			return v, err
		}
		v.ResponseURL = reportURL(rep.ID) + "/responses/"
	}
	key, ok, err := s.researcherKey(ctx, rep, now)
	if err != nil {
		return v, err
	}
	if ok {
		v.ReplyEncrypted = true
		v.ReplyKey = formatFingerprint(key.Fingerprint) + " (" + string(key.Source) + ")"
	}

	c, err := s.store.Credit(ctx, rep.ID)
	if err != nil && triage.ErrorCode(err) != triage.ENOTFOUND {
		return v, err
	} else if err != nil {
		c = nil
	}
	v.Credit = creditView(c, now)
	if canAct {
		v.Credit.OfferURL = reportURL(rep.ID) + "/credit-offer"
		switch {
		case len(s.linkKey) == 0:
			v.Credit.Unavailable = "Credit cannot be offered: the server has no key to make credit links with."
		case v.ReplyBlocked != "":
			v.Credit.Unavailable = "Credit cannot be offered: there is no usable researcher address to send the link to."
		}
		if c != nil {
			v.Credit.TitleInput = c.AdvisoryTitle
			v.Credit.SetURL = reportURL(rep.ID) + "/credit"
		}
	}
	if c != nil && c.OfferedBy != 0 {
		users, err := s.store.Users(ctx)
		if err != nil {
			return v, err
		}
		for _, u := range users {
			if u.ID == c.OfferedBy {
				v.Credit.OfferedBy = u.Email
			}
		}
	}

	if st := convFrom(ctx); st != nil {
		if st.err != nil {
			v.Error, v.ErrorForm = triage.ErrorMessage(st.err), st.form
			if st.form == "credit" || st.form == "credit-set" {
				v.Credit.Error, v.Credit.ErrorForm = v.Error, st.form
				v.Error, v.ErrorForm = "", ""
			}
		}
		v.Notice = st.notice
		v.ReplyInput = st.input["reply"]
		v.NoteInput = st.input["note"]
		if t, ok := st.input["advisory_title"]; ok {
			v.Credit.TitleInput = t
		}
		v.Credit.MessageInput = st.input["message"]
	} else if n := convNotices[r.URL.Query().Get("conv")]; n != "" {
		v.Notice = n
	}
	if raw := r.URL.Query().Get("response"); raw != "" && canAct && convFrom(ctx) == nil {
		// The reply form's Insert without JavaScript, or the default
		// response of a status move: the reply box holds it, to review.
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 {
			text, _, err := s.renderResponse(ctx, rep, id)
			if err != nil && triage.ErrorCode(err) != triage.ENOTFOUND {
				return v, err
			}
			v.ReplyInput = text
		}
	}
	return v, nil
}

// messageEntry is one conversation message for the timeline.
func (s *server) messageEntry(rep *triage.Report, m *triage.Message, canAct bool) templates.TimelineEntry {
	e := templates.TimelineEntry{
		Kind: string(m.Direction), Anchor: fmt.Sprintf("message-%d", m.ID),
		At: formatTime(m.At), AtRFC3339: formatRFC3339(m.At), Body: m.Body,
	}
	if m.Direction == triage.DirectionIn {
		e.Label, e.From = "Researcher", m.From
		e.Via = "by mail"
		if m.Via == triage.ViaWeb {
			e.Via = "from the status page"
		}
		e.Signature = signatureView(m.Signature).SignatureView
		if m.Encrypted {
			e.Badges = append(e.Badges, templates.Badge{Label: "encrypted", Class: "badge-ok"})
		} else {
			e.Badges = append(e.Badges, templates.Badge{Label: "not encrypted", Class: "badge-warn"})
		}
		if m.Encrypted && !m.Decrypted {
			e.DecryptError = cmp.Or(m.DecryptError, "the message could not be decrypted")
		}
		e.Parts = bodyPartViews(m.Parts, m.Signatures)
		return e
	}
	e.Label, e.From = "Reply", orSystem(m.AuthorEmail)
	if m.Encrypted {
		e.Badges = append(e.Badges, templates.Badge{Label: "encrypted", Class: "badge-ok"})
	} else {
		e.Badges = append(e.Badges, templates.Badge{Label: "signed, not encrypted", Class: "badge-neutral"})
	}
	state := cmp.Or(m.Delivery, triage.DeliveryQueued)
	e.Delivery, e.DeliveryCls = string(state), deliveryClass(state)
	e.DeliveryText = s.deliveryText(state, m.LastError, m.SentAt)
	if state == triage.DeliveryFailed && canAct && m.OutboxID != 0 {
		e.RetryURL = fmt.Sprintf("/outbox/%d/retry?report=%d", m.OutboxID, rep.ID)
	}
	return e
}

// creditView is the credit panel's state of c (nil: not offered).
func creditView(c *triage.Credit, now time.Time) templates.CreditView {
	v := templates.CreditView{State: creditStateText[creditState(c, now)]}
	if c == nil {
		return v
	}
	v.Offered = true
	v.Choice = choiceName(c.Choice)
	v.DisplayName, v.Link = c.DisplayName, c.Link
	v.OfferedAt, v.ExpiresAt = formatTime(c.OfferedAt), formatTime(c.ExpiresAt)
	v.ChosenAt, v.RevokedAt = formatTime(c.ChosenAt), formatTime(c.RevokedAt)
	v.Advisory = c.AdvisoryTitle
	v.OfferedBy = triage.ActorSystem
	return v
}

// conversationAnswer answers a conversation action (reply, credit
// offer, note) on rep whose outcome is err: without JavaScript a
// redirect back to the timeline, or, refused, the report page again
// with the refusal at its status code; with htmx the conversation panel.
func (s *server) conversationAnswer(w http.ResponseWriter, r *http.Request, rep *triage.Report, done, notice string, err error, input map[string]string) {
	if err != nil && errorStatus(triage.ErrorCode(err)) >= 500 {
		s.Error(w, r, err)
		return
	}
	credit := done == "credit" || done == "credit-set"
	if err == nil && !isHTMX(r) {
		anchor := "conversation"
		if credit {
			anchor = "credit"
		}
		http.Redirect(w, r, fmt.Sprintf("%s?conv=%s#%s", reportURL(rep.ID), done, anchor), http.StatusSeeOther)
		return
	}
	status := http.StatusOK
	st := &actionState{err: err, form: done, notice: notice, input: map[string]string{}}
	if err != nil {
		st.notice, st.input = "", input
		status = errorStatus(triage.ErrorCode(err))
		// The report was found: any refusal is about the form's values.
		if status != http.StatusConflict {
			status = http.StatusUnprocessableEntity
		}
	}
	// The triage panel must not show this outcome too.
	ctx := context.WithValue(r.Context(), actionKey{}, (*actionState)(nil))
	ctx = context.WithValue(ctx, convKey{}, st)
	r = r.WithContext(ctx)
	if !isHTMX(r) {
		s.report(&statusWriter{ResponseWriter: w, status: status}, r)
		return
	}
	if cur, lerr := s.loadReport(r); lerr == nil {
		rep = cur
	}
	now := s.now()
	v, verr := s.conversationView(r, rep, now)
	if verr != nil {
		s.Error(w, r, verr)
		return
	}
	// A reply stops the first-response clock and adds to the history:
	// the rest of the page follows.
	p, verr := s.store.SLAPolicy(ctx)
	if verr != nil {
		s.Error(w, r, verr)
		return
	}
	tv, verr := s.triageView(r, rep, p, now)
	if verr != nil {
		s.Error(w, r, verr)
		return
	}
	if credit {
		// The credit panel answers; an offer's mail joins the timeline.
		s.render(w, r, status, append(fragments{templates.CreditPanel(v.Credit, false), templates.Timeline(v, true)}, stateOOB(rep, tv, p, now)...))
		return
	}
	s.render(w, r, status, append(fragments{templates.ConversationPanel(v)}, stateOOB(rep, tv, p, now)...))
}

// reportReply is the report page's reply form.
func (s *server) reportReply(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	text := r.PostForm.Get("body")
	_, err = s.reply(r.Context(), rep, actorOf(r), text)
	s.conversationAnswer(w, r, rep, "reply", convNotices["reply"], err, map[string]string{"reply": text})
}

// reportCreditOffer is the report page's credit offer form.
func (s *server) reportCreditOffer(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	title, msg := r.PostForm.Get("advisory_title"), r.PostForm.Get("message")
	_, err = s.offerCredit(r.Context(), rep, actorOf(r), title, msg)
	s.conversationAnswer(w, r, rep, "credit", convNotices["credit"], err, map[string]string{"advisory_title": title, "message": msg})
}

// maxOutboxLimit is the most outbox rows the store lists at once
// (db.MaxMailLimit).
const maxOutboxLimit = 1000

// outboxStates are the outbox filter's choices.
var outboxStates = []triage.Delivery{triage.DeliveryQueued, triage.DeliverySent, triage.DeliveryFailed}

// outboxFilter reads ?state= (and, for the API, report and limit).
func outboxFilter(r *http.Request) (triage.OutboxFilter, error) {
	q := r.URL.Query()
	f := triage.OutboxFilter{State: triage.Delivery(q.Get("state")), Limit: 200}
	if f.State != "" && !slices.Contains(outboxStates, f.State) {
		return f, triage.Errorf(triage.EINVALID, "state must be queued, sent or failed")
	}
	if rid := q.Get("report"); rid != "" {
		n, err := intParam(rid, 0, 1, 1<<62)
		if err != nil {
			return f, triage.Errorf(triage.EINVALID, "report must be a report id")
		}
		f.ReportID = int64(n)
	}
	n, err := intParam(q.Get("limit"), 200, 1, maxOutboxLimit)
	if err != nil {
		return f, triage.Errorf(triage.EINVALID, "limit must be between 1 and %d", maxOutboxLimit)
	}
	f.Limit = n
	return f, nil
}

// outboxPageSize is how many mails one page of the outbox lists.
const outboxPageSize = 50

// outbox is the page listing outgoing mail and its delivery, newest
// first, a page at a time (?page=).
func (s *server) outbox(w http.ResponseWriter, r *http.Request) {
	f, err := outboxFilter(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := intParam(r.URL.Query().Get("page"), 1, 1, triage.MaxOutboxOffset/outboxPageSize)
	if err != nil {
		s.Error(w, r, triage.Errorf(triage.EINVALID, "page must be a number from 1 to %d", triage.MaxOutboxOffset/outboxPageSize))
		return
	}
	f.Limit, f.Offset = outboxPageSize+1, (page-1)*outboxPageSize
	mails, err := s.store.Outbox(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	pageURL := func(n int) string {
		q := url.Values{}
		if f.State != "" {
			q.Set("state", string(f.State))
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		if len(q) == 0 {
			return "/outbox"
		}
		return "/outbox?" + q.Encode()
	}
	more := len(mails) > outboxPageSize
	if more {
		mails = mails[:outboxPageSize]
	}
	user := userFrom(r.Context())
	canAct := user != nil && user.Role.Can(triage.RoleTriager)
	v := templates.OutboxView{Nav: staffNav(user), OutboundMail: s.outboundMail, State: string(f.State), Page: page}
	if page > 1 {
		v.PrevURL = pageURL(page - 1)
	}
	if more {
		v.NextURL = pageURL(page + 1)
	}
	v.States = []templates.Option{{Value: "", Label: "any", Selected: f.State == ""}}
	for _, st := range outboxStates {
		v.States = append(v.States, templates.Option{Value: string(st), Label: string(st), Selected: f.State == st})
	}
	for _, m := range mails {
		row := templates.OutboxRow{
			ID: m.ID, Kind: cmp.Or(mailKindText[m.Kind], string(m.Kind)), TrackingID: m.TrackingID, To: m.To, Subject: m.Subject,
			State: string(m.State), StateClass: deliveryClass(m.State), Attempts: fmt.Sprint(m.Attempts),
			LastError: m.LastError, Created: formatTime(m.CreatedAt), CreatedAt: formatRFC3339(m.CreatedAt),
			Sent: formatTime(m.SentAt), Encrypted: m.Encrypted,
		}
		if m.ReportID != 0 {
			row.ReportURL = reportURL(m.ReportID)
			row.TrackingID = cmp.Or(m.TrackingID, fmt.Sprintf("report %d", m.ReportID))
		}
		if m.State == triage.DeliveryQueued && s.outboundMail != "" {
			row.NextAttempt = formatTime(m.NextAttempt)
		}
		if m.State == triage.DeliveryFailed && canAct {
			row.RetryURL = fmt.Sprintf("/outbox/%d/retry", m.ID)
		}
		v.Rows = append(v.Rows, row)
	}
	if r.URL.Query().Get("done") == "retry" {
		v.Notice = convNotices["retry"]
	}
	s.render(w, r, http.StatusOK, templates.OutboxPage(v))
}

// outboxRetry queues a failed mail again and goes back to the report it
// was retried from (?report=) or to the outbox.
func (s *server) outboxRetry(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	id, err := pathID(r, "mid")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.store.RetryMail(r.Context(), id, actorOf(r), s.now()); err != nil {
		s.Error(w, r, err)
		return
	}
	s.kickSender()
	back := "/outbox?done=retry"
	if rid, err := pathIDValue(r.URL.Query().Get("report")); err == nil {
		back = fmt.Sprintf("%s?conv=retry#conversation", reportURL(rid))
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// pathIDValue parses a positive id.
func pathIDValue(s string) (int64, error) {
	n, err := intParam(s, 0, 1, 1<<62)
	if s == "" || err != nil {
		return 0, triage.Errorf(triage.EINVALID, "not an id")
	}
	return int64(n), nil
}
