package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
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

// The team keyring. Keys are stored locked (triage.TeamKey); the server
// unlocks them at start and again whenever the keyring generation in the
// database moves, which every change to team_keys does (migration 0005).
// So `secinbox key rotate`, run while the server is up, is published and
// decrypts from the next request or message on, without a restart.

// teamKeys is one generation of the team's keyring, unlocked for use.
type teamKeys struct {
	generation int64
	primary    *openpgp.Entity
	all        openpgp.EntityList // the keys in use (not retired), primary first: all decrypt
	decrypt    *pgp.TeamKeys      // all, as intake decrypts with them
	published  web.PublishedKey   // the primary's public key, as the public endpoints serve it
}

// errKeyUnusable marks a load failure that retrying will not cure (a key
// the passphrase does not unlock, no key in use), as opposed to a busy
// database.
var errKeyUnusable = errors.New("team keyring unusable")

// keyring is the running server's view of the team keys.
type keyring struct {
	db  *db.DB
	log *slog.Logger
	now func() time.Time
	// pass stays in memory for the server's life, as the unlocked keys
	// do: a key added while it runs must be unlocked with it.
	pass []byte
	cur  atomic.Pointer[teamKeys]

	mu       sync.Mutex                 // serializes reloads; guards the fields below
	failed   int64                      // a generation that could not be loaded: not retried
	unlocked map[string]*openpgp.Entity // by fingerprint: unlocking costs a slow S2K
}

// openKeyring unlocks the team's keys, generating the first one when the
// keyring is empty. A key the passphrase does not unlock is an error.
func openKeyring(ctx context.Context, d *db.DB, cfg *Config, pass []byte, log *slog.Logger) (*keyring, error) {
	stored, err := d.TeamKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		e, err := pgp.GenerateKey("Security Team", "security@"+cfg.Domain, time.Now(), cfg.KeyLifetime)
		if err != nil {
			return nil, fmt.Errorf("generate team key: %w", err)
		}
		k, err := storedKey(e, pass, true, time.Now())
		if err != nil {
			return nil, err
		}
		ev := keyAudit(triage.ActorSystem, triage.AuditKeyGenerate, k.Fingerprint, map[string]any{
			"algorithm": pgp.Algorithm(e), "user_id": k.UserID, "expires": k.ExpiresAt})
		if err := d.AddTeamKey(ctx, k, ev); err != nil {
			return nil, fmt.Errorf("store team key: %w", err)
		}
		log.Info("generated the team key", "fingerprint", k.Fingerprint, "uid", k.UserID, "expires", k.ExpiresAt)
	}
	kr := &keyring{db: d, log: log, now: time.Now, pass: pass, unlocked: map[string]*openpgp.Entity{}}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	tk, err := kr.load(ctx)
	if err != nil {
		return nil, err
	}
	kr.cur.Store(tk)
	logKeyExpiry(log, tk, kr.now())
	return kr, nil
}

// load reads and unlocks the keys in use. kr.mu must be held.
func (kr *keyring) load(ctx context.Context) (*teamKeys, error) {
	// The generation first: keys read after it are at least that new, so
	// a change in between only costs one more reload.
	gen, err := kr.db.TeamKeyringGeneration(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := kr.db.TeamKeys(ctx)
	if err != nil {
		return nil, err
	}
	tk := &teamKeys{generation: gen}
	for _, k := range stored { // primary first
		if !k.RetiredAt.IsZero() {
			continue
		}
		e, ok := kr.unlocked[k.Fingerprint]
		if !ok {
			es, err := pgp.ReadSecretKeys(k.ArmoredSecret, kr.pass)
			if err == nil && len(es) != 1 {
				err = fmt.Errorf("%d keys stored as one", len(es))
			}
			if err != nil {
				return nil, fmt.Errorf("%w: unlock team key %s (is the key passphrase right?): %w", errKeyUnusable, k.Fingerprint, err)
			}
			e = es[0]
			kr.unlocked[k.Fingerprint] = e
		}
		tk.all = append(tk.all, e)
	}
	if len(tk.all) == 0 {
		return nil, fmt.Errorf("%w: no team key in use: import one with 'secinbox key import'", errKeyUnusable)
	}
	tk.primary = tk.all[0]
	tk.decrypt = pgp.NewTeamKeys(tk.all)
	armored, err := pgp.ArmorPublicKey(tk.primary)
	if err != nil {
		return nil, err
	}
	binary, err := pgp.PublicKeyBytes(tk.primary)
	if err != nil {
		return nil, err
	}
	tk.published = web.PublishedKey{Armored: armored, Binary: binary, Fingerprint: pgp.Fingerprint(tk.primary),
		Expires: encryptUntil(tk.primary, kr.now())}
	return tk, nil
}

// current returns the keyring, reloaded first if the stored keys changed
// since it was loaded. The check is one read of one row. If the reload
// fails, the keys loaded before stay in use and the failure is logged.
func (kr *keyring) current(ctx context.Context) *teamKeys {
	cur := kr.cur.Load()
	gen, err := kr.db.TeamKeyringGeneration(ctx)
	if err != nil {
		if ctx.Err() == nil {
			kr.log.Warn("team keyring: reading its generation", "err", err)
		}
		return cur
	}
	if gen == cur.generation {
		return cur
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if cur = kr.cur.Load(); gen == cur.generation || gen == kr.failed {
		return cur
	}
	next, err := kr.load(ctx)
	if err != nil {
		if errors.Is(err, errKeyUnusable) {
			kr.failed = gen
			kr.log.Error("team keyring changed but cannot be used; still using the keys loaded before", "generation", gen, "err", err)
		} else if ctx.Err() == nil {
			kr.log.Warn("team keyring changed; reloading failed, will retry", "generation", gen, "err", err)
		}
		return cur
	}
	kr.cur.Store(next)
	kr.log.Info("team keyring reloaded", "generation", next.generation, "primary", next.published.Fingerprint, "keys", len(next.all))
	if next.published.Fingerprint != cur.published.Fingerprint {
		kr.log.Info("team primary key changed: publishing the new key", "old", cur.published.Fingerprint, "new", next.published.Fingerprint)
		logKeyExpiry(kr.log, next, kr.now())
	}
	return next
}

// decryptionKeys is the processor's KeySource: every key in use.
func (kr *keyring) decryptionKeys() *pgp.TeamKeys {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return kr.current(ctx).decrypt
}

// publishedKey is web's TeamKey: the primary public key.
func (kr *keyring) publishedKey(ctx context.Context) web.PublishedKey {
	return kr.current(ctx).published
}

// watchExpiry logs the primary key's expiry daily (openKeyring did at
// start): a warning from triage.KeyExpiryWarning before, an error once
// expired.
func (kr *keyring) watchExpiry(ctx context.Context) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			logKeyExpiry(kr.log, kr.current(ctx), kr.now())
		}
	}
}

// logKeyExpiry logs tk's primary key expiry if it is near or past.
func logKeyExpiry(log *slog.Logger, tk *teamKeys, now time.Time) {
	k := tk.published
	switch triage.KeyExpiryAt(k.Expires, now) {
	case triage.KeyExpired:
		log.Error("the team's primary key has expired: researchers cannot encrypt to it; run 'secinbox key rotate'",
			"fingerprint", k.Fingerprint, "expired", k.Expires)
	case triage.KeyExpiringSoon:
		log.Warn("the team's primary key expires soon: run 'secinbox key rotate' so researchers can fetch the new key in time",
			"fingerprint", k.Fingerprint, "expires", k.Expires, "days_left", int(k.Expires.Sub(now).Hours()/24))
	}
}

// encryptUntil is when researchers stop being able to encrypt to e (zero:
// never); for a key nothing of which can be encrypted to at now, when
// that became so, or now if that is not known (a revoked key).
func encryptUntil(e *openpgp.Entity, now time.Time) time.Time {
	exp, ok := pgp.EncryptionExpiry(e, now)
	if !ok && exp.IsZero() {
		return now.UTC().Truncate(time.Second)
	}
	return exp.UTC()
}

// storedKey locks e under pass for storage.
func storedKey(e *openpgp.Entity, pass []byte, primary bool, now time.Time) (*triage.TeamKey, error) {
	sec, err := pgp.LockKey(e, pass)
	if err != nil {
		return nil, fmt.Errorf("protect team key: %w", err)
	}
	pub, err := pgp.ArmorPublicKey(e)
	if err != nil {
		return nil, err
	}
	return &triage.TeamKey{
		Fingerprint:   pgp.Fingerprint(e),
		UserID:        pgp.PrimaryUserID(e),
		ArmoredSecret: sec,
		ArmoredPublic: pub,
		CreatedAt:     e.PrimaryKey.CreationTime.UTC(),
		ExpiresAt:     encryptUntil(e, now),
		Primary:       primary,
	}, nil
}

// keyAudit is the audit event of a key operation by actor (triage.ActorCLI
// or ActorSystem) on key fpr. detail is a few plain facts, never a secret;
// the operating-system user running the command is added to it.
func keyAudit(actor, action, fpr string, detail map[string]any) *triage.AuditEvent {
	if detail == nil {
		detail = map[string]any{}
	}
	if u, err := user.Current(); err == nil {
		detail["os_user"] = u.Username
	}
	b, _ := json.Marshal(detail)
	return &triage.AuditEvent{ActorEmail: actor, Action: action, Target: "key:" + fpr, Detail: string(b)}
}

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

// findStoredKey returns the stored key id names: its fingerprint, or its
// key ID (the last 16 hex digits), with or without spaces and "0x".
func findStoredKey(keys []*triage.TeamKey, id string) (*triage.TeamKey, error) {
	norm := strings.TrimPrefix(strings.ToUpper(strings.Join(strings.Fields(id), "")), "0X")
	var found []*triage.TeamKey
	for _, k := range keys {
		if len(norm) >= 16 && (k.Fingerprint == norm || (len(norm) == 16 && strings.HasSuffix(k.Fingerprint, norm))) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no team key %q: give a fingerprint or 16-digit key ID from 'secinbox key list'", id)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%q names %d team keys: give the whole fingerprint", id, len(found))
}

// unlockStored unlocks a stored key with the key passphrase, which proves
// the passphrase is the one the server uses before anything is stored
// under it.
func unlockStored(k *triage.TeamKey, pass []byte) (*openpgp.Entity, error) {
	es, err := pgp.ReadSecretKeys(k.ArmoredSecret, pass)
	if errors.Is(err, pgp.ErrBadPassphrase) {
		return nil, fmt.Errorf("the key passphrase (SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE) does not unlock team key %s: use the server's", k.Fingerprint)
	}
	if err != nil {
		return nil, fmt.Errorf("team key %s: %w", k.Fingerprint, err)
	}
	return es[0], nil
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
	keys, err := d.TeamKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("no team key yet: run 'secinbox serve' once to generate one, or 'secinbox key import'")
	}
	switch {
	case *id != "":
		k, err := findStoredKey(keys, *id)
		if err != nil {
			return err
		}
		keys = []*triage.TeamKey{k}
	case !*all:
		keys = keys[:1] // primary first
	}
	var out bytes.Buffer
	fprs := make([]string, 0, len(keys))
	for _, k := range keys {
		block := k.ArmoredPublic
		if *secretToo {
			block = k.ArmoredSecret // locked: LockKey is the only way in
		}
		out.Write(block)
		if !bytes.HasSuffix(block, []byte("\n")) {
			out.WriteByte('\n') // the next block's BEGIN line must start a line
		}
		fprs = append(fprs, k.Fingerprint)
	}
	if *secretToo {
		ev := keyAudit(triage.ActorCLI, triage.AuditKeyExport, strings.Join(fprs, ","), map[string]any{"secret": true})
		if err := d.AddAudit(ctx, ev); err != nil {
			return err
		}
		newLogger(&cfg, e.stderr).Info("exported team secret keys (passphrase-protected)", "keys", strings.Join(fprs, ","))
	}
	_, err = out.WriteTo(e.stdout)
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
	chosen, err := chooseImport(keys, file, *id, *all)
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
	stored, err := kc.db.TeamKeys(ctx)
	if err != nil {
		return err
	}
	if len(stored) > 0 {
		if _, err := unlockStored(stored[0], kc.pass); err != nil {
			return err
		}
	}
	now := time.Now()
	// The first key of an empty keyring is published whatever the flag says.
	makePrimary := *primary || len(stored) == 0
	for i, ent := range chosen {
		if err := checkImportable(ent, makePrimary && i == 0, now); err != nil {
			return fmt.Errorf("%w; nothing was imported", err)
		}
		for _, k := range stored {
			if k.Fingerprint == pgp.Fingerprint(ent) {
				return fmt.Errorf("key %s is in the team keyring already (see 'secinbox key list'; 'secinbox key set-primary' publishes it); nothing was imported", k.Fingerprint)
			}
		}
	}
	for i, ent := range chosen {
		isPrimary := makePrimary && i == 0
		k, err := storedKey(ent, kc.pass, isPrimary, now)
		if err != nil {
			return err
		}
		ev := keyAudit(triage.ActorCLI, triage.AuditKeyImport, k.Fingerprint, map[string]any{
			"algorithm": pgp.Algorithm(ent), "user_id": k.UserID, "primary": isPrimary, "expires": k.ExpiresAt})
		if err := kc.db.AddTeamKey(ctx, k, ev); err != nil {
			return fmt.Errorf("store key %s: %w", k.Fingerprint, err)
		}
		kc.log.Info("imported a team key", "fingerprint", k.Fingerprint, "uid", k.UserID, "primary", isPrimary, "expires", k.ExpiresAt)
		fmt.Fprintf(e.stdout, "imported %s %s\n", k.Fingerprint, k.UserID)
		if isPrimary {
			warnAddress(e.stderr, ent, kc.cfg.Domain)
		}
	}
	return nil
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

// chooseImport picks the keys to import from a file's keys: the only
// secret key, the one id names, or with all every secret key. It explains
// what to do when the file holds no secret key or several.
func chooseImport(keys openpgp.EntityList, file, id string, all bool) (openpgp.EntityList, error) {
	var secret openpgp.EntityList
	for _, k := range keys {
		if pgp.HasSecret(k) {
			secret = append(secret, k)
		}
	}
	if id != "" {
		for _, k := range keys {
			if !pgp.KeyMatches(k, id) {
				continue
			}
			if !pgp.HasSecret(k) {
				return nil, fmt.Errorf("%s holds only the public part of key %s: export its secret key with 'gpg --export-secret-keys --armor %s'", file, pgp.Fingerprint(k), pgp.Fingerprint(k))
			}
			return openpgp.EntityList{k}, nil
		}
		return nil, fmt.Errorf("%s holds no key %s; it holds: %s", file, id, describeKeys(keys))
	}
	switch {
	case len(secret) == 0:
		return nil, fmt.Errorf("%s holds only public keys (%s), as 'gpg --export' writes them: secinbox needs the secret key, from 'gpg --export-secret-keys --armor KEYID'", file, describeKeys(keys))
	case len(secret) > 1 && !all:
		return nil, fmt.Errorf("%s holds %d secret keys: choose one with --key FINGERPRINT, or import them all with --all: %s", file, len(secret), describeKeys(secret))
	}
	return secret, nil
}

// describeKeys lists keys as "FINGERPRINT (ALGORITHM, USER ID)".
func describeKeys(keys openpgp.EntityList) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", pgp.Fingerprint(k), pgp.Algorithm(k), pgp.PrimaryUserID(k)))
	}
	return strings.Join(parts, "; ")
}

// checkImportable refuses a key secinbox could not use: without its
// primary secret key (LockKey needs it), without the secret of any
// encryption subkey, or, to be primary, one researchers cannot encrypt
// to at now.
func checkImportable(e *openpgp.Entity, primary bool, now time.Time) error {
	fpr := pgp.Fingerprint(e)
	if e.PrivateKey == nil || e.PrivateKey.Dummy() {
		return fmt.Errorf("key %s: the file lacks its primary secret key (exported with --export-secret-subkeys, or kept on a smartcard): export it with 'gpg --export-secret-keys --armor %s'", fpr, fpr)
	}
	decrypts := false
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil && !s.PrivateKey.Dummy() && s.PublicKey.PubKeyAlgo.CanEncrypt() {
			decrypts = true
		}
	}
	if !decrypts && !e.PrimaryKey.PubKeyAlgo.CanEncrypt() {
		return fmt.Errorf("key %s has no secret encryption key: it could not decrypt reports", fpr)
	}
	if !primary {
		return nil
	}
	if exp, ok := pgp.EncryptionExpiry(e, now); !ok {
		why := "it has no valid encryption subkey (expired or revoked)"
		if !exp.IsZero() {
			why = "it expired on " + exp.UTC().Format(time.DateOnly)
		}
		return fmt.Errorf("key %s cannot be the primary key: %s, so researchers could not encrypt to it. "+
			"Extend it in GnuPG first (gpg --quick-set-expire), or import it with --primary=false to keep decrypting mail sent to it", fpr, why)
	}
	return nil
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
	keys, err := kc.db.TeamKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 || !keys[0].Primary {
		return errors.New("no primary team key to rotate: run 'secinbox serve' once to generate one, or 'secinbox key import'")
	}
	old, err := unlockStored(keys[0], kc.pass)
	if err != nil {
		return err
	}
	now := time.Now()
	next, certified, err := pgp.GenerateSuccessor(old, algo, now, kc.cfg.KeyLifetime)
	if err != nil {
		return err
	}
	k, err := storedKey(next, kc.pass, true, now)
	if err != nil {
		return err
	}
	ev := keyAudit(triage.ActorCLI, triage.AuditKeyRotate, k.Fingerprint, map[string]any{
		"previous": keys[0].Fingerprint, "algorithm": pgp.Algorithm(next), "user_id": k.UserID,
		"expires": k.ExpiresAt, "certified_by_previous": certified})
	if err := kc.db.AddTeamKey(ctx, k, ev); err != nil {
		return fmt.Errorf("store the new key: %w", err)
	}
	kc.log.Info("rotated the team key", "new", k.Fingerprint, "previous", keys[0].Fingerprint,
		"algorithm", pgp.Algorithm(next), "expires", k.ExpiresAt, "certified_by_previous", certified)
	exp := "never"
	if !k.ExpiresAt.IsZero() {
		exp = k.ExpiresAt.Format(time.DateOnly)
	}
	fmt.Fprintf(e.stdout, "new primary key %s (%s, expires %s) %s\n", k.Fingerprint, pgp.Algorithm(next), exp, k.UserID)
	fmt.Fprintf(e.stdout, "previous primary %s keeps decrypting; 'secinbox key retire %s' once no mail is encrypted to it any more\n",
		keys[0].Fingerprint, keys[0].Fingerprint)
	if !certified {
		fmt.Fprintln(e.stdout, "the previous key could not certify the new one (it has expired or has no certification key)")
	}
	return nil
}

// cmdKeySetPrimary publishes another stored key.
func cmdKeySetPrimary(ctx context.Context, e *env) error {
	var kc keyCommand
	keys, k, err := kc.openWithKey(ctx, e, "usage: secinbox key set-primary FINGERPRINT")
	defer kc.close()
	if err != nil {
		return err
	}
	ent, err := unlockStored(k, kc.pass)
	if err != nil {
		return err
	}
	if err := checkImportable(ent, true, time.Now()); err != nil {
		return err
	}
	previous := keys[0].Fingerprint
	ev := keyAudit(triage.ActorCLI, triage.AuditKeySetPrimary, k.Fingerprint, map[string]any{"previous": previous})
	if err := kc.db.SetPrimaryTeamKey(ctx, k.Fingerprint, ev); err != nil {
		return err
	}
	kc.log.Info("made a team key primary", "fingerprint", k.Fingerprint, "previous", previous)
	fmt.Fprintf(e.stdout, "primary key %s %s\n", k.Fingerprint, k.UserID)
	return nil
}

// cmdKeyRetire stops a key from decrypting; it stays stored.
func cmdKeyRetire(ctx context.Context, e *env) error {
	var kc keyCommand
	_, k, err := kc.openWithKey(ctx, e, "usage: secinbox key retire FINGERPRINT")
	defer kc.close()
	if err != nil {
		return err
	}
	ev := keyAudit(triage.ActorCLI, triage.AuditKeyRetire, k.Fingerprint, nil)
	if err := kc.db.RetireTeamKey(ctx, k.Fingerprint, time.Now(), ev); err != nil {
		return err
	}
	kc.log.Info("retired a team key: it no longer decrypts", "fingerprint", k.Fingerprint)
	fmt.Fprintf(e.stdout, "retired %s: mail encrypted to it is filed undecryptable from now on\n", k.Fingerprint)
	return nil
}

// openWithKey starts a command that takes one FINGERPRINT argument: it
// parses the flags, opens the keyring, and finds that key among all the
// stored ones (returned primary first). Call kc.close even on error.
func (kc *keyCommand) openWithKey(ctx context.Context, e *env, usage string) ([]*triage.TeamKey, *triage.TeamKey, error) {
	fs := e.flags(&kc.cfg)
	if err := e.parse(fs); err != nil {
		return nil, nil, err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, usage)
		return nil, nil, errUsage
	}
	if err := kc.open(ctx, e); err != nil {
		return nil, nil, err
	}
	keys, err := kc.db.TeamKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	k, err := findStoredKey(keys, fs.Arg(0))
	return keys, k, err
}
