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

// Pool sizes. All writes go through one connection: SQLite serializes
// writers anyway, and queueing in the Go pool honours ctx. Other processes
// (the CLI while the server runs) are handled by busy_timeout.
const (
	maxReaders = 8
	// opTimeout bounds every exported method, on top of the caller's ctx.
	opTimeout = 30 * time.Second
)

// timeFormat stores times as fixed-width UTC text, so text order is time
// order in indexes and comparisons.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// DB is secinbox's SQLite database. It is safe for concurrent use.
type DB struct {
	clock  func() time.Time // Options.Now
	intake intakeCommitter  // AddRawMessage's group commit (intake.go)
	keyIDs keyIDCache       // ResearcherKeysByKeyID's answers (researcherkey.go)

	path string
	w    *sql.DB // writes: one connection, BEGIN IMMEDIATE
	r    *sql.DB // reads: query_only connections, deferred BEGIN
}

// Options adjust OpenWith.
type Options struct {
	// NoAutoCheckpoint stops this DB's writes from checkpointing the WAL
	// (wal_autocheckpoint=0). Set it when Litestream replicates the file
	// (see Replicate): Litestream must copy every WAL frame before the
	// frame is checkpointed away, so it runs the checkpoints itself.
	NoAutoCheckpoint bool
	// Now is the database's clock: each write transaction reads it once
	// (txNow) for what it stamps when the caller gives no time. Nil:
	// time.Now.
	Now func() time.Time
}

// Open opens the SQLite database at path, creating the file (mode 0600) if
// needed, checks that WAL and synchronous=FULL are in effect, and applies
// the embedded migrations. It fails if the database's schema is newer than
// this binary knows.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// noAutoCheckpointDriver is mattn/go-sqlite3 with automatic checkpoints
// off on every connection (a DSN cannot say so).
const noAutoCheckpointDriver = "sqlite3-secinbox-noautocheckpoint"

func init() {
	sql.Register(noAutoCheckpointDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
			return err
		},
	})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opt Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("db: open: empty path")
	}
	// Create the file ourselves so it is never group or world readable;
	// SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}

	db := &DB{clock: opt.Now, path: path}
	if db.clock == nil {
		db.clock = time.Now
	}
	writer := "sqlite3"
	if opt.NoAutoCheckpoint {
		writer = noAutoCheckpointDriver
	}
	if db.w, err = sql.Open(writer, dsn(path, "immediate", false)); err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if db.r, err = sql.Open("sqlite3", dsn(path, "deferred", true)); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("db: open: %w", err)
	}
	db.r.SetMaxOpenConns(maxReaders)
	db.r.SetMaxIdleConns(maxReaders)

	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := checkPragmas(ctx, db.w); err != nil {
		db.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	if opt.NoAutoCheckpoint {
		var n int
		if err := db.w.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&n); err != nil || n != 0 {
			db.Close()
			return nil, fmt.Errorf("db: open %s: wal_autocheckpoint is %d, want 0: %v", path, n, err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	if err := checkPragmas(ctx, db.r); err != nil {
		db.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	return db, nil
}

// dsn builds a mattn/go-sqlite3 URI for path.
func dsn(path, txlock string, readOnly bool) string {
	s := "file:" + escapePath(path) + "?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_busy_timeout=5000&_txlock=" + txlock
	if readOnly {
		s += "&_query_only=on"
	}
	return s
}

// escapePath escapes path for an SQLite URI, where '?' and '#' end the
// path and '%' escapes.
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// checkPragmas verifies on one connection of pool that the DSN's settings
// took effect: SQLite silently keeps another journal mode when WAL is not
// possible (some network file systems).
func checkPragmas(ctx context.Context, pool *sql.DB) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	var sync, fk int
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	if sync != 2 {
		return fmt.Errorf("synchronous is %d, want 2 (FULL)", sync)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if fk != 1 {
		return fmt.Errorf("foreign_keys is off")
	}
	return nil
}

// Close closes the database. In-flight methods finish first.
func (db *DB) Close() error {
	db.intake.stop()
	var errs []error
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("db: close: %w", err)
	}
	return nil
}

// write runs fn in an immediate (write-locked) transaction and commits if
// fn returns nil. Commit returns only once the transaction is durable
// (synchronous=FULL).
//
// The transaction has one clock: db.Now() read once, when it begins,
// which txNow(ctx) returns inside fn. Methods given the time use writeAt.
func (db *DB) write(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	return db.writeAt(ctx, time.Time{}, fn)
}

// writeAt is write with now as the transaction's clock (txNow); a zero
// now reads db.Now() once, when the transaction begins.
func (db *DB) writeAt(ctx context.Context, now time.Time, fn func(context.Context, *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return classify(err) // BEGIN IMMEDIATE waits for another writer's lock
	}
	defer tx.Rollback()
	if now.IsZero() {
		now = db.now()
	}
	if err := fn(context.WithValue(ctx, clockKey{}, now.UTC()), tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}

// clockKey keys a write transaction's clock in its context.
type clockKey struct{}

// txNow is the clock of the write transaction ctx belongs to (write,
// writeAt), in UTC: the one time everything the transaction stamps
// carries.
func txNow(ctx context.Context) time.Time {
	if t, ok := ctx.Value(clockKey{}).(time.Time); ok {
		return t
	}
	panic("db: txNow outside a write transaction")
}

// classify marks a "database or disk is full" error so that callers can
// tell it apart (inbox answers it 452) without importing the driver, and
// likewise a write that gave up waiting for another process's lock.
func classify(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrFull {
		return diskFullError{err}
	}
	if errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return busyError{err}
	}
	return err
}

// busyError is a write refused because another connection held the
// database's write lock for longer than the busy timeout. It has a Busy
// method, the interface web looks for: try again later.
type busyError struct{ error }

func (e busyError) Busy() bool    { return true }
func (e busyError) Unwrap() error { return e.error }

// diskFullError is an error caused by a full disk. It has a DiskFull
// method, the interface inbox looks for.
type diskFullError struct{ error }

func (e diskFullError) DiskFull() bool { return true }
func (e diskFullError) Unwrap() error  { return e.error }

// read runs fn in a read transaction: every query in fn sees one snapshot.
func (db *DB) read(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(ctx, tx)
}

// now reads the database's clock (Options.Now), in UTC.
func (db *DB) now() time.Time { return db.clock().UTC() }

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique ||
			se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// nullTime is formatTime, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

// timeScanner scans a time column (text in timeFormat, or NULL as the
// zero time) into *T, in UTC.
type timeScanner struct{ T *time.Time }

func (s timeScanner) Scan(v any) error {
	var str string
	switch v := v.(type) {
	case nil:
		*s.T = time.Time{}
		return nil
	case string:
		str = v
	case []byte:
		str = string(v)
	default:
		return fmt.Errorf("time column: unexpected %T", v)
	}
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		return fmt.Errorf("time column: %w", err)
	}
	*s.T = t.UTC()
	return nil
}

// blob returns b, or an empty non-nil slice: the driver stores nil as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// boolInt returns 1 for true and 0 for false.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
