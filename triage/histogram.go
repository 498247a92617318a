package triage

import (
	"sync"
	"time"
)

// LatencyBuckets are the upper bounds of a Histogram's buckets, in the
// manner of Prometheus: from 5 ms (filing keeping up with intake) to
// 5 minutes (a backlog).
var LatencyBuckets = []time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute,
}

// Histogram counts durations into LatencyBuckets, for the /metrics
// page. It is safe for concurrent use; the zero value is ready.
type Histogram struct {
	mu     sync.Mutex
	counts []int64 // per bucket of LatencyBuckets, then the overflow (+Inf)
	sum    time.Duration
	n      int64
}

// Observe counts d (a negative d counts as 0).
func (h *Histogram) Observe(d time.Duration) {
	d = max(d, 0)
	i := len(LatencyBuckets)
	for j, b := range LatencyBuckets {
		if d <= b {
			i = j
			break
		}
	}
	h.mu.Lock()
	if h.counts == nil {
		h.counts = make([]int64, len(LatencyBuckets)+1)
	}
	h.counts[i]++
	h.sum += d
	h.n++
	h.mu.Unlock()
}

// HistogramSnapshot is a Histogram at one moment: Cumulative[i] counts
// the durations up to LatencyBuckets[i] (Prometheus's "le" buckets),
// Count all of them, Sum their total.
type HistogramSnapshot struct {
	Cumulative []int64
	Count      int64
	Sum        time.Duration
}

// Snapshot returns h's counts now; a nil h gives an empty snapshot.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Cumulative: make([]int64, len(LatencyBuckets))}
	if h == nil {
		return s
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var c int64
	for i := range LatencyBuckets {
		if h.counts != nil {
			c += h.counts[i]
		}
		s.Cumulative[i] = c
	}
	s.Count, s.Sum = h.n, h.sum
	return s
}
