package pgp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

var base64Std = base64.StdEncoding

func armorDecode(b []byte) ([]byte, error) {
	block, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(block.Body)
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	const lifetime = 2 * 365 * 24 * time.Hour
	e, err := GenerateKey("Security Team", "security@example.com", testNow, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	if v := e.PrimaryKey.Version; v != 4 {
		t.Errorf("primary key version %d, want 4", v)
	}
	if a := e.PrimaryKey.PubKeyAlgo; a != packet.PubKeyAlgoEdDSA {
		t.Errorf("primary key algorithm %v, want EdDSA (legacy)", a)
	}
	if c, err := e.PrimaryKey.Curve(); err != nil || c != packet.Curve25519 {
		t.Errorf("primary key curve %v, %v; want Curve25519", c, err)
	}
	if !e.PrimaryKey.CreationTime.Equal(testNow) {
		t.Errorf("created %v, want %v", e.PrimaryKey.CreationTime, testNow)
	}
	if len(e.Subkeys) != 1 {
		t.Fatalf("%d subkeys, want 1", len(e.Subkeys))
	}
	sub := e.Subkeys[0].PublicKey
	if sub.Version != 4 || sub.PubKeyAlgo != packet.PubKeyAlgoECDH {
		t.Errorf("subkey v%d %v, want v4 ECDH", sub.Version, sub.PubKeyAlgo)
	}
	if c, err := sub.Curve(); err != nil || c != packet.Curve25519 {
		t.Errorf("subkey curve %v, %v; want Curve25519", c, err)
	}
	if k, ok := e.EncryptionKey(testNow, nil); !ok || k.PublicKey != sub {
		t.Errorf("encryption key is not the ECDH subkey")
	}
	sig, err := e.PrimarySelfSignature(testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig.PreferredSymmetric) == 0 || packet.CipherFunction(sig.PreferredSymmetric[0]) != packet.CipherAES256 {
		t.Errorf("preferred symmetric %v, want AES-256 first", sig.PreferredSymmetric)
	}
	for _, h := range sig.PreferredHash {
		if h < 8 { // 8 is SHA-256 (RFC 4880 section 9.4); 1-3 are MD5, SHA-1, RIPEMD-160
			t.Errorf("preferred hashes %v include one weaker than SHA-256", sig.PreferredHash)
		}
	}
	if got := PrimaryUserID(e); got != "Security Team <security@example.com>" {
		t.Errorf("PrimaryUserID = %q", got)
	}
	if got, want := KeyExpiry(e), testNow.Add(lifetime); !got.Equal(want) {
		t.Errorf("KeyExpiry = %v, want %v", got, want)
	}
	if len(Fingerprint(e)) != 40 || strings.ToUpper(Fingerprint(e)) != Fingerprint(e) {
		t.Errorf("Fingerprint = %q, want 40 upper-case hex digits", Fingerprint(e))
	}

	// The expiry is honoured: no encryption to the key after it.
	if _, err := Encrypt([]byte("x"), openpgp.EntityList{e}, nil, testNow.Add(lifetime+time.Hour)); err == nil {
		t.Error("Encrypt to an expired key succeeded")
	}
	if _, err := Encrypt([]byte("x"), openpgp.EntityList{e}, nil, testNow.Add(lifetime-time.Hour)); err != nil {
		t.Errorf("Encrypt before expiry: %v", err)
	}

	forever, err := GenerateKey("T", "t@example.com", testNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !KeyExpiry(forever).IsZero() {
		t.Errorf("KeyExpiry = %v for a key that never expires", KeyExpiry(forever))
	}
	if _, err := GenerateKey("T", "t@example.com", testNow, -time.Hour); err == nil {
		t.Error("negative lifetime accepted")
	}
}

func TestLockKey_RoundTrip(t *testing.T) {
	t.Parallel()
	e, err := GenerateKey("Security Team", "security@example.com", testNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	locked, err := LockKey(e, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(locked, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
		t.Errorf("LockKey output is not an armored private key: %.40q", locked)
	}
	if e.PrivateKey.Encrypted || e.Subkeys[0].PrivateKey.Encrypted {
		t.Error("LockKey locked the entity it was given")
	}

	// Every secret key in the output is encrypted: S2K iterated+salted
	// SHA-256, AES-256, as GnuPG 2.2 reads.
	raw, err := ReadPublicKeys(locked)
	if err != nil {
		t.Fatal(err)
	}
	for _, pk := range []*packet.PrivateKey{raw[0].PrivateKey, raw[0].Subkeys[0].PrivateKey} {
		if !pk.Encrypted {
			t.Error("a secret key in LockKey's output is not encrypted")
		}
	}

	t.Run("RightPassphrase", func(t *testing.T) {
		el, err := ReadSecretKeys(locked, []byte("correct horse"))
		if err != nil {
			t.Fatal(err)
		}
		if len(el) != 1 || Fingerprint(el[0]) != Fingerprint(e) {
			t.Fatalf("read %d keys, fingerprint %q; want %q", len(el), Fingerprint(el[0]), Fingerprint(e))
		}
		// The unlocked key decrypts what is encrypted to the original and
		// verifies what the original signed.
		ct, err := Encrypt([]byte("round trip body"), openpgp.EntityList{e}, e, testNow)
		if err != nil {
			t.Fatal(err)
		}
		raw := "Subject: rt\r\nContent-Type: text/plain\r\n\r\n" + string(ct)
		m, err := ParseMessage([]byte(raw), Keys(el, nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Decrypted || m.Text != "round trip body" {
			t.Errorf("Decrypted %v (%v), Text %q", m.Decrypted, m.DecryptError, m.Text)
		}
		if m.Signature.Status != triage.SignatureGood || m.Signature.Fingerprint != Fingerprint(e) {
			t.Errorf("Signature = %+v, want good by %s", m.Signature, Fingerprint(e))
		}
	})
	t.Run("WrongPassphrase", func(t *testing.T) {
		if _, err := ReadSecretKeys(locked, []byte("wrong")); !errors.Is(err, ErrBadPassphrase) {
			t.Errorf("err = %v, want ErrBadPassphrase", err)
		}
	})
	t.Run("PublicOnly", func(t *testing.T) {
		pub, err := ArmorPublicKey(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pub, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			t.Errorf("ArmorPublicKey: %.40q", pub)
		}
		if _, err := ReadSecretKeys(pub, []byte("correct horse")); !errors.Is(err, ErrNotSecret) {
			t.Errorf("err = %v, want ErrNotSecret", err)
		}
	})
	t.Run("Binary", func(t *testing.T) {
		bin, err := PublicKeyBytes(e)
		if err != nil {
			t.Fatal(err)
		}
		el, err := ReadPublicKeys(bin)
		if err != nil || len(el) != 1 || Fingerprint(el[0]) != Fingerprint(e) {
			t.Errorf("binary public key round trip: %v", err)
		}
		if bin[0]&0x80 == 0 {
			t.Errorf("PublicKeyBytes is not binary OpenPGP: % x", bin[:4])
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		if _, err := ReadSecretKeys([]byte("hello"), nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("err = %v, want ErrMalformed", err)
		}
	})
	t.Run("LockedEntity", func(t *testing.T) {
		if _, err := LockKey(raw[0], []byte("x")); err == nil {
			t.Error("LockKey of a locked key succeeded")
		}
		if _, err := LockKey(e, nil); err == nil {
			t.Error("LockKey with an empty passphrase succeeded")
		}
	})
}

// TestReadSecretKeys_GnuPG reads the keys gen-fixtures.sh exported with
// `gpg --export-secret-keys --armor`.
func TestReadSecretKeys_GnuPG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, uid string
		algo      packet.PublicKeyAlgorithm
	}{
		{"team-ed25519.sec.asc", "Security Team <security@example.com>", packet.PubKeyAlgoEdDSA},
		{"team-rsa.sec.asc", "Security Team RSA <security-rsa@example.com>", packet.PubKeyAlgoRSA},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readFixture(t, tt.file)
			el, err := ReadSecretKeys(data, []byte(teamPassphrase))
			if err != nil {
				t.Fatal(err)
			}
			if len(el) != 1 {
				t.Fatalf("%d keys, want 1", len(el))
			}
			e := el[0]
			if e.PrimaryKey.PubKeyAlgo != tt.algo || PrimaryUserID(e) != tt.uid {
				t.Errorf("got %v %q, want %v %q", e.PrimaryKey.PubKeyAlgo, PrimaryUserID(e), tt.algo, tt.uid)
			}
			if e.PrivateKey.Encrypted || e.Subkeys[0].PrivateKey == nil || e.Subkeys[0].PrivateKey.Encrypted {
				t.Error("secret keys still locked")
			}
			if _, err := ReadSecretKeys(data, []byte("not-the-passphrase")); !errors.Is(err, ErrBadPassphrase) {
				t.Errorf("wrong passphrase: err = %v, want ErrBadPassphrase", err)
			}
		})
	}
	t.Run("PublicKeyIsNotSecret", func(t *testing.T) {
		if _, err := ReadSecretKeys(readFixture(t, "researcher.pub.asc"), nil); !errors.Is(err, ErrNotSecret) {
			t.Errorf("err = %v, want ErrNotSecret", err)
		}
	})
	t.Run("Several", func(t *testing.T) {
		both := append(readFixture(t, "team-ed25519.sec.asc"), readFixture(t, "team-rsa.sec.asc")...)
		el, err := ReadSecretKeys(both, []byte(teamPassphrase))
		if err != nil || len(el) != 2 {
			t.Errorf("read %d keys, err %v; want 2", len(el), err)
		}
	})
}

func TestWKDHash(t *testing.T) {
	t.Parallel()
	tests := []struct{ local, want string }{
		// draft-koch-openpgp-webkey-service section 3.1.
		{"Joe.Doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q"},
		{"joe.doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q"},
		{"JOE.DOE", "iy9q119eutrkn8s1mk4r39qejnbu3n5q"},
	}
	for _, tt := range tests {
		if got := WKDHash(tt.local); got != tt.want {
			t.Errorf("WKDHash(%q) = %q, want %q", tt.local, got, tt.want)
		}
	}
	// Only ASCII is lowered: "Ä" and "ä" differ.
	if WKDHash("Ä") == WKDHash("ä") {
		t.Error("non-ASCII letters were case-folded")
	}
	if got := len(WKDHash("security")); got != 32 {
		t.Errorf("len = %d, want 32", got)
	}
}
