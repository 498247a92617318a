package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/benbjohnson/litestream/s3"
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

// ReplicaTarget is where a replica lives: a directory or an S3 bucket.
// Make one with ParseReplicaURL.
type ReplicaTarget struct {
	// Dir is a file replica's directory; empty for S3.
	Dir string
	// S3 replicas: the bucket, the key prefix in it, the region (empty:
	// looked up, or us-east-1 with an Endpoint) and the endpoint of an
	// S3-compatible store (empty: AWS). Credentials come from the AWS
	// SDK's default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
	// the shared credentials file, or an instance role.
	Bucket, Path, Region, Endpoint string
	// ForcePathStyle addresses the bucket in the path
	// (https://host/bucket/key), not the host name; set with an Endpoint.
	ForcePathStyle bool
}

// String names the replica for logs and errors: no secrets.
func (t ReplicaTarget) String() string {
	if t.Bucket == "" {
		return "file://" + t.Dir
	}
	s := "s3://" + t.Bucket + "/" + t.Path
	if t.Endpoint != "" {
		s += " at " + t.Endpoint
	}
	return s
}

// S3Defaults are the settings of an s3:// replica URL that can also come
// from elsewhere (the environment); the URL's query wins.
type S3Defaults struct {
	Region   string // AWS_REGION
	Endpoint string // an S3-compatible store's URL, e.g. http://127.0.0.1:9000
}

// ParseReplicaURL parses a replica URL: file:///absolute/path, or
// s3://bucket/path with optional query parameters endpoint= (an
// S3-compatible store such as MinIO, R2 or B2; path-style addressing is
// then used) and region=.
func ParseReplicaURL(rawURL string, def S3Defaults) (ReplicaTarget, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ReplicaTarget{}, fmt.Errorf("replica URL %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		if (u.Host != "" && u.Host != "localhost") || u.RawQuery != "" || u.Fragment != "" || !filepath.IsAbs(u.Path) {
			return ReplicaTarget{}, fmt.Errorf("replica URL %q: want file:///absolute/path", rawURL)
		}
		return ReplicaTarget{Dir: filepath.Clean(u.Path)}, nil
	case "s3":
		t := ReplicaTarget{Bucket: u.Host, Path: strings.Trim(u.Path, "/"), Region: def.Region, Endpoint: def.Endpoint}
		if t.Bucket == "" || u.User != nil || u.Fragment != "" {
			return ReplicaTarget{}, fmt.Errorf("replica URL %q: want s3://bucket/path (credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not the URL)", rawURL)
		}
		q := u.Query()
		for k, v := range q {
			switch {
			case len(v) != 1:
				return ReplicaTarget{}, fmt.Errorf("replica URL %q: %s= given %d times", rawURL, k, len(v))
			case k == "endpoint":
				t.Endpoint = v[0]
			case k == "region":
				t.Region = v[0]
			default:
				return ReplicaTarget{}, fmt.Errorf("replica URL %q: unknown parameter %s= (want endpoint= or region=)", rawURL, k)
			}
		}
		if t.Endpoint != "" {
			e, err := url.Parse(t.Endpoint)
			if err != nil || (e.Scheme != "https" && e.Scheme != "http") || e.Host == "" {
				return ReplicaTarget{}, fmt.Errorf("replica URL %q: S3 endpoint %q: want https://host[:port]", rawURL, t.Endpoint)
			}
			t.ForcePathStyle = true
		}
		return t, nil
	}
	return ReplicaTarget{}, fmt.Errorf("replica URL %q: want file:///path (a directory, e.g. on another disk or a network file system) or s3://bucket/path", rawURL)
}

// Replica streams a database file's WAL to a replica. Create it with
// Replicate.
type Replica struct {
	ldb    *litestream.DB
	Target ReplicaTarget
}

// Replicate starts streaming the database file at path to the replica at
// t, in the background, until Close. The replica
// lags behind the database by at most about interval: Litestream looks at
// the WAL every interval/2 and ships what is new every interval/2. Errors
// while running are logged; Replicate fails only on a bad URL or interval,
// or a replica directory it cannot create (an unreachable S3 store is
// only logged, and retried).
// Open the database with Options.NoAutoCheckpoint first.
func Replicate(path string, t ReplicaTarget, interval time.Duration, log *slog.Logger) (*Replica, error) {
	if interval < 2*time.Millisecond {
		return nil, fmt.Errorf("replica sync interval %v is too short", interval)
	}
	ldb := litestreamDB(path, t, log)
	// Fail now, not in a log line a second later, if it cannot be made.
	if t.Dir != "" {
		if err := os.MkdirAll(t.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("replica: %w", err)
		}
	}
	ldb.MonitorInterval = interval / 2
	ldb.Replicas[0].SyncInterval = interval / 2
	if err := ldb.Open(); err != nil {
		return nil, fmt.Errorf("replicate %s: %w", path, err)
	}
	return &Replica{ldb: ldb, Target: t}, nil
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
// t holds into the file dst, which must not exist (Litestream
// also writes dst.tmp and WAL files next to it while it works). It
// returns an error wrapping ErrNoReplica if the replica is empty.
func RestoreReplica(ctx context.Context, t ReplicaTarget, dst string, log *slog.Logger) error {
	// The DB is never opened: it only carries the logger and file modes.
	ldb := litestreamDB(dst, t, log)
	r := ldb.Replicas[0]
	dir := t.String()
	var err error
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
// replica, t.
func litestreamDB(path string, t ReplicaTarget, log *slog.Logger) *litestream.DB {
	ldb := litestream.NewDB(path)
	ldb.Logger = slog.New(demoteInfo{log.Handler()}).With("component", "litestream")
	if t.Dir != "" {
		r := litestream.NewReplica(ldb, "file")
		c := file.NewReplicaClient(t.Dir)
		c.Replica = r
		r.Client = c
		ldb.Replicas = []*litestream.Replica{r}
		return ldb
	}
	r := litestream.NewReplica(ldb, "s3")
	c := s3.NewReplicaClient()
	c.Bucket, c.Path, c.Region = t.Bucket, t.Path, t.Region
	c.Endpoint, c.ForcePathStyle = t.Endpoint, t.ForcePathStyle
	r.Client = c
	ldb.Replicas = []*litestream.Replica{r}
	return ldb
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
