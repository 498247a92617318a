package inbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// sharedKey is a fixture secret key unlocked once per test binary (its
// S2K is deliberately slow). Each test gets a copy of its own, parsed from
// the unlocked key: go-crypto caches signature checks in the entities it
// parses (writes), so parallel tests must not share them.
type sharedKey struct {
	path, passphrase string

	once     sync.Once
	unlocked []byte
	err      error
}

var (
	teamKey       = &sharedKey{path: filepath.Join("..", "pgp", "testdata", "team-ed25519.sec.asc"), passphrase: "team-passphrase"}
	researcherKey = &sharedKey{path: filepath.Join("testdata", "researcher.sec.asc"), passphrase: "researcher-passphrase"}
)

func (k *sharedKey) get(t *testing.T) openpgp.EntityList {
	t.Helper()
	k.once.Do(func() {
		var b []byte
		if b, k.err = os.ReadFile(k.path); k.err != nil {
			return
		}
		var el openpgp.EntityList
		if el, k.err = pgp.ReadSecretKeys(b, []byte(k.passphrase)); k.err != nil {
			return
		}
		var buf bytes.Buffer
		for _, e := range el {
			if k.err = e.SerializePrivateWithoutSigning(&buf, nil); k.err != nil {
				return
			}
		}
		k.unlocked = buf.Bytes()
	})
	if k.err != nil {
		t.Fatal(k.err)
	}
	el, err := openpgp.ReadKeyRing(bytes.NewReader(k.unlocked))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// loadTeam returns the fixture team key, unlocked.
func loadTeam(t *testing.T) openpgp.EntityList { return teamKey.get(t) }

// loadResearcher returns the researcher's fixture secret key
// (testdata/researcher.sec.asc), unlocked.
func loadResearcher(t *testing.T) openpgp.EntityList { return researcherKey.get(t) }

// intake is a Processor on a real database.
type intake struct {
	t    *testing.T
	db   *db.DB
	proc *inbox.Processor
	team openpgp.EntityList
	now  time.Time
}

func newIntake(t *testing.T) *intake {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	team := loadTeam(t)
	in := &intake{t: t, db: d, team: team, now: time.Now().UTC().Truncate(time.Second)}
	in.proc = in.processor(d)
	return in
}

// processor is a Processor on store, with the team's keys, at in.now.
func (in *intake) processor(store interface {
	inbox.Store
	inbox.ConversationStore
}) *inbox.Processor {
	in.t.Helper()
	p, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: store, Conversation: store, Keys: inbox.FixedKeys(in.team),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Domain: "example.com",
		Now: func() time.Time { return in.now }})
	if err != nil {
		in.t.Fatal(err)
	}
	return p
}

// file stores data as a message received at in.now and files it.
func (in *intake) file(data string) *triage.Report {
	in.t.Helper()
	ctx := context.Background()
	m := &triage.RawMessage{MailFrom: "bounces@researcher.example", Recipients: []string{"security@example.com"},
		ReceivedAt: in.now, Data: []byte(data)}
	if err := in.db.AddRawMessage(ctx, m); err != nil {
		in.t.Fatal(err)
	}
	if err := in.proc.File(ctx, m.ID); err != nil {
		in.t.Fatal(err)
	}
	list, err := in.db.Reports(ctx, triage.ReportFilter{})
	if err != nil {
		in.t.Fatal(err)
	}
	for _, r := range list {
		if r.MessageID == m.ID {
			full, err := in.db.Report(ctx, r.ID)
			if err != nil {
				in.t.Fatal(err)
			}
			return full
		}
	}
	in.t.Fatalf("message %d was not filed", m.ID)
	return nil
}

func (in *intake) keys(email string) []triage.ResearcherKey {
	in.t.Helper()
	ks, err := in.db.ResearcherKeys(context.Background(), email)
	if err != nil {
		in.t.Fatal(err)
	}
	return ks
}

// storeKey stores e for email as if it came from src.
func (in *intake) storeKey(e *openpgp.Entity, email string, src triage.KeySource, seen time.Time) {
	in.t.Helper()
	pub, err := pgp.PublicKeyBytes(e)
	if err != nil {
		in.t.Fatal(err)
	}
	ids := []string{fmt.Sprintf("%016X", e.PrimaryKey.KeyId)}
	for _, s := range e.Subkeys {
		ids = append(ids, fmt.Sprintf("%016X", s.PublicKey.KeyId))
	}
	k := triage.ResearcherKey{Email: email, Fingerprint: pgp.Fingerprint(e), UserID: pgp.PrimaryUserID(e),
		Source: src, KeyIDs: ids, Public: pub, FirstSeen: seen, LastSeen: seen}
	if err := in.db.AddResearcherKeys(context.Background(), []triage.ResearcherKey{k}); err != nil {
		in.t.Fatal(err)
	}
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// pgpMIME encrypts inner (a MIME entity) to the team, signed by signer
// when not nil, and wraps it as RFC 3156 PGP/MIME with extra outer
// header fields.
func (in *intake) pgpMIME(from, subject, extraHeader, inner string, signer *openpgp.Entity) string {
	in.t.Helper()
	armored, err := pgp.Encrypt([]byte(crlf(inner)), in.team, signer, in.now)
	if err != nil {
		in.t.Fatal(err)
	}
	return crlf("From: " + from + "\n" +
		"To: security@example.com\n" +
		"Subject: " + subject + "\n" +
		extraHeader +
		"MIME-Version: 1.0\n" +
		"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\n" +
		"\n" +
		"--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n" +
		"--b1\nContent-Type: application/octet-stream\n\n" +
		string(armored) + "\n--b1--\n")
}

const aliceEmail = "alice@researcher.example"

// TestProcessor_SignedByStoredKey: a signature by a key we hold for the
// sender verifies, and the key gains the "signature" provenance; one by a
// key held for another address is found by its issuer key ID.
func TestProcessor_SignedByStoredKey(t *testing.T) {
	t.Parallel()
	in := newIntake(t)
	alice := newKey(t, "Alice Researcher", aliceEmail, in.now.Add(-time.Hour), 0)
	fpr := pgp.Fingerprint(alice)
	inner := "Content-Type: text/plain; charset=utf-8\n\nThe reset token never expires.\n"
	msg := in.pgpMIME("Alice Researcher <"+aliceEmail+">", "Reset tokens", "", inner, alice)

	r := in.file(msg)
	if r.Signature.Status != triage.SignatureUnknownKey || r.Signature.KeyID == "" {
		t.Fatalf("without the key: signature %+v, want unknown_key with the issuer", r.Signature)
	}
	if ks := in.keys(aliceEmail); len(ks) != 0 {
		t.Fatalf("an unknown signer's key was stored: %+v", ks)
	}

	// The key becomes known (say from WKD); the same message again verifies.
	wkdSeen := in.now.Add(-time.Minute)
	in.storeKey(alice, aliceEmail, triage.KeySourceWKD, wkdSeen)
	r = in.file(msg)
	if r.Signature.Status != triage.SignatureGood || r.Signature.Fingerprint != fpr {
		t.Fatalf("with the stored key: signature %+v, want good by %s", r.Signature, fpr)
	}
	// The report keeps which part the signature covers.
	if len(r.Signatures) != 1 || !r.Signatures[0].FromMatches || len(r.Parts) != 1 || r.Parts[0].Signature != 1 ||
		!strings.Contains(r.Parts[0].Text, "The reset token never expires.") || !r.Parts[0].Encrypted {
		t.Errorf("stored content: signatures %+v parts %+v", r.Signatures, r.Parts)
	}
	ks := in.keys(aliceEmail)
	if len(ks) != 1 || ks[0].Source != triage.KeySourceSignature ||
		!slices.Equal(ks[0].Sources, []triage.KeySource{triage.KeySourceSignature, triage.KeySourceWKD}) ||
		!ks[0].LastSeen.Equal(in.now) || !ks[0].FirstSeen.Equal(wkdSeen) {
		t.Errorf("after a good signature: %+v", ks)
	}

	// The key is held for another address only: the issuer key ID finds it.
	in2 := newIntake(t)
	in2.storeKey(alice, "alice@old-address.example", triage.KeySourceVKS, in2.now)
	msg2 := in2.pgpMIME("Alice Researcher <"+aliceEmail+">", "From a new address", "", inner, alice)
	r = in2.file(msg2)
	if r.Signature.Status != triage.SignatureGood || r.Signature.Fingerprint != fpr {
		t.Fatalf("key held for another address: signature %+v, want good", r.Signature)
	}
}

// TestProcessor_SignerNotSender: a good signature by a stored key whose
// user IDs do not carry the From address gives that address no key.
func TestProcessor_SignerNotSender(t *testing.T) {
	t.Parallel()
	in := newIntake(t)
	bob := newKey(t, "Bob", "bob@elsewhere.example", in.now.Add(-time.Hour), 0)
	in.storeKey(bob, "bob@elsewhere.example", triage.KeySourceWKD, in.now)
	msg := in.pgpMIME("Alice Researcher <"+aliceEmail+">", "Forwarded", "",
		"Content-Type: text/plain\n\nSigned by Bob, sent by Alice.\n", bob)
	r := in.file(msg)
	if r.Signature.Status != triage.SignatureGood || r.Signature.Fingerprint != pgp.Fingerprint(bob) {
		t.Fatalf("signature %+v", r.Signature)
	}
	if ks := in.keys(aliceEmail); len(ks) != 0 {
		t.Errorf("the signer's key was stored for the sender: %+v", ks)
	}
	if ks := in.keys("bob@elsewhere.example"); len(ks) != 1 || ks[0].Source != triage.KeySourceWKD {
		t.Errorf("bob's key changed: %+v", ks)
	}
}

// attachedKeyMessage is a signed-or-not encrypted report with the
// researcher's public key attached (as Thunderbird and K-9 do) and,
// optionally, someone else's key attached too.
func (in *intake) attachedKeyMessage(key, other *openpgp.Entity, signer *openpgp.Entity) string {
	in.t.Helper()
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"m1\"\n\n")
	b.WriteString("--m1\nContent-Type: text/plain; charset=utf-8\n\nMy key is attached.\n")
	for i, e := range []*openpgp.Entity{key, other} {
		if e == nil {
			continue
		}
		arm := armoredPublic(in.t, e)
		fmt.Fprintf(&b, "--m1\nContent-Type: application/pgp-keys; name=\"key%d.asc\"\nContent-Disposition: attachment; filename=\"key%d.asc\"\n\n%s\n", i, i, arm)
	}
	b.WriteString("--m1--\n")
	return in.pgpMIME("Alice Researcher <"+aliceEmail+">", "Report with key", "", b.String(), signer)
}

// TestProcessor_KeyAttachment: an attached application/pgp-keys part for
// the sender's address is stored with source attachment; a key for
// another address is not.
func TestProcessor_KeyAttachment(t *testing.T) {
	t.Parallel()
	in := newIntake(t)
	alice := newKey(t, "Alice Researcher", aliceEmail, in.now.Add(-time.Hour), 0)
	mallory := newKey(t, "Mallory", "mallory@elsewhere.example", in.now.Add(-time.Hour), 0)
	in.file(in.attachedKeyMessage(alice, mallory, nil))
	ks := in.keys(aliceEmail)
	if len(ks) != 1 || ks[0].Fingerprint != pgp.Fingerprint(alice) || ks[0].Source != triage.KeySourceAttachment ||
		!ks[0].FirstSeen.Equal(in.now) || ks[0].UserID != "Alice Researcher <"+aliceEmail+">" {
		t.Fatalf("keys %+v", ks)
	}
	if ks := in.keys("mallory@elsewhere.example"); len(ks) != 0 {
		t.Errorf("another address's attached key was stored: %+v", ks)
	}
}

// TestProcessor_SignedByAttachedKey: a key attached to the very message
// it signs proves nothing about who holds it: it is stored as an
// attachment, never with the "signature" provenance.
func TestProcessor_SignedByAttachedKey(t *testing.T) {
	t.Parallel()
	in := newIntake(t)
	alice := newKey(t, "Alice Researcher", aliceEmail, in.now.Add(-time.Hour), 0)
	in.file(in.attachedKeyMessage(alice, nil, alice))
	ks := in.keys(aliceEmail)
	if len(ks) != 1 || ks[0].Source != triage.KeySourceAttachment || slices.Contains(ks[0].Sources, triage.KeySourceSignature) {
		t.Fatalf("keys %+v", ks)
	}
}

// TestProcessor_Autocrypt: the key in an Autocrypt header for the From
// address is stored with source autocrypt.
func TestProcessor_Autocrypt(t *testing.T) {
	t.Parallel()
	in := newIntake(t)
	alice := newKey(t, "Alice Researcher", aliceEmail, in.now.Add(-time.Hour), 0)
	keydata := base64.StdEncoding.EncodeToString(publicBytes(t, alice))
	var folded strings.Builder
	for len(keydata) > 0 {
		n := min(70, len(keydata))
		folded.WriteString("\n " + keydata[:n])
		keydata = keydata[n:]
	}
	header := "Autocrypt: addr=" + aliceEmail + "; prefer-encrypt=mutual; keydata=" + folded.String() + "\n"
	in.file(in.pgpMIME("Alice Researcher <"+aliceEmail+">", "Autocrypt", header,
		"Content-Type: text/plain\n\nHello.\n", nil))
	ks := in.keys(aliceEmail)
	if len(ks) != 1 || ks[0].Fingerprint != pgp.Fingerprint(alice) || ks[0].Source != triage.KeySourceAutocrypt {
		t.Fatalf("keys %+v", ks)
	}
}

// TestProcessor_Reverify: once the unknown signer's key is stored, the
// report is verified again and shows the good signature.
func TestProcessor_Reverify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := newIntake(t)
	alice := newKey(t, "Alice Researcher", aliceEmail, in.now.Add(-time.Hour), 0)
	r := in.file(in.pgpMIME("Alice Researcher <"+aliceEmail+">", "Signed", "",
		"Content-Type: text/plain\n\nSigned text.\n", alice))
	if r.Signature.Status != triage.SignatureUnknownKey {
		t.Fatalf("signature %+v", r.Signature)
	}
	in.storeKey(alice, aliceEmail, triage.KeySourceWKD, in.now)
	st, err := in.proc.Reverify(ctx, r.ID)
	if err != nil || st != triage.SignatureGood {
		t.Fatalf("reverify: %q %v", st, err)
	}
	got, err := in.db.Report(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Signature.Status != triage.SignatureGood || got.Signature.Fingerprint != pgp.Fingerprint(alice) || got.Body != r.Body {
		t.Errorf("after reverify: %+v body %q", got.Signature, got.Body)
	}
	if ks := in.keys(aliceEmail); len(ks) != 1 || ks[0].Source != triage.KeySourceSignature {
		t.Errorf("keys %+v", ks)
	}
	if _, err := in.proc.Reverify(ctx, 9999); triage.ErrorCode(err) != triage.ENOTFOUND {
		t.Errorf("unknown report: %v", err)
	}
}

// TestProcessor_GnuPGFixtures files messages made by GnuPG (pgp/testdata)
// and checks which researcher keys they leave behind.
func TestProcessor_GnuPGFixtures(t *testing.T) {
	t.Parallel()
	in := newIntake(t)
	in.now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

	// A key attached inside the encrypted part, and one in an Autocrypt header.
	in.file(string(fixture(t, "key-attached.eml")))
	if ks := in.keys("kim@newkey.example"); len(ks) != 1 || ks[0].Source != triage.KeySourceAttachment || !ks[0].FirstSeen.Equal(in.now) {
		t.Errorf("attached key: %+v", ks)
	}
	in.file(string(fixture(t, "autocrypt.eml")))
	if ks := in.keys("ada@autocrypt.example"); len(ks) != 1 || ks[0].Source != triage.KeySourceAutocrypt {
		t.Errorf("autocrypt key: %+v", ks)
	}

	// Alice signed, Bob sent: with Alice's key stored the signature is
	// good but the signer is not the sender, and Bob gets no key.
	el, err := pgp.ReadPublicKeys(fixture(t, "researcher.pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	in.storeKey(el[0], "alice@researcher.example", triage.KeySourceVKS, in.now)
	r := in.file(string(fixture(t, "signer-not-from.eml")))
	if r.Signature.Status != triage.SignatureGood || len(r.Signatures) != 1 || r.Signatures[0].FromMatches {
		t.Errorf("signer-not-from: %+v %+v", r.Signature, r.Signatures)
	}
	if ks := in.keys("bob@finder.example"); len(ks) != 0 {
		t.Errorf("the sender got the signer's key: %+v", ks)
	}
	if ks := in.keys("alice@researcher.example"); len(ks) != 1 || ks[0].Source != triage.KeySourceVKS {
		t.Errorf("alice's key changed: %+v", ks)
	}
}

// countingStore is the real database, counting the researcher key
// lookups intake makes.
type countingStore struct {
	*db.DB
	byAddress, byKeyID atomic.Int32
}

func (s *countingStore) ResearcherKeys(ctx context.Context, email string) ([]triage.ResearcherKey, error) {
	s.byAddress.Add(1)
	return s.DB.ResearcherKeys(ctx, email)
}

func (s *countingStore) ResearcherKeysByKeyID(ctx context.Context, ids []string) ([]triage.ResearcherKey, error) {
	s.byKeyID.Add(1)
	return s.DB.ResearcherKeysByKeyID(ctx, ids)
}

// TestProcessor_OneReadPerMessage: a signed report is read once. The
// signer's key, held for another address (a forwarded mail, a second
// address), is asked of the store once, by its key ID, while the
// message is read; nothing reads the header beforehand to look keys up
// by address.
func TestProcessor_OneReadPerMessage(t *testing.T) {
	t.Parallel()
	in := newIntake(t)
	alice := newKey(t, "Alice Researcher", aliceEmail, in.now.Add(-time.Hour), 0)
	in.storeKey(alice, "alice@old-address.example", triage.KeySourceVKS, in.now)
	store := &countingStore{DB: in.db}
	in.proc = in.processor(store)
	r := in.file(in.pgpMIME("Alice Researcher <"+aliceEmail+">", "Signed", "",
		"Content-Type: text/plain\n\nSigned text.\n", alice))
	if r.Signature.Status != triage.SignatureGood {
		t.Fatalf("signature %+v, want good", r.Signature)
	}
	if n := store.byAddress.Load(); n != 0 {
		t.Errorf("keys looked up by address %d times, want none (the signature names its key)", n)
	}
	if n := store.byKeyID.Load(); n != 1 {
		t.Errorf("keys looked up by key ID %d times, want once", n)
	}
}
