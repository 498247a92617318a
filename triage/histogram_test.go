package triage

import (
	"slices"
	"testing"
	"time"
)

func TestHistogram(t *testing.T) {
	var h Histogram
	if s := h.Snapshot(); s.Count != 0 || len(s.Cumulative) != len(LatencyBuckets) {
		t.Fatalf("empty: %+v", s)
	}
	for _, d := range []time.Duration{-time.Second, 5 * time.Millisecond, 6 * time.Millisecond, 2 * time.Second, time.Hour} {
		h.Observe(d)
	}
	s := h.Snapshot()
	if s.Count != 5 || s.Sum != 5*time.Millisecond+6*time.Millisecond+2*time.Second+time.Hour {
		t.Errorf("count %d sum %v", s.Count, s.Sum)
	}
	// le=5ms: 0 and 5ms; le=10ms: +6ms; le=2.5s: +2s; the hour only in Count (+Inf).
	want := []int64{2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4}
	if !slices.Equal(s.Cumulative, want) {
		t.Errorf("cumulative %v, want %v", s.Cumulative, want)
	}
	var nilH *Histogram
	if s := nilH.Snapshot(); s.Count != 0 {
		t.Errorf("nil histogram: %+v", s)
	}
}
