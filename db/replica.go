package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
)

// Continuous replication is Litestream v0.3 (github.com/benbjohnson/litestream),
// embedded. It runs in the server process, on the same SQLite library as
// the rest of this package (mattn/go-sqlite3): it keeps a read transaction
// open so that nobody else can restart the WAL, copies new WAL frames to a
// "shadow WAL" in the data directory (.secinbox.db-litestream/), ships them
// to the replica, and runs the checkpoints itself. Open the DB with
// Options.NoAutoCheckpoint while it runs: a checkpoint by our writes could
// move frames into the database file before Litestream copied them, and
// Litestream would have to start over with a full snapshot (a new
// "generation"). It also adds two small tables of its own to the database,
// _litestream_seq and _litestream_lock.

// ErrNoReplica is returned by RestoreReplica when the replica holds no
// copy of the database.
var ErrNoReplica = errors.New("the replica holds no copy of the database")

// ReplicaPath returns the directory that a replica URL names. Only
// file:///absolute/path URLs are supported.
func ReplicaPath(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("replica URL %q: %w", rawURL, err)
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("replica URL %q: only file:///path replicas are supported (a directory, e.g. on another disk or a network file system)", rawURL)
	}
	if (u.Host != "" && u.Host != "localhost") || u.RawQuery != "" || u.Fragment != "" || !filepath.IsAbs(u.Path) {
		return "", fmt.Errorf("replica URL %q: want file:///absolute/path", rawURL)
	}
	return filepath.Clean(u.Path), nil
}

// Replica streams a database file's WAL to a replica. Create it with
// Replicate.
type Replica struct {
	ldb *litestream.DB
	Dir string // the replica's directory
}

// Replicate starts streaming the database file at path to the replica at
// rawURL (see ReplicaPath), in the background, until Close. The replica
// lags behind the database by at most about interval: Litestream looks at
// the WAL every interval/2 and ships what is new every interval/2. Errors
// while running are logged; Replicate fails only on a bad URL or interval,
// or a replica directory it cannot create.
// Open the database with Options.NoAutoCheckpoint first.
func Replicate(path, rawURL string, interval time.Duration, log *slog.Logger) (*Replica, error) {
	if interval < 2*time.Millisecond {
		return nil, fmt.Errorf("replica sync interval %v is too short", interval)
	}
	ldb, dir, err := litestreamDB(path, rawURL, log)
	if err != nil {
		return nil, err
	}
	// Fail now, not in a log line a second later, if it cannot be made.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	ldb.MonitorInterval = interval / 2
	ldb.Replicas[0].SyncInterval = interval / 2
	if err := ldb.Open(); err != nil {
		return nil, fmt.Errorf("replicate %s: %w", path, err)
	}
	return &Replica{ldb: ldb, Dir: dir}, nil
}

// Close ships what the replica lacks and stops replicating. Close the DB
// before: Litestream's connection is then the last one, and the WAL stays
// where Litestream left off.
func (r *Replica) Close() error {
	if err := r.ldb.Close(); err != nil {
		return fmt.Errorf("replica: close: %w", err)
	}
	return nil
}

// RestoreReplica writes the newest copy of the database that the replica
// at rawURL holds into the file dst, which must not exist (Litestream
// also writes dst.tmp and WAL files next to it while it works). It
// returns an error wrapping ErrNoReplica if the replica is empty.
func RestoreReplica(ctx context.Context, rawURL, dst string, log *slog.Logger) error {
	// The DB is never opened: it only carries the logger and file modes.
	ldb, dir, err := litestreamDB(dst, rawURL, log)
	if err != nil {
		return err
	}
	r := ldb.Replicas[0]
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = dst
	if opt.Generation, _, err = r.CalcRestoreTarget(ctx, opt); err != nil {
		return fmt.Errorf("restore from %s: %w", dir, err)
	}
	if opt.Generation == "" {
		return fmt.Errorf("restore from %s: %w", dir, ErrNoReplica)
	}
	if err := r.Restore(ctx, opt); err != nil {
		return fmt.Errorf("restore from %s: %w", dir, err)
	}
	return nil
}

// litestreamDB sets up Litestream for the database file at path with one
// file replica at rawURL.
func litestreamDB(path, rawURL string, log *slog.Logger) (*litestream.DB, string, error) {
	dir, err := ReplicaPath(rawURL)
	if err != nil {
		return nil, "", err
	}
	ldb := litestream.NewDB(path)
	ldb.Logger = slog.New(demoteInfo{log.Handler()}).With("component", "litestream")
	r := litestream.NewReplica(ldb, "file")
	c := file.NewReplicaClient(dir)
	c.Replica = r
	r.Client = c
	ldb.Replicas = []*litestream.Replica{r}
	return ldb, dir, nil
}

// demoteInfo logs Litestream's Info records (one per WAL segment shipped,
// every sync interval while mail arrives) at Debug; warnings and errors
// stay as they are.
type demoteInfo struct{ slog.Handler }

func demote(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}

func (h demoteInfo) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, demote(l))
}

func (h demoteInfo) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h demoteInfo) WithAttrs(as []slog.Attr) slog.Handler {
	return demoteInfo{h.Handler.WithAttrs(as)}
}
func (h demoteInfo) WithGroup(name string) slog.Handler { return demoteInfo{h.Handler.WithGroup(name)} }
