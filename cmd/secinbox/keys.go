package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/teamkey"
	"github.com/secinbox/secinbox/triage"
)

// devPassphraseFile is where a development passphrase is kept when none
// is configured.
const devPassphraseFile = "key-passphrase"

// passphrase returns the passphrase that protects the team's secret keys:
// the configured one, else the one in the file, else (development) a
// random one generated into a 0600 file in the data directory — but only
// while d holds no team key: a key stored under a passphrase that is gone
// must not be met with a new one (the error would then blame the
// passphrase, not its absence).
func (c *Config) passphrase(ctx context.Context, log *slog.Logger, d *db.DB) ([]byte, error) {
	switch {
	case c.KeyPassphrase != "":
		return []byte(c.KeyPassphrase), nil
	case c.KeyPassphraseFile != "":
		return readSecretFile("key passphrase", c.KeyPassphraseFile)
	}
	path := filepath.Join(c.Data, devPassphraseFile)
	b, err := os.ReadFile(path)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		log.Warn("team key protected by a generated passphrase in the data directory; production must set SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE", "file", path)
		return bytes.TrimSpace(b), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("key passphrase: %w", err)
	}
	stored, err := d.TeamKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("key passphrase: %w", err)
	}
	if len(stored) > 0 {
		return nil, fmt.Errorf("the team's keys are stored locked with a key passphrase, and none is set: set SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE (or -key-passphrase-file) to the one they were locked with (%s, where a generated one was kept, is missing)", path)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	p := []byte(base64.RawURLEncoding.EncodeToString(raw))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("key passphrase: %w", err)
	}
	if _, err := f.Write(append(p, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("key passphrase: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("key passphrase: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("key passphrase: %w", err)
	}
	log.Warn("no key passphrase configured: generated one for development; production must set SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE", "file", path)
	return p, nil
}

// readSecretFile reads the secret (named what, for errors) held in file:
// its content without the trailing line break, which must leave something.
func readSecretFile(what, file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if b = bytes.TrimRight(b, "\r\n"); len(b) == 0 {
		return nil, fmt.Errorf("%s: %s is empty", what, file)
	}
	return b, nil
}

// The team keyring itself (loading, reloading, signing, publishing, and
// the key operations below) is package teamkey; these are the key
// subcommands' command lines.

// openData creates the data directory (0700) and opens the database,
// creating it: what `secinbox serve` does on its first start. With a
// replica configured, our writes leave checkpoints to Litestream (see
// db.Replicate), in every command: the server replicates while they run.
func openData(ctx context.Context, cfg *Config) (*db.DB, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("-data %s: %w", cfg.Data, err)
	}
	return db.OpenWith(ctx, cfg.dbPath(), db.Options{NoAutoCheckpoint: cfg.ReplicaURL != ""})
}

// openExisting opens the database of a data directory that `secinbox
// serve` has made. Every other subcommand uses it: one run against a
// mistyped -data must not start a new, empty installation.
func openExisting(ctx context.Context, cfg *Config) (*db.DB, error) {
	if _, err := os.Stat(cfg.dbPath()); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no secinbox database in -data %s (SECINBOX_DATA): give the data directory the server uses, or run 'secinbox serve' there first", cfg.Data)
		}
		return nil, fmt.Errorf("-data %s: %w", cfg.Data, err)
	}
	return db.OpenWith(ctx, cfg.dbPath(), db.Options{NoAutoCheckpoint: cfg.ReplicaURL != ""})
}

// storedTeamKeys returns the team's keys as stored (locked), primary first.
func storedTeamKeys(ctx context.Context, cfg *Config) ([]*triage.TeamKey, error) {
	d, err := openExisting(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.TeamKeys(ctx)
}

// keyCommand is what every key subcommand that changes the keyring
// starts with: its flags parsed, the logger, the key passphrase and the
// database, open.
type keyCommand struct {
	create bool // may create the data directory and database (key import)
	cfg    Config
	log    *slog.Logger
	pass   []byte
	db     *db.DB
}

func (kc *keyCommand) open(ctx context.Context, e *env) error {
	var err error
	kc.log = newLogger(&kc.cfg, e.stderr)
	open := openExisting
	if kc.create {
		open = openData
	}
	if kc.db, err = open(ctx, &kc.cfg); err != nil {
		return err
	}
	kc.pass, err = kc.cfg.passphrase(ctx, kc.log, kc.db)
	return err
}

func (kc *keyCommand) close() {
	clear(kc.pass)
	if kc.db != nil {
		kc.db.Close()
	}
}

func cmdKeyExport(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	secretToo := fs.Bool("secret", false, "export the secret key instead, still protected by the key passphrase (for backups)")
	all := fs.Bool("all", false, "export every team key, primary first, retired ones too (a full backup with --secret)")
	id := fs.String("key", "", "export the key with this `fingerprint` (or key ID) instead of the primary")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() != 0 || (*all && *id != "") {
		fmt.Fprintln(e.stderr, "usage: secinbox key export [--secret] [--all | --key FINGERPRINT]")
		return errUsage
	}
	d, err := openExisting(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	out, fprs, err := teamkey.Export(ctx, d, *id, *all, *secretToo)
	if err != nil {
		return err
	}
	if *secretToo {
		newLogger(&cfg, e.stderr).Info("exported team secret keys (passphrase-protected)", "keys", strings.Join(fprs, ","))
	}
	_, err = e.stdout.Write(out)
	return err
}

func cmdKeyList(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	if err := e.parse(fs); err != nil {
		return err
	}
	keys, err := storedTeamKeys(ctx, &cfg)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, k := range keys {
		algo := "?"
		if es, err := pgp.ReadPublicKeys(k.ArmoredPublic); err == nil && len(es) == 1 {
			algo = pgp.Algorithm(es[0])
		}
		exp := "never"
		if !k.ExpiresAt.IsZero() {
			exp = k.ExpiresAt.UTC().Format(time.DateOnly)
			if !now.Before(k.ExpiresAt) {
				exp = "EXPIRED " + exp
			}
		}
		mark, state := " ", "decrypts"
		switch {
		case k.Primary:
			mark, state = "*", "primary"
		case !k.RetiredAt.IsZero():
			state = "retired " + k.RetiredAt.UTC().Format(time.DateOnly)
		}
		fmt.Fprintf(e.stdout, "%s %s  %-9s  created %s  expires %s  %s  %s\n", mark, k.Fingerprint, algo,
			k.CreatedAt.UTC().Format(time.DateOnly), exp, state, k.UserID)
	}
	return nil
}

// maxKeyFile bounds what `key import` reads: a GnuPG export of a key with
// years of signatures is tens of KiB.
const maxKeyFile = 8 << 20

// cmdKeyImport imports an existing secret key, as GnuPG exports it
// (`gpg --export-secret-keys`, armored or binary), unlocks it with the
// passphrase read from stdin, protects it with secinbox's key passphrase,
// and makes it the primary key unless --primary=false. A file with several
// secret keys needs --key or --all.
func cmdKeyImport(ctx context.Context, e *env) error {
	var kc keyCommand
	fs := e.flags(&kc.cfg)
	primary := fs.Bool("primary", true, "make the imported key the primary (published) key; false: it only decrypts")
	id := fs.String("key", "", "import only the key with this `fingerprint` (or key ID) from a file holding several")
	all := fs.Bool("all", false, "import every secret key of the file (the first becomes primary)")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 || (*all && *id != "") {
		fmt.Fprintln(e.stderr, "usage: secinbox key import [--primary=false] [--key FINGERPRINT | --all] FILE   (the key's passphrase on stdin)")
		return errUsage
	}
	file := fs.Arg(0)
	data, err := readBounded(file, maxKeyFile)
	if err != nil {
		return err
	}
	keys, err := pgp.ReadKeyFile(data) // secret parts are kept, still locked
	if err != nil {
		return fmt.Errorf("%s: not an OpenPGP key file: %w", file, err)
	}
	chosen, err := teamkey.ChooseImport(keys, file, *id, *all)
	if err != nil {
		return err
	}
	in, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
	if err != nil {
		return err
	}
	keyPass := bytes.TrimRight(in, "\r\n")
	defer clear(in)
	for _, ent := range chosen {
		fpr := pgp.Fingerprint(ent)
		if err := pgp.UnlockKey(ent, keyPass); errors.Is(err, pgp.ErrBadPassphrase) {
			return fmt.Errorf("wrong passphrase for key %s: give the passphrase the key has in GnuPG on stdin; nothing was imported", fpr)
		} else if err != nil {
			return err
		}
	}

	// The one subcommand besides serve that may start an installation:
	// a team brings its existing key before the first start.
	kc.create = true
	if err := kc.open(ctx, e); err != nil {
		return err
	}
	defer kc.close()
	stored, err := teamkey.Import(ctx, kc.db, kc.pass, chosen, *primary, time.Now())
	for i, k := range stored {
		kc.log.Info("imported a team key", "fingerprint", k.Fingerprint, "uid", k.UserID, "primary", k.Primary, "expires", k.ExpiresAt)
		fmt.Fprintf(e.stdout, "imported %s %s\n", k.Fingerprint, k.UserID)
		if k.Primary {
			warnAddress(e.stderr, chosen[i], kc.cfg.Domain)
		}
	}
	return err
}

// readBounded reads file, refusing one larger than max bytes.
func readBounded(file string, max int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d MiB: not a key export", file, max>>20)
	}
	return data, nil
}

// warnAddress warns when none of e's user IDs is the address the team key
// is published for: GnuPG's WKD lookup would then refuse the key.
func warnAddress(w io.Writer, e *openpgp.Entity, domain string) {
	want := "security@" + strings.ToLower(domain)
	for _, id := range e.Identities {
		if id.UserId != nil && strings.EqualFold(id.UserId.Email, want) {
			return
		}
	}
	fmt.Fprintf(w, "warning: key %s has no user ID for %s; clients that look it up through WKD (gpg --locate-keys %s) will not accept it\n",
		pgp.Fingerprint(e), want, want)
}

// cmdKeyRotate makes a new primary key with the current primary's user
// IDs. The old primary keeps decrypting; a running server publishes the
// new key from its next request on.
func cmdKeyRotate(ctx context.Context, e *env) error {
	var kc keyCommand
	fs := e.flags(&kc.cfg)
	algoName := fs.String("algorithm", string(pgp.KeyEd25519), "the new key's `algorithm`: ed25519 (Ed25519 with a Curve25519 encryption subkey), rsa3072 or rsa4096; its lifetime is -key-lifetime")
	if err := e.parse(fs); err != nil {
		return err
	}
	algo, err := pgp.ParseKeyAlgorithm(*algoName)
	if err != nil || fs.NArg() != 0 {
		fmt.Fprintln(e.stderr, "usage: secinbox key rotate [--algorithm ed25519|rsa3072|rsa4096] [-key-lifetime DURATION]")
		return errUsage
	}
	if err := kc.open(ctx, e); err != nil {
		return err
	}
	defer kc.close()
	r, err := teamkey.Rotate(ctx, kc.db, kc.pass, algo, kc.cfg.KeyLifetime, time.Now())
	if err != nil {
		return err
	}
	k := r.New
	kc.log.Info("rotated the team key", "new", k.Fingerprint, "previous", r.Previous.Fingerprint,
		"algorithm", r.Algorithm, "expires", k.ExpiresAt, "certified_by_previous", r.Certified)
	exp := "never"
	if !k.ExpiresAt.IsZero() {
		exp = k.ExpiresAt.Format(time.DateOnly)
	}
	fmt.Fprintf(e.stdout, "new primary key %s (%s, expires %s) %s\n", k.Fingerprint, r.Algorithm, exp, k.UserID)
	fmt.Fprintf(e.stdout, "previous primary %s keeps decrypting; 'secinbox key retire %s' once no mail is encrypted to it any more\n",
		r.Previous.Fingerprint, r.Previous.Fingerprint)
	if !r.Certified {
		fmt.Fprintln(e.stdout, "the previous key could not certify the new one (it has expired or has no certification key)")
	}
	return nil
}

// cmdKeySetPrimary publishes another stored key.
func cmdKeySetPrimary(ctx context.Context, e *env) error {
	var kc keyCommand
	id, err := kc.openWithKey(ctx, e, "usage: secinbox key set-primary FINGERPRINT")
	defer kc.close()
	if err != nil {
		return err
	}
	k, previous, err := teamkey.SetPrimary(ctx, kc.db, kc.pass, id, time.Now())
	if err != nil {
		return err
	}
	kc.log.Info("made a team key primary", "fingerprint", k.Fingerprint, "previous", previous)
	fmt.Fprintf(e.stdout, "primary key %s %s\n", k.Fingerprint, k.UserID)
	return nil
}

// cmdKeyRetire stops a key from decrypting; it stays stored.
func cmdKeyRetire(ctx context.Context, e *env) error {
	var kc keyCommand
	id, err := kc.openWithKey(ctx, e, "usage: secinbox key retire FINGERPRINT")
	defer kc.close()
	if err != nil {
		return err
	}
	k, err := teamkey.Retire(ctx, kc.db, id, time.Now())
	if err != nil {
		return err
	}
	kc.log.Info("retired a team key: it no longer decrypts", "fingerprint", k.Fingerprint)
	fmt.Fprintf(e.stdout, "retired %s: mail encrypted to it is filed undecryptable from now on\n", k.Fingerprint)
	return nil
}

// openWithKey starts a command that takes one FINGERPRINT argument: it
// parses the flags and opens the keyring, and returns the argument.
// Call kc.close even on error.
func (kc *keyCommand) openWithKey(ctx context.Context, e *env, usage string) (string, error) {
	fs := e.flags(&kc.cfg)
	if err := e.parse(fs); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, usage)
		return "", errUsage
	}
	return fs.Arg(0), kc.open(ctx, e)
}
