package teamkey

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/pgp"
)

func openRing(t *testing.T) *Ring {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	r, err := Open(ctx, Config{Store: d, Passphrase: []byte("a passphrase"), Domain: "example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// encryptedTo is a report encrypted to the ring's published key.
func encryptedTo(t *testing.T, r *Ring, text string) []byte {
	t.Helper()
	pub, err := pgp.ReadPublicKeys(r.Published(context.Background()).Armored)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := pgp.Encrypt([]byte("Content-Type: text/plain\r\n\r\n"+text+"\r\n"), pub, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("From: r@example.org\r\nSubject: s\r\n\r\n"), ct...)
}

// TestRing_ParseTakesNoLock: reading mail never waits for the lock that
// guards the team's unlocked keys (held here as a long signature would
// hold it): intake decrypts with keys worked out when they were loaded.
func TestRing_ParseTakesNoLock(t *testing.T) {
	r := openRing(t)
	msg := encryptedTo(t, r, "while the keys are busy")
	r.mu.Lock()
	defer r.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		m, err := pgp.ParseMessage(msg, r.Decryption(), pgp.Limits{}, time.Now())
		if err == nil && (!m.Decrypted || !strings.Contains(m.Text, "while the keys are busy")) {
			err = io.ErrUnexpectedEOF
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
	case <-time.After(time.Minute): // a safety net only
		t.Fatal("reading a message waited for the keys' lock")
	}
}

// TestRing_ConcurrentUse: signing mail, clear-signing security.txt,
// publishing and decrypting at once (run with -race).
func TestRing_ConcurrentUse(t *testing.T) {
	ctx := context.Background()
	r := openRing(t)
	msg := encryptedTo(t, r, "concurrent")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 4 {
		wg.Go(func() {
			now := time.Now()
			if _, err := r.ComposeMail(pgp.OutgoingMail{From: "security@example.com", To: "r@example.org",
				Subject: "Report received", Date: now, MessageID: "<ack" + string(rune('a'+i)) + "@example.com>", Body: "thanks"}, nil, now); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if _, err := r.ClearSign(ctx, []byte("Contact: mailto:security@example.com\n")); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if k := r.Published(ctx); len(k.Armored) == 0 {
				errs <- io.ErrUnexpectedEOF
			}
		})
		wg.Go(func() {
			if m, err := pgp.ParseMessage(msg, r.Decryption(), pgp.Limits{}, time.Now()); err != nil || !m.Decrypted {
				errs <- io.ErrUnexpectedEOF
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
