package pgp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secinbox/secinbox/triage"
)

// fuzzLimits keep each fuzz execution cheap, and the caps small enough
// that going past them shows.
var fuzzLimits = Limits{MaxDecompressedSize: 256 << 10, MaxDepth: 16, MaxParts: 100, MaxHeaderBytes: 64 << 10}

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
		if strings.TrimSpace(bp.Text) == "" || !utf8.ValidString(bp.Text) || strings.ContainsRune(bp.Text, '\r') {
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

// parseSeeds are the FuzzParseMessage seeds that can be written down:
// every fixture message and a few hand-made shapes. TestFuzzCorpus keeps
// testdata/fuzz/FuzzParseMessage in step with them.
func parseSeeds(tb testing.TB) [][]byte {
	seeds := fixtureMessages(tb)
	for _, s := range []string{
		"Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\r\n\r\n--s\r\n\r\nx\r\n--s\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\nAAAA\r\n-----END PGP SIGNATURE-----\r\n--s--\r\n",
		"Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\nno signature part\r\n--s--\r\n",
		"Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>a=3Db</p>=\r\n",
		"Content-Type: text/html\r\n\r\n<ul><li>one<ol><li>two</ol></ul><a href=\"https://x.example/\">x</a><blockquote>q<pre> p </pre></blockquote><table><tr><td>a<td>b</table>",
		"Content-Type: text/plain\r\n\r\nbefore\r\n-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\n- - dashed\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\nAAAA\r\n-----END PGP SIGNATURE-----\r\nafter\r\n",
		"From: a@b.example\r\nAutocrypt: addr=a@b.example; prefer-encrypt=mutual; keydata=AAAA\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
		"Content-Type: multipart/mixed; boundary=b; protected-headers=v1\r\n\r\n--b\r\nContent-Type: text/rfc822-headers; protected-headers=v1\r\n\r\nSubject: x\r\n--b\r\nContent-Type: text/plain; hp-legacy-display=1\r\n\r\nSubject: y\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: fwd\r\n\r\nforwarded\r\n--b--\r\n",
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pgp-keys\r\n\r\n-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\nxjME\r\n-----END PGP PUBLIC KEY BLOCK-----\r\n--b\r\nContent-Type: application/octet-stream; name=x.pgp\r\nContent-Transfer-Encoding: base64\r\n\r\nhQEMA0AAAAAAAAAA\r\n--b--\r\n",
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

var armoredRE = regexp.MustCompile(`(?s)-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----`)

// decryptSeeds are the FuzzDecrypt seeds that can be written down: every
// armored OpenPGP message in the fixtures, armored and binary.
func decryptSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, m := range fixtureMessages(tb) {
		for _, block := range armoredRE.FindAll(m, -1) {
			seeds = append(seeds, block)
			if bin, err := armorDecode(block); err == nil {
				seeds = append(seeds, bin)
			}
		}
	}
	return seeds
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the fixture seeds in testdata/fuzz (go generate ./pgp)")

// TestFuzzCorpus checks that testdata/fuzz/<FuzzName>/ holds, in Go's
// corpus file format, exactly the seeds parseSeeds and decryptSeeds make
// from the fixtures ("fixture-*" files); other files there are crashers
// found by fuzzing, kept as regression inputs. With -update-corpus (go
// generate ./pgp) it rewrites the fixture seeds.
func TestFuzzCorpus(t *testing.T) {
	t.Parallel()
	for name, seeds := range map[string][][]byte{"FuzzParseMessage": parseSeeds(t), "FuzzDecrypt": decryptSeeds(t)} {
		dir := filepath.Join("testdata", "fuzz", name)
		want := map[string][]byte{}
		for _, s := range seeds {
			sum := sha256.Sum256(s)
			want["fixture-"+hex.EncodeToString(sum[:8])] = []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n")
		}
		have, _ := filepath.Glob(filepath.Join(dir, "fixture-*"))
		if *updateCorpus {
			for _, f := range have {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for f, data := range want {
				if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		for _, f := range have {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if w, ok := want[filepath.Base(f)]; !ok || !bytes.Equal(w, data) {
				t.Errorf("%s is not a seed made from the fixtures: run go generate ./pgp", f)
			}
			delete(want, filepath.Base(f))
		}
		for f := range want {
			t.Errorf("%s is missing: run go generate ./pgp", filepath.Join(dir, f))
		}
	}
}

// allocated runs f and returns the bytes it allocated (TotalAlloc counts
// every allocation, freed or not).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// parseAllocCap is a generous bound on what parsing raw may allocate
// under fuzzLimits: a multiple of the input (copies of parts, decoded
// text) plus a multiple of the plaintext budget (read, converted, shown,
// kept, and possibly twice when the message carries its signer's key).
// An allocation that grows with anything else (a bomb, a quadratic
// loop) breaks it.
func parseAllocCap(raw []byte) uint64 {
	return 64*uint64(len(raw)) + 64*uint64(fuzzLimits.MaxDecompressedSize) + 16<<20
}

// FuzzParseMessage: no input panics, breaks the Message invariants, or
// allocates or outputs beyond the caps. Panics recovered inside are
// failures here, so that they get fixed (or reported upstream) rather
// than hidden. Seeds: testdata/fuzz/FuzzParseMessage and the messages
// made here with fresh randomness.
func FuzzParseMessage(f *testing.F) {
	keys := loadKeys(f)
	if ct, err := Encrypt([]byte("Content-Type: text/plain\r\n\r\nfresh"), keys.team, nil, testNow); err == nil {
		f.Add(pgpMIME(f, dearmor(f, ct)))
	}
	f.Add(pgpMIME(f, noMDCMessage(f, keys.team[0], []byte("no mdc"))))
	ring := Keys(keys.team, keys.researcher)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var p *parser
		var err error
		alloc := allocated(func() { p, err = parse(raw, ring, fuzzLimits, testNow) })
		if alloc > parseAllocCap(raw) {
			t.Fatalf("allocated %d bytes for %d bytes of input", alloc, len(raw))
		}
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
		checkOutputSize(t, p.msg, len(raw))
	})
}

// checkOutputSize: what a message yields is bounded by its size, the
// plaintext budget and the part count.
func checkOutputSize(t *testing.T, m *Message, inputLen int) {
	t.Helper()
	lim := fuzzLimits.withDefaults()
	var text, files int64
	for _, bp := range m.Parts {
		text += int64(len(bp.Text))
	}
	for _, a := range m.Attachments {
		files += a.Size
	}
	in := int64(inputLen) + lim.MaxDecompressedSize
	if text > 4*in+2048*int64(lim.MaxParts) || files > 2*in {
		t.Fatalf("%d bytes of text and %d of files from %d bytes of input", text, files, inputLen)
	}
	if len(m.Parts) > 3*lim.MaxParts+1 || len(m.Attachments) > lim.MaxParts || len(m.Signatures) > maxMessageSignatures {
		t.Fatalf("%d parts, %d attachments, %d signatures", len(m.Parts), len(m.Attachments), len(m.Signatures))
	}
}

// FuzzDecrypt fuzzes the OpenPGP path alone (armored and binary input):
// errors wrap a sentinel, no plaintext comes with an error, the budget
// holds, allocation stays within a multiple of input and budget, and
// "good" comes with a fingerprint. Seeds: testdata/fuzz/FuzzDecrypt and
// messages made here with fresh randomness.
func FuzzDecrypt(f *testing.F) {
	keys := loadKeys(f)
	if ct, err := Encrypt([]byte("Content-Type: text/plain\r\n\r\nsigned"), keys.team, nil, testNow); err == nil {
		f.Add(ct)
	}
	f.Add(noMDCMessage(f, keys.team[0], []byte("no mdc")))
	ring := Keys(keys.team, keys.researcher)
	f.Fuzz(func(t *testing.T, data []byte) {
		budget := fuzzLimits.MaxDecompressedSize
		p := &parser{lim: fuzzLimits.withDefaults(), keys: ring, now: testNow, budget: budget, msg: &Message{}}
		var res opened
		var err error
		alloc := allocated(func() { res, err = p.open(data) })
		if alloc > 32*uint64(len(data))+32*uint64(budget)+8<<20 {
			t.Fatalf("allocated %d bytes for %d bytes of input", alloc, len(data))
		}
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
		if int64(len(res.plain)) > budget || p.budget != budget-int64(len(res.plain)) {
			t.Fatalf("plaintext %d bytes, budget left %d", len(res.plain), p.budget)
		}
		if len(res.sigs) > 2*maxSignatures {
			t.Fatalf("%d signatures", len(res.sigs))
		}
		for _, s := range res.sigs {
			if s.Status == triage.SignatureGood && (s.Fingerprint == "" || s.Reason != "") {
				t.Fatalf("good signature %+v", s)
			}
		}
	})
}
