package web

import (
	"context"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// ConversationStore is what the conversation with researchers needs:
// staff replies and the outbox (conversation.go), credit with consent
// and the hall of fame (credit.go, halloffame.go), the web form and its
// status links (submit.go). Store embeds it.
type ConversationStore interface {
	// Messages returns a report's conversation after its first message,
	// oldest first; outgoing ones carry their delivery state.
	Messages(ctx context.Context, reportID int64) ([]*triage.Message, error)
	// AddReply stores a staff reply m and queues mail, its delivery, in
	// one transaction that also records the response (the first one stops
	// the first-response clock) and audits it. It sets m.ID, mail.ID,
	// mail.MessageID and m.OutboxID.
	AddReply(ctx context.Context, m *triage.Message, mail *triage.OutMail, by triage.Actor) error
	// Outbox lists outgoing mail, newest first.
	Outbox(ctx context.Context, f triage.OutboxFilter) ([]*triage.OutMail, error)
	// RetryMail puts a failed mail back in the queue (audited); ECONFLICT
	// unless it failed.
	RetryMail(ctx context.Context, id int64, by triage.Actor, now time.Time) error

	// OfferCredit offers credit for report c.ReportID (again: a new nonce
	// replaces the old link, the researcher's choice stays) and queues
	// mail, the offer's mail, in one audited transaction, then fills c
	// with the credit as stored.
	OfferCredit(ctx context.Context, c *triage.Credit, nonce string, tokenHash []byte, mail *triage.OutMail, by triage.Actor) error
	// Credit returns a report's credit offer, or ENOTFOUND.
	Credit(ctx context.Context, reportID int64) (*triage.Credit, error)
	// CreditByTokenHash returns the offer a link token leads to, or
	// ENOTFOUND. The caller checks ExpiresAt.
	CreditByTokenHash(ctx context.Context, hash []byte) (*triage.Credit, error)
	// ChooseCredit records the researcher's choice (validated by
	// triage.CleanCredit) and extends the link to
	// triage.CreditLinkLifetime after now; it clears a revocation.
	ChooseCredit(ctx context.Context, reportID int64, choice triage.CreditChoice, name, link string, now time.Time) error
	// RecordCredit records, on the researcher's behalf, the choice they
	// made by mail: as ChooseCredit but by staff (audited as them) and
	// regardless of the link's expiry.
	RecordCredit(ctx context.Context, reportID int64, choice triage.CreditChoice, name, link string, by triage.Actor, now time.Time) error
	// RevokeCredit withdraws the researcher's consent: nothing about the
	// report is published any more.
	RevokeCredit(ctx context.Context, reportID int64, now time.Time) error
	// SetAdvisoryTitle sets the public title shown once the report is
	// disclosed (audited); ENOTFOUND without an offer.
	SetAdvisoryTitle(ctx context.Context, reportID int64, title string, by triage.Actor) error
	// HallOfFame builds the public hall of fame: published credits
	// (triage.Credit.Published) of reports in triage.HallStatuses,
	// grouped by the year the report was received and by researcher.
	HallOfFame(ctx context.Context) (*triage.HallOfFame, error)

	// AddWebSubmission stores raw, a report from the web form already
	// encrypted to the team key, with its status link and an audit record,
	// in one durable transaction, and sets raw.ID. tokenHash is called in
	// the transaction with the new id: the status token is derived from it
	// (triage.LinkToken with LinkStatus).
	AddWebSubmission(ctx context.Context, raw *triage.RawMessage, nonce string, tokenHash func(rawID int64) []byte) error
	// StatusLink returns the raw message a status link token leads to and
	// the report filed from it (0 while intake has not filed it yet), or
	// ENOTFOUND.
	StatusLink(ctx context.Context, hash []byte) (rawID, reportID int64, err error)
	// AddWebReply stores a researcher's reply written on the status page
	// (direction in, via web) and resumes a report in needs-info, in one
	// transaction audited as the researcher from client's address. It
	// sets m.ID.
	AddWebReply(ctx context.Context, m *triage.Message, client triage.Actor) error
}
