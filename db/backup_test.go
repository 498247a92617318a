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
	t.Parallel()
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
	t.Parallel()
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

func TestParseReplicaURL(t *testing.T) {
	t.Parallel()
	def := db.S3Defaults{Region: "eu-west-1"}
	for url, want := range map[string]string{
		"file:///var/backups/secinbox":            "file:///var/backups/secinbox",
		"file://localhost/var/backups/secinbox/":  "file:///var/backups/secinbox",
		"file:///a/../b":                          "file:///b",
		"s3://bucket/path/":                       "s3://bucket/path eu-west-1",
		"s3://bucket":                             "s3://bucket/ eu-west-1",
		"s3://b/p?endpoint=http://127.0.0.1:9000": "s3://b/p at http://127.0.0.1:9000 eu-west-1 path-style",
		"s3://b/p?region=auto&endpoint=https://x.r2.cloudflarestorage.com": "s3://b/p at https://x.r2.cloudflarestorage.com auto path-style",
		"s3://key:secret@b/p":   "",
		"s3:///p":               "",
		"s3://b/p?endpoint=x":   "",
		"s3://b/p?sse=1":        "",
		"gs://bucket/path":      "",
		"file://host/path":      "",
		"file:relative":         "",
		"file:///path?x=1":      "",
		"/var/backups/secinbox": "",
		"":                      "",
	} {
		got, err := db.ParseReplicaURL(url, def)
		s := ""
		if err == nil {
			s = got.String()
			if got.Bucket != "" {
				s += " " + got.Region
			}
			if got.ForcePathStyle {
				s += " path-style"
			}
		}
		if s != want || (err == nil) != (want != "") {
			t.Errorf("ParseReplicaURL(%q) = %q, %v; want %q", url, s, err, want)
		}
	}
	got, err := db.ParseReplicaURL("s3://b/p", db.S3Defaults{Endpoint: "http://127.0.0.1:1"})
	if err != nil || got.Endpoint != "http://127.0.0.1:1" || !got.ForcePathStyle {
		t.Errorf("the default endpoint: %+v, %v", got, err)
	}
}
