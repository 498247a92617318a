package pgp

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

var keyringNow = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

func mustKey(t *testing.T, name, email string, created time.Time, lifetime time.Duration) *openpgp.Entity {
	t.Helper()
	e, err := GenerateKey(name, email, created, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReadKeyFile: several armored blocks one after the other, as
// `key export --all` and `cat a.asc b.asc` make them, are all read, with
// or without text between them and with CRLF line ends; binary too.
func TestReadKeyFile(t *testing.T) {
	t.Parallel()
	var keys []*openpgp.Entity
	var armored [][]byte
	for _, n := range []string{"a", "b", "c"} {
		e := mustKey(t, "Team "+n, n+"@example.com", keyringNow, 0)
		b, err := ArmorPublicKey(e)
		if err != nil {
			t.Fatal(err)
		}
		keys, armored = append(keys, e), append(armored, b)
	}
	pub := armored[0]
	secret, err := LockKey(keys[2], []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := PublicKeyBytes(keys[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want []*openpgp.Entity
	}{
		{"Adjacent", bytes.Join(armored, []byte("\n")), keys},
		{"TextBetween", bytes.Join(append([][]byte{[]byte("keys of the team:\n")}, armored...), []byte("\nnext one:\n")), keys},
		{"CRLF", bytes.ReplaceAll(bytes.Join(armored, []byte("\n")), []byte("\n"), []byte("\r\n")), keys},
		{"PublicAndSecret", append(append(pub, '\n'), secret...), []*openpgp.Entity{keys[0], keys[2]}},
		{"Binary", bin, keys[1:2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadKeyFile(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("read %d keys, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if Fingerprint(got[i]) != Fingerprint(tc.want[i]) {
					t.Errorf("key %d: %s, want %s", i, Fingerprint(got[i]), Fingerprint(tc.want[i]))
				}
			}
		})
	}
	// go-crypto's armor decoder reads up to 100 bytes past its block, so
	// where the next block's BEGIN line falls decides whether a reader that
	// decodes block after block from one stream loses it (with GnuPG's
	// team-rsa then team-ed25519, one of these paddings did).
	rsa, err1 := os.ReadFile("testdata/team-rsa.sec.asc")
	ed, err2 := os.ReadFile("testdata/team-ed25519.sec.asc")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for _, pair := range [][2][]byte{{rsa, ed}, {ed, rsa}, {armored[0], armored[1]}} {
		for pad := range 200 {
			data := append(append(append([]byte(nil), pair[0]...), bytes.Repeat([]byte("\n"), pad)...), pair[1]...)
			if got, err := ReadKeyFile(data); err != nil || len(got) != 2 {
				t.Fatalf("%d newlines between two blocks: read %d keys, %v", pad, len(got), err)
			}
			if got, err := ReadPublicKeys(data); err != nil || len(got) != 2 {
				t.Fatalf("ReadPublicKeys, %d newlines between two blocks: read %d keys, %v", pad, len(got), err)
			}
		}
	}
	for _, bad := range []string{"", "hello", "-----BEGIN PGP MESSAGE-----\n\nwcBMA\n-----END PGP MESSAGE-----\n"} {
		if _, err := ReadKeyFile([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ReadKeyFile(%q): %v, want ErrMalformed", bad, err)
		}
	}
}

// TestGenerateSuccessor: the new key has the old key's valid user IDs,
// the primary one still primary, each certified by the old key; it is
// made with the algorithm asked for, expires after the lifetime, and
// decrypts what is encrypted to it.
func TestGenerateSuccessor(t *testing.T) {
	t.Parallel()
	old := mustKey(t, "Security Team", "security@example.com", keyringNow.AddDate(-2, 0, 0), 0)
	cfg := &packet.Config{Time: func() time.Time { return keyringNow.AddDate(-1, 0, 0) }}
	if err := old.AddUserId("PSIRT", "", "psirt@example.com", cfg); err != nil {
		t.Fatal(err)
	}
	lifetime := 2 * 365 * 24 * time.Hour

	for _, algo := range []KeyAlgorithm{KeyEd25519, KeyRSA3072} {
		t.Run(string(algo), func(t *testing.T) {
			old := copyKey(t, old)
			t.Parallel() // RSA key generation takes seconds
			if algo != KeyEd25519 && testing.Short() {
				t.Skip("RSA key generation is slow")
			}
			next, certified, err := GenerateSuccessor(old, algo, keyringNow, lifetime)
			if err != nil {
				t.Fatal(err)
			}
			want := map[KeyAlgorithm]string{KeyEd25519: "Ed25519", KeyRSA3072: "RSA-3072"}[algo]
			if got := Algorithm(next); got != want {
				t.Errorf("algorithm %s, want %s", got, want)
			}
			if got := PrimaryUserID(next); got != "Security Team <security@example.com>" {
				t.Errorf("primary user ID %q", got)
			}
			if len(next.Identities) != 2 || next.Identities["PSIRT <psirt@example.com>"] == nil {
				t.Errorf("user IDs %v", next.Identities)
			}
			if !certified {
				t.Error("not certified by the old key")
			}
			for name, id := range next.Identities {
				if len(id.OtherCertifications) != 1 {
					t.Fatalf("%s: %d certifications by others", name, len(id.OtherCertifications))
				}
				if err := old.PrimaryKey.VerifyUserIdSignature(name, next.PrimaryKey, id.OtherCertifications[0].Packet); err != nil {
					t.Errorf("%s: the old key's certification does not verify: %v", name, err)
				}
			}
			if exp := KeyExpiry(next); !exp.Equal(keyringNow.Add(lifetime)) {
				t.Errorf("expires %v, want %v", exp, keyringNow.Add(lifetime))
			}
			if exp, ok := EncryptionExpiry(next, keyringNow); !ok || !exp.Equal(keyringNow.Add(lifetime)) {
				t.Errorf("encryption expiry %v %v", exp, ok)
			}
			// It survives locking, and decrypts.
			locked, err := LockKey(next, []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			unlocked, err := ReadSecretKeys(locked, []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			ct, err := Encrypt([]byte("Content-Type: text/plain\r\n\r\nhello\r\n"), openpgp.EntityList{next}, nil, keyringNow)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseMessage(append([]byte("From: a@example.org\r\nSubject: s\r\n\r\n"), ct...), Keys(unlocked, nil), DefaultLimits(), keyringNow)
			if err != nil || !m.Decrypted || !strings.Contains(m.Text, "hello") {
				t.Fatalf("decrypting to the new key: %v %+v", err, m)
			}
		})
	}

	t.Run("LockedPredecessor", func(t *testing.T) {
		// Without the old secret key, the new key is made but not certified.
		b, err := LockKey(old, []byte("pw"))
		if err != nil {
			t.Fatal(err)
		}
		locked, err := ReadKeyFile(b)
		if err != nil {
			t.Fatal(err)
		}
		next, certified, err := GenerateSuccessor(locked[0], KeyEd25519, keyringNow, 0)
		if err != nil || certified || !KeyExpiry(next).IsZero() {
			t.Errorf("certified %v, expiry %v, err %v", certified, KeyExpiry(next), err)
		}
	})

	t.Run("ExpiredPredecessor", func(t *testing.T) {
		// The usual moment to rotate: the old key has expired. Its user
		// ID carries over; it can no longer certify.
		expired := mustKey(t, "Security Team", "security@example.com", keyringNow.AddDate(-2, 0, 0), 365*24*time.Hour)
		next, certified, err := GenerateSuccessor(expired, KeyEd25519, keyringNow, 0)
		if err != nil || certified || PrimaryUserID(next) != "Security Team <security@example.com>" {
			t.Errorf("certified %v, user ID %q, err %v", certified, PrimaryUserID(next), err)
		}
	})

	t.Run("BadLifetime", func(t *testing.T) {
		if _, _, err := GenerateSuccessor(old, KeyEd25519, keyringNow, -time.Hour); err == nil {
			t.Error("negative lifetime accepted")
		}
	})
}

// copyKey returns a copy of e, read back from its unprotected secret
// key: parallel subtests each need their own, since go-crypto caches
// signature checks in an entity.
func copyKey(t *testing.T, e *openpgp.Entity) *openpgp.Entity {
	t.Helper()
	var b bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&b, nil); err != nil {
		t.Fatal(err)
	}
	c, err := openpgp.ReadEntity(packet.NewReader(&b))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseKeyAlgorithm(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]KeyAlgorithm{"ed25519": KeyEd25519, "RSA3072": KeyRSA3072, "rsa4096": KeyRSA4096} {
		if got, err := ParseKeyAlgorithm(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "dsa", "rsa1024", "ed448"} {
		if _, err := ParseKeyAlgorithm(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestEncryptionExpiry: what counts is when researchers can no longer
// encrypt, which an encryption subkey can end before its primary key.
func TestEncryptionExpiry(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	t.Run("Never", func(t *testing.T) {
		if exp, ok := EncryptionExpiry(mustKey(t, "T", "t@example.com", keyringNow, 0), keyringNow); !ok || !exp.IsZero() {
			t.Errorf("%v %v", exp, ok)
		}
	})
	t.Run("PrimaryExpires", func(t *testing.T) {
		e := mustKey(t, "T", "t@example.com", keyringNow, 30*day)
		if exp, ok := EncryptionExpiry(e, keyringNow); !ok || !exp.Equal(keyringNow.Add(30*day)) {
			t.Errorf("%v %v", exp, ok)
		}
		if exp, ok := EncryptionExpiry(e, keyringNow.Add(31*day)); ok || !exp.Equal(keyringNow.Add(30*day)) {
			t.Errorf("after expiry: %v %v", exp, ok)
		}
	})
	t.Run("SubkeyExpiresFirst", func(t *testing.T) {
		e := mustKey(t, "T", "t@example.com", keyringNow, 0)
		// Replace the encryption subkey by one valid for 10 days.
		e.Subkeys = nil
		cfg := &packet.Config{Time: func() time.Time { return keyringNow }, KeyLifetimeSecs: uint32(10 * day / time.Second),
			Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
		if err := e.AddEncryptionSubkey(cfg); err != nil {
			t.Fatal(err)
		}
		if exp, ok := EncryptionExpiry(e, keyringNow); !ok || !exp.Equal(keyringNow.Add(10*day)) {
			t.Errorf("%v %v, want the subkey's expiry", exp, ok)
		}
		if exp, ok := EncryptionExpiry(e, keyringNow.Add(11*day)); ok || !exp.Equal(keyringNow.Add(10*day)) {
			t.Errorf("after the subkey expired: %v %v", exp, ok)
		}
	})
}

func TestKeyMatches(t *testing.T) {
	t.Parallel()
	e := mustKey(t, "T", "t@example.com", keyringNow, 0)
	fpr := Fingerprint(e)
	for id, want := range map[string]bool{
		fpr:                         true,
		strings.ToLower(fpr):        true,
		"0x" + fpr[24:]:             true,
		fpr[24:28] + " " + fpr[28:]: true,
		fpr[32:]:                    false, // an 8-digit short ID is too easy to collide
		fpr[:16]:                    false,
		"":                          false,
	} {
		if got := KeyMatches(e, id); got != want {
			t.Errorf("KeyMatches(%q) = %v", id, got)
		}
	}
}

// TestReadKeyFile_GnuPG reads the GnuPG exports `secinbox key import` is
// tested with, when they are there.
func TestReadKeyFile_GnuPG(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/team-rsa.sec.asc")
	if err != nil {
		t.Skip(err)
	}
	keys, err := ReadKeyFile(b)
	if err != nil || len(keys) != 1 || !HasSecret(keys[0]) {
		t.Fatalf("%v %d", err, len(keys))
	}
	if err := UnlockKey(keys[0], []byte("wrong")); !errors.Is(err, ErrBadPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	if err := UnlockKey(keys[0], []byte("team-passphrase")); err != nil {
		t.Errorf("unlock: %v", err)
	}
	pub, _ := ArmorPublicKey(keys[0])
	pk, _ := ReadKeyFile(pub)
	if err := UnlockKey(pk[0], []byte("team-passphrase")); !errors.Is(err, ErrNotSecret) {
		t.Errorf("unlocking a public key: %v", err)
	}
	if got := Algorithm(keys[0]); got != "RSA-3072" {
		t.Errorf("algorithm %s", got)
	}
}
