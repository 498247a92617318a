package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFS holds the schema, one file per version: NNNN_name.sql,
// numbered from 0001 without gaps. Never edit a released migration; add
// the next one.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in version order and
// checks that the versions are 1..n.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database lacks, each in its own
// immediate transaction together with its schema_migrations row.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT    NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var recompute []string // movesClocks conditions of the migrations applied
	for _, m := range ms {
		err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			// Read the version inside the write transaction: another
			// process may be opening the same file.
			cur, err := schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			if cur > len(ms) {
				return fmt.Errorf("database schema version %d is newer than this binary knows (%d): refusing to open", cur, len(ms))
			}
			if cur >= m.version {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				if strings.Contains(err.Error(), "no such module: fts5") {
					// go-sqlite3 compiles FTS5 in only under a build tag.
					return fmt.Errorf("%w (this binary was built without SQLite full-text search: build it with `make build`, or set GOFLAGS=-tags=sqlite_fts5)", err)
				}
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.version, formatTime(db.now()))
			if w, ok := movesClocks[m.version]; ok && err == nil {
				recompute = append(recompute, w)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	if len(recompute) > 0 {
		// Once the schema is complete: the report columns it reads may
		// come from later migrations.
		if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			p, err := findSLAPolicy(ctx, tx)
			if err != nil {
				return err
			}
			_, err = recomputeClocksWhere(ctx, tx, p, db.now(), strings.Join(recompute, ") OR ("))
			return err
		}); err != nil {
			return fmt.Errorf("migrate: recompute clocks: %w", err)
		}
	}
	return nil
}

// schemaVersion is the highest applied migration, 0 for a new database.
func schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var v int
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
