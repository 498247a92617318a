package pgp

import (
	"bytes"
	"crypto"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Key resolution. ParseMessage asks one KeyRing (go-crypto's interface)
// for every key it needs, by key ID, while it reads the message:
//
//   - KeysById(id) for the secret keys that may decrypt a session key
//     encrypted to key ID id (0: an anonymous recipient, any key). Only
//     keys whose secret part is unlocked are tried; the ring must return
//     only keys valid for decryption, as TeamKeys does.
//   - EntitiesById(id) for the public keys that may have made a
//     signature with key ID id.
//
// The caller's ring is typically a KeyChain of the team's keys (TeamKeys)
// and the store's researcher keys looked up by key ID; ParseMessage adds
// the keys the message itself carries (mailkeys.go) behind them.
//
// go-crypto caches signature verification results inside key objects
// without locking. So an entity a ring returns must not be in use by
// anyone else during the call: TeamKeys hands out a fresh copy each
// time, and a per-message lookup parses its own. Nothing in ParseMessage
// takes a lock.

// KeyChain is a KeyRing that asks each of its rings in turn and returns
// what they all found, in order (the first entity found makes a
// signature's result). Nil rings are skipped.
type KeyChain []openpgp.KeyRing

// KeysById implements openpgp.KeyRing.
func (kc KeyChain) KeysById(id uint64) []openpgp.Key {
	var out []openpgp.Key
	for _, r := range kc {
		if r != nil {
			out = append(out, r.KeysById(id)...)
		}
	}
	return out
}

// EntitiesById implements openpgp.KeyRing.
func (kc KeyChain) EntitiesById(id uint64) []*openpgp.Entity {
	var out []*openpgp.Entity
	for _, r := range kc {
		if r != nil {
			out = append(out, r.EntitiesById(id)...)
		}
	}
	return out
}

// TeamKeys are the team's unlocked secret keys as ParseMessage uses them,
// safe for any number of concurrent parses without a lock: the keys that
// may decrypt are worked out once, in NewTeamKeys (go-crypto's
// DecryptionKeys, at no particular time, as its ReadMessage does), and
// only their secret key material is used afterwards, which go-crypto
// never writes to. A signature made by a team key is checked against a
// fresh copy of its public key.
type TeamKeys struct {
	decrypt map[uint64][]openpgp.Key // by key ID; also under 0: all of them, in order
	ids     map[uint64]bool          // every key ID of the keys, primary and subkeys
	public  []byte                   // the keys' public parts, serialized
}

// NewTeamKeys returns el (unlocked secret keys) for ParseMessage. The
// entities of el are read here and never again (but for the secret key
// material go-crypto only reads); while it runs, they must not be in use
// elsewhere. A key whose public part cannot be serialized still
// decrypts, but verifies nothing.
func NewTeamKeys(el openpgp.EntityList) *TeamKeys {
	t := &TeamKeys{decrypt: map[uint64][]openpgp.Key{}, ids: map[uint64]bool{}}
	cfg := readConfig(time.Time{})
	var pub bytes.Buffer
	for _, e := range el {
		if e == nil || e.PrimaryKey == nil {
			continue
		}
		var one bytes.Buffer
		if e.Serialize(&one) == nil {
			pub.Write(one.Bytes())
			t.ids[e.PrimaryKey.KeyId] = true
			for _, s := range e.Subkeys {
				if s.PublicKey != nil {
					t.ids[s.PublicKey.KeyId] = true
				}
			}
		}
		// Only the primary key's public packet of the entity goes along:
		// what the intended-recipient check reads (its fingerprint).
		owner := &openpgp.Entity{PrimaryKey: e.PrimaryKey}
		for _, k := range e.DecryptionKeys(0, time.Time{}, cfg) {
			if k.PrivateKey == nil || k.PrivateKey.Encrypted || k.PrivateKey.Dummy() {
				continue
			}
			k := openpgp.Key{Entity: owner, PublicKey: k.PublicKey, PrivateKey: k.PrivateKey}
			t.decrypt[k.PublicKey.KeyId] = append(t.decrypt[k.PublicKey.KeyId], k)
			t.decrypt[0] = append(t.decrypt[0], k)
		}
	}
	t.public = pub.Bytes()
	return t
}

// Keys is the KeyRing of the unlocked secret keys secret (as
// NewTeamKeys makes them) and the public keys public, in that order:
// what a program holding its own keys passes to ParseMessage. public's
// entities are handed to go-crypto as they are, so the ring must not be
// shared by concurrent calls when public is not empty.
func Keys(secret, public openpgp.EntityList) openpgp.KeyRing {
	return KeyChain{NewTeamKeys(secret), public}
}

// KeysById implements openpgp.KeyRing: the keys that may decrypt a
// session key for key ID id; all of them for 0.
func (t *TeamKeys) KeysById(id uint64) []openpgp.Key {
	if t == nil {
		return nil
	}
	return t.decrypt[id]
}

// EntitiesById implements openpgp.KeyRing: a fresh copy of the public
// keys having a key with ID id, read from their serialized form.
func (t *TeamKeys) EntitiesById(id uint64) []*openpgp.Entity {
	if t == nil || !t.ids[id] {
		return nil
	}
	el, err := openpgp.ReadKeyRing(bytes.NewReader(t.public))
	if err != nil {
		return nil
	}
	return el.EntitiesById(id)
}

// Len is how many keys may decrypt (primary keys and subkeys).
func (t *TeamKeys) Len() int {
	if t == nil {
		return 0
	}
	return len(t.decrypt[0])
}

// readConfig is the go-crypto configuration for reading at now, with
// its algorithm policy opened up (see parser.config) and no
// decompression limit of its own.
func readConfig(now time.Time) *packet.Config {
	return &packet.Config{
		Time:                        func() time.Time { return now },
		RejectPublicKeyAlgorithms:   map[packet.PublicKeyAlgorithm]bool{},
		RejectHashAlgorithms:        map[crypto.Hash]bool{},
		RejectMessageHashAlgorithms: map[crypto.Hash]bool{},
		RejectCurves:                map[packet.Curve]bool{},
		MinRSABits:                  512,
	}
}

// mailKeyRing is the keys the message being parsed carried so far
// (parser.mailKeys), as a KeyRing: they verify, never decrypt.
type mailKeyRing struct{ p *parser }

func (m mailKeyRing) KeysById(uint64) []openpgp.Key { return nil }

func (m mailKeyRing) EntitiesById(id uint64) []*openpgp.Entity {
	return m.p.mailKeys.EntitiesById(id)
}
