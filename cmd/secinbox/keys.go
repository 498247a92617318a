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
	"github.com/secinbox/secinbox/triage"
)

// devPassphraseFile is where a development passphrase is kept when none
// is configured.
const devPassphraseFile = "key-passphrase"

// passphrase returns the passphrase that protects the team's secret keys:
// the configured one, else the one in the file, else (development) a
// random one generated into a 0600 file in the data directory.
func (c *Config) passphrase(log *slog.Logger) ([]byte, error) {
	switch {
	case c.KeyPassphrase != "":
		return []byte(c.KeyPassphrase), nil
	case c.KeyPassphraseFile != "":
		b, err := os.ReadFile(c.KeyPassphraseFile)
		if err != nil {
			return nil, fmt.Errorf("key passphrase: %w", err)
		}
		if b = bytes.TrimRight(b, "\r\n"); len(b) == 0 {
			return nil, fmt.Errorf("key passphrase: %s is empty", c.KeyPassphraseFile)
		}
		return b, nil
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

// teamKeys is the team's keyring, unlocked for use.
type teamKeys struct {
	primary *openpgp.Entity
	all     openpgp.EntityList // every key, primary first: all may decrypt
	expires time.Time
	armored []byte // primary public key, armored
	binary  []byte // primary public key, binary (WKD)
}

// loadTeamKeys unlocks the team's keys, generating the first one when the
// keyring is empty.
func loadTeamKeys(ctx context.Context, d *db.DB, cfg *Config, pass []byte, log *slog.Logger, now time.Time) (*teamKeys, error) {
	stored, err := d.TeamKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		uid := "Security Team <security@" + cfg.Domain + ">"
		e, err := pgp.GenerateKey("Security Team", "security@"+cfg.Domain, now, cfg.KeyLifetime)
		if err != nil {
			return nil, fmt.Errorf("generate team key: %w", err)
		}
		k, err := storedKey(e, pass, true)
		if err != nil {
			return nil, err
		}
		if err := d.AddTeamKey(ctx, k); err != nil {
			return nil, fmt.Errorf("store team key: %w", err)
		}
		log.Info("generated the team key", "fingerprint", k.Fingerprint, "uid", uid, "expires", k.ExpiresAt)
		stored = []*triage.TeamKey{k}
	}
	tk := &teamKeys{}
	for _, k := range stored {
		es, err := pgp.ReadSecretKeys(k.ArmoredSecret, pass)
		if err != nil {
			return nil, fmt.Errorf("unlock team key %s (is the key passphrase right?): %w", k.Fingerprint, err)
		}
		tk.all = append(tk.all, es...)
		if k.Primary && tk.primary == nil {
			tk.primary = es[0]
			tk.expires = k.ExpiresAt
		}
	}
	if tk.primary == nil {
		tk.primary = tk.all[0]
		tk.expires = pgp.KeyExpiry(tk.primary)
	}
	if tk.armored, err = pgp.ArmorPublicKey(tk.primary); err != nil {
		return nil, err
	}
	if tk.binary, err = pgp.PublicKeyBytes(tk.primary); err != nil {
		return nil, err
	}
	return tk, nil
}

// storedKey locks e under pass for storage.
func storedKey(e *openpgp.Entity, pass []byte, primary bool) (*triage.TeamKey, error) {
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
		ExpiresAt:     pgp.KeyExpiry(e),
		Primary:       primary,
	}, nil
}

// openData creates the data directory (0700) and opens the database.
func openData(ctx context.Context, cfg *Config) (*db.DB, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return db.Open(ctx, cfg.dbPath())
}

// storedTeamKeys returns the team's keys as stored (locked), primary first.
func storedTeamKeys(ctx context.Context, cfg *Config) ([]*triage.TeamKey, error) {
	d, err := openData(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.TeamKeys(ctx)
}

func cmdKeyExport(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	secretToo := fs.Bool("secret", false, "export the primary secret key too, protected by the key passphrase (for backups)")
	if err := e.parse(fs); err != nil {
		return err
	}
	keys, err := storedTeamKeys(ctx, &cfg)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("no team key yet: run 'secinbox serve' once to generate one, or 'secinbox key import'")
	}
	k := keys[0] // primary first
	if *secretToo {
		_, err = e.stdout.Write(k.ArmoredSecret)
		return err
	}
	_, err = e.stdout.Write(k.ArmoredPublic)
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
	for _, k := range keys {
		exp := "never"
		if !k.ExpiresAt.IsZero() {
			exp = k.ExpiresAt.UTC().Format(time.DateOnly)
		}
		mark := " "
		if k.Primary {
			mark = "*"
		}
		fmt.Fprintf(e.stdout, "%s %s  created %s  expires %s  %s\n", mark, k.Fingerprint,
			k.CreatedAt.UTC().Format(time.DateOnly), exp, k.UserID)
	}
	return nil
}

// cmdKeyImport imports an existing secret key (for instance from
// `gpg --export-secret-keys --armor`), unlocks it with the passphrase read
// from stdin, protects it with secinbox's key passphrase, and makes it
// the primary key.
func cmdKeyImport(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	primary := fs.Bool("primary", true, "make the imported key the primary (published) key")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: secinbox key import [--primary=false] FILE   (the key's passphrase on stdin)")
		return errUsage
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	in, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
	if err != nil {
		return err
	}
	keyPass := []byte(strings.TrimRight(string(in), "\r\n"))
	entities, err := pgp.ReadSecretKeys(data, keyPass)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return err
	}
	log := newLogger(&cfg, e.stderr)
	pass, err := cfg.passphrase(log)
	if err != nil {
		return err
	}
	d, err := openData(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	for i, ent := range entities {
		k, err := storedKey(ent, pass, *primary && i == 0)
		if err != nil {
			return err
		}
		if err := d.AddTeamKey(ctx, k); err != nil {
			return fmt.Errorf("store key %s: %w", k.Fingerprint, err)
		}
		fmt.Fprintf(e.stdout, "imported %s %s\n", k.Fingerprint, k.UserID)
	}
	return nil
}
