package main

// Backups and restores (issue 13): `secinbox backup FILE` writes an
// encrypted snapshot of the data directory while the server runs;
// `secinbox restore` fills an empty data directory from such a file or
// from the replica that serve streams to (db.Replicate).
//
// A backup file is an age-encrypted tar archive (age -d ... | tar x opens
// it without secinbox) holding secinbox.db and, when the key passphrase is
// the development one, the key-passphrase file. The database holds the
// team's secret keys locked with the key passphrase and staff two-factor
// secrets sealed with a key derived from it; passwords and tokens only as
// hashes. Nothing else in the data directory is needed: the -wal and -shm
// files are part of the snapshot, and .secinbox.db-litestream/ is
// Litestream's local working copy.

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/secinbox/secinbox/db"
)

const (
	// dbFile is the database's name in the data directory and in a backup.
	dbFile = "secinbox.db"
	// snapshotPattern names the scratch copy a backup makes in the data
	// directory; one left by a killed backup is removed by the next
	// backup or server start.
	snapshotPattern = ".backup-*.db"
	// maxIdentityFile bounds an -identity file.
	maxIdentityFile = 1 << 20
	// maxPassphraseEntry bounds the key-passphrase file in a backup.
	maxPassphraseEntry = 4096
)

func (c *Config) dbPath() string { return filepath.Join(c.Data, dbFile) }

// devPassphrase reports whether the key passphrase is the development one
// kept in the data directory, that is, none is configured.
func (c *Config) devPassphrase() bool { return c.KeyPassphrase == "" && c.KeyPassphraseFile == "" }

// configuredPassphrase returns the key passphrase from the setting or its
// file, or nil if neither is set. Unlike passphrase it never generates one.
func (c *Config) configuredPassphrase() ([]byte, error) {
	switch {
	case c.KeyPassphrase != "":
		return []byte(c.KeyPassphrase), nil
	case c.KeyPassphraseFile != "":
		return readSecretFile("key passphrase", c.KeyPassphraseFile)
	}
	return nil, nil
}

// checkReplica checks the replication settings.
func (c *Config) checkReplica() error {
	if c.ReplicaSyncInterval < 100*time.Millisecond || c.ReplicaSyncInterval > time.Hour {
		return fmt.Errorf("-replica-sync-interval must be between 100ms and 1h, not %v", c.ReplicaSyncInterval)
	}
	if c.ReplicaURL != "" {
		if _, err := c.replicaTarget(c.ReplicaURL); err != nil {
			return fmt.Errorf("-replica-url: %w", err)
		}
	}
	return nil
}

// replicaTarget parses a replica URL; an s3:// one takes its endpoint
// from -replica-s3-endpoint and its region from AWS_REGION unless the
// URL gives them.
func (c *Config) replicaTarget(rawURL string) (db.ReplicaTarget, error) {
	return db.ParseReplicaURL(rawURL, db.S3Defaults{Region: os.Getenv("AWS_REGION"), Endpoint: c.ReplicaS3Endpoint})
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdBackup(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	var to listFlag
	fs.Var(&to, "to", "age `recipient` (age1...) to encrypt the backup to; repeatable; default $SECINBOX_BACKUP_RECIPIENT, and with neither the key passphrase")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: secinbox backup [-to RECIPIENT]... FILE   (FILE -: standard output)")
		return errUsage
	}
	out := fs.Arg(0)
	log := newLogger(&cfg, e.stderr)

	recipients, files, how, err := backupRecipients(&cfg, to)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.dbPath()); err != nil {
		return fmt.Errorf("no database to back up in -data %s: %w", cfg.Data, err)
	}
	removeStaleSnapshots(cfg.Data, log)

	// The snapshot is a scratch file next to the database (0600, like
	// it), locked so that no sweep removes it while in use, and removed
	// on every way out but SIGKILL (then the next sweep does).
	snap, err := os.CreateTemp(cfg.Data, snapshotPattern)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer func() {
		snap.Close()
		os.Remove(snap.Name())
	}()
	if err := lockSnapshot(snap); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := db.Snapshot(ctx, cfg.dbPath(), snap.Name()); err != nil {
		return err
	}
	files = append([]archived{{name: dbFile, path: snap.Name()}}, files...)

	n, err := writeBackup(ctx, out, e.stdout, recipients, files)
	if err != nil {
		return err
	}
	if out != "-" {
		fmt.Fprintf(e.stdout, "backup written to %s (%d bytes), encrypted %s\n", out, n, how)
	}
	return nil
}

// archived is a file to put into a backup under name.
type archived struct{ name, path string }

// backupRecipients returns whom a backup is encrypted to: the -to
// recipients, else those of SECINBOX_BACKUP_RECIPIENT, else the key
// passphrase. The development passphrase file goes into a backup for
// recipients, encrypted; a backup with only it as the key is refused.
func backupRecipients(cfg *Config, to []string) ([]age.Recipient, []archived, string, error) {
	list, from := []string(to), "-to"
	if len(list) == 0 {
		list, from = splitList(cfg.BackupRecipient), "SECINBOX_BACKUP_RECIPIENT"
	}
	dev := filepath.Join(cfg.Data, devPassphraseFile)
	_, devErr := os.Stat(dev)
	devInUse := cfg.devPassphrase() && devErr == nil
	if len(list) > 0 {
		recipients, err := age.ParseRecipients(strings.NewReader(strings.Join(list, "\n")))
		if err != nil {
			return nil, nil, "", fmt.Errorf("%s: %v (want age recipients, age1...)", from, err)
		}
		var files []archived
		if devInUse {
			files = append(files, archived{name: devPassphraseFile, path: dev})
		}
		return recipients, files, fmt.Sprintf("to %d age recipient(s) from %s", len(recipients), from), nil
	}
	pass, err := cfg.configuredPassphrase()
	if err != nil {
		return nil, nil, "", err
	}
	if pass == nil {
		if devInUse {
			return nil, nil, "", fmt.Errorf("the key passphrase is the development one in %s: a backup locked with it "+
				"opens only with that file, which is lost with the disk and must not leave the data directory in the clear. "+
				"Give an age recipient with -to or SECINBOX_BACKUP_RECIPIENT (the file then goes into the encrypted backup), "+
				"or set SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE", dev)
		}
		return nil, nil, "", errors.New("nothing to encrypt the backup with: give an age recipient with -to or " +
			"SECINBOX_BACKUP_RECIPIENT, or set the key passphrase (SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE)")
	}
	r, err := age.NewScryptRecipient(string(pass))
	if err != nil {
		return nil, nil, "", fmt.Errorf("key passphrase: %w", err)
	}
	return []age.Recipient{r}, nil, "with the key passphrase", nil
}

// writeBackup writes files as a tar archive encrypted to recipients into
// out (- for stdout) and returns the bytes written. A file is written
// under a temporary name (0600) and renamed when complete, so out is
// never a partial backup.
func writeBackup(ctx context.Context, out string, stdout io.Writer, recipients []age.Recipient, files []archived) (n int64, err error) {
	var w io.Writer = stdout
	var f *os.File
	if out != "-" {
		f, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
		if err != nil {
			return 0, fmt.Errorf("backup file: %w", err)
		}
		defer func() {
			if err != nil {
				f.Close()
				os.Remove(f.Name())
			}
		}()
		w = f
	}
	cw := &countingWriter{w: w}
	aw, err := age.Encrypt(cw, recipients...)
	if err != nil {
		return 0, fmt.Errorf("encrypt: %w", err)
	}
	tw := tar.NewWriter(aw)
	for _, a := range files {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := addFile(tw, a); err != nil {
			return 0, fmt.Errorf("backup: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := aw.Close(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if f == nil {
		return cw.n, nil
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("backup file: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("backup file: %w", err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return 0, fmt.Errorf("backup file: %w", err)
	}
	syncDir(filepath.Dir(out))
	return cw.n, nil
}

// addFile adds the file a to the archive.
func addFile(tw *tar.Writer, a archived) error {
	f, err := os.Open(a.path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: a.name, Mode: 0o600, Size: fi.Size(), ModTime: time.Now().UTC()}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("%s: %w", a.name, err)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// syncDir fsyncs a directory so that a rename in it is durable. Errors
// are ignored: some file systems do not support it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// removeStaleSnapshots removes snapshots that killed backups left in the
// data directory: those no running backup holds locked.
func removeStaleSnapshots(dir string, log *slog.Logger) {
	names, _ := filepath.Glob(filepath.Join(dir, snapshotPattern))
	for _, name := range names {
		if stale, err := snapshotStale(name); err == nil && stale {
			if err := os.Remove(name); err == nil {
				log.Warn("removed the scratch copy of an interrupted backup", "file", name)
			}
		}
	}
}

// optionalValue is a flag that can be given alone (-from-replica) or with
// a value (-from-replica=URL).
type optionalValue struct {
	set   bool
	value string
}

func (o *optionalValue) String() string   { return o.value }
func (o *optionalValue) IsBoolFlag() bool { return true }
func (o *optionalValue) Set(v string) error {
	switch v {
	case "true":
		o.set = true
	case "false":
		o.set, o.value = false, ""
	default:
		o.set, o.value = true, v
	}
	return nil
}

func cmdRestore(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	identity := fs.String("identity", "", "age identity `file` that decrypts the backup (default: the key passphrase)")
	var fromReplica optionalValue
	fs.Var(&fromReplica, "from-replica", "rebuild the data directory from the replica at `URL` (this flag's value, the argument, or $SECINBOX_REPLICA_URL) instead of a backup file")
	if err := e.parse(fs); err != nil {
		return err
	}
	log := newLogger(&cfg, e.stderr)
	if fromReplica.set {
		return restoreFromReplica(ctx, e, &cfg, fs.Args(), fromReplica.value, *identity, log)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: secinbox restore [-identity FILE] BACKUP   (BACKUP -: standard input)\n       secinbox restore -from-replica [URL]")
		return errUsage
	}
	return restoreBackup(ctx, e, &cfg, fs.Arg(0), *identity, log)
}

// restoreBackup fills the empty data directory from a backup file.
func restoreBackup(ctx context.Context, e *env, cfg *Config, file, identityFile string, log *slog.Logger) error {
	// What decrypts it, before anything is touched.
	var ids []age.Identity
	if identityFile != "" {
		b, err := readBounded(identityFile, maxIdentityFile)
		if err != nil {
			return fmt.Errorf("-identity: %w", err)
		}
		if ids, err = age.ParseIdentities(strings.NewReader(string(b))); err != nil {
			return fmt.Errorf("-identity %s: %v", identityFile, err)
		}
	} else {
		pass, err := cfg.configuredPassphrase()
		if err != nil {
			return err
		}
		if pass == nil {
			return fmt.Errorf("nothing to decrypt %s with: give -identity FILE (for a backup encrypted to an age recipient) "+
				"or the key passphrase (SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE)", file)
		}
		id, err := age.NewScryptIdentity(string(pass))
		if err != nil {
			return fmt.Errorf("key passphrase: %w", err)
		}
		ids = []age.Identity{id}
	}
	var in io.Reader = e.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		defer f.Close()
		in = f
	}

	return restoreInto(ctx, cfg.Data, func(stage string) ([]string, error) {
		ar, err := age.Decrypt(in, ids...)
		if err != nil {
			var noMatch *age.NoIdentityMatchError
			switch {
			case !errors.As(err, &noMatch):
				return nil, fmt.Errorf("%s: not an age-encrypted secinbox backup: %w", file, err)
			case identityFile != "":
				return nil, fmt.Errorf("%s: -identity %s does not match any of the backup's recipients", file, identityFile)
			default:
				return nil, fmt.Errorf("%s: the key passphrase does not decrypt it (a backup made with another passphrase, "+
					"or one encrypted to an age recipient: give -identity)", file)
			}
		}
		return extractBackup(ctx, ar, file, stage)
	}, e)
}

// extractBackup writes the files of the decrypted backup r into stage and
// returns their names. Only the names a backup holds are accepted, as
// regular files.
func extractBackup(ctx context.Context, r io.Reader, file, stage string) ([]string, error) {
	limits := map[string]int64{dbFile: -1, devPassphraseFile: maxPassphraseEntry}
	var names []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading the backup: %w", file, err)
		}
		limit, ok := limits[h.Name]
		if !ok || h.Typeflag != tar.TypeReg || (limit >= 0 && h.Size > limit) {
			return nil, fmt.Errorf("%s: not a secinbox backup (it holds %q)", file, h.Name)
		}
		delete(limits, h.Name) // once each
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := writeNew(filepath.Join(stage, h.Name), tr); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, h.Name, err)
		}
		names = append(names, h.Name)
	}
	// Read to the end: age authenticates the last chunk there, so a
	// truncated or altered backup fails here.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("%s: the backup is damaged or truncated: %w", file, err)
	}
	if _, missing := limits[dbFile]; missing {
		return nil, fmt.Errorf("%s: not a secinbox backup (no %s in it)", file, dbFile)
	}
	return names, nil
}

// writeNew writes r into the new file path (0600) and syncs it.
func writeNew(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// restoreFromReplica fills the empty data directory from the replica.
func restoreFromReplica(ctx context.Context, e *env, cfg *Config, args []string, flagURL, identityFile string, log *slog.Logger) error {
	url := flagURL
	switch {
	case len(args) > 1 || (len(args) == 1 && url != ""):
		fmt.Fprintln(e.stderr, "usage: secinbox restore -from-replica [URL]")
		return errUsage
	case len(args) == 1:
		url = args[0]
	case url == "":
		url = cfg.ReplicaURL
	}
	if url == "" {
		return errors.New("-from-replica: no replica URL: give one (-from-replica file:///path or s3://bucket/path) or set SECINBOX_REPLICA_URL")
	}
	if identityFile != "" {
		return errors.New("-identity is for backup files; the replica is not encrypted")
	}
	target, err := cfg.replicaTarget(url)
	if err != nil {
		return fmt.Errorf("-from-replica: %w", err)
	}
	return restoreInto(ctx, cfg.Data, func(stage string) ([]string, error) {
		if err := db.RestoreReplica(ctx, target, filepath.Join(stage, dbFile), log); err != nil {
			if errors.Is(err, db.ErrNoReplica) {
				return nil, fmt.Errorf("-from-replica %s: %w", url, err)
			}
			return nil, err
		}
		return []string{dbFile}, nil
	}, e)
}

// restoreInto fills the data directory dir, which must be empty (but for
// lost+found) or not exist, with the files fill writes into a staging directory inside it.
// The database is opened (applying this version's migrations) and
// checked before anything is moved into place; on failure dir is left
// empty.
func restoreInto(ctx context.Context, dir string, fill func(stage string) ([]string, error), e *env) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	// A new file system's lost+found is not data.
	entries = slices.DeleteFunc(entries, func(en os.DirEntry) bool { return en.Name() == "lost+found" && en.IsDir() })
	if len(entries) > 0 {
		var names []string
		for i, en := range entries {
			if i == 5 {
				names = append(names, "...")
				break
			}
			names = append(names, en.Name())
		}
		return fmt.Errorf("the data directory %s is not empty (%s): restore only fills an empty one; move it aside first",
			dir, strings.Join(names, ", "))
	}
	stage, err := os.MkdirTemp(dir, ".restore-*")
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	defer os.RemoveAll(stage)

	names, err := fill(stage)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, filepath.Join(stage, dbFile))
	if err != nil {
		return fmt.Errorf("the restored database does not open: %w", err)
	}
	checkErr := d.QuickCheck(ctx)
	if err := errors.Join(checkErr, d.Close()); err != nil {
		return fmt.Errorf("the restored database: %w", err)
	}
	// Closing the last connection checkpointed the WAL into the file;
	// should a WAL be left, it is part of the database.
	if fi, err := os.Stat(filepath.Join(stage, dbFile+"-wal")); err == nil && fi.Size() > 0 {
		names = append(names, dbFile+"-wal")
	}

	var moved []string
	for _, name := range names {
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(dir, name)); err != nil {
			for _, m := range moved {
				os.Remove(filepath.Join(dir, m))
			}
			return fmt.Errorf("data directory: %w", err)
		}
		moved = append(moved, name)
	}
	syncDir(dir)
	fmt.Fprintf(e.stdout, "restored %s into %s\n", strings.Join(moved, " and "), dir)
	return nil
}
