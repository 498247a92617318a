package pgp

import (
	"errors"
	"path/filepath"
	"regexp"
	"slices"
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
	checkSignatures(t, m)
	for _, s := range []string{m.Text, m.Subject, m.ProtectedSubject, m.FromEmail, m.FromName, m.MessageID, m.Title()} {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8: %q", s)
		}
	}
	for _, a := range m.Attachments {
		if a.Name == "" || a.Name != triage.CleanFilename(a.Name) || len(a.Name) > triage.MaxFilenameBytes {
			t.Fatalf("unclean attachment name %q", a.Name)
		}
		if a.Size != int64(len(a.Data)) || a.SHA256 != sha256Hex(a.Data) {
			t.Fatalf("attachment %q: size or hash does not match its data", a.Name)
		}
	}
	if len(m.Keys) > maxMessageKeys {
		t.Fatalf("%d keys", len(m.Keys))
	}
	for _, k := range m.Keys {
		if k.Email == "" || k.Email != strings.ToLower(m.FromEmail) || k.Fingerprint == "" || len(k.Public) == 0 || len(k.Public) > maxKeyBytes {
			t.Fatalf("key %+v for From %q", k, m.FromEmail)
		}
		if k.Source != triage.KeySourceAttachment && k.Source != triage.KeySourceAutocrypt {
			t.Fatalf("key source %q", k.Source)
		}
	}
}

// checkSignatures asserts the invariants of Signatures, Parts and the
// summary: every status is one we define, good always comes with the
// signer, parts and signatures point at each other, and the summary
// follows its rule.
func checkSignatures(t *testing.T, m *Message) {
	t.Helper()
	allGood, uncovered := true, 0
	for i, s := range m.Signatures {
		switch s.Status {
		case triage.SignatureGood:
			if s.Fingerprint == "" || s.KeyID == "" || s.Reason != "" {
				t.Fatalf("signature %d: good with Fingerprint %q, KeyID %q, Reason %q", i, s.Fingerprint, s.KeyID, s.Reason)
			}
		case triage.SignatureBad, triage.SignatureUnknownKey, triage.SignatureExpiredKey, triage.SignatureRevokedKey, triage.SignatureWeak:
			allGood = false
			if s.Reason == "" {
				t.Fatalf("signature %d: %s without a reason", i, s.Status)
			}
			if s.Status == triage.SignatureUnknownKey && (s.SignerUserID != "" || s.FromMatches) {
				t.Fatalf("signature %d: unknown_key with a signer %q", i, s.SignerUserID)
			}
		default:
			t.Fatalf("signature %d: status %q", i, s.Status)
		}
		for _, path := range s.Parts {
			found := false
			for _, bp := range m.Parts {
				found = found || bp.Path == path
			}
			if !found {
				t.Fatalf("signature %d covers part %q, which does not exist", i, path)
			}
		}
	}
	paths := map[string]bool{}
	texts := make([]string, 0, len(m.Parts))
	for _, bp := range m.Parts {
		if paths[bp.Path] {
			t.Fatalf("part path %q twice", bp.Path)
		}
		paths[bp.Path] = true
		if strings.TrimSpace(bp.Text) == "" || !utf8.ValidString(bp.Text) || strings.Contains(bp.Text, "\r\n") {
			t.Fatalf("part %q text %q", bp.Path, bp.Text)
		}
		texts = append(texts, bp.Text)
		if bp.Signature < 0 || bp.Signature > len(m.Signatures) {
			t.Fatalf("part %q points at signature %d of %d", bp.Path, bp.Signature, len(m.Signatures))
		}
		if bp.Signature == 0 {
			uncovered++
			continue
		}
		if !slices.Contains(m.Signatures[bp.Signature-1].Parts, bp.Path) {
			t.Fatalf("part %q points at signature %d, which does not list it", bp.Path, bp.Signature)
		}
	}
	if m.Text != strings.Join(texts, "\n\n") {
		t.Fatalf("Text is not the parts joined")
	}
	switch sum := m.Signature.Status; {
	case len(m.Signatures) == 0:
		if sum != triage.SignatureNone {
			t.Fatalf("summary %q without signatures", sum)
		}
	case sum == triage.SignaturePartial:
		if !allGood || uncovered == 0 {
			t.Fatalf("summary partial with all good %v, %d parts uncovered", allGood, uncovered)
		}
	case sum == triage.SignatureGood:
		if !allGood || uncovered > 0 {
			t.Fatalf("summary good with all good %v, %d parts uncovered", allGood, uncovered)
		}
	case sum == triage.SignatureNone:
		t.Fatalf("summary none with %d signatures", len(m.Signatures))
	default:
		found := false
		for _, s := range m.Signatures {
			found = found || s.Status == sum
		}
		if !found {
			t.Fatalf("summary %q is none of the signatures' statuses", sum)
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
		for _, s := range res.sigs {
			if s.Status == triage.SignatureGood && s.Fingerprint == "" {
				t.Fatal("good signature without fingerprint")
			}
		}
	})
}
