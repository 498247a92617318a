package inbox_test

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

// hook is a webhook receiver that answers with the statuses in answers,
// then 200, and keeps what it received.
type hook struct {
	mu       sync.Mutex
	answers  []int
	received []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.received = append(h.received, hookRequest{r.Header.Clone(), body})
	status := http.StatusOK
	if len(h.answers) > 0 {
		status, h.answers = h.answers[0], h.answers[1:]
	}
	if r.Method != http.MethodPost {
		status = http.StatusMethodNotAllowed
	}
	w.WriteHeader(status)
}

func (h *hook) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.received...)
}

type notifyClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *notifyClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *notifyClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// mailbox is a TeamMailer that keeps what it was asked to send.
type mailbox struct{ sent []string }

func (m *mailbox) NotifyTeam(_ context.Context, n *triage.Notification, url string) error {
	m.sent = append(m.sent, n.TrackingID+" "+string(n.Clock)+" "+n.Event+" "+url)
	return nil
}

func TestNotifier_Webhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	received := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	d, err := db.OpenWith(ctx, filepath.Join(t.TempDir(), "secinbox.db"), db.Options{Now: func() time.Time { return received }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	raw := &triage.RawMessage{MailFrom: "r@example.org", ReceivedAt: received, Data: []byte("Subject: x\r\n\r\nx\r\n")}
	if err := d.AddRawMessage(ctx, raw); err != nil {
		t.Fatal(err)
	}
	rep := triage.NewReport(received)
	rep.MessageID, rep.Title = raw.ID, "Secret: admin panel open"
	if err := d.FileReport(ctx, rep); err != nil {
		t.Fatal(err)
	}

	h := &hook{answers: []int{http.StatusInternalServerError}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	secret := []byte("webhook secret 0123456789")
	clock := &notifyClock{t: received.Add(21 * time.Hour)}
	newNotifier := func(mailer inbox.TeamMailer) *inbox.Notifier {
		n, err := inbox.NewNotifier(inbox.NotifierConfig{Store: d, WebhookURL: srv.URL + "/hook", WebhookSecret: secret,
			Mailer: mailer, PublicURL: "https://security.example.com/", Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := newNotifier(nil)
	tick := func(at time.Duration, wantRequests int) {
		t.Helper()
		clock.Set(received.Add(at))
		if err := n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(h.requests()); got != wantRequests {
			t.Fatalf("at +%v: %d webhook requests, want %d", at, got, wantRequests)
		}
	}

	tick(21*time.Hour, 0)                // 3 h before the first response is due
	tick(22*time.Hour, 1)                // due within 2 h: sent, answered 500
	tick(22*time.Hour+30*time.Second, 1) // not retried before its backoff
	tick(22*time.Hour+time.Minute, 2)    // retried: 200
	tick(23*time.Hour, 2)                // once only
	n = newNotifier(nil)                 // a restart decides nothing twice
	tick(23*time.Hour+time.Minute, 2)
	tick(24*time.Hour, 3) // breached

	reqs := h.requests()
	if d0, d1 := reqs[0].header.Get("X-Secinbox-Delivery"), reqs[1].header.Get("X-Secinbox-Delivery"); d0 == "" || d0 != d1 {
		t.Errorf("the retry is another delivery: %q, %q", d0, d1)
	}
	for i, r := range reqs {
		sig := r.header.Get("X-Secinbox-Signature")
		if !hmac.Equal([]byte(sig), []byte(inbox.WebhookSignature(secret, r.body))) || !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 {
			t.Errorf("request %d: signature %q does not verify", i, sig)
		}
		if inbox.WebhookSignature([]byte("another secret"), r.body) == sig {
			t.Error("signature does not depend on the secret")
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, r.header.Get("Content-Type"))
		}
		if strings.Contains(string(r.body), "Secret") || strings.Contains(string(r.body), "admin panel") {
			t.Errorf("request %d carries report content: %s", i, r.body)
		}
	}
	var last map[string]any
	if err := json.Unmarshal(reqs[2].body, &last); err != nil {
		t.Fatal(err)
	}
	report := last["report"].(map[string]any)
	if last["event"] != "breached" || last["clock"] != "first_response" || last["due_at"] != "2026-03-11T08:00:00Z" ||
		report["tracking_id"] != rep.TrackingID || report["status"] != "new" || report["severity"] != nil ||
		report["url"] != "https://security.example.com/reports/1" || reqs[2].header.Get("X-Secinbox-Event") != "sla.breached" {
		t.Errorf("payload %s, headers %v", reqs[2].body, reqs[2].header)
	}

	// Email: recorded and pending until a mailer exists, then sent once.
	pending, err := d.PendingNotifications(ctx, triage.ChannelEmail, received.Add(25*time.Hour), 10)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending email notifications: %d, %v", len(pending), err)
	}
	mb := &mailbox{}
	n = newNotifier(mb) // restarted with a mailer
	tick(25*time.Hour, 3)
	tick(26*time.Hour, 3)
	if strings.Join(mb.sent, "|") != rep.TrackingID+" first_response due_soon https://security.example.com/reports/1|"+
		rep.TrackingID+" first_response breached https://security.example.com/reports/1" {
		t.Errorf("mailed %q", mb.sent)
	}
}

func TestNotifier_Failures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	received := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "secinbox.db")
	d, err := db.OpenWith(ctx, path, db.Options{Now: func() time.Time { return received }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	raw := &triage.RawMessage{ReceivedAt: received, Data: []byte("x")}
	if err := d.AddRawMessage(ctx, raw); err != nil {
		t.Fatal(err)
	}
	rep := triage.NewReport(received)
	rep.MessageID = raw.ID
	if err := d.FileReport(ctx, rep); err != nil {
		t.Fatal(err)
	}

	// A port nothing listens on, and a token in the URL as Slack has.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	clock := &notifyClock{t: received.Add(24 * time.Hour)}
	n, err := inbox.NewNotifier(inbox.NotifierConfig{Store: d, WebhookURL: "http://" + addr + "/services/T0/B0/tokentokentoken", WebhookSecret: []byte("s"), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	at := received.Add(24 * time.Hour)
	for i := 0; i < triage.MaxNotifyAttempts; i++ {
		clock.Set(at)
		if err := n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		at = at.Add(triage.NotifyBackoff(i + 1))
	}
	left, err := d.PendingNotifications(ctx, triage.ChannelWebhook, at.Add(48*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("still pending after %d attempts: %+v", triage.MaxNotifyAttempts, left[0])
	}
	s, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var state, lastErr string
	var attempts int
	if err := s.QueryRow(`SELECT state, attempts, last_error FROM notifications WHERE channel = 'webhook' AND event = 'breached'`).Scan(&state, &attempts, &lastErr); err != nil {
		t.Fatal(err)
	}
	if state != "failed" || attempts != triage.MaxNotifyAttempts || !strings.Contains(lastErr, "refused") || strings.Contains(lastErr, "token") {
		t.Errorf("state %s after %d attempts, last error %q", state, attempts, lastErr)
	}
}

// TestNewNotifier: a webhook needs an absolute http(s) URL and a secret;
// a notifier needs its store.
func TestNewNotifier(t *testing.T) {
	t.Parallel()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for name, tt := range map[string]struct {
		cfg  inbox.NotifierConfig
		want string // "": accepted
	}{
		"NoWebhook":       {inbox.NotifierConfig{Store: d}, ""},
		"Webhook":         {inbox.NotifierConfig{Store: d, WebhookURL: "https://hooks.example.com/x", WebhookSecret: []byte("s")}, ""},
		"PlainHTTP":       {inbox.NotifierConfig{Store: d, WebhookURL: "http://127.0.0.1:8080/x", WebhookSecret: []byte("s")}, ""},
		"NoSecret":        {inbox.NotifierConfig{Store: d, WebhookURL: "https://hooks.example.com/x"}, "secret"},
		"NotAbsolute":     {inbox.NotifierConfig{Store: d, WebhookURL: "/hook", WebhookSecret: []byte("s")}, "absolute"},
		"FTP":             {inbox.NotifierConfig{Store: d, WebhookURL: "ftp://hooks.example.com/", WebhookSecret: []byte("s")}, "absolute"},
		"NoStore":         {inbox.NotifierConfig{}, "no store"},
		"NoStoreNoSecret": {inbox.NotifierConfig{WebhookURL: "https://hooks.example.com/x"}, "no store"},
	} {
		n, err := inbox.NewNotifier(tt.cfg)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
		if (err == nil) != (n != nil) {
			t.Errorf("%s: notifier %v with error %v", name, n, err)
		}
	}
}
