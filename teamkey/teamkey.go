// Package teamkey is the team's OpenPGP keyring as a service: it loads the
// team's keys from the store and unlocks them, generates the first one,
// imports, rotates, retires and publishes keys (ops.go), and is the one
// place that uses the unlocked keys: decrypting incoming mail (through
// pgp.TeamKeys), signing outgoing mail, clear-signing security.txt, and
// the public key the site publishes.
//
// Keys are stored locked (triage.TeamKey) under the key passphrase. A
// running Ring reloads them whenever the keyring generation in the store
// moves, which every change to the team keys does (db migration 0005): so
// `secinbox key rotate`, run while the server is up, is published and
// decrypts from the next request or message on, without a restart.
//
// go-crypto caches signature verification results inside key objects
// without locking. The Ring's unlocked entities are used under its lock
// (mu) only, by its own methods; intake never touches them: pgp.TeamKeys
// works out the decryption keys once, when a generation is loaded, and
// hands out copies of the public keys. So the lock is held for one
// signature at a time, never for the reading of a message.
package teamkey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// Store is what the keyring needs from the database. db.DB implements it.
type Store interface {
	// TeamKeys returns every stored team key, primary first.
	TeamKeys(ctx context.Context) ([]*triage.TeamKey, error)
	// TeamKeyringGeneration returns a number that changes whenever the
	// team keys do.
	TeamKeyringGeneration(ctx context.Context) (int64, error)
	// AddTeamKey stores k (making it the only primary when k.Primary),
	// with the audit events, in one transaction.
	AddTeamKey(ctx context.Context, k *triage.TeamKey, audit ...*triage.AuditEvent) error
	// SetPrimaryTeamKey makes the key fpr the primary one.
	SetPrimaryTeamKey(ctx context.Context, fpr string, audit ...*triage.AuditEvent) error
	// RetireTeamKey stops the key fpr from decrypting, from at on.
	RetireTeamKey(ctx context.Context, fpr string, at time.Time, audit ...*triage.AuditEvent) error
	// AddAudit appends ev to the audit log.
	AddAudit(ctx context.Context, ev *triage.AuditEvent) error
}

// Published is the primary public key as the public endpoints serve it.
type Published struct {
	Armored     []byte // "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	Binary      []byte // for WKD
	Fingerprint string
	Expires     time.Time // when researchers stop being able to encrypt to it; zero: never
}

// Config is a Ring's configuration, complete at Open.
type Config struct {
	Store Store
	// Passphrase unlocks the stored keys. The Ring keeps it for its
	// life, as it keeps the unlocked keys: a key added while it runs
	// must be unlocked with it.
	Passphrase []byte
	// Domain is the mail domain: the first key, generated when the
	// store holds none, is for "Security Team <security@Domain>".
	Domain string
	// Lifetime is the first key's lifetime (0: it does not expire).
	Lifetime time.Duration
	Logger   *slog.Logger
	Now      func() time.Time // nil: time.Now
}

// generation is one generation of the keyring, unlocked for use.
type generation struct {
	number    int64
	primary   *openpgp.Entity    // guarded by Ring.mu
	all       openpgp.EntityList // the keys in use (not retired), primary first; guarded by Ring.mu
	decrypt   *pgp.TeamKeys      // all, as intake decrypts with them: no lock needed
	published Published
}

// errUnusable marks a load failure that retrying will not cure (a key
// the passphrase does not unlock, no key in use), as opposed to a busy
// database.
var errUnusable = errors.New("team keyring unusable")

// Ring is the running server's team keyring. It is safe for concurrent
// use.
type Ring struct {
	cfg Config
	cur atomic.Pointer[generation]

	// mu guards the unlocked entities (go-crypto writes caches into
	// them) and reloads.
	mu       sync.Mutex
	failed   int64                      // a generation that could not be loaded: not retried
	unlocked map[string]*openpgp.Entity // by fingerprint: unlocking costs a slow S2K
}

// Open unlocks the team's keys, generating the first one when the store
// holds none. A key the passphrase does not unlock is an error.
func Open(ctx context.Context, cfg Config) (*Ring, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	stored, err := cfg.Store.TeamKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		k, err := GenerateFirst(ctx, cfg.Store, cfg.Passphrase, cfg.Domain, cfg.Lifetime, cfg.Now())
		if err != nil {
			return nil, err
		}
		cfg.Logger.Info("generated the team key", "fingerprint", k.Fingerprint, "uid", k.UserID, "expires", k.ExpiresAt)
	}
	r := &Ring{cfg: cfg, unlocked: map[string]*openpgp.Entity{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	g, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	r.cur.Store(g)
	logExpiry(cfg.Logger, g.published, cfg.Now())
	return r, nil
}

// load reads and unlocks the keys in use. r.mu must be held.
func (r *Ring) load(ctx context.Context) (*generation, error) {
	// The generation first: keys read after it are at least that new, so
	// a change in between only costs one more reload.
	number, err := r.cfg.Store.TeamKeyringGeneration(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := r.cfg.Store.TeamKeys(ctx)
	if err != nil {
		return nil, err
	}
	g := &generation{number: number}
	for _, k := range stored { // primary first
		if !k.RetiredAt.IsZero() {
			continue
		}
		e, ok := r.unlocked[k.Fingerprint]
		if !ok {
			es, err := pgp.ReadSecretKeys(k.ArmoredSecret, r.cfg.Passphrase)
			if err == nil && len(es) != 1 {
				err = fmt.Errorf("%d keys stored as one", len(es))
			}
			if err != nil {
				return nil, fmt.Errorf("%w: unlock team key %s (is the key passphrase right?): %w", errUnusable, k.Fingerprint, err)
			}
			e = es[0]
			r.unlocked[k.Fingerprint] = e
		}
		g.all = append(g.all, e)
	}
	if len(g.all) == 0 {
		return nil, fmt.Errorf("%w: no team key in use: import one with 'secinbox key import'", errUnusable)
	}
	g.primary = g.all[0]
	g.decrypt = pgp.NewTeamKeys(g.all)
	armored, err := pgp.ArmorPublicKey(g.primary)
	if err != nil {
		return nil, err
	}
	binary, err := pgp.PublicKeyBytes(g.primary)
	if err != nil {
		return nil, err
	}
	g.published = Published{Armored: armored, Binary: binary, Fingerprint: pgp.Fingerprint(g.primary),
		Expires: EncryptUntil(g.primary, r.cfg.Now())}
	return g, nil
}

// current returns the keyring, reloaded first if the stored keys changed
// since it was loaded. The check is one read of one row. If the reload
// fails, the keys loaded before stay in use and the failure is logged.
func (r *Ring) current(ctx context.Context) *generation {
	cur := r.cur.Load()
	number, err := r.cfg.Store.TeamKeyringGeneration(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.cfg.Logger.Warn("team keyring: reading its generation", "err", err)
		}
		return cur
	}
	if number == cur.number {
		return cur
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur = r.cur.Load(); number == cur.number || number == r.failed {
		return cur
	}
	next, err := r.load(ctx)
	if err != nil {
		if errors.Is(err, errUnusable) {
			r.failed = number
			r.cfg.Logger.Error("team keyring changed but cannot be used; still using the keys loaded before", "generation", number, "err", err)
		} else if ctx.Err() == nil {
			r.cfg.Logger.Warn("team keyring changed; reloading failed, will retry", "generation", number, "err", err)
		}
		return cur
	}
	r.cur.Store(next)
	r.cfg.Logger.Info("team keyring reloaded", "generation", next.number, "primary", next.published.Fingerprint, "keys", len(next.all))
	if next.published.Fingerprint != cur.published.Fingerprint {
		r.cfg.Logger.Info("team primary key changed: publishing the new key", "old", cur.published.Fingerprint, "new", next.published.Fingerprint)
		logExpiry(r.cfg.Logger, next.published, r.cfg.Now())
	}
	return next
}

// Decryption returns the keys in use as intake decrypts with them (a
// pgp.KeyRing needing no lock): the processor's key source.
func (r *Ring) Decryption() *pgp.TeamKeys {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.current(ctx).decrypt
}

// Published returns the primary public key, as published.
func (r *Ring) Published(ctx context.Context) Published {
	return r.current(ctx).published
}

// ClearSign returns text signed by the primary key (pgp.ClearSign):
// security.txt.
func (r *Ring) ClearSign(ctx context.Context, text []byte) ([]byte, error) {
	g := r.current(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	return pgp.ClearSign(text, g.primary, r.cfg.Now())
}

// DetachSign returns a detached signature of data by the primary key
// (pgp.DetachSign): a published CSAF document's .asc.
func (r *Ring) DetachSign(ctx context.Context, data []byte) ([]byte, error) {
	g := r.current(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	return pgp.DetachSign(data, g.primary, r.cfg.Now())
}

// ComposeMail returns m signed by the primary key and encrypted to
// recipients when there are any (pgp.ComposeMail): the outbox's signer.
func (r *Ring) ComposeMail(m pgp.OutgoingMail, recipients openpgp.EntityList, now time.Time) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g := r.current(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	return pgp.ComposeMail(m, g.primary, recipients, now)
}

// WatchExpiry logs the primary key's expiry daily until ctx ends (Open
// did at start): a warning from triage.KeyExpiryWarning before, an error
// once expired.
func (r *Ring) WatchExpiry(ctx context.Context) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			logExpiry(r.cfg.Logger, r.current(ctx).published, r.cfg.Now())
		}
	}
}

// logExpiry logs the primary key's expiry if it is near or past.
func logExpiry(log *slog.Logger, k Published, now time.Time) {
	switch triage.KeyExpiryAt(k.Expires, now) {
	case triage.KeyExpired:
		log.Error("the team's primary key has expired: researchers cannot encrypt to it; run 'secinbox key rotate'",
			"fingerprint", k.Fingerprint, "expired", k.Expires)
	case triage.KeyExpiringSoon:
		log.Warn("the team's primary key expires soon: run 'secinbox key rotate' so researchers can fetch the new key in time",
			"fingerprint", k.Fingerprint, "expires", k.Expires, "days_left", int(k.Expires.Sub(now).Hours()/24))
	}
}
