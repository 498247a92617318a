package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestOpen_Pragmas checks, on the connections the DB actually uses, that
// the DSN's settings are in effect.
func TestOpen_Pragmas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, pool := range []struct {
		name      string
		db        *sql.DB
		queryOnly int
	}{{"write", d.w, 0}, {"read", d.r, 1}} {
		var mode string
		var sync, fk, busy, qo int
		row := func(q string, v any) {
			t.Helper()
			if err := pool.db.QueryRowContext(ctx, q).Scan(v); err != nil {
				t.Fatalf("%s: %s: %v", pool.name, q, err)
			}
		}
		row("PRAGMA journal_mode", &mode)
		row("PRAGMA synchronous", &sync)
		row("PRAGMA foreign_keys", &fk)
		row("PRAGMA busy_timeout", &busy)
		row("PRAGMA query_only", &qo)
		if mode != "wal" || sync != 2 || fk != 1 || busy != 5000 || qo != pool.queryOnly {
			t.Errorf("%s pool: journal_mode=%s synchronous=%d foreign_keys=%d busy_timeout=%d query_only=%d",
				pool.name, mode, sync, fk, busy, qo)
		}
	}
	// The read pool cannot write.
	if _, err := d.r.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Error("read pool accepted a write")
	}
}

// TestCheckPragmas checks that a connection without WAL or FULL sync is refused.
func TestCheckPragmas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for name, dsn := range map[string]string{
		"delete journal": "file:" + filepath.Join(dir, "a.db") + "?_journal_mode=DELETE&_synchronous=FULL&_foreign_keys=on",
		"normal sync":    "file:" + filepath.Join(dir, "b.db") + "?_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=on",
		"no fk":          "file:" + filepath.Join(dir, "c.db") + "?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=off",
	} {
		s, err := sql.Open("sqlite3", dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkPragmas(ctx, s); err == nil {
			t.Errorf("%s: checkPragmas accepted it", name)
		}
		s.Close()
	}
	s, err := sql.Open("sqlite3", dsn(filepath.Join(dir, "ok.db"), "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := checkPragmas(ctx, s); err != nil {
		t.Errorf("checkPragmas on our own DSN: %v", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("embedded migrations: %+v", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"bad name": {"migrations/1_a.sql": {}},
		"no name":  {"migrations/0001.sql": {}},
		"dup":      {"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations accepted it", name)
		}
	}
	ms, err = loadMigrations(fstest.MapFS{"migrations/0002_b.sql": {Data: []byte("B")}, "migrations/0001_a.sql": {Data: []byte("A")}})
	if err != nil || len(ms) != 2 || ms[0].sql != "A" || ms[1].sql != "B" {
		t.Fatalf("ordered load: %+v, %v", ms, err)
	}
}
