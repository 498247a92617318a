package inbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// NotifyStore is what the SLA notifier needs from the database. db.DB
// implements it.
type NotifyStore interface {
	// DecideNotifications records, once per report, clock, event and
	// channel, the notifications due at now, and returns how many it
	// recorded. The record is the decision: it survives restarts.
	DecideNotifications(ctx context.Context, now time.Time, channels []string) (int, error)
	// PendingNotifications returns up to limit notifications of channel
	// waiting for a (re)try at now.
	PendingNotifications(ctx context.Context, channel string, now time.Time, limit int) ([]*triage.Notification, error)
	// MarkNotification records a delivery attempt (sendErr nil: sent) and
	// schedules the next with backoff; it returns the state left.
	MarkNotification(ctx context.Context, id int64, sendErr error, now time.Time) (string, error)
}

// TeamMailer mails a notification to the security team. TeamMail
// implements it; without one (NotifierConfig.Mailer nil) email
// notifications are recorded and stay pending in the database, to be
// sent once a mailer is configured.
type TeamMailer interface {
	NotifyTeam(ctx context.Context, n *triage.Notification, reportURL string) error
}

// Notifier sends the SLA notifications: a clock due within 2 hours, or
// breached, notifies once per report, clock and event. Each tick it has
// the store decide what is due (in a transaction, so a restart never
// decides twice), then delivers what is pending: a signed webhook, and
// mail once a TeamMailer exists. A delivery that fails is retried with
// backoff, at most triage.MaxNotifyAttempts times. Delivery is at least
// once: a crash between a webhook's answer and its record repeats it, so
// receivers should deduplicate on X-Secinbox-Delivery.
type Notifier struct {
	cfg NotifierConfig
}

// NotifierConfig is a Notifier's configuration, complete at NewNotifier:
// nothing of it changes afterwards.
type NotifierConfig struct {
	Store NotifyStore // required
	// WebhookURL receives a JSON POST per notification; "" for none.
	WebhookURL string
	// WebhookSecret keys the HMAC-SHA256 of the body sent in
	// X-Secinbox-Signature: sha256=<hex>. Required with WebhookURL.
	WebhookSecret []byte
	Mailer        TeamMailer       // nil: email notifications stay pending
	PublicURL     string           // base of the report links, without a trailing slash
	Client        *http.Client     // nil: one with webhookTimeout that follows no redirect
	Logger        *slog.Logger     // nil: nothing is logged
	Now           func() time.Time // nil: time.Now
	Interval      time.Duration    // between ticks; default a minute
}

// Limits of one tick.
const (
	notifyBatch      = 100
	webhookTimeout   = 10 * time.Second
	maxWebhookAnswer = 64 << 10
)

// NewNotifier returns the notifier of cfg. It fails when the store is
// missing, or a webhook URL is set that is not an absolute http(s) URL
// or comes without a secret; these errors do not name the setting, which
// the caller does.
func NewNotifier(cfg NotifierConfig) (*Notifier, error) {
	if cfg.Store == nil {
		return nil, errors.New("inbox: notifier: no store")
	}
	if cfg.WebhookURL != "" {
		u, err := url.Parse(cfg.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("webhook URL must be an absolute http(s) URL")
		}
		if len(cfg.WebhookSecret) == 0 {
			return nil, fmt.Errorf("a webhook needs a secret to sign its requests")
		}
	}
	cfg.WebhookSecret = bytes.Clone(cfg.WebhookSecret)
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout:       webhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	return &Notifier{cfg: cfg}, nil
}

// Run ticks until ctx is done.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.cfg.Interval)
	defer t.Stop()
	for {
		if err := n.Tick(ctx); err != nil && ctx.Err() == nil {
			n.log().Warn("sla notifications", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// channels are the channels notifications are recorded for: email
// always (pending until a mailer exists), the webhook when configured.
func (n *Notifier) channels() []string {
	chs := []string{triage.ChannelEmail}
	if n.cfg.WebhookURL != "" {
		chs = append(chs, triage.ChannelWebhook)
	}
	return chs
}

// Tick decides the notifications due now and delivers the pending ones.
func (n *Notifier) Tick(ctx context.Context) error {
	now := n.now()
	k, err := n.cfg.Store.DecideNotifications(ctx, now, n.channels())
	if err != nil {
		return err
	}
	if k > 0 {
		n.log().Info("sla notifications decided", "count", k)
	}
	var errs []error
	if n.cfg.WebhookURL != "" {
		errs = append(errs, n.deliver(ctx, triage.ChannelWebhook, now, n.postWebhook))
	}
	if n.cfg.Mailer != nil {
		errs = append(errs, n.deliver(ctx, triage.ChannelEmail, now, func(ctx context.Context, no *triage.Notification) error {
			return n.cfg.Mailer.NotifyTeam(ctx, no, n.reportURL(no.ReportID))
		}))
	}
	return errors.Join(errs...)
}

// deliver tries each pending notification of channel once.
func (n *Notifier) deliver(ctx context.Context, channel string, now time.Time, send func(context.Context, *triage.Notification) error) error {
	pending, err := n.cfg.Store.PendingNotifications(ctx, channel, now, notifyBatch)
	if err != nil {
		return err
	}
	for _, no := range pending {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sendErr := send(ctx, no)
		state, err := n.cfg.Store.MarkNotification(ctx, no.ID, sendErr, n.now())
		if err != nil {
			return err
		}
		log := n.log().With("channel", channel, "report", no.TrackingID, "clock", no.Clock, "event", no.Event, "delivery", no.ID)
		switch state {
		case triage.NotificationSent:
			log.Info("sla notification sent")
		case triage.NotificationFailed:
			log.Error("sla notification failed, giving up", "attempts", no.Attempts+1, "err", sendErr)
		default:
			log.Warn("sla notification failed, will retry", "attempts", no.Attempts+1, "err", sendErr)
		}
	}
	return nil
}

// webhookPayload is the webhook's JSON body. It names the report but
// carries none of its content: the title and body stay in secinbox.
type webhookPayload struct {
	ID     int64         `json:"id"`    // the delivery: the same on every retry
	Event  string        `json:"event"` // due_soon, breached
	Clock  string        `json:"clock"` // first_response, triage, remediation
	DueAt  string        `json:"due_at"`
	Report webhookReport `json:"report"`
	SentAt string        `json:"sent_at"`
}

type webhookReport struct {
	ID         int64   `json:"id"`
	TrackingID string  `json:"tracking_id"`
	Status     string  `json:"status"`
	Severity   *string `json:"severity"`
	URL        string  `json:"url"`
}

// WebhookSignature is the X-Secinbox-Signature value for body: the
// receiver recomputes it with the shared secret and compares in constant
// time.
func WebhookSignature(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// postWebhook sends one notification. Any answer but 2xx is a failure;
// redirects are not followed.
func (n *Notifier) postWebhook(ctx context.Context, no *triage.Notification) error {
	p := webhookPayload{
		ID: no.ID, Event: no.Event, Clock: string(no.Clock), DueAt: no.DueAt.UTC().Format(time.RFC3339),
		Report: webhookReport{ID: no.ReportID, TrackingID: no.TrackingID, Status: string(no.Status), URL: n.reportURL(no.ReportID)},
		SentAt: n.now().UTC().Format(time.RFC3339),
	}
	if no.Severity != triage.SeverityUnscored {
		sev := string(no.Severity)
		p.Report.Severity = &sev
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "secinbox")
	req.Header.Set("X-Secinbox-Event", "sla."+no.Event)
	req.Header.Set("X-Secinbox-Delivery", fmt.Sprint(no.ID))
	req.Header.Set("X-Secinbox-Signature", WebhookSignature(n.cfg.WebhookSecret, body))
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		// Not the *url.Error itself: it quotes the URL, and webhook URLs
		// often carry a token (Slack's do). The error goes to the log and
		// the database.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

func (n *Notifier) reportURL(id int64) string {
	return fmt.Sprintf("%s/reports/%d", strings.TrimRight(n.cfg.PublicURL, "/"), id)
}

func (n *Notifier) now() time.Time { return n.cfg.Now() }

func (n *Notifier) log() *slog.Logger { return n.cfg.Logger }
