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
	var after []func(context.Context, *DB) error
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
			if step := beforeSQL[m.name]; step != nil {
				if err := step(ctx, tx); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.version, formatTime(db.now()))
			if w, ok := movesClocks[m.version]; ok && err == nil {
				recompute = append(recompute, w)
			}
			if f := afterAll[migrationTopic(m.name)]; f != nil && err == nil {
				after = append(after, f)
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
	for _, f := range after {
		if err := f(ctx, db); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// afterAll are the steps, by migration topic (the file name without its
// number, so that renumbering a migration before release keeps its
// step), that run in Go once the whole schema is applied, when that
// migration was among those applied.
var afterAll = map[string]func(context.Context, *DB) error{
	"ui.sql": settleAll,
}

// migrationTopic is a migration's file name without its number.
func migrationTopic(name string) string {
	_, topic, _ := strings.Cut(name, "_")
	return topic
}

// beforeSQL are the steps, by migration file name, that must run in Go
// in the migration's transaction before its SQL.
var beforeSQL = map[string]func(context.Context, *sql.Tx) error{
	"0009_fts4.sql": ftsToFTS4,
}

// ftsToFTS4 replaces the FTS5 search table that migration 0003 created
// before FTS4 took its place, and indexes every report again. A binary
// built without FTS5 (go-sqlite3's default) cannot DROP an FTS5 table
// ("no such module"), so its schema entry is removed with writable_schema,
// its shadow tables dropped like any table, and the schema cookie bumped
// so that every connection reloads the schema: the way SQLite documents
// for a virtual table whose module is gone. Triggers name the table, not
// its module, and work on the new one.
func ftsToFTS4(ctx context.Context, tx *sql.Tx) error {
	var ddl string
	err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'reports_fts'`).Scan(&ddl)
	if err != nil {
		return fmt.Errorf("search table: %w", err)
	}
	if !strings.Contains(strings.ToLower(ddl), "fts5") {
		return nil // made by the current 0003
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE reports_fts`); err != nil {
		if !strings.Contains(err.Error(), "no such module") {
			return fmt.Errorf("drop FTS5 search table: %w", err)
		}
		if err := dropOrphanVirtualTable(ctx, tx, "reports_fts"); err != nil {
			return fmt.Errorf("drop FTS5 search table without FTS5: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE VIRTUAL TABLE reports_fts USING fts4 (
		title, body, attachments,
		tokenize=unicode61 "remove_diacritics=2"
	)`); err != nil {
		return fmt.Errorf("create FTS4 search table: %w", err)
	}
	// Every report is indexed once its filing commits (indexReport).
	if _, err := tx.ExecContext(ctx, `INSERT INTO reports_fts (rowid, title, body, attachments)
		SELECT * FROM reports_fts_source`); err != nil {
		return fmt.Errorf("index reports: %w", err)
	}
	return nil
}

// dropOrphanVirtualTable removes virtual table name, whose module this
// binary lacks, and its shadow tables (name_*).
func dropOrphanVirtualTable(ctx context.Context, tx *sql.Tx, name string) error {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE ? ESCAPE '\'`,
		strings.ReplaceAll(name, "_", `\_`)+`\_%`)
	if err != nil {
		return err
	}
	var shadows []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		shadows = append(shadows, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var version int64
	if err := tx.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&version); err != nil {
		return err
	}
	stmts := []string{
		`PRAGMA writable_schema = ON`,
		`DELETE FROM sqlite_schema WHERE type = 'table' AND name = '` + name + `'`,
		`PRAGMA writable_schema = OFF`,
	}
	for _, n := range shadows {
		stmts = append(stmts, `DROP TABLE "`+n+`"`)
	}
	stmts = append(stmts, fmt.Sprintf(`PRAGMA schema_version = %d`, version+1))
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
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
