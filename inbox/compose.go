package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// Composition of outbox mail, at send time. The text is plain, written
// per kind, and never carries more of a report than the kind needs: an
// acknowledgement names the tracking id and whether the report could be
// read, never its title or content (the researcher's own words must not
// travel back, perhaps unencrypted when their key is unknown).

// compose renders m and returns the message to send, its envelope
// recipient, and whether it is encrypted to the researcher. Errors
// wrapped as permanentError cannot be fixed by a retry.
func (s *Sender) compose(ctx context.Context, m *triage.OutMail, now time.Time) (msg []byte, to string, encrypted bool, err error) {
	to, err = triage.ValidAddress(m.To)
	if err != nil {
		return nil, "", false, permanent(fmt.Errorf("mail to %q: %w", m.To, err))
	}
	if err := triage.ValidSubject(m.Subject); err != nil {
		return nil, "", false, permanent(fmt.Errorf("mail subject: %w", err))
	}
	body, err := s.render(ctx, m, now)
	if err != nil {
		return nil, "", false, err
	}
	recipients, err := s.researcherKey(ctx, to, now)
	if err != nil {
		return nil, "", false, err
	}
	auto := ""
	switch m.Kind {
	case triage.MailAck:
		auto = "auto-replied"
	case triage.MailNotification:
		auto = "auto-generated"
	}
	msg, err = s.cfg.Signer.ComposeMail(pgp.OutgoingMail{
		From: s.cfg.TeamAddress, FromName: s.cfg.FromName, To: to, Subject: m.Subject, Date: now,
		MessageID: m.HeaderMessageID, InReplyTo: m.InReplyTo, References: m.References,
		AutoSubmitted: auto, Body: body,
	}, recipients, now)
	if errors.Is(err, pgp.ErrInvalidMail) {
		return nil, "", false, permanent(fmt.Errorf("compose mail: %w", err))
	} else if err != nil {
		return nil, "", false, fmt.Errorf("compose mail: %w", err)
	}
	return msg, to, len(recipients) > 0, nil
}

// researcherKey returns the key to encrypt to: the best key held for
// addr (triage.BestResearcherKey) when it can encrypt at now, else none
// (the mail goes out signed only).
func (s *Sender) researcherKey(ctx context.Context, addr string, now time.Time) (openpgp.EntityList, error) {
	keys, err := s.cfg.Store.ResearcherKeys(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("researcher keys: %w", err)
	}
	best, ok := triage.BestResearcherKey(keys, now)
	if !ok {
		return nil, nil
	}
	el, err := pgp.ReadPublicKeys(best.Public)
	if err != nil || len(el) != 1 {
		s.log().Warn("outbox: stored researcher key unreadable; sending signed only", "key", best.ID, "err", err)
		return nil, nil
	}
	if _, ok := pgp.EncryptionExpiry(el[0], now); !ok {
		return nil, nil
	}
	return el, nil
}

// render returns the text of m by kind.
func (s *Sender) render(ctx context.Context, m *triage.OutMail, now time.Time) (string, error) {
	switch m.Kind {
	case triage.MailAck:
		return s.renderAck(ctx, m)
	case triage.MailReply:
		return renderReply(m), nil
	case triage.MailCreditOffer:
		return s.renderCreditOffer(ctx, m, now)
	case triage.MailNotification:
		return m.Body, nil
	}
	return "", permanent(fmt.Errorf("unknown kind of mail %q", m.Kind))
}

// report loads m's report: gone (deleted since) is permanent.
func (s *Sender) report(ctx context.Context, m *triage.OutMail) (*triage.Report, error) {
	r, err := s.cfg.Store.Report(ctx, m.ReportID)
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		return nil, permanent(fmt.Errorf("report %d: %w", m.ReportID, err))
	} else if err != nil {
		return nil, fmt.Errorf("report %d: %w", m.ReportID, err)
	}
	return r, nil
}

// renderAck is the acknowledgement: that the report arrived (and whether
// it could be read), its tracking id, what happens next, the first-
// response promise, the policy, and the status link of a web submission.
func (s *Sender) renderAck(ctx context.Context, m *triage.OutMail) (string, error) {
	r, err := s.report(ctx, m)
	if err != nil {
		return "", err
	}
	statusLink := ""
	if len(s.cfg.LinkKey) > 0 && r.MessageID != 0 {
		nonce, err := s.cfg.Store.StatusLinkNonce(ctx, r.MessageID)
		switch {
		case err == nil:
			statusLink = s.url("/status/" + triage.LinkToken(s.cfg.LinkKey, triage.LinkStatus, r.MessageID, nonce))
		case triage.ErrorCode(err) != triage.ENOTFOUND:
			return "", fmt.Errorf("status link: %w", err)
		}
	}
	policy, err := s.cfg.Store.SLAPolicy(ctx)
	if err != nil {
		return "", fmt.Errorf("SLA policy: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\nthank you for your report. We received it on %s and filed it as %s.\n",
		mailTime(r.ReceivedAt), r.TrackingID)
	b.WriteString("Please keep this tracking id in the subject of any mail about it; replying to this mail does that.\n\n")
	switch {
	case r.Encrypted && r.Decrypted:
		b.WriteString("It arrived encrypted and we could decrypt it.\n\n")
	case r.Encrypted:
		fmt.Fprintf(&b, "It arrived encrypted, but we could not decrypt it. Please send it again,\n"+
			"encrypted to our current key:\n\n  %s\n\n", s.url("/pgp-key.asc"))
	default:
		fmt.Fprintf(&b, "It arrived unencrypted. Please encrypt anything sensitive you send us\n"+
			"to our key:\n\n  %s\n\n", s.url("/pgp-key.asc"))
	}
	fmt.Fprintf(&b, "What happens next: a member of the security team reads your report and\n"+
		"answers you within %s of its arrival (by %s). We then assess it,\n"+
		"keep you informed while it is fixed, and agree on disclosure with you.\n\n",
		policy.FirstResponsePromise(), mailTime(r.FirstResponseDue))
	fmt.Fprintf(&b, "Our disclosure policy:\n\n  %s\n", s.url("/policy"))
	if statusLink != "" {
		fmt.Fprintf(&b, "\nFollow your report and write to us at this private link\n"+
			"(do not share it):\n\n  %s\n", statusLink)
	}
	b.WriteString("\nThis is an automatic acknowledgement.\n")
	s.signature(&b)
	return b.String(), nil
}

// renderReply is the staff member's text with a short footer.
func renderReply(m *triage.OutMail) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(m.Body, "\n"))
	fmt.Fprintf(&b, "\n\n-- \nReport %s. Reply to this mail to answer; keep the tracking id in the subject.\n", m.TrackingID)
	return b.String()
}

// renderCreditOffer is the staff text (if any), the link to choose how
// to be credited, its expiry and the choices.
func (s *Sender) renderCreditOffer(ctx context.Context, m *triage.OutMail, now time.Time) (string, error) {
	if len(s.cfg.LinkKey) == 0 {
		return "", fmt.Errorf("no link key: credit links cannot be made")
	}
	nonce, c, err := s.cfg.Store.CreditLink(ctx, m.ReportID)
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		return "", permanent(fmt.Errorf("credit offer for report %d: %w", m.ReportID, err))
	} else if err != nil {
		return "", fmt.Errorf("credit offer for report %d: %w", m.ReportID, err)
	}
	if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		return "", permanent(fmt.Errorf("credit offer for report %d expired on %s before it could be sent", m.ReportID, mailTime(c.ExpiresAt)))
	}
	link := s.url("/credit/" + triage.LinkToken(s.cfg.LinkKey, triage.LinkCredit, m.ReportID, nonce))
	var b strings.Builder
	if body := strings.TrimSpace(m.Body); body != "" {
		b.WriteString(body)
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "We would like to credit you for report %s in our hall of fame.\n"+
		"Nothing is published unless you choose so. Choose at this private link\n"+
		"(do not share it):\n\n  %s\n\n", m.TrackingID, link)
	if !c.ExpiresAt.IsZero() {
		fmt.Fprintf(&b, "The link works until %s.\n\n", mailTime(c.ExpiresAt))
	}
	b.WriteString("Your choices:\n" +
		"  name       credited under your name, with a link if you like\n" +
		"  handle     credited under a handle (a pseudonym) of your choosing\n" +
		"  anonymous  counted as an anonymous report, without a name\n" +
		"  none       not credited at all\n\n" +
		"You can change or withdraw your choice later at the same link. You may\n" +
		"also simply reply to this mail with your choice: we will record it for you.\n")
	s.signature(&b)
	return b.String(), nil
}

func (s *Sender) signature(b *strings.Builder) {
	fmt.Fprintf(b, "\n-- \n%s <%s>\n", s.cfg.FromName, s.cfg.TeamAddress)
}

// url is PublicURL + path.
func (s *Sender) url(path string) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + path
}

// mailTime formats t for a mail: UTC, unambiguous in every locale.
func mailTime(t time.Time) string {
	return t.UTC().Format("2 January 2006 at 15:04 UTC")
}
