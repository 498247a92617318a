package teamkey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// Key operations: what `secinbox key import|rotate|set-primary|retire|
// export` and the first `secinbox serve` do to the stored keyring. Each
// is audited (triage.Audit* with the actor given), in the transaction
// that makes the change. A running Ring picks the change up by itself.

// GenerateFirst generates the team's first key ("Security Team
// <security@domain>", pgp.GenerateKey) and stores it, locked under pass,
// as the primary key (audited as the system's doing).
func GenerateFirst(ctx context.Context, store Store, pass []byte, domain string, lifetime time.Duration, now time.Time) (*triage.TeamKey, error) {
	e, err := pgp.GenerateKey("Security Team", "security@"+domain, now, lifetime)
	if err != nil {
		return nil, fmt.Errorf("generate team key: %w", err)
	}
	k, err := Locked(e, pass, true, now)
	if err != nil {
		return nil, err
	}
	ev := Audit(triage.ActorSystem, triage.AuditKeyGenerate, k.Fingerprint, map[string]any{
		"algorithm": pgp.Algorithm(e), "user_id": k.UserID, "expires": k.ExpiresAt})
	if err := store.AddTeamKey(ctx, k, ev); err != nil {
		return nil, fmt.Errorf("store team key: %w", err)
	}
	return k, nil
}

// Locked returns e as stored: locked under pass (pgp.LockKey), with its
// public key and what `key list` shows.
func Locked(e *openpgp.Entity, pass []byte, primary bool, now time.Time) (*triage.TeamKey, error) {
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
		ExpiresAt:     EncryptUntil(e, now),
		Primary:       primary,
	}, nil
}

// EncryptUntil is when researchers stop being able to encrypt to e (zero:
// never); for a key nothing of which can be encrypted to at now, when
// that became so, or now if that is not known (a revoked key).
func EncryptUntil(e *openpgp.Entity, now time.Time) time.Time {
	exp, ok := pgp.EncryptionExpiry(e, now)
	if !ok && exp.IsZero() {
		return now.UTC().Truncate(time.Second)
	}
	return exp.UTC()
}

// Audit is the audit event of a key operation by actor (triage.ActorCLI
// or ActorSystem) on key fpr. detail is a few plain facts, never a secret;
// the operating-system user running the command is added to it.
func Audit(actor, action, fpr string, detail map[string]any) *triage.AuditEvent {
	if detail == nil {
		detail = map[string]any{}
	}
	if u, err := user.Current(); err == nil {
		detail["os_user"] = u.Username
	}
	b, _ := json.Marshal(detail)
	return &triage.AuditEvent{ActorEmail: actor, Action: action, Target: "key:" + fpr, Detail: string(b)}
}

// Find returns the stored key id names: its fingerprint, or its key ID
// (the last 16 hex digits), with or without spaces and "0x".
func Find(keys []*triage.TeamKey, id string) (*triage.TeamKey, error) {
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

// Unlock unlocks a stored key with the key passphrase, which proves the
// passphrase is the one the server uses before anything is stored under
// it.
func Unlock(k *triage.TeamKey, pass []byte) (*openpgp.Entity, error) {
	es, err := pgp.ReadSecretKeys(k.ArmoredSecret, pass)
	if errors.Is(err, pgp.ErrBadPassphrase) {
		return nil, fmt.Errorf("the key passphrase (SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE) does not unlock team key %s: use the server's", k.Fingerprint)
	}
	if err != nil {
		return nil, fmt.Errorf("team key %s: %w", k.Fingerprint, err)
	}
	return es[0], nil
}

// ChooseImport picks the keys to import from a file's keys: the only
// secret key, the one id names, or with all every secret key. It explains
// what to do when the file holds no secret key or several.
func ChooseImport(keys openpgp.EntityList, file, id string, all bool) (openpgp.EntityList, error) {
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

// Import stores chosen (unlocked secret keys, ChooseImport's), locked
// under pass, the first as the primary key when primary is true or the
// keyring is empty. The passphrase must unlock the keys stored already;
// a key that cannot serve, or that is stored already, refuses the whole
// import. It returns the keys as stored.
func Import(ctx context.Context, store Store, pass []byte, chosen openpgp.EntityList, primary bool, now time.Time) ([]*triage.TeamKey, error) {
	stored, err := store.TeamKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) > 0 {
		if _, err := Unlock(stored[0], pass); err != nil {
			return nil, err
		}
	}
	// The first key of an empty keyring is published whatever the flag says.
	makePrimary := primary || len(stored) == 0
	for i, ent := range chosen {
		if err := checkImportable(ent, makePrimary && i == 0, now); err != nil {
			return nil, fmt.Errorf("%w; nothing was imported", err)
		}
		for _, k := range stored {
			if k.Fingerprint == pgp.Fingerprint(ent) {
				return nil, fmt.Errorf("key %s is in the team keyring already (see 'secinbox key list'; 'secinbox key set-primary' publishes it); nothing was imported", k.Fingerprint)
			}
		}
	}
	var out []*triage.TeamKey
	for i, ent := range chosen {
		isPrimary := makePrimary && i == 0
		k, err := Locked(ent, pass, isPrimary, now)
		if err != nil {
			return out, err
		}
		ev := Audit(triage.ActorCLI, triage.AuditKeyImport, k.Fingerprint, map[string]any{
			"algorithm": pgp.Algorithm(ent), "user_id": k.UserID, "primary": isPrimary, "expires": k.ExpiresAt})
		if err := store.AddTeamKey(ctx, k, ev); err != nil {
			return out, fmt.Errorf("store key %s: %w", k.Fingerprint, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// Rotation is what Rotate did.
type Rotation struct {
	New, Previous *triage.TeamKey
	Algorithm     string
	// Certified: the previous key certified the new one's user IDs.
	Certified bool
}

// Rotate makes a new primary key (pgp.GenerateSuccessor: the current
// primary's user IDs, algo, lifetime) and stores it locked under pass.
// The previous primary keeps decrypting.
func Rotate(ctx context.Context, store Store, pass []byte, algo pgp.KeyAlgorithm, lifetime time.Duration, now time.Time) (*Rotation, error) {
	keys, err := store.TeamKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || !keys[0].Primary {
		return nil, errors.New("no primary team key to rotate: run 'secinbox serve' once to generate one, or 'secinbox key import'")
	}
	old, err := Unlock(keys[0], pass)
	if err != nil {
		return nil, err
	}
	next, certified, err := pgp.GenerateSuccessor(old, algo, now, lifetime)
	if err != nil {
		return nil, err
	}
	k, err := Locked(next, pass, true, now)
	if err != nil {
		return nil, err
	}
	ev := Audit(triage.ActorCLI, triage.AuditKeyRotate, k.Fingerprint, map[string]any{
		"previous": keys[0].Fingerprint, "algorithm": pgp.Algorithm(next), "user_id": k.UserID,
		"expires": k.ExpiresAt, "certified_by_previous": certified})
	if err := store.AddTeamKey(ctx, k, ev); err != nil {
		return nil, fmt.Errorf("store the new key: %w", err)
	}
	return &Rotation{New: k, Previous: keys[0], Algorithm: pgp.Algorithm(next), Certified: certified}, nil
}

// SetPrimary publishes the stored key id names (Find), which pass must
// unlock and researchers must be able to encrypt to at now. It returns
// the key and the previous primary's fingerprint.
func SetPrimary(ctx context.Context, store Store, pass []byte, id string, now time.Time) (*triage.TeamKey, string, error) {
	keys, err := store.TeamKeys(ctx)
	if err != nil {
		return nil, "", err
	}
	k, err := Find(keys, id)
	if err != nil {
		return nil, "", err
	}
	ent, err := Unlock(k, pass)
	if err != nil {
		return nil, "", err
	}
	if err := checkImportable(ent, true, now); err != nil {
		return nil, "", err
	}
	previous := keys[0].Fingerprint
	ev := Audit(triage.ActorCLI, triage.AuditKeySetPrimary, k.Fingerprint, map[string]any{"previous": previous})
	if err := store.SetPrimaryTeamKey(ctx, k.Fingerprint, ev); err != nil {
		return nil, "", err
	}
	return k, previous, nil
}

// Retire stops the stored key id names from decrypting, from now on; it
// stays stored.
func Retire(ctx context.Context, store Store, id string, now time.Time) (*triage.TeamKey, error) {
	keys, err := store.TeamKeys(ctx)
	if err != nil {
		return nil, err
	}
	k, err := Find(keys, id)
	if err != nil {
		return nil, err
	}
	ev := Audit(triage.ActorCLI, triage.AuditKeyRetire, k.Fingerprint, nil)
	if err := store.RetireTeamKey(ctx, k.Fingerprint, now, ev); err != nil {
		return nil, err
	}
	return k, nil
}

// Export returns the public keys (secret: the secret keys, still locked
// under the key passphrase, audited) of the primary key, of the key id
// names, or with all of every key (primary first, retired ones too),
// one armored block after the other, and their fingerprints.
func Export(ctx context.Context, store Store, id string, all, secret bool) ([]byte, []string, error) {
	keys, err := store.TeamKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(keys) == 0 {
		return nil, nil, errors.New("no team key yet: run 'secinbox serve' once to generate one, or 'secinbox key import'")
	}
	switch {
	case id != "":
		k, err := Find(keys, id)
		if err != nil {
			return nil, nil, err
		}
		keys = []*triage.TeamKey{k}
	case !all:
		keys = keys[:1] // primary first
	}
	var out bytes.Buffer
	fprs := make([]string, 0, len(keys))
	for _, k := range keys {
		block := k.ArmoredPublic
		if secret {
			block = k.ArmoredSecret // locked: LockKey is the only way in
		}
		out.Write(block)
		if !bytes.HasSuffix(block, []byte("\n")) {
			out.WriteByte('\n') // the next block's BEGIN line must start a line
		}
		fprs = append(fprs, k.Fingerprint)
	}
	if secret {
		ev := Audit(triage.ActorCLI, triage.AuditKeyExport, strings.Join(fprs, ","), map[string]any{"secret": true})
		if err := store.AddAudit(ctx, ev); err != nil {
			return nil, nil, err
		}
	}
	return out.Bytes(), fprs, nil
}
