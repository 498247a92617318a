package pgp

import (
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

// fuzzLimits keep each fuzz execution cheap.
var fuzzLimits = Limits{MaxDecompressedSize: 1 << 20, MaxDepth: 16, MaxParts: 200}

func fixtureMessages(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no fixtures: %v", err)
	}
	var msgs [][]byte
	for _, f := range files {
		msgs = append(msgs, readFixture(tb, filepath.Base(f)))
	}
	return msgs
}

// checkMessage asserts what must hold for any input.
func checkMessage(t *testing.T, m *Message) {
	t.Helper()
	if m.Decrypted && (!m.Encrypted || m.DecryptError != nil) {
		t.Fatalf("Decrypted with Encrypted %v, DecryptError %v", m.Encrypted, m.DecryptError)
	}
	if m.Encrypted && !m.Decrypted {
		err := m.DecryptError
		if err == nil {
			t.Fatal("Encrypted, not Decrypted, and no DecryptError")
		}
		if !errors.Is(err, ErrNoKey) && !errors.Is(err, ErrIntegrity) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrPanic) {
			t.Fatalf("DecryptError %v wraps no sentinel", err)
		}
	}
	if !m.Encrypted && m.DecryptError != nil {
		t.Fatalf("DecryptError %v on a message that is not encrypted", m.DecryptError)
	}
	switch m.Signature.Status {
	case triage.SignatureGood:
		if m.Signature.Fingerprint == "" {
			t.Fatal("good signature without fingerprint")
		}
	case triage.SignatureNone, triage.SignatureBad, triage.SignatureUnknownKey:
		if m.Signature.Fingerprint != "" {
			t.Fatalf("fingerprint on a %s signature", m.Signature.Status)
		}
	default:
		t.Fatalf("signature status %q", m.Signature.Status)
	}
	for _, s := range []string{m.Text, m.Subject, m.ProtectedSubject, m.FromEmail, m.FromName, m.MessageID, m.Title()} {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8: %q", s)
		}
	}
	for _, a := range m.Attachments {
		if a.Name == "" || strings.ContainsAny(a.Name, "/\\\x00") || len(a.Name) > maxNameBytes {
			t.Fatalf("unsanitized attachment name %q", a.Name)
		}
		if a.Size != int64(len(a.Data)) || a.SHA256 != sha256Hex(a.Data) {
			t.Fatalf("attachment %q: size or hash does not match its data", a.Name)
		}
	}
}

// FuzzParseMessage: no input panics or breaks the Message invariants.
// Panics recovered inside are failures here, so that they get fixed
// (or reported upstream) rather than hidden.
func FuzzParseMessage(f *testing.F) {
	keys := loadKeys(f)
	for _, m := range fixtureMessages(f) {
		f.Add(m)
	}
	f.Add([]byte("Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\r\n\r\n--s\r\n\r\nx\r\n--s\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\nAAAA\r\n-----END PGP SIGNATURE-----\r\n--s--\r\n"))
	f.Add([]byte("Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>a=3Db</p>=\r\n"))
	verify := keys.researcher
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parse(raw, keys.team, verify, fuzzLimits, testNow)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrPanic) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if p.panicValue != nil {
			t.Fatalf("recovered panic: %v", p.panicValue)
		}
		if errors.Is(p.msg.DecryptError, ErrPanic) {
			t.Fatalf("recovered panic: %v", p.msg.DecryptError)
		}
		checkMessage(t, p.msg)
	})
}

var armoredRE = regexp.MustCompile(`(?s)-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----`)

// FuzzDecrypt fuzzes the OpenPGP path alone (armored and binary input):
// errors wrap a sentinel, no plaintext comes with an error, the budget
// holds, and "good" comes with a fingerprint.
func FuzzDecrypt(f *testing.F) {
	keys := loadKeys(f)
	for _, m := range fixtureMessages(f) {
		for _, block := range armoredRE.FindAll(m, -1) {
			f.Add(block)
			if bin, err := armorDecode(block); err == nil {
				f.Add(bin)
			}
		}
	}
	if ct, err := Encrypt([]byte("Content-Type: text/plain\r\n\r\nsigned"), keys.team, nil, testNow); err == nil {
		f.Add(ct)
	}
	f.Add(noMDCMessage(f, keys.team[0], []byte("no mdc")))
	keyring := append(append(openpgp.EntityList{}, keys.team...), keys.researcher...)
	f.Fuzz(func(t *testing.T, data []byte) {
		const budget = 1 << 20
		p := &parser{lim: fuzzLimits, keyring: keyring, now: testNow, budget: budget, msg: &Message{}}
		res, err := p.open(data)
		if err != nil {
			if errors.Is(err, ErrPanic) {
				t.Fatalf("recovered panic: %v", err)
			}
			if !errors.Is(err, ErrNoKey) && !errors.Is(err, ErrIntegrity) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if res.plain != nil {
				t.Fatal("plaintext returned with an error")
			}
			return
		}
		if len(res.plain) > budget || p.budget != budget-int64(len(res.plain)) {
			t.Fatalf("plaintext %d bytes, budget left %d", len(res.plain), p.budget)
		}
		if res.sig.Status == triage.SignatureGood && res.sig.Fingerprint == "" {
			t.Fatal("good signature without fingerprint")
		}
	})
}
