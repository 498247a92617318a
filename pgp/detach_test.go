package pgp_test

import (
	"bytes"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
)

func TestDetachSign(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 9, 20, 10, 0, 0, 0, time.UTC)
	key, err := pgp.GenerateKey("Security Team", "security@example.com", now.Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("{\n  \"document\": {}\n}\n")
	sig, err := pgp.DetachSign(data, key, now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sig, []byte("-----BEGIN PGP SIGNATURE-----")) {
		t.Errorf("not armored: %s", sig)
	}
	if _, _, err := openpgp.VerifyArmoredDetachedSignature(openpgp.EntityList{key}, bytes.NewReader(data), bytes.NewReader(sig), nil); err != nil {
		t.Errorf("verify: %v", err)
	}
	// Binary, not text: a changed line ending breaks it.
	crlf := bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	if _, _, err := openpgp.VerifyArmoredDetachedSignature(openpgp.EntityList{key}, bytes.NewReader(crlf), bytes.NewReader(sig), nil); err == nil {
		t.Error("the signature holds over CRLF line ends")
	}
	if _, err := pgp.DetachSign(data, nil, now); err == nil {
		t.Error("signed without a signer")
	}
}
