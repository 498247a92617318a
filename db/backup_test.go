package db_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// TestSnapshot copies a database while another connection keeps writing:
// the copy opens, passes quick_check and holds every message committed
// before the snapshot began, including those still in the WAL.
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	d, path := mustOpen(t)
	var before []*triage.RawMessage
	for i := range 50 {
		m := &triage.RawMessage{MailFrom: "r@example.org", Data: []byte(fmt.Sprintf("message %d", i))}
		if err := d.AddRawMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		before = append(before, m)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m := &triage.RawMessage{Data: bytes.Repeat([]byte{'x'}, 10000)}
			if err := d.AddRawMessage(ctx, m); err != nil {
				t.Error(err)
				return
			}
		}
	})
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(dst, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := db.Snapshot(ctx, path, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	c := mustOpenPath(t, dst)
	if err := c.QuickCheck(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range before {
		got, err := c.RawMessage(ctx, m.ID)
		if err != nil || !bytes.Equal(got.Data, m.Data) {
			t.Fatalf("message %d in the copy: %v", m.ID, err)
		}
	}

	if err := db.Snapshot(ctx, filepath.Join(t.TempDir(), "missing.db"), dst); err == nil {
		t.Error("a snapshot of a missing database succeeded")
	}
}

// TestOpenWith_NoAutoCheckpoint: with the option, commits leave the WAL
// alone (Litestream checkpoints); without it, SQLite checkpoints into the
// database file once the WAL passes 1000 pages.
func TestOpenWith_NoAutoCheckpoint(t *testing.T) {
	ctx := context.Background()
	for _, noAuto := range []bool{false, true} {
		t.Run(fmt.Sprint(noAuto), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secinbox.db")
			d, err := db.OpenWith(ctx, path, db.Options{NoAutoCheckpoint: noAuto})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for range 6 { // 6 MiB: 1500 pages of 4 KiB
				if err := d.AddRawMessage(ctx, &triage.RawMessage{Data: bytes.Repeat([]byte{'x'}, 1<<20)}); err != nil {
					t.Fatal(err)
				}
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if checkpointed := fi.Size() > 4<<20; checkpointed == noAuto {
				t.Errorf("NoAutoCheckpoint %v: the database file is %d bytes after 6 MiB of commits", noAuto, fi.Size())
			}
		})
	}
}

func TestReplicaPath(t *testing.T) {
	for url, want := range map[string]string{
		"file:///var/backups/secinbox":           "/var/backups/secinbox",
		"file://localhost/var/backups/secinbox/": "/var/backups/secinbox",
		"file:///a/../b":                         "/b",
		"s3://bucket/path":                       "",
		"file://host/path":                       "",
		"file:relative":                          "",
		"file:///path?x=1":                       "",
		"/var/backups/secinbox":                  "",
		"":                                       "",
	} {
		got, err := db.ReplicaPath(url)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ReplicaPath(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
}
