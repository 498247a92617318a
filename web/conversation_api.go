package web

import (
	"cmp"
	"context"
	"net/http"

	"github.com/secinbox/secinbox/triage"
)

// The conversation in the JSON API: messages, replies, credit offers and
// the outbox (openapi.json describes each).

// apiMessage is one message of a report's conversation. The first is
// the message the report was filed from (no id, no delivery).
type apiMessage struct {
	ID        *int64       `json:"id,omitempty"`
	Direction string       `json:"direction"` // in, out
	Via       string       `json:"via"`       // mail, web
	From      string       `json:"from"`
	Author    *apiUser     `json:"author,omitempty"` // outgoing: the staff member
	At        string       `json:"at"`
	Body      string       `json:"body"`
	Encrypted bool         `json:"encrypted"`
	Signature apiSignature `json:"signature"`
	Delivery  *apiDelivery `json:"delivery,omitempty"` // outgoing only
}

// apiDelivery is where an outgoing message's mail stands.
type apiDelivery struct {
	State     string  `json:"state"` // queued, sent, failed
	Attempts  int     `json:"attempts"`
	LastError string  `json:"last_error"`
	SentAt    *string `json:"sent_at"`
}

func optTime(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func apiSig(sig triage.Signature) apiSignature {
	st := cmp.Or(sig.Status, triage.SignatureNone)
	return apiSignature{Status: string(st), Fingerprint: sig.Fingerprint, KeyID: sig.KeyID}
}

// apiMessages returns rep's conversation for the API, the first message
// first. Notes are not part of it.
func (s *server) apiMessageList(ctx context.Context, rep *triage.Report) ([]apiMessage, error) {
	msgs, err := s.store.Messages(ctx, rep.ID)
	if err != nil {
		return nil, err
	}
	out := make([]apiMessage, 0, len(msgs)+1)
	out = append(out, apiMessage{
		Direction: string(triage.DirectionIn), Via: triage.ViaMail, From: rep.ResearcherEmail,
		At: formatRFC3339(rep.ReceivedAt), Body: rep.Body, Encrypted: rep.Encrypted, Signature: apiSig(rep.Signature),
	})
	for _, m := range msgs {
		id := m.ID
		v := apiMessage{
			ID: &id, Direction: string(m.Direction), Via: cmp.Or(m.Via, triage.ViaMail), From: m.From,
			At: formatRFC3339(m.At), Body: m.Body, Encrypted: m.Encrypted, Signature: apiSig(m.Signature),
		}
		if m.Direction == triage.DirectionOut {
			if m.AuthorID != 0 {
				v.Author = &apiUser{ID: m.AuthorID, Email: m.AuthorEmail}
			}
			v.Delivery = &apiDelivery{
				State: string(cmp.Or(m.Delivery, triage.DeliveryQueued)), Attempts: m.Attempts,
				LastError: m.LastError, SentAt: optTime(formatRFC3339(m.SentAt)),
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// apiMessages answers a report's conversation. It shows decrypted
// content: audited like the report itself, and not served if it cannot
// be.
func (s *server) apiMessages(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, triage.AuditReportView, reportTarget(rep.ID), map[string]string{"via": "api", "what": "messages"}); err != nil {
		s.Error(w, r, err)
		return
	}
	msgs, err := s.apiMessageList(r.Context(), rep)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

// apiReply queues a reply to the researcher: {"body": "..."}; it
// answers the message (201).
func (s *server) apiReply(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var body struct {
		Body       string `json:"body"`
		ResponseID *int64 `json:"response_id"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		s.Error(w, r, err)
		return
	}
	text := body.Body
	if body.ResponseID != nil {
		// A canned response, filled in for this report, instead of a body.
		if body.Body != "" {
			s.Error(w, r, triage.Errorf(triage.EINVALID, "send body or response_id, not both"))
			return
		}
		t, _, err := s.renderResponse(r.Context(), rep, *body.ResponseID)
		if triage.ErrorCode(err) == triage.ENOTFOUND {
			err = triage.Errorf(triage.EINVALID, "response_id: no canned response %d", *body.ResponseID)
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		text = t
	}
	m, err := s.reply(r.Context(), rep, actorOf(r), text)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	id := m.ID
	writeJSON(w, http.StatusCreated, apiMessage{
		ID: &id, Direction: string(m.Direction), Via: m.Via, From: m.From,
		Author: &apiUser{ID: m.AuthorID, Email: m.AuthorEmail},
		At:     formatRFC3339(m.At), Body: m.Body, Encrypted: m.Encrypted, Signature: apiSig(m.Signature),
		Delivery: &apiDelivery{State: string(triage.DeliveryQueued)},
	})
}

// apiCredit is a report's credit offer and the researcher's answer. It
// never holds the link or its token.
type apiCredit struct {
	ReportID      int64   `json:"report_id"`
	TrackingID    string  `json:"tracking_id"`
	State         string  `json:"state"`  // not_offered, offered, chosen, revoked, expired
	Choice        string  `json:"choice"` // undecided, name, handle, anonymous, none
	DisplayName   string  `json:"display_name"`
	Link          string  `json:"link"`
	AdvisoryTitle string  `json:"advisory_title"`
	Published     bool    `json:"published"`
	OfferedAt     *string `json:"offered_at"`
	OfferedBy     *int64  `json:"offered_by"`
	ExpiresAt     *string `json:"expires_at"`
	ChosenAt      *string `json:"chosen_at"`
	RevokedAt     *string `json:"revoked_at"`
}

func (s *server) newAPICredit(rep *triage.Report, c *triage.Credit) apiCredit {
	v := apiCredit{ReportID: rep.ID, TrackingID: rep.TrackingID, State: creditState(c, s.now()), Choice: "undecided"}
	if c == nil {
		return v
	}
	v.Choice, v.DisplayName, v.Link, v.AdvisoryTitle = choiceName(c.Choice), c.DisplayName, c.Link, c.AdvisoryTitle
	v.Published = c.Published()
	v.OfferedAt, v.ExpiresAt = optTime(formatRFC3339(c.OfferedAt)), optTime(formatRFC3339(c.ExpiresAt))
	v.ChosenAt, v.RevokedAt = optTime(formatRFC3339(c.ChosenAt)), optTime(formatRFC3339(c.RevokedAt))
	if c.OfferedBy != 0 {
		by := c.OfferedBy
		v.OfferedBy = &by
	}
	return v
}

// apiCreditOffer offers the researcher credit: {"advisory_title": "...",
// "message": "..."}, both optional; it answers the credit (201).
func (s *server) apiCreditOffer(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var body struct {
		AdvisoryTitle string `json:"advisory_title"`
		Message       string `json:"message"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		s.Error(w, r, err)
		return
	}
	c, err := s.offerCredit(r.Context(), rep, actorOf(r), body.AdvisoryTitle, body.Message)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.newAPICredit(rep, c))
}

// apiCredit answers a report's credit state; state not_offered when
// there is no offer.
func (s *server) apiCredit(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	c, err := s.store.Credit(r.Context(), rep.ID)
	if err != nil && triage.ErrorCode(err) != triage.ENOTFOUND {
		s.Error(w, r, err)
		return
	} else if err != nil {
		c = nil
	}
	writeJSON(w, http.StatusOK, s.newAPICredit(rep, c))
}

// apiOutMail is one outbox mail, without its body.
type apiOutMail struct {
	ID            int64   `json:"id"`
	Kind          string  `json:"kind"`
	ReportID      *int64  `json:"report_id"`
	TrackingID    string  `json:"tracking_id"`
	To            string  `json:"to"`
	Subject       string  `json:"subject"`
	State         string  `json:"state"`
	Attempts      int     `json:"attempts"`
	NextAttemptAt *string `json:"next_attempt_at"`
	LastError     string  `json:"last_error"`
	CreatedAt     string  `json:"created_at"`
	SentAt        *string `json:"sent_at"`
	Encrypted     bool    `json:"encrypted"`
	Via           string  `json:"via"`
}

// apiOutbox lists outgoing mail, newest first. Query: state, report, limit.
func (s *server) apiOutbox(w http.ResponseWriter, r *http.Request) {
	f, err := outboxFilter(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	mails, err := s.store.Outbox(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := make([]apiOutMail, 0, len(mails))
	for _, m := range mails {
		v := apiOutMail{
			ID: m.ID, Kind: string(m.Kind), TrackingID: m.TrackingID, To: m.To, Subject: m.Subject,
			State: string(m.State), Attempts: m.Attempts, LastError: m.LastError, CreatedAt: formatRFC3339(m.CreatedAt),
			SentAt: optTime(formatRFC3339(m.SentAt)), Encrypted: m.Encrypted, Via: m.Via,
		}
		if m.ReportID != 0 {
			rid := m.ReportID
			v.ReportID = &rid
		}
		if m.State == triage.DeliveryQueued {
			v.NextAttemptAt = optTime(formatRFC3339(m.NextAttempt))
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"outbound": s.outboundMail, "mail": out})
}

// apiOutboxRetry queues a failed mail again (409 unless it failed).
func (s *server) apiOutboxRetry(w http.ResponseWriter, r *http.Request) {
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
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "state": triage.DeliveryQueued})
}
