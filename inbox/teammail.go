package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TeamMailStore is what TeamMail needs: the outbox. db.DB implements it.
type TeamMailStore interface {
	// QueueMail stores m in the outbox; see ConversationStore.
	QueueMail(ctx context.Context, m *triage.OutMail) error
}

// TeamMail is the Notifier's TeamMailer: it queues an SLA notification
// as outbox mail (kind notification) to each team address, for the
// Sender to deliver, signed like all our mail. The mail names the report,
// the clock and the link, never the report's content.
type TeamMail struct {
	cfg TeamMailConfig
}

// TeamMailConfig is a TeamMail's configuration, complete at NewTeamMail:
// nothing of it changes afterwards.
type TeamMailConfig struct {
	Store TeamMailStore // required
	// To are the team addresses (SECINBOX_NOTIFY_EMAIL), at least one;
	// with none, do not build a TeamMail (NotifierConfig.Mailer nil).
	To     []string
	Domain string           // the right side of Message-IDs; required
	Now    func() time.Time // nil: time.Now
	// Outbox, when set, is woken when mail is queued (the Sender).
	Outbox triage.Waker
}

// NewTeamMail returns the TeamMail of cfg. It fails when the store, the
// domain or the addresses are missing, or an address is not one plain
// address the outbox can mail (an EINVALID error naming it): a typo must
// stop the start, not fail every SLA mail later.
func NewTeamMail(cfg TeamMailConfig) (*TeamMail, error) {
	if cfg.Store == nil {
		return nil, errors.New("inbox: team mail: no store")
	}
	if cfg.Domain == "" {
		return nil, errors.New("inbox: team mail: no domain")
	}
	if len(cfg.To) == 0 {
		return nil, errors.New("inbox: team mail: no team address")
	}
	to := make([]string, len(cfg.To))
	for i, addr := range cfg.To {
		v, err := triage.ValidAddress(strings.TrimSpace(addr))
		if err != nil {
			return nil, fmt.Errorf("inbox: team mail to %q: %w", addr, err)
		}
		to[i] = v
	}
	cfg.To = to
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &TeamMail{cfg: cfg}, nil
}

// NotifyTeam queues n's mail to every team address. A retry after a
// crash between queueing and the notification's record must not mail
// twice: each mail's Message-ID is derived from the notification and the
// address, so queueing it again is ECONFLICT (the outbox's Message-IDs
// are unique, as is a notification's mail to one address), counted as
// done.
func (t *TeamMail) NotifyTeam(ctx context.Context, n *triage.Notification, reportURL string) error {
	subject := fmt.Sprintf("[%s] SLA: %s %s", n.TrackingID, clockText(n.Clock), eventText(n.Event))
	if err := triage.ValidSubject(subject); err != nil {
		return fmt.Errorf("inbox: team mail: %w", err)
	}
	body := notificationBody(n, reportURL)
	now := t.cfg.Now()
	queued := false
	for _, to := range t.cfg.To {
		m := &triage.OutMail{
			Kind: triage.MailNotification, ReportID: n.ReportID, TrackingID: n.TrackingID,
			To: to, Subject: subject, Body: body,
			HeaderMessageID: notificationMessageID(n, to, t.cfg.Domain), CreatedAt: now,
			NotificationID: n.ID,
		}
		err := t.cfg.Store.QueueMail(ctx, m)
		switch {
		case err == nil:
			queued = true
		case triage.ErrorCode(err) == triage.ECONFLICT: // queued before a crash
		default:
			return fmt.Errorf("inbox: team mail: queue: %w", err)
		}
	}
	if queued && t.cfg.Outbox != nil {
		t.cfg.Outbox.Wake()
	}
	return nil
}

// notificationMessageID is the Message-ID of n's mail to addr: the same
// every time it is queued, unique across notifications and addresses.
// The decision time and tracking id keep it apart from the notification
// of the same id in another database (a reinstall restarts the ids).
func notificationMessageID(n *triage.Notification, addr, domain string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "secinbox notification\x00%d\x00%s\x00%s\x00%s",
		n.ID, n.CreatedAt.UTC().Format(time.RFC3339Nano), n.TrackingID, addr))
	return fmt.Sprintf("<sla.%d.%s@%s>", n.ID, hex.EncodeToString(h[:12]), domain)
}

// notificationBody names the report, the clock, the event, the due time
// and the link: nothing of the report's content.
func notificationBody(n *triage.Notification, reportURL string) string {
	var b strings.Builder
	switch n.Event {
	case triage.NotifyBreached:
		fmt.Fprintf(&b, "The %s clock of report %s is breached: it was due %s.\n\n",
			clockText(n.Clock), n.TrackingID, mailTime(n.DueAt))
	default:
		fmt.Fprintf(&b, "The %s clock of report %s is due soon: %s.\n\n",
			clockText(n.Clock), n.TrackingID, mailTime(n.DueAt))
	}
	if n.Status != "" {
		fmt.Fprintf(&b, "Status:   %s\n", n.Status)
	}
	sev := string(n.Severity)
	if n.Severity == triage.SeverityUnscored {
		sev = "not rated yet"
	}
	fmt.Fprintf(&b, "Severity: %s\n\nOpen the report:\n\n  %s\n", sev, reportURL)
	b.WriteString("\nThis mail is sent automatically by secinbox and carries nothing of the\nreport's content: sign in to read it.\n")
	return b.String()
}

func clockText(c triage.ClockName) string {
	switch c {
	case triage.ClockFirstResponse:
		return "first-response"
	case triage.ClockTriage:
		return "triage"
	case triage.ClockRemediation:
		return "remediation"
	}
	return triage.DeadlineText(c) // the disclosure deadline, the CRA clocks

}

func eventText(e string) string {
	switch e {
	case triage.NotifyBreached:
		return "breached"
	case triage.NotifyDueSoon:
		return "due soon"
	case triage.NotifyDueIn14Days:
		return "due in 14 days"
	case triage.NotifyDueIn1Day:
		return "due in 1 day"
	}
	return e
}
