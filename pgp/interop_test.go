package pgp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// The OpenPGP interop matrix: messages made by GnuPG, Sequoia, OpenPGP.js
// and go-crypto (testdata/interop/gen.sh; README.md there lists what each
// tool can and cannot make). interopCases is the manifest: for every
// fixture, what a correct reader reports. The expectations are what is
// right, not what pgp does today.
//
// The committed fixtures are in testdata/interop/fixtures; `make interop`
// makes a fresh set with the installed tools and points INTEROP_DIR at it.

// interopNow is the time the fixtures are read at: now, because not
// every tool can be told the time (sq 0.27's encrypt --time picks the
// keys but stamps the signature with the wall clock), and a signature
// from the future is invalid. gen.sh makes the keys at 2025-01-01 and
// the messages at 2025-01-02 10:00 where the tool allows; no key expires
// but eve's, which expired on purpose before she signed.
func interopNow() time.Time { return time.Now() }

const interopPassphrase = "team-passphrase"

// sigWant is one expected entry of Message.Signatures.
type sigWant struct {
	Status triage.SignatureStatus
	// Signer is the key file stem under keys/ ("researcher-alice",
	// "unknown-mallory"). A good signature must name its primary
	// fingerprint; any other status must name one of its key IDs.
	Signer      string
	FromMatches bool   // checked for good signatures
	Hash        string // when set, Signature.Hash ("SHA1")
}

// attWant is one expected attachment: its name and, when File is set,
// the SHA-256 of files/File.
type attWant struct{ Name, File string }

// keyWant is one expected entry of Message.Keys.
type keyWant struct {
	Key    string // key file stem under keys/
	Source triage.KeySource
}

type interopCase struct {
	Name     string // fixture file stem
	Producer string // gpg, sq, openpgp.js, openpgp.js v5, go-crypto
	Team     string // team key file stem: keys/TEAM.sec.asc decrypts
	// Outline, when set, is what the outer packets of the first armored
	// PGP MESSAGE in the fixture must start with: proof that the
	// producing tool made what the row claims (SEIPDv2/GCM, tag 20...).
	Outline   string
	Encrypted bool
	Decrypted bool
	Err       error // errors.Is(DecryptError, Err)
	Summary   triage.SignatureStatus
	Sigs      []sigWant
	// OtherSigs: Signatures may hold more (a forwarded message's own
	// signature); Sigs is then not compared one for one.
	OtherSigs   bool
	Texts       []string // substrings of Message.Text
	Absent      []string // never in Text nor in any attachment
	Signed      []string // each in a part covered by a good signature
	Unsigned    []string // each in a part no signature covers
	Title       string
	Attachments []attWant
	Keys        []keyWant
}

func fixtureLine(name string) string { return "Interop fixture " + name }

// encCase is an encrypted message that decrypts, unsigned.
func encCase(name, producer, team, outline string) interopCase {
	return interopCase{
		Name: name, Producer: producer, Team: team, Outline: outline,
		Encrypted: true, Decrypted: true, Summary: triage.SignatureNone,
		Texts: []string{fixtureLine(name)}, Absent: []string{"-----BEGIN PGP"},
		Title: "Interop " + name,
	}
}

// signedEncCase is an encrypted message with one good signature over its text.
func signedEncCase(name, producer, team, outline, signer string) interopCase {
	c := encCase(name, producer, team, outline)
	c.Summary = triage.SignatureGood
	c.Sigs = []sigWant{{Status: triage.SignatureGood, Signer: signer, FromMatches: true}}
	c.Signed = []string{fixtureLine(name)}
	return c
}

// clearCase is an unencrypted message whose only signature has status st.
func clearCase(name, producer, signer string, st triage.SignatureStatus) interopCase {
	c := interopCase{
		Name: name, Producer: producer, Team: "team-gpg-ed25519",
		Summary: st, Sigs: []sigWant{{Status: st, Signer: signer, FromMatches: true}},
		Texts: []string{fixtureLine(name)}, Title: "Interop " + name,
	}
	if st == triage.SignatureGood {
		c.Signed = []string{fixtureLine(name)}
	}
	return c
}

// undecryptable is an encrypted message filed with reason err.
func undecryptable(name, producer, team string, err error) interopCase {
	return interopCase{
		Name: name, Producer: producer, Team: team, Encrypted: true, Err: err,
		Summary: triage.SignatureNone, Title: "Interop " + name,
		Absent: []string{"TAMPERED PLAINTEXT", fixtureLine(name)},
	}
}

const (
	v1     = "PKESKv3 SEIPDv1"
	v2any  = "PKESKv6 SEIPDv2/"
	tag20  = "PKESKv3 AEAD(tag 20)"
	good   = triage.SignatureGood
	alice  = "researcher-alice"
	sam    = "researcher-sam"
	jo     = "researcher-jo"
	vee    = "researcher-vee"
	gopher = "researcher-gopher"
)

var producers = map[string]string{"gpg": "gpg", "sq": "sq", "ojs": "openpgp.js", "go": "go-crypto"}

func interopCases() []interopCase {
	var cs []interopCase
	add := func(c ...interopCase) { cs = append(cs, c...) }
	with := func(c interopCase, f func(*interopCase)) interopCase { f(&c); return c }

	// 1. PGP/MIME (RFC 3156 section 4), every tool to every team key it can
	// encrypt to. GnuPG 2.2 and Sequoia 1.12 (sq 0.27) cannot use v6 keys.
	v4keys := []string{"rsa2048", "rsa3072", "rsa4096", "gpg-ed25519", "sq-cv25519", "ojs-ecc"}
	for _, tool := range []string{"gpg", "sq", "ojs", "go"} {
		keys := v4keys
		if tool == "ojs" || tool == "go" {
			keys = append(append([]string{}, v4keys...), "ojs-v6", "go-v6")
		}
		for _, key := range keys {
			outline := v1
			if strings.HasSuffix(key, "-v6") {
				outline = v2any // v6 keys ask for SEIPDv2
			}
			name := tool + "-" + key + "-pgpmime"
			add(encCase(name, producers[tool], "team-"+key, outline))
		}
	}

	// 2. SEIPDv2 with each AEAD mode, and the LibrePGP tag-20 packet.
	for _, mode := range []string{"ocb", "gcm", "eax"} {
		outline := "PKESKv6 SEIPDv2/" + strings.ToUpper(mode)
		for _, key := range []string{"gpg-ed25519", "ojs-v6"} {
			add(encCase("ojs-"+key+"-seipdv2-"+mode, "openpgp.js", "team-"+key, outline))
		}
		for _, key := range []string{"go-v6", "rsa3072"} {
			add(encCase("go-"+key+"-seipdv2-"+mode, "go-crypto", "team-"+key, outline))
		}
	}
	for _, key := range []string{"gpg-ed25519", "rsa3072"} {
		add(encCase("ojs5-"+key+"-ocb-tag20", "openpgp.js v5", "team-"+key, tag20))
	}

	// 3. Compression, and Sequoia's padding.
	compressed := func(tool, algo string) interopCase {
		c := encCase(tool+"-gpg-ed25519-compress-"+algo, producers[tool], "team-gpg-ed25519", v1)
		c.Texts = append(c.Texts, "compressible line 40")
		return c
	}
	for _, algo := range []string{"none", "zip", "zlib", "bzip2"} {
		add(compressed("gpg", algo))
	}
	for _, algo := range []string{"pad", "none", "zip", "zlib", "bzip2"} {
		add(compressed("sq", algo))
	}
	for _, algo := range []string{"zip", "zlib"} {
		add(compressed("go", algo))
	}

	// 4. Signed and encrypted in one OpenPGP message (RFC 3156 section 6.2).
	add(
		signedEncCase("gpg-signed-encrypted", "gpg", "team-rsa3072", v1, alice),
		signedEncCase("sq-signed-encrypted", "sq", "team-sq-cv25519", v1, sam),
		signedEncCase("ojs-signed-encrypted", "openpgp.js", "team-gpg-ed25519", v1, jo),
		signedEncCase("ojs-v6-signed-encrypted", "openpgp.js", "team-ojs-v6", v2any, vee),
		signedEncCase("go-signed-encrypted", "go-crypto", "team-go-v6", v2any, gopher),
		with(signedEncCase("gpg-signer-not-from", "gpg", "team-gpg-ed25519", v1, alice), func(c *interopCase) {
			c.Sigs[0].FromMatches = false // From: Bob, signed by Alice
		}),
		with(encCase("gpg-unknown-key", "gpg", "team-gpg-ed25519", v1), func(c *interopCase) {
			c.Summary = triage.SignatureUnknownKey
			c.Sigs = []sigWant{{Status: triage.SignatureUnknownKey, Signer: "unknown-mallory"}}
		}),
		with(encCase("gpg-sha1-signed-encrypted", "gpg", "team-gpg-ed25519", v1), func(c *interopCase) {
			c.Summary = triage.SignatureWeak
			c.Sigs = []sigWant{{Status: triage.SignatureWeak, Signer: alice, Hash: "SHA1"}}
		}),
	)

	// 5. multipart/signed (RFC 3156 section 5) in the clear, a
	// multipart/mixed with an attachment inside.
	for _, s := range []struct{ name, producer, signer string }{
		{"gpg-multipart-signed", "gpg", alice},
		{"sq-multipart-signed", "sq", sam},
		{"ojs-multipart-signed", "openpgp.js", jo},
		{"ojs-v6-multipart-signed", "openpgp.js", vee},
		{"go-multipart-signed", "go-crypto", gopher},
	} {
		c := clearCase(s.name, s.producer, s.signer, good)
		c.Texts = []string{fixtureLine(s.name) + ": proof of concept attached."}
		c.Signed = c.Texts
		c.Attachments = []attWant{{"poc.py", "poc.py"}}
		add(c)
	}
	add(
		with(clearCase("gpg-multipart-signed-tampered", "gpg", alice, triage.SignatureBad), func(c *interopCase) {
			c.Texts = append(c.Texts, "account 6666")
		}),
		clearCase("gpg-multipart-signed-unknown-key", "gpg", "unknown-mallory", triage.SignatureUnknownKey),
		with(clearCase("gpg-multipart-signed-sha1", "gpg", alice, triage.SignatureWeak), func(c *interopCase) {
			c.Sigs[0].Hash = "SHA1"
		}),
		clearCase("gpg-expired-key", "gpg", "researcher-eve", triage.SignatureExpiredKey),
		clearCase("gpg-revoked-key", "gpg", "researcher-rita", triage.SignatureRevokedKey),
		// "Johnny, you are fired": only the middle part is signed.
		with(clearCase("gpg-partial-signed", "gpg", alice, good), func(c *interopCase) {
			c.Summary = triage.SignaturePartial
			c.Signed = []string{"I approve the budget."}
			c.Unsigned = []string{"Johnny, you are fired.", "transfer the bounty elsewhere"}
			c.Texts = append(c.Texts, c.Unsigned...)
		}),
		// A forwarded signed mail: Alice's signature is on the attached
		// message, not on Bob's.
		interopCase{
			Name: "gpg-forwarded-signed", Producer: "gpg", Team: "team-gpg-ed25519",
			Summary: triage.SignatureNone, OtherSigs: true,
			Texts:       []string{"Forwarding what Alice sent me."},
			Unsigned:    []string{"Forwarding what Alice sent me."},
			Title:       "Fwd: Interop gpg-forwarded-signed",
			Attachments: []attWant{{Name: "forwarded.eml"}},
		},
	)

	// 6. Signed, then encrypted (RFC 3156 section 6.1), and 7. encrypted,
	// then signed (multipart/signed around multipart/encrypted).
	add(
		signedEncCase("gpg-nested-signed-encrypted", "gpg", "team-gpg-ed25519", v1, alice),
		signedEncCase("ojs-nested-signed-encrypted", "openpgp.js", "team-ojs-v6", v2any, vee),
		with(encCase("gpg-nested-signed-tampered", "gpg", "team-gpg-ed25519", v1), func(c *interopCase) {
			c.Summary = triage.SignatureBad
			c.Sigs = []sigWant{{Status: triage.SignatureBad, Signer: alice}}
			c.Texts = append(c.Texts, "account 6666")
		}),
		signedEncCase("gpg-encrypted-then-signed", "gpg", "team-gpg-ed25519", v1, alice),
	)

	// 8. Inline clearsigned (RFC 4880 section 7), with unsigned text around.
	for _, s := range []struct{ tool, signer string }{{"gpg", alice}, {"sq", sam}, {"ojs", jo}, {"go", gopher}} {
		name := s.tool + "-clearsigned"
		c := clearCase(name, producers[s.tool], s.signer, good)
		c.Summary = triage.SignaturePartial
		c.Texts = []string{fixtureLine(name) + ": this paragraph is signed.", "Unsigned text before the signed block.", "Unsigned text after the signed block."}
		c.Signed = c.Texts[:1]
		c.Unsigned = c.Texts[1:]
		c.Absent = []string{"-----BEGIN PGP SIGNATURE-----"}
		add(c)
	}
	add(
		with(clearCase("gpg-clearsigned-only", "gpg", alice, good), func(c *interopCase) {
			c.Absent = []string{"-----BEGIN PGP SIGNATURE-----"}
		}),
		with(clearCase("gpg-clearsigned-tampered", "gpg", alice, triage.SignatureBad), func(c *interopCase) {
			c.Texts = append(c.Texts, "account 6666")
		}),
		with(clearCase("gpg-clearsigned-sha1", "gpg", alice, triage.SignatureWeak), func(c *interopCase) {
			c.Sigs[0].Hash = "SHA1"
		}),
	)

	// 9. Inline encrypted in text/plain and in text/html.
	inline := func(name, producer string) interopCase {
		c := encCase(name, producer, "team-gpg-ed25519", v1)
		c.Texts = []string{"Hello team, my report is encrypted below.", fixtureLine(name) + ": the secret is in the block.", "Regards, Alice"}
		return c
	}
	for _, tool := range []string{"gpg", "sq", "ojs", "go"} {
		add(inline(tool+"-inline-encrypted", producers[tool]))
	}
	add(inline("gpg-inline-html-pre", "gpg"), with(inline("gpg-inline-html-br", "gpg"), func(c *interopCase) {
		c.Outline = "" // the armor is broken up by <br>
	}))

	// 10. Encrypted attachments (.pgp binary, .asc armored) in a plain mail.
	attachment := func(name, producer, team, file, outline string) interopCase {
		c := encCase(name, producer, team, outline)
		c.Texts = []string{fixtureLine(name) + ": my proof of concept is attached, encrypted."}
		c.Attachments = []attWant{{file, file}}
		return c
	}
	add(
		attachment("gpg-attachment-pgp", "gpg", "team-gpg-ed25519", "poc.py", ""),
		attachment("gpg-attachment-asc", "gpg", "team-rsa3072", "request.txt", v1),
		attachment("ojs-attachment-pgp", "openpgp.js", "team-ojs-v6", "poc.py", ""),
	)

	// 11. Several recipients, the team only in Bcc, protected headers.
	add(
		encCase("gpg-several-recipients", "gpg", "team-gpg-ed25519", "PKESKv3 PKESKv3 PKESKv3 SEIPDv1"),
		encCase("sq-several-recipients", "sq", "team-sq-cv25519", "PKESKv3 PKESKv3 SEIPDv1"),
		// A v4 key without SEIPDv2 among the recipients: SEIPDv1 for all.
		encCase("ojs-several-recipients", "openpgp.js", "team-ojs-v6", "PKESKv3 PKESKv3 SEIPDv1"),
		encCase("go-several-recipients", "go-crypto", "team-go-v6", "PKESKv3 PKESKv3 PKESKv3 SEIPDv1"),
		encCase("gpg-bcc", "gpg", "team-gpg-ed25519", "PKESKv3 PKESKv3 SEIPDv1"),
		with(signedEncCase("gpg-protected-headers", "gpg", "team-gpg-ed25519", v1, alice), func(c *interopCase) {
			c.Title = "Protected subject: XXE in the invoice import"
		}),
		with(encCase("ojs-protected-headers-legacy", "openpgp.js", "team-ojs-v6", v2any), func(c *interopCase) {
			c.Title = "Protected subject: SSRF in the webhook tester"
		}),
	)

	// 12. Researcher keys carried by the mail.
	add(
		with(encCase("gpg-key-attached", "gpg", "team-gpg-ed25519", v1), func(c *interopCase) {
			c.Absent = nil // the key is an armored attachment
			c.Keys = []keyWant{{alice, triage.KeySourceAttachment}}
		}),
		with(encCase("sq-autocrypt", "sq", "team-gpg-ed25519", v1), func(c *interopCase) {
			c.Keys = []keyWant{{sam, triage.KeySourceAutocrypt}}
		}),
	)

	// 13. Undecryptable, each with its reason.
	add(
		undecryptable("gpg-other-key", "gpg", "team-gpg-ed25519", pgp.ErrNoKey),
		undecryptable("ojs-other-key", "openpgp.js", "team-ojs-v6", pgp.ErrNoKey),
		undecryptable("gpg-tampered", "gpg", "team-gpg-ed25519", pgp.ErrIntegrity),
		undecryptable("ojs-tampered-seipdv2", "openpgp.js", "team-ojs-v6", pgp.ErrIntegrity),
		undecryptable("go-tampered-seipdv2", "go-crypto", "team-go-v6", pgp.ErrIntegrity),
		undecryptable("gpg-truncated", "gpg", "team-gpg-ed25519", pgp.ErrMalformed),
		undecryptable("gpg-malformed", "gpg", "team-gpg-ed25519", pgp.ErrMalformed),
	)
	return cs
}

// interopDir is where the fixtures are: INTEROP_DIR (set by `make
// interop`) or the committed set.
func interopDir() string {
	if d := os.Getenv("INTEROP_DIR"); d != "" {
		return d
	}
	return filepath.Join("testdata", "interop", "fixtures")
}

// interopKeys loads keys/ once per test run.
type interopKeys struct {
	dir    string
	verify openpgp.EntityList            // researcher-*.pub.asc
	team   map[string]openpgp.EntityList // team-*.sec.asc, unlocked
	named  map[string]*openpgp.Entity    // every *.asc by stem, public or secret
}

func loadInteropKeys(t *testing.T, dir string) *interopKeys {
	t.Helper()
	k := &interopKeys{dir: dir, team: map[string]openpgp.EntityList{}, named: map[string]*openpgp.Entity{}}
	files, err := filepath.Glob(filepath.Join(dir, "keys", "*.asc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no keys in %s/keys (run make fixtures): %v", dir, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		stem := strings.TrimSuffix(strings.TrimSuffix(base, ".asc"), ".pub")
		stem = strings.TrimSuffix(stem, ".sec")
		switch {
		case strings.HasSuffix(base, ".sec.asc"):
			el, err := pgp.ReadSecretKeys(data, []byte(interopPassphrase))
			if err != nil {
				t.Fatalf("%s: %v", base, err)
			}
			k.team[stem] = el
			k.named[stem] = el[0]
		default:
			el, err := pgp.ReadPublicKeys(data)
			if err != nil {
				t.Fatalf("%s: %v", base, err)
			}
			if k.named[stem] == nil {
				k.named[stem] = el[0]
			}
			if strings.HasPrefix(base, "researcher-") {
				k.verify = append(k.verify, el...)
			}
		}
	}
	return k
}

func (k *interopKeys) entity(t *testing.T, stem string) *openpgp.Entity {
	t.Helper()
	e := k.named[stem]
	if e == nil {
		t.Fatalf("no key %s in %s/keys", stem, k.dir)
	}
	return e
}

// keyIDs are the 16-hex-digit IDs of e's primary key and subkeys.
func keyIDs(e *openpgp.Entity) []string {
	ids := []string{fmt.Sprintf("%016X", e.PrimaryKey.KeyId)}
	for _, s := range e.Subkeys {
		ids = append(ids, fmt.Sprintf("%016X", s.PublicKey.KeyId))
	}
	return ids
}

// TestInterop checks every fixture of the matrix against its row.
func TestInterop(t *testing.T) {
	t.Parallel()
	dir := interopDir()
	keys := loadInteropKeys(t, dir)
	cases := interopCases()

	// The manifest and the directory must name the same fixtures.
	onDisk, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	inManifest := map[string]bool{}
	for _, c := range cases {
		if inManifest[c.Name] {
			t.Errorf("manifest names %s twice", c.Name)
		}
		inManifest[c.Name] = true
	}
	for _, f := range onDisk {
		if name := strings.TrimSuffix(filepath.Base(f), ".eml"); !inManifest[name] {
			t.Errorf("%s: fixture not in the manifest", name)
		}
	}

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.Name+".eml"))
			if err != nil {
				t.Fatalf("fixture missing (gen.sh out of step with the manifest?): %v", err)
			}
			checkInterop(t, keys, c, raw)
		})
	}
}

func checkInterop(t *testing.T, keys *interopKeys, c interopCase, raw []byte) {
	if c.Outline != "" {
		if got := armoredOutline(raw); !strings.HasPrefix(got, c.Outline) {
			t.Errorf("fixture made by %s is %q, want %q...: the tool did not make what this row tests", c.Producer, got, c.Outline)
		}
	}
	team, ok := keys.team[c.Team]
	if !ok {
		t.Fatalf("no team key %s", c.Team)
	}
	m, err := pgp.ParseMessage(raw, pgp.Keys(team, keys.verify), pgp.Limits{}, interopNow())
	if err != nil {
		t.Fatalf("ParseMessage: %v", err)
	}

	if m.Encrypted != c.Encrypted || m.Decrypted != c.Decrypted {
		t.Errorf("Encrypted, Decrypted = %v, %v, want %v, %v (DecryptError: %v)", m.Encrypted, m.Decrypted, c.Encrypted, c.Decrypted, m.DecryptError)
	}
	switch {
	case c.Err != nil && !errors.Is(m.DecryptError, c.Err):
		t.Errorf("DecryptError = %v, want %v", m.DecryptError, c.Err)
	case c.Err == nil && m.DecryptError != nil:
		t.Errorf("DecryptError = %v, want none", m.DecryptError)
	}
	if got := m.Title(); c.Title != "" && got != c.Title {
		t.Errorf("Title() = %q, want %q", got, c.Title)
	}
	for _, s := range c.Texts {
		if !strings.Contains(m.Text, s) {
			t.Errorf("Text lacks %q; Text:\n%s", s, m.Text)
		}
	}
	for _, s := range c.Absent {
		if strings.Contains(m.Text, s) {
			t.Errorf("Text contains %q, which must not be shown", s)
		}
		for _, a := range m.Attachments {
			if bytes.Contains(a.Data, []byte(s)) && s != "-----BEGIN PGP" {
				t.Errorf("attachment %s contains %q, which must not be shown", a.Name, s)
			}
		}
	}

	checkSignatures(t, keys, c, m)
	checkParts(t, c, m)

	for _, w := range c.Attachments {
		var found bool
		for _, a := range m.Attachments {
			if a.Name != w.Name {
				continue
			}
			found = true
			if w.File == "" {
				break
			}
			data, err := os.ReadFile(filepath.Join(keys.dir, "files", w.File))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if a.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("attachment %s: SHA-256 %s, want that of files/%s (%d bytes; got %d)", a.Name, a.SHA256, w.File, len(data), a.Size)
			}
		}
		if !found {
			t.Errorf("no attachment %q; have %v", w.Name, attachmentNames(m))
		}
	}

	for _, w := range c.Keys {
		want := pgp.Fingerprint(keys.entity(t, w.Key))
		var found bool
		for _, k := range m.Keys {
			if k.Fingerprint == want && k.Source == w.Source {
				found = true
			}
		}
		if !found {
			t.Errorf("Keys lacks %s (%s) from %s; have %+v", w.Key, want, w.Source, keysSummary(m.Keys))
		}
	}
}

func checkSignatures(t *testing.T, keys *interopKeys, c interopCase, m *pgp.Message) {
	if m.Signature.Status != c.Summary {
		t.Errorf("Signature.Status (summary) = %q, want %q (Reason %q)", m.Signature.Status, c.Summary, m.Signature.Reason)
	}
	if c.OtherSigs {
		return
	}
	if len(m.Signatures) != len(c.Sigs) {
		t.Errorf("%d signatures %v, want %d", len(m.Signatures), sigStatuses(m.Signatures), len(c.Sigs))
		return
	}
	for i, w := range c.Sigs {
		s := m.Signatures[i]
		if s.Status != w.Status {
			t.Errorf("Signatures[%d].Status = %q, want %q (Reason %q)", i, s.Status, w.Status, s.Reason)
		}
		if w.Hash != "" && s.Hash != w.Hash {
			t.Errorf("Signatures[%d].Hash = %q, want %q", i, s.Hash, w.Hash)
		}
		if w.Signer == "" {
			continue
		}
		e := keys.entity(t, w.Signer)
		if w.Status == triage.SignatureGood {
			if fp := pgp.Fingerprint(e); s.Fingerprint != fp {
				t.Errorf("Signatures[%d].Fingerprint = %q, want %s's %s", i, s.Fingerprint, w.Signer, fp)
			}
			if s.FromMatches != w.FromMatches {
				t.Errorf("Signatures[%d].FromMatches = %v, want %v (From %s, signer %q)", i, s.FromMatches, w.FromMatches, m.FromEmail, s.SignerUserID)
			}
			continue
		}
		ids := keyIDs(e)
		if !containsString(ids, s.KeyID) {
			t.Errorf("Signatures[%d].KeyID = %q, want one of %s's %v", i, s.KeyID, w.Signer, ids)
		}
	}
}

// checkParts: each Signed text is in a part covered by a good
// signature, each Unsigned text in a part covered by none; and the two
// records of coverage (BodyPart.Signature, Signature.Parts) agree.
func checkParts(t *testing.T, c interopCase, m *pgp.Message) {
	covered := map[string]int{} // path -> 1 + signature index, from Signature.Parts
	for i, s := range m.Signatures {
		for _, path := range s.Parts {
			covered[path] = i + 1
		}
	}
	for _, p := range m.Parts {
		if p.Signature != covered[p.Path] {
			t.Errorf("part %s: BodyPart.Signature = %d, but Signatures name it in signature %d", p.Path, p.Signature, covered[p.Path])
		}
		delete(covered, p.Path)
	}
	for path, i := range covered {
		t.Errorf("signature %d covers part %q, which is not in Parts", i, path)
	}
	find := func(s string) []triage.BodyPart {
		var ps []triage.BodyPart
		for _, p := range m.Parts {
			if strings.Contains(p.Text, s) {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			t.Errorf("no body part holds %q; parts: %s", s, partsSummary(m))
		}
		return ps
	}
	for _, s := range c.Signed {
		for _, p := range find(s) {
			if p.Signature <= 0 || p.Signature > len(m.Signatures) || m.Signatures[p.Signature-1].Status != triage.SignatureGood {
				t.Errorf("part %s holding %q is not covered by a good signature (Signature %d); parts: %s", p.Path, s, p.Signature, partsSummary(m))
			}
		}
	}
	for _, s := range c.Unsigned {
		for _, p := range find(s) {
			if p.Signature != 0 {
				t.Errorf("part %s holding %q is marked signed (Signature %d), but nothing signs it", p.Path, s, p.Signature)
			}
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sigStatuses(sigs []triage.Signature) []triage.SignatureStatus {
	var out []triage.SignatureStatus
	for _, s := range sigs {
		out = append(out, s.Status)
	}
	return out
}

func attachmentNames(m *pgp.Message) []string {
	var out []string
	for _, a := range m.Attachments {
		out = append(out, a.Name)
	}
	return out
}

func keysSummary(ks []triage.ResearcherKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Fingerprint+"/"+string(k.Source))
	}
	return out
}

func partsSummary(m *pgp.Message) string {
	var b strings.Builder
	for _, p := range m.Parts {
		text := p.Text
		if len(text) > 60 {
			text = text[:60] + "…"
		}
		fmt.Fprintf(&b, "\n  %s %s sig=%d %q", p.Path, p.ContentType, p.Signature, text)
	}
	if b.Len() == 0 {
		return "(none)"
	}
	return b.String()
}

// armoredOutline names the outer packets of the first armored PGP
// MESSAGE in raw, as gogen's dump does: "PKESKv6 SEIPDv2/GCM".
func armoredOutline(raw []byte) string {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	i := bytes.Index(raw, []byte("-----BEGIN PGP MESSAGE-----"))
	if i < 0 {
		return "(no armored message)"
	}
	block, err := armor.Decode(bytes.NewReader(raw[i:]))
	if err != nil {
		return "(armor: " + err.Error() + ")"
	}
	pr := packet.NewReader(block.Body)
	var parts []string
	for {
		p, err := pr.Next()
		if err != nil {
			if err != io.EOF {
				parts = append(parts, "ERROR")
			}
			return strings.Join(parts, " ")
		}
		switch p := p.(type) {
		case *packet.EncryptedKey:
			parts = append(parts, fmt.Sprintf("PKESKv%d", p.Version))
		case *packet.SymmetricallyEncrypted:
			switch {
			case p.Version == 2:
				parts = append(parts, "SEIPDv2/"+aeadName(p.Mode))
			case p.IntegrityProtected:
				parts = append(parts, "SEIPDv1")
			default:
				parts = append(parts, "SED")
			}
			return strings.Join(parts, " ")
		case *packet.AEADEncrypted:
			return strings.Join(append(parts, "AEAD(tag 20)"), " ")
		default:
			parts = append(parts, fmt.Sprintf("%T", p))
			return strings.Join(parts, " ")
		}
	}
}

func aeadName(m packet.AEADMode) string {
	switch m {
	case packet.AEADModeOCB:
		return "OCB"
	case packet.AEADModeGCM:
		return "GCM"
	case packet.AEADModeEAX:
		return "EAX"
	}
	return fmt.Sprint(int(m))
}

// TestInteropManifestCoversMatrix keeps the matrix honest: every team key,
// producer and shape the README promises has rows.
func TestInteropManifestCoversMatrix(t *testing.T) {
	t.Parallel()
	teams := map[string]int{}
	producersSeen := map[string]int{}
	outlines := map[string]int{}
	for _, c := range interopCases() {
		teams[c.Team]++
		producersSeen[c.Producer]++
		for _, o := range []string{"SEIPDv2/OCB", "SEIPDv2/GCM", "SEIPDv2/EAX", "AEAD(tag 20)", "SEIPDv1"} {
			if strings.Contains(c.Outline, o) {
				outlines[o]++
			}
		}
	}
	for _, k := range []string{"team-rsa2048", "team-rsa3072", "team-rsa4096", "team-gpg-ed25519", "team-sq-cv25519", "team-ojs-ecc", "team-ojs-v6", "team-go-v6"} {
		if teams[k] == 0 {
			t.Errorf("no fixture for team key %s", k)
		}
	}
	for _, p := range []string{"gpg", "sq", "openpgp.js", "openpgp.js v5", "go-crypto"} {
		if producersSeen[p] == 0 {
			t.Errorf("no fixture made by %s", p)
		}
	}
	var names []string
	for _, o := range []string{"SEIPDv2/OCB", "SEIPDv2/GCM", "SEIPDv2/EAX", "AEAD(tag 20)", "SEIPDv1"} {
		if outlines[o] == 0 {
			names = append(names, o)
		}
	}
	if len(names) > 0 {
		t.Errorf("no fixture checked to use %v", names)
	}
}
