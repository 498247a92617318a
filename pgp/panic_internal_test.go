package pgp

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestParseMessage_GoCryptoPanic: a panic inside go-crypto while it
// decrypts is recovered into ErrPanic on the report, never a crash. No
// hostile message is known to panic go-crypto v1.5.2, so the panic is
// provoked through the keyring: a decryption subkey whose secret key
// material is missing makes go-crypto assert a nil key's type.
func TestParseMessage_GoCryptoPanic(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/pgpmime-encrypted.eml")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := os.ReadFile("testdata/team-ed25519.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	broken, err := ReadSecretKeys(sec, []byte("team-passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range broken {
		for _, s := range e.Subkeys {
			s.PrivateKey.PrivateKey = nil
		}
	}
	m, err := ParseMessage(raw, Keys(broken, nil), Limits{}, time.Now())
	if err != nil {
		t.Fatalf("ParseMessage: %v", err)
	}
	if !m.Encrypted || m.Decrypted {
		t.Fatalf("Encrypted %v Decrypted %v, want an undecrypted encrypted message", m.Encrypted, m.Decrypted)
	}
	if !errors.Is(m.DecryptError, ErrPanic) {
		t.Fatalf("DecryptError %v, want ErrPanic", m.DecryptError)
	}
}
