package mailauth

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingResolver answers TXT questions after gate is closed, counting
// the questions asked.
type countingResolver struct {
	asked atomic.Int32
	gate  chan struct{}
	err   error
}

func (r *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	r.asked.Add(1)
	<-r.gate
	if r.err != nil {
		return nil, r.err
	}
	return []string{"v=spf1 -all " + name}, nil
}
func (r *countingResolver) LookupMX(context.Context, string) ([]*net.MX, error) { return nil, nil }
func (r *countingResolver) LookupIP(context.Context, string, string) ([]net.IP, error) {
	return nil, nil
}

// TestCache_AsksOnce: questions asked at the same time are asked once;
// the answer is kept for the TTL, a failure for the shorter FailTTL.
func TestCache_AsksOnce(t *testing.T) {
	r := &countingResolver{gate: make(chan struct{})}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	c := NewCache(r, time.Minute, 10*time.Second, func() time.Time { clock.Lock(); defer clock.Unlock(); return now })
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			txt, err := c.LookupTXT(ctx, "researcher.example")
			if err != nil || len(txt) != 1 || txt[0] != "v=spf1 -all researcher.example" {
				t.Errorf("answer %q, %v", txt, err)
			}
		})
	}
	for r.asked.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(r.gate)
	wg.Wait()
	if n := r.asked.Load(); n != 1 {
		t.Fatalf("50 questions at once asked the resolver %d times, want 1", n)
	}
	if _, err := c.LookupTXT(ctx, "researcher.example"); err != nil || r.asked.Load() != 1 {
		t.Fatalf("within the TTL: %v, asked %d times, want the kept answer", err, r.asked.Load())
	}
	if _, err := c.LookupTXT(ctx, "other.example"); err != nil || r.asked.Load() != 2 {
		t.Fatalf("another name: %v, asked %d times, want 2", err, r.asked.Load())
	}
	clock.Lock()
	now = now.Add(61 * time.Second)
	clock.Unlock()
	if _, err := c.LookupTXT(ctx, "researcher.example"); err != nil || r.asked.Load() != 3 {
		t.Fatalf("after the TTL: %v, asked %d times, want 3", err, r.asked.Load())
	}

	// A timeout is kept for FailTTL only.
	r.err = &net.DNSError{Err: "i/o timeout", Name: "slow.example", IsTimeout: true}
	if _, err := c.LookupTXT(ctx, "slow.example"); !errors.As(err, new(*net.DNSError)) {
		t.Fatalf("timeout: %v", err)
	}
	if _, err := c.LookupTXT(ctx, "slow.example"); err == nil || r.asked.Load() != 4 {
		t.Fatalf("timeout again within FailTTL: %v, asked %d times, want 4", err, r.asked.Load())
	}
	clock.Lock()
	now = now.Add(11 * time.Second)
	clock.Unlock()
	if _, err := c.LookupTXT(ctx, "slow.example"); err == nil || r.asked.Load() != 5 {
		t.Fatalf("timeout after FailTTL: %v, asked %d times, want 5", err, r.asked.Load())
	}
}

// TestCache_CallerGivesUp: a caller whose context ends stops waiting,
// and a lookup ended by its caller's context is not kept.
func TestCache_CallerGivesUp(t *testing.T) {
	r := &countingResolver{gate: make(chan struct{})}
	c := NewCache(r, time.Minute, time.Minute, nil)
	first, cancelFirst := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.LookupTXT(first, "a.example")
		done <- err
	}()
	for r.asked.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiter, cancelWaiter := context.WithCancel(context.Background())
	cancelWaiter()
	if _, err := c.LookupTXT(waiter, "a.example"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiter whose context ended: %v, want context.Canceled", err)
	}
	r.err = context.Canceled
	cancelFirst()
	close(r.gate)
	<-done
	r.err = nil
	if _, err := c.LookupTXT(context.Background(), "a.example"); err != nil || r.asked.Load() != 2 {
		t.Fatalf("after a given-up lookup: %v, asked %d times, want it asked again", err, r.asked.Load())
	}
}
