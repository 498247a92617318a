package db_test

import (
	"context"
	"maps"
	"testing"
	"time"
)

// TestTrackingIDs reads back the tracking ids of filed reports by ID;
// unknown IDs are left out, and no IDs is an empty map, not an error.
func TestTrackingIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	a := file(t, d, t0.Add(-2*time.Hour), "a")
	b := file(t, d, t0.Add(-time.Hour), "b")
	file(t, d, t0, "c") // not asked for

	got, err := d.TrackingIDs(ctx, []int64{b.ID, a.ID, 999_999, a.ID})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{a.ID: a.TrackingID, b.ID: b.TrackingID}
	if a.TrackingID == "" || !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, err := d.TrackingIDs(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no ids: %v, %v", got, err)
	}
	// Many IDs at once: more than SQLite allows as placeholders.
	many := make([]int64, 40_000)
	for i := range many {
		many[i] = int64(i + 1)
	}
	if got, err := d.TrackingIDs(ctx, many); err != nil || len(got) != 3 {
		t.Errorf("40000 ids: %d found, %v", len(got), err)
	}
}
