package db_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/secinbox/secinbox/db"
)

// TestInstallSalt: made once, the same after reopening, different for
// another database.
func TestInstallSalt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.InstallSalt(ctx)
	if err != nil || len(a) != 16 {
		t.Fatalf("salt %x, %v", a, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	again, err := d.InstallSalt(ctx)
	if err != nil || !bytes.Equal(a, again) {
		t.Fatalf("after reopening: %x, %v; want %x", again, err, a)
	}
	other, err := db.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	b, err := other.InstallSalt(ctx)
	if err != nil || bytes.Equal(a, b) {
		t.Fatalf("another database: %x, %v; want a salt of its own", b, err)
	}
}
