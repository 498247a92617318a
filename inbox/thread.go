package inbox

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// Threading: a researcher's reply joins the report it answers instead of
// opening a new one. Two ways lead to a report:
//
//   - In-Reply-To or References name a Message-ID of the report: the mail
//     it was filed from, or a message of its conversation. The ones we
//     send are random (triage.NewMessageID), so naming one shows the
//     sender saw our mail.
//   - The subject carries the report's tracking id ("Re: [SEC-2026-0001]
//     ..."), for clients that drop the thread fields. Tracking ids are
//     sequential and easy to guess, and a From address is easy to forge,
//     so this counts only when the From address is the report's
//     researcher address and the sender is proven (provenSender: an
//     aligned DKIM pass, or a good signature by a key held for the
//     researcher). Otherwise the mail opens a new report that notes the
//     claim (r.Authentication.ClaimsReplyTo) for staff.

// threadReport returns the report m answers, and how it was found
// ("message-id", "tracking-id"), or 0 when it opens a new report; r is
// the report m would open, whose Authentication notes a tracking id
// claimed without proof.
func (p *Processor) threadReport(ctx context.Context, m *pgp.Message, r *triage.Report) (id int64, how string, err error) {
	if ids := threadIDs(m); len(ids) > 0 {
		id, err := p.cfg.Conversation.ReportByMessageIDs(ctx, ids)
		switch {
		case err == nil:
			return id, "message-id", nil
		case triage.ErrorCode(err) != triage.ENOTFOUND:
			return 0, "", fmt.Errorf("thread by message id: %w", err)
		}
	}
	// The outer Subject only: a web-form submission carries its title as
	// a protected subject (the outer one is "..."), and a title that
	// happens to quote a tracking id must still open a new report, with
	// its own status link. Mail clients that protect the subject also
	// send In-Reply-To.
	tid := triage.SubjectTrackingID(m.Subject)
	if tid == "" || m.FromEmail == "" {
		return 0, "", nil
	}
	id, err = p.cfg.Conversation.ReportByTrackingID(ctx, tid)
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		return 0, "", nil
	} else if err != nil {
		return 0, "", fmt.Errorf("thread by tracking id: %w", err)
	}
	rep, err := p.cfg.Store.Report(ctx, id)
	if err != nil {
		return 0, "", fmt.Errorf("thread by tracking id: %w", err)
	}
	if !sameAddress(m.FromEmail, rep.ResearcherEmail) {
		p.cfg.Logger.Info("intake: tracking id in the subject, but not from the report's researcher: a new report",
			"report", id, "tracking_id", tid)
		r.Authentication.ClaimsReplyTo = tid
		return 0, "", nil
	}
	proven, why, err := p.provenSender(ctx, m, r.Authentication, rep.ResearcherEmail)
	if err != nil {
		return 0, "", fmt.Errorf("thread by tracking id: %w", err)
	}
	if !proven {
		p.cfg.Logger.Info("intake: tracking id in the subject from the researcher's address, but the sender is not proven (no aligned DKIM pass, no signature by a held key): a new report",
			"report", id, "tracking_id", tid)
		r.Authentication.ClaimsReplyTo = tid
		return 0, "", nil
	}
	p.cfg.Logger.Info("intake: sender proven for threading by tracking id", "report", id, "by", why)
	return id, "tracking-id", nil
}

// threadIDs are the Message-IDs m's In-Reply-To and References name,
// In-Reply-To first. pgp keeps only well-formed ids ("<left@right>"),
// without repeats within a field and at most 100 a field; the store
// drops repeats across them and bounds the lookup.
func threadIDs(m *pgp.Message) []string {
	return slices.Concat(m.InReplyTo, m.References)
}

// validMessageID tells whether id, the Message-ID of a mail we file, is
// safe to store and to repeat in a header (the acknowledgement's
// In-Reply-To): one "<...>" of printable ASCII without white space or
// further angle brackets, at most 250 bytes. The "@" RFC 5322 asks for
// is not required here, but pgp drops ids without one from In-Reply-To
// and References (and pgp.ComposeMail from the ones it writes), so a
// later mail cannot thread by such an id; it can by the tracking id.
func validMessageID(id string) bool {
	if len(id) < 3 || len(id) > 250 || id[0] != '<' || id[len(id)-1] != '>' {
		return false
	}
	inner := id[1 : len(id)-1]
	if strings.ContainsAny(inner, "<>") {
		return false
	}
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// sameAddress compares two addresses as mail does in practice: the
// local part exactly, the domain without regard to case.
func sameAddress(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	i, j := strings.LastIndexByte(a, '@'), strings.LastIndexByte(b, '@')
	if i <= 0 || j <= 0 {
		return false
	}
	return a[:i] == b[:j] && strings.EqualFold(a[i+1:], b[j+1:])
}
