package triage

import "time"

// SLA notifications: a clock due within DueSoon, or breached, notifies
// the team once per report, clock and event, on each channel.

// Notification events.
const (
	NotifyDueSoon  = "due_soon"
	NotifyBreached = "breached"
)

// Notification channels.
const (
	ChannelWebhook = "webhook" // a signed JSON POST (inbox.Notifier)
	ChannelEmail   = "email"   // mail to the team, through the outbound mail (a later issue)
)

// Notification states.
const (
	NotificationPending = "pending" // decided, not delivered yet
	NotificationSent    = "sent"
	NotificationFailed  = "failed" // gave up after MaxNotifyAttempts
)

// Notification is one decided notification and its delivery.
type Notification struct {
	ID         int64
	ReportID   int64
	TrackingID string   // filled in by the store
	Status     Status   // the report's, when loaded for delivery
	Severity   Severity // the report's, when loaded for delivery
	Clock      ClockName
	Event      string // NotifyDueSoon or NotifyBreached
	Channel    string
	DueAt      time.Time // the clock's due time when decided
	CreatedAt  time.Time
	State      string
	Attempts   int
	NextTry    time.Time
	LastError  string
	SentAt     time.Time
}

// Delivery of notifications is retried with backoff, a bounded number of
// times.
const (
	MaxNotifyAttempts = 8
	notifyBackoffBase = time.Minute
	notifyBackoffMax  = time.Hour
)

// NotifyBackoff is how long to wait after the attempts-th failed delivery:
// 1, 2, 4 ... minutes, at most an hour. With MaxNotifyAttempts the last
// try comes about two hours after the first.
func NotifyBackoff(attempts int) time.Duration {
	d := notifyBackoffBase
	for i := 1; i < attempts && d < notifyBackoffMax; i++ {
		d *= 2
	}
	return min(d, notifyBackoffMax)
}
