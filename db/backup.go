package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Snapshot copies the database at src into the file dst, consistently,
// while other connections and processes (a running server) keep writing.
// dst must exist and be empty; the caller creates it (mode 0600) and
// removes it. src is only read: Snapshot applies no migration.
//
// It uses SQLite's online backup API in a single step, so the copy is
// read in one read transaction: it is the database as of one moment, and
// in WAL mode writers are not held up meanwhile. (A backup in several
// steps would start over whenever another connection writes, which a
// busy server does all the time.)
func Snapshot(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("db: snapshot: %w", err)
	}
	from, err := sql.Open("sqlite3", dsn(src, "deferred", true))
	if err != nil {
		return fmt.Errorf("db: snapshot: %w", err)
	}
	defer from.Close()
	// The copy is a scratch file: no journal, no fsync (the caller reads
	// it once and deletes it).
	to, err := sql.Open("sqlite3", "file:"+escapePath(dst)+"?_journal_mode=OFF&_synchronous=OFF")
	if err != nil {
		return fmt.Errorf("db: snapshot: %w", err)
	}
	defer to.Close()

	sc, err := from.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: snapshot: open %s: %w", src, err)
	}
	defer sc.Close()
	dc, err := to.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: snapshot: open %s: %w", dst, err)
	}
	defer dc.Close()

	err = sc.Raw(func(s any) error {
		return dc.Raw(func(d any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			for {
				// Step returns false and no error while the source is busy
				// or locked (a checkpoint, WAL recovery): try again.
				done, err := b.Step(-1)
				if err != nil || done {
					return errors.Join(err, b.Finish())
				}
				select {
				case <-ctx.Done():
					return errors.Join(ctx.Err(), b.Finish())
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	})
	if err != nil {
		return fmt.Errorf("db: snapshot %s: %w", src, err)
	}
	if err := errors.Join(dc.Close(), to.Close()); err != nil {
		return fmt.Errorf("db: snapshot: %w", err)
	}
	return nil
}

// QuickCheck runs SQLite's quick_check over the whole database (it is not
// bounded by the usual per-operation timeout, only by ctx). It returns an
// error listing the first problems found, if any.
func (db *DB) QuickCheck(ctx context.Context) error {
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: quick_check: %w", err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "PRAGMA quick_check(10)")
	if err != nil {
		return fmt.Errorf("db: quick_check: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("db: quick_check: %w", err)
		}
		found = append(found, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: quick_check: %w", err)
	}
	if len(found) != 1 || found[0] != "ok" {
		return fmt.Errorf("db: quick_check: the database is damaged: %s", strings.Join(found, "; "))
	}
	return nil
}
