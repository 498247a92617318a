package pgp

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// GenerateKey makes the team key: OpenPGP v4 (not v6: GnuPG 2.2 must
// encrypt to it), an Ed25519 (EdDSA legacy) primary key for signing and
// certifying, a Curve25519 ECDH encryption subkey, AES-256 first among
// the preferred symmetric algorithms, SHA-512 then SHA-256 as preferred
// hashes, no compression preferred, user ID "name <email>", created at
// now (to the second) and expiring after lifetime (0: never).
func GenerateKey(name, email string, now time.Time, lifetime time.Duration) (*openpgp.Entity, error) {
	cfg, err := teamKeyConfig(KeyEd25519, now, lifetime)
	if err != nil {
		return nil, err
	}
	e, err := openpgp.NewEntity(name, "", email, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgp: generating key: %w", err)
	}
	return e, nil
}

// lockCount is the S2K iteration count for LockKey: the largest that
// RFC 4880 section 3.7.1.3 can encode, as GnuPG picks for slow machines.
const lockCount = 65011712

// LockKey serializes e's transferable secret key (RFC 4880 section 11.2),
// armored, with every secret (sub)key encrypted under passphrase: S2K
// iterated and salted SHA-256, AES-256, SHA-1 checksum (S2K usage 254),
// which GnuPG 2.2 reads. e itself is left unlocked: the work is done on
// a copy. It fails with ErrNotSecret if e has no unlocked secret key.
func LockKey(e *openpgp.Entity, passphrase []byte) ([]byte, error) {
	if e == nil || e.PrivateKey == nil || e.PrivateKey.Dummy() {
		return nil, fmt.Errorf("pgp: locking key: %w", ErrNotSecret)
	}
	if e.PrivateKey.Encrypted {
		return nil, errors.New("pgp: locking key: key is locked already")
	}
	if len(passphrase) == 0 {
		return nil, errors.New("pgp: locking key: empty passphrase")
	}
	var plain bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&plain, nil); err != nil {
		return nil, fmt.Errorf("pgp: locking key: serializing: %w", err)
	}
	c, err := openpgp.ReadEntity(packet.NewReader(&plain))
	if err != nil {
		return nil, fmt.Errorf("pgp: locking key: copying: %w", err)
	}
	cfg := &packet.Config{
		DefaultCipher: packet.CipherAES256,
		S2KConfig:     &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: crypto.SHA256, S2KCount: lockCount},
	}
	if err := c.EncryptPrivateKeys(passphrase, cfg); err != nil {
		return nil, fmt.Errorf("pgp: locking key: %w", err)
	}
	var out bytes.Buffer
	w, err := armor.Encode(&out, openpgp.PrivateKeyType, nil)
	if err != nil {
		return nil, fmt.Errorf("pgp: locking key: %w", err)
	}
	if err := c.SerializePrivateWithoutSigning(w, nil); err != nil {
		return nil, fmt.Errorf("pgp: locking key: serializing: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("pgp: locking key: %w", err)
	}
	return out.Bytes(), nil
}

// ReadSecretKeys parses armored or binary secret keys (one or several,
// as from `gpg --export-secret-keys --armor`) and unlocks every secret
// (sub)key with passphrase. It fails, wrapping ErrNotSecret, if an
// entity has no secret key material, and wrapping ErrBadPassphrase if
// one cannot be unlocked.
func ReadSecretKeys(data []byte, passphrase []byte) (openpgp.EntityList, error) {
	el, err := readKeys(data)
	if err != nil {
		return nil, err
	}
	for _, e := range el {
		if !hasSecret(e) {
			return nil, fmt.Errorf("pgp: key %s: %w", Fingerprint(e), ErrNotSecret)
		}
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, fmt.Errorf("pgp: key %s: %w: %w", Fingerprint(e), ErrBadPassphrase, err)
		}
	}
	return el, nil
}

// ReadPublicKeys parses armored or binary keys (one or several), for
// ParseMessage's verifyKeys. Secret parts, if any, are left as they are.
func ReadPublicKeys(data []byte) (openpgp.EntityList, error) {
	return readKeys(data)
}

// readKeys reads data as binary keys, or as one or several armored
// blocks one after the other (anything between them ignored), as
// `gpg --export-secret-keys --armor A B` or `cat a.asc b.asc` make.
//
// Each armored block is decoded on its own: go-crypto's armor.Decode may
// read past the end of its block, so a second Decode on the same reader
// can miss the next block's first line and silently drop that key.
func readKeys(data []byte) (el openpgp.EntityList, err error) {
	defer func() {
		if r := recover(); r != nil {
			el, err = nil, fmt.Errorf("pgp: reading keys: %w: %v", ErrPanic, r)
		}
	}()
	begin := []byte("-----BEGIN PGP ")
	var starts []int
	for i := 0; ; {
		j := bytes.Index(data[i:], begin)
		if j < 0 {
			break
		}
		// Not only at the start of a line: go-crypto ends its armor
		// without a newline, so `cat a.asc b.asc` joins END and BEGIN.
		starts = append(starts, i+j)
		i += j + len(begin)
	}
	if len(starts) == 0 {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("pgp: reading keys: %w: %w", ErrMalformed, err)
		}
	}
	for n, at := range starts {
		end := len(data)
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		block, err := armor.Decode(bytes.NewReader(data[at:end]))
		if err != nil {
			return nil, fmt.Errorf("pgp: reading armored keys: %w: %w", ErrMalformed, err)
		}
		if block.Type != openpgp.PrivateKeyType && block.Type != openpgp.PublicKeyType {
			return nil, fmt.Errorf("pgp: armor type %q is not a key: %w", block.Type, ErrMalformed)
		}
		l, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, fmt.Errorf("pgp: reading keys: %w: %w", ErrMalformed, err)
		}
		el = append(el, l...)
	}
	if len(el) == 0 {
		return nil, fmt.Errorf("pgp: no keys found: %w", ErrMalformed)
	}
	return el, nil
}

// hasSecret reports whether e holds any real (not GNU dummy) secret key.
func hasSecret(e *openpgp.Entity) bool {
	if e.PrivateKey != nil && !e.PrivateKey.Dummy() {
		return true
	}
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil && !s.PrivateKey.Dummy() {
			return true
		}
	}
	return false
}

// ArmorPublicKey returns e's transferable public key, armored
// ("-----BEGIN PGP PUBLIC KEY BLOCK-----"), for security.txt and download.
func ArmorPublicKey(e *openpgp.Entity) ([]byte, error) {
	var out bytes.Buffer
	w, err := armor.Encode(&out, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, fmt.Errorf("pgp: armoring public key: %w", err)
	}
	if err := e.Serialize(w); err != nil {
		return nil, fmt.Errorf("pgp: serializing public key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("pgp: armoring public key: %w", err)
	}
	return out.Bytes(), nil
}

// PublicKeyBytes returns e's binary transferable public key (RFC 4880
// section 11.1), as a Web Key Directory serves it.
func PublicKeyBytes(e *openpgp.Entity) ([]byte, error) {
	var out bytes.Buffer
	if err := e.Serialize(&out); err != nil {
		return nil, fmt.Errorf("pgp: serializing public key: %w", err)
	}
	return out.Bytes(), nil
}

// Fingerprint is the upper-case hex fingerprint of e's primary key.
func Fingerprint(e *openpgp.Entity) string {
	if e == nil || e.PrimaryKey == nil {
		return ""
	}
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}

// PrimaryUserID is e's primary user ID ("Name <email>"): the one whose
// self-signature says primary, else the newest; "" if none is valid.
func PrimaryUserID(e *openpgp.Entity) string {
	return primaryUserID(e)
}

func primaryUserID(e *openpgp.Entity) string {
	if _, id := e.PrimaryIdentity(time.Time{}, nil); id != nil {
		return id.Name
	}
	names := make([]string, 0, len(e.Identities))
	for n := range e.Identities {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// KeyExpiry is when e's primary key expires (its creation time plus the
// key lifetime of its primary self-signature); zero if it does not.
func KeyExpiry(e *openpgp.Entity) time.Time {
	return keyExpiry(e)
}

func keyExpiry(e *openpgp.Entity) time.Time {
	sig, err := e.PrimarySelfSignature(time.Time{}, nil)
	if err != nil || sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
		return time.Time{}
	}
	return e.PrimaryKey.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
}

// Encrypt returns an armored OpenPGP message of plaintext for
// recipients, signed by signer when non-nil (which must be unlocked),
// with keys and signatures checked for validity at now. It uses the
// recipients' preferences (AES-256 for our own keys) and, as every
// message go-crypto writes, MDC or AEAD integrity protection.
func Encrypt(plaintext []byte, recipients openpgp.EntityList, signer *openpgp.Entity, now time.Time) ([]byte, error) {
	return encrypt(plaintext, recipients, signer, now)
}

func encrypt(plaintext []byte, recipients openpgp.EntityList, signer *openpgp.Entity, now time.Time) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("pgp: encrypting: no recipients")
	}
	cfg := &packet.Config{
		DefaultCipher:          packet.CipherAES256,
		DefaultCompressionAlgo: packet.CompressionNone,
		Time:                   func() time.Time { return now },
	}
	var signers []*openpgp.Entity
	if signer != nil {
		signers = []*openpgp.Entity{signer}
	}
	var out bytes.Buffer
	aw, err := armor.Encode(&out, openpgp.MessageType, nil)
	if err != nil {
		return nil, fmt.Errorf("pgp: encrypting: %w", err)
	}
	w, err := openpgp.Encrypt(aw, recipients, nil, signers, nil, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgp: encrypting: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("pgp: encrypting: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("pgp: encrypting: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("pgp: encrypting: %w", err)
	}
	return out.Bytes(), nil
}
