package pgp

import (
	"crypto"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// This file is the team keyring's side of package pgp: what `secinbox key
// import`, `key rotate` and `key list` need beyond GenerateKey, LockKey
// and ReadSecretKeys.

// KeyAlgorithm is a choice of algorithms for a new team key.
type KeyAlgorithm string

const (
	// KeyEd25519 is an Ed25519 (EdDSA legacy, v4) primary key with a
	// Curve25519 ECDH encryption subkey: small, fast, and read by every
	// client researchers use (GnuPG 2.2 and later, RNP, OpenPGP.js,
	// Sequoia). The default.
	KeyEd25519 KeyAlgorithm = "ed25519"
	// KeyRSA3072 is an RSA-3072 primary key with an RSA-3072 encryption
	// subkey, as GnuPG makes them by default: for teams whose researchers
	// use tools too old for Curve25519.
	KeyRSA3072 KeyAlgorithm = "rsa3072"
	// KeyRSA4096 is KeyRSA3072 with 4096-bit keys.
	KeyRSA4096 KeyAlgorithm = "rsa4096"
)

// KeyAlgorithms lists the algorithms GenerateSuccessor accepts.
var KeyAlgorithms = []KeyAlgorithm{KeyEd25519, KeyRSA3072, KeyRSA4096}

// ParseKeyAlgorithm returns the algorithm named s ("ed25519", "rsa3072",
// "rsa4096"), or an error naming the choices.
func ParseKeyAlgorithm(s string) (KeyAlgorithm, error) {
	for _, a := range KeyAlgorithms {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	return "", fmt.Errorf("pgp: unknown key algorithm %q (choose ed25519, rsa3072 or rsa4096)", s)
}

// teamKeyConfig is how every team key is made: v4, AES-256 first among the
// preferred ciphers, SHA-512 then SHA-256 as hashes, no compression
// preferred, with algo's keys (GenerateKey: KeyEd25519).
func teamKeyConfig(algo KeyAlgorithm, now time.Time, lifetime time.Duration) (*packet.Config, error) {
	secs := lifetime / time.Second
	if lifetime < 0 || secs > math.MaxUint32 {
		return nil, fmt.Errorf("pgp: key lifetime %v out of range", lifetime)
	}
	if lifetime > 0 && secs == 0 {
		secs = 1
	}
	cfg := &packet.Config{
		DefaultHash:            crypto.SHA512,
		DefaultCipher:          packet.CipherAES256,
		DefaultCompressionAlgo: packet.CompressionNone,
		KeyLifetimeSecs:        uint32(secs),
		Time:                   func() time.Time { return now },
	}
	switch algo {
	case KeyEd25519:
		cfg.Algorithm, cfg.Curve = packet.PubKeyAlgoEdDSA, packet.Curve25519
	case KeyRSA3072:
		cfg.Algorithm, cfg.RSABits = packet.PubKeyAlgoRSA, 3072
	case KeyRSA4096:
		cfg.Algorithm, cfg.RSABits = packet.PubKeyAlgoRSA, 4096
	default:
		return nil, fmt.Errorf("pgp: unknown key algorithm %q", algo)
	}
	return cfg, nil
}

// GenerateSuccessor returns a new team key to replace prev: it carries
// the user IDs of prev that are valid at now (prev's primary user ID
// first, so it stays primary), is made with algo, created at now and
// expires after lifetime (0: never). The encryption subkey expires with
// the primary key.
//
// When prev's primary secret key is unlocked and may still certify at
// now, every user ID of the new key is also certified by prev, so anyone
// who trusted the old key can check the new one (certified is then
// true). Failing that is not an error: the new key is complete without.
func GenerateSuccessor(prev *openpgp.Entity, algo KeyAlgorithm, now time.Time, lifetime time.Duration) (e *openpgp.Entity, certified bool, err error) {
	cfg, err := teamKeyConfig(algo, now, lifetime)
	if err != nil {
		return nil, false, err
	}
	uids := validUserIDs(prev, now)
	if len(uids) == 0 {
		return nil, false, fmt.Errorf("pgp: key %s has no valid user ID to carry over", Fingerprint(prev))
	}
	e, err = openpgp.NewEntity(uids[0].Name, uids[0].Comment, uids[0].Email, cfg)
	if err != nil {
		return nil, false, fmt.Errorf("pgp: generating key: %w", err)
	}
	for _, u := range uids[1:] {
		if err := e.AddUserId(u.Name, u.Comment, u.Email, cfg); err != nil {
			return nil, false, fmt.Errorf("pgp: generating key: user ID %q: %w", u.Id, err)
		}
	}
	// go-crypto's first subkey carries no lifetime of its own; it is
	// still unusable once the primary key expires (RFC 9580 section 5.2.3.13).
	if prev.PrivateKey != nil && !prev.PrivateKey.Dummy() && !prev.PrivateKey.Encrypted {
		if _, ok := prev.CertificationKey(now, cfg); ok {
			certified = true
			for id := range e.Identities {
				if err := e.SignIdentity(id, prev, cfg); err != nil {
					certified = false
					break
				}
			}
		}
	}
	return e, certified, nil
}

// validUserIDs returns e's user IDs that are valid at now, its primary
// user ID first, then in name order. User IDs whose parts go-crypto could
// not split (no name, comment or email) are skipped.
func validUserIDs(e *openpgp.Entity, now time.Time) []*packet.UserId {
	primary := PrimaryUserID(e)
	var out []*packet.UserId
	for _, id := range e.Identities {
		if id.UserId == nil {
			continue
		}
		if _, err := id.Verify(now, nil); err != nil {
			continue
		}
		if id.UserId.Name == "" && id.UserId.Email == "" && id.UserId.Comment == "" {
			continue
		}
		out = append(out, id.UserId)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Id == primary) != (out[j].Id == primary) {
			return out[i].Id == primary
		}
		return out[i].Id < out[j].Id
	})
	return out
}

// ReadKeyFile parses a key file as people have them: binary, or one or
// several armored blocks (public or secret keys) one after the other,
// with anything between them ignored. Secret parts are kept, locked.
// It fails wrapping ErrMalformed when no key can be read.
func ReadKeyFile(data []byte) (openpgp.EntityList, error) { return readKeys(data) }

// UnlockKey unlocks every secret (sub)key of e with passphrase. It fails
// wrapping ErrNotSecret if e holds no secret key material, and wrapping
// ErrBadPassphrase if the passphrase is wrong.
func UnlockKey(e *openpgp.Entity, passphrase []byte) error {
	if !hasSecret(e) {
		return fmt.Errorf("pgp: key %s: %w", Fingerprint(e), ErrNotSecret)
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		return fmt.Errorf("pgp: key %s: %w: %w", Fingerprint(e), ErrBadPassphrase, err)
	}
	return nil
}

// HasSecret reports whether e holds any real (not GnuPG dummy) secret key.
func HasSecret(e *openpgp.Entity) bool { return hasSecret(e) }

// KeyMatches reports whether id names e: its fingerprint, or its key ID
// (the last 16 hex digits), in any case, with or without "0x" and spaces.
func KeyMatches(e *openpgp.Entity, id string) bool {
	id = strings.ToUpper(strings.ReplaceAll(id, " ", ""))
	id = strings.TrimPrefix(id, "0X")
	fpr := Fingerprint(e)
	if len(id) < 16 || fpr == "" {
		return false
	}
	return id == fpr || (len(id) == 16 && strings.HasSuffix(fpr, id))
}

// Algorithm names e's primary key algorithm for people: "RSA-3072",
// "Ed25519", "ECDSA P-256"...
func Algorithm(e *openpgp.Entity) string {
	if e == nil || e.PrimaryKey == nil {
		return ""
	}
	pk := e.PrimaryKey
	bits, _ := pk.BitLength()
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly, packet.PubKeyAlgoRSAEncryptOnly:
		return fmt.Sprintf("RSA-%d", bits)
	case packet.PubKeyAlgoEdDSA, packet.PubKeyAlgoEd25519:
		return "Ed25519"
	case packet.PubKeyAlgoEd448:
		return "Ed448"
	case packet.PubKeyAlgoECDSA:
		if c, err := pk.Curve(); err == nil {
			return "ECDSA " + string(c)
		}
		return "ECDSA"
	case packet.PubKeyAlgoDSA:
		return fmt.Sprintf("DSA-%d", bits)
	}
	return fmt.Sprintf("algorithm %d", pk.PubKeyAlgo)
}

// EncryptionExpiry is when researchers stop being able to encrypt to e:
// the earlier of its primary key's expiry and that of the encryption
// subkey their tools pick at now (the newest valid one). It is zero when
// neither expires. When nothing of e can be encrypted to at now (expired,
// revoked, or no encryption key at all) ok is false and the time, if not
// zero, is when that became so.
func EncryptionExpiry(e *openpgp.Entity, now time.Time) (expires time.Time, ok bool) {
	expires = keyExpiry(e)
	k, ok := e.EncryptionKey(now, nil)
	if !ok {
		if expires.IsZero() || expires.After(now) {
			// Usable by its primary key's dates but for no subkey: say
			// when its last encryption subkey expired, if one did.
			expires = time.Time{}
			for _, s := range e.Subkeys {
				sig, err := s.LatestValidBindingSignature(time.Time{}, nil)
				if err != nil || !sig.FlagsValid || !(sig.FlagEncryptCommunications || sig.FlagEncryptStorage) {
					continue
				}
				if t := subkeyExpiry(s.PublicKey, sig); !t.IsZero() && !t.After(now) && t.After(expires) {
					expires = t
				}
			}
		}
		return expires, false
	}
	if k.SelfSignature != nil && k.PublicKey != e.PrimaryKey {
		if t := subkeyExpiry(k.PublicKey, k.SelfSignature); !t.IsZero() && (expires.IsZero() || t.Before(expires)) {
			expires = t
		}
	}
	return expires, true
}

// subkeyExpiry is when a subkey bound by sig expires: its creation time
// plus the key lifetime, or the binding signature's own expiry if
// earlier; zero if neither is set.
func subkeyExpiry(pk *packet.PublicKey, sig *packet.Signature) time.Time {
	var t time.Time
	if sig.KeyLifetimeSecs != nil && *sig.KeyLifetimeSecs != 0 {
		t = pk.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
	}
	if sig.SigLifetimeSecs != nil && *sig.SigLifetimeSecs != 0 {
		if s := sig.CreationTime.Add(time.Duration(*sig.SigLifetimeSecs) * time.Second); t.IsZero() || s.Before(t) {
			t = s
		}
	}
	return t
}
