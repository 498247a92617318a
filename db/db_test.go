package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// t0 is the tests' fixed clock.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

// mustOpen opens a fresh database in a temporary directory, with its
// clock set to t0.
func mustOpen(tb testing.TB) (*db.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "secinbox.db")
	d := mustOpenPath(tb, path)
	return d, path
}

func mustOpenPath(tb testing.TB, path string) *db.DB {
	tb.Helper()
	return mustOpenClock(tb, path, func() time.Time { return t0 })
}

// mustOpenClock opens the database at path with clock now.
func mustOpenClock(tb testing.TB, path string, now func() time.Time) *db.DB {
	tb.Helper()
	d, err := db.OpenWith(context.Background(), path, db.Options{Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// rawSQL opens a plain connection to the file, for inspecting it from
// outside the package.
func rawSQL(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	s, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// wantCode fails unless err carries a *triage.Error with code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	var e *triage.Error
	if !errors.As(err, &e) {
		tb.Fatalf("err = %v, want a *triage.Error with code %s", err, code)
	}
	if e.Code != code {
		tb.Fatalf("err = %v, code %s, want %s", err, e.Code, code)
	}
}

func countRows(tb testing.TB, s *sql.DB, table string) int {
	tb.Helper()
	var n int
	if err := s.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)

	t.Run("FileModes", func(t *testing.T) {
		if _, err := d.PendingRawMessages(ctx); err != nil { // touch the WAL
			t.Fatal(err)
		}
		if err := d.AddRawMessage(ctx, &triage.RawMessage{Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s: mode %o, want 600", filepath.Base(p), m)
			}
		}
	})

	t.Run("JournalModeIsPersistentWAL", func(t *testing.T) {
		var mode string
		if err := rawSQL(t, path).QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Fatalf("journal_mode = %q, want wal", mode)
		}
	})

	t.Run("ReopenAppliesNothingTwice", func(t *testing.T) {
		s := rawSQL(t, path)
		var before []string
		rows, err := s.Query("SELECT version || ' ' || applied_at FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			rows.Scan(&v)
			before = append(before, v)
		}
		rows.Close()
		if len(before) == 0 {
			t.Fatal("no migrations recorded")
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		d2 := mustOpenClock(t, path, func() time.Time { return t0.Add(time.Hour) })
		if err := d2.Close(); err != nil {
			t.Fatal(err)
		}
		d3 := mustOpenPath(t, path)
		var after []string
		rows, err = s.Query("SELECT version || ' ' || applied_at FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			rows.Scan(&v)
			after = append(after, v)
		}
		rows.Close()
		if !slices.Equal(before, after) {
			t.Fatalf("schema_migrations changed on reopen:\n%q\n%q", before, after)
		}
		// Data survives the reopen.
		ids, err := d3.PendingRawMessages(ctx)
		if err != nil || len(ids) != 1 {
			t.Fatalf("after reopen: pending = %v, %v; want one message", ids, err)
		}
	})

	t.Run("RefuseNewerSchema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "newer.db")
		d := mustOpenPath(t, path)
		d.Close()
		if _, err := rawSQL(t, path).Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'x')"); err != nil {
			t.Fatal(err)
		}
		d2, err := db.Open(ctx, path)
		if err == nil {
			d2.Close()
			t.Fatal("Open of a database with a newer schema succeeded")
		}
		if !strings.Contains(err.Error(), "newer") {
			t.Fatalf("err = %v, want it to say the schema is newer", err)
		}
	})

	t.Run("BadPath", func(t *testing.T) {
		if _, err := db.Open(ctx, filepath.Join(t.TempDir(), "missing-dir", "x.db")); err == nil {
			t.Fatal("Open in a missing directory succeeded")
		}
	})

	t.Run("PathWithURISpecialCharacters", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a?b#c%d.db")
		d := mustOpenPath(t, path)
		if err := d.AddRawMessage(ctx, &triage.RawMessage{Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("database not at the given path: %v", err)
		}
	})
}

func TestRawMessage_AddGetPending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)

	data := []byte("From: r@example.org\r\nSubject: x\r\n\r\nline\x00with NUL\r\n\xff\xfe binary\r\n.\r\n")
	est := time.FixedZone("EST", -5*3600)
	m1 := &triage.RawMessage{
		MailFrom:   "r@example.org",
		Recipients: []string{"security@example.com", "SECURITY@example.com"},
		RemoteAddr: "192.0.2.1:4321",
		ReceivedAt: t0.Add(2 * time.Second).In(est),
		Data:       data,
	}
	if err := d.AddRawMessage(ctx, m1); err != nil {
		t.Fatal(err)
	}
	if m1.ID == 0 {
		t.Fatal("ID not set")
	}
	// Older than m1 though added later; empty sender (a bounce), no data.
	m2 := &triage.RawMessage{ReceivedAt: t0.Add(time.Second), Data: nil}
	if err := d.AddRawMessage(ctx, m2); err != nil {
		t.Fatal(err)
	}
	// No ReceivedAt: stamped with d.Now.
	m3 := &triage.RawMessage{Data: []byte("3")}
	if err := d.AddRawMessage(ctx, m3); err != nil {
		t.Fatal(err)
	}
	if !m3.ReceivedAt.Equal(t0) {
		t.Errorf("m3.ReceivedAt = %v, want %v", m3.ReceivedAt, t0)
	}

	got, err := d.RawMessage(ctx, m1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, data) {
		t.Errorf("Data = %q, want %q", got.Data, data)
	}
	if got.ID != m1.ID || got.MailFrom != m1.MailFrom || got.RemoteAddr != m1.RemoteAddr ||
		!slices.Equal(got.Recipients, m1.Recipients) {
		t.Errorf("got %+v, want %+v", got, m1)
	}
	if !got.ReceivedAt.Equal(m1.ReceivedAt) || got.ReceivedAt.Location() != time.UTC {
		t.Errorf("ReceivedAt = %v, want %v in UTC", got.ReceivedAt, m1.ReceivedAt)
	}

	got2, err := d.RawMessage(ctx, m2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got2.Data == nil || len(got2.Data) != 0 || got2.Recipients == nil || len(got2.Recipients) != 0 || got2.MailFrom != "" {
		t.Errorf("empty message round-trip: %+v", got2)
	}

	pending, err := d.PendingRawMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// In the order they were committed (their 250s), whatever time
	// their transfers began: what tracking ids follow.
	if want := []int64{m1.ID, m2.ID, m3.ID}; !slices.Equal(pending, want) {
		t.Fatalf("pending = %v, want %v (in the order stored)", pending, want)
	}

	r := triage.NewReport(m2.ReceivedAt)
	r.MessageID = m2.ID
	if err := d.FileReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	pending, err = d.PendingRawMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{m1.ID, m3.ID}; !slices.Equal(pending, want) {
		t.Fatalf("pending after filing m2 = %v, want %v", pending, want)
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.RawMessage(ctx, 9999)
		wantCode(t, err, triage.ENOTFOUND)
	})
}

// BenchmarkAddRawMessage measures durable intake of 10 KiB messages.
func BenchmarkAddRawMessage(b *testing.B) {
	ctx := context.Background()
	d, _ := mustOpen(b)
	data := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n"), 10*1024/64)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	n := 0
	for b.Loop() {
		m := &triage.RawMessage{
			MailFrom:   fmt.Sprintf("r%d@example.org", n),
			Recipients: []string{"security@example.com"},
			RemoteAddr: "192.0.2.1:25",
			Data:       data,
		}
		if err := d.AddRawMessage(ctx, m); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
