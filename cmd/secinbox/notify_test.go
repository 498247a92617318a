package main

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/triage"
)

// TestSLANotifications_SurviveRestart runs the server over a database
// holding a report whose first-response clock is breached: the webhook
// gets one signed POST for it, and none again after a kill -9 and a
// restart.
func TestSLANotifications_SurviveRestart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(data, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	received := time.Now().Add(-25 * time.Hour)
	raw := &triage.RawMessage{MailFrom: "r@example.org", ReceivedAt: received, Data: []byte("Subject: old\r\n\r\nold\r\n")}
	if err := d.AddRawMessage(ctx, raw); err != nil {
		t.Fatal(err)
	}
	rep := triage.NewReport(received)
	rep.MessageID, rep.Title = raw.ID, "Breached before the start"
	if err := d.FileReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	d.Close()

	var (
		mu     sync.Mutex
		bodies [][]byte
		sigs   []string
	)
	got := make(chan struct{}, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get("X-Secinbox-Signature"))
		mu.Unlock()
		got <- struct{}{}
	}))
	defer hook.Close()
	secret := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secret, []byte("s3cret webhook key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SECINBOX_WEBHOOK_URL=" + hook.URL, "SECINBOX_WEBHOOK_SECRET_FILE=" + secret}

	p := startProc(t, data, env...)
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		t.Fatalf("no webhook request\n%s", p.logs())
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logs(), "sla notification sent") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
	logs := p.logs() // the run that sent it
	p = startProc(t, data, env...)
	// The restarted server's first tick runs at start; give it time to
	// send anything it wrongly would.
	deadline = time.Now().Add(3 * time.Second)
	for !strings.Contains(p.logs(), "secinbox started") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-got:
		t.Errorf("notified again after the restart")
	case <-time.After(3 * time.Second):
	}
	p.kill()

	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("%d webhook requests, want 1", len(bodies))
	}
	if !hmac.Equal([]byte(sigs[0]), []byte(inbox.WebhookSignature([]byte("s3cret webhook key"), bodies[0]))) {
		t.Errorf("signature %q does not verify with the file's secret", sigs[0])
	}
	var m map[string]any
	if err := json.Unmarshal(bodies[0], &m); err != nil || m["event"] != "breached" || m["clock"] != "first_response" {
		t.Errorf("payload %s: %v", bodies[0], err)
	}
	if strings.Contains(logs+p.logs(), "s3cret") {
		t.Error("the secret is in the log")
	}
}

func TestNotifierConfig(t *testing.T) {
	dir := t.TempDir()
	d, err := db.Open(context.Background(), filepath.Join(dir, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for name, tt := range map[string]struct {
		c    Config
		want string
	}{
		"NoSecret":    {Config{WebhookURL: "https://hooks.example.com/x"}, "-webhook-url: a webhook needs a secret"},
		"EmptyFile":   {Config{WebhookURL: "https://hooks.example.com/x", WebhookSecretFile: empty}, "webhook secret"},
		"MissingFile": {Config{WebhookURL: "https://hooks.example.com/x", WebhookSecretFile: empty + ".missing"}, "webhook secret"},
		"BadURL":      {Config{WebhookURL: "hooks.example.com", WebhookSecret: "s"}, "-webhook-url: webhook URL must be an absolute http(s) URL"},
	} {
		if _, err := tt.c.notifier(d, nil, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
	}
	c := Config{Domain: "localhost", HTTPAddr: ":8080"}
	if n, err := c.notifier(d, nil, nil); err != nil || n == nil {
		t.Errorf("no webhook: %v", err)
	}
}
