package db

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

// TestDiskFull fills the database to SQLite's page limit: the error says
// so through DiskFull, so that intake can answer 452 and the sender retries.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var pages int64
	if err := d.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := d.w.ExecContext(ctx, "PRAGMA max_page_count = "+itoa(pages+2)); err != nil {
		t.Fatal(err)
	}
	err = d.AddRawMessage(ctx, &triage.RawMessage{Data: make([]byte, 1<<20)})
	var df interface{ DiskFull() bool }
	if !errors.As(err, &df) || !df.DiskFull() {
		t.Fatalf("AddRawMessage on a full database: %v, want a DiskFull error", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
