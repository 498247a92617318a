package pgp

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

// signerKeys are the public keys of the weak, expired and revoked
// fixtures' signers.
func signerKeys(t *testing.T) openpgp.EntityList {
	t.Helper()
	el, err := ReadPublicKeys(readFixture(t, "signers.pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

type wantSig struct {
	status      triage.SignatureStatus
	signer      string // SignerUserID
	fromMatches bool
	hash        string
	parts       []string
	reason      string // Reason contains it
	// unparsed: go-crypto skipped the packet inside a one-pass signed
	// message; its key ID and time are unknown.
	unparsed bool
}

type wantPart struct {
	path      string
	sig       int // BodyPart.Signature
	text      string
	encrypted bool
	fromHTML  bool
}

const (
	alice = "Alice Researcher <alice@researcher.example>"
	rita  = "Rita Legacy <rita@legacy.example>"
)

// TestParseMessage_SignatureResults checks, for each GnuPG-made shape,
// every signature's status and what it covers, every readable part and
// the signature it points at, and the summary: what staff will see.
func TestParseMessage_SignatureResults(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	verify := append(append(openpgp.EntityList{}, keys.researcher...), signerKeys(t)...)
	tests := []struct {
		file    string
		verify  openpgp.EntityList // default: verify
		summary triage.SignatureStatus
		title   string
		sigs    []wantSig
		parts   []wantPart
	}{
		{
			file: "multipart-signed.eml", summary: triage.SignatureGood, title: "Token leak in /debug",
			sigs:  []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, hash: "SHA256", parts: []string{"1"}}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed in the clear: the API leaks tokens in /debug."}},
		},
		{
			// RFC 3156 section 5 over a nested multipart: the signature
			// covers the text inside it.
			file: "signed-nested.eml", summary: triage.SignatureGood, title: "Cache poisoning",
			sigs:  []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, parts: []string{"1.1.1"}}},
			parts: []wantPart{{path: "1.1.1", sig: 1, text: "Signed nested text: the cache key ignores the Host header."}},
		},
		{
			// RFC 3156 section 6.2: one OpenPGP message, signed and encrypted.
			file: "pgpmime-signed.eml", summary: triage.SignatureGood, title: "Reset tokens never expire",
			sigs:  []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, hash: "SHA512", parts: []string{"2"}}},
			parts: []wantPart{{path: "2", sig: 1, text: "Signed and encrypted: the password reset token never expires.", encrypted: true}},
		},
		{
			// RFC 3156 section 6.1: multipart/signed inside the encryption.
			file: "sign-then-encrypt.eml", summary: triage.SignatureGood, title: "Nested: the real subject",
			sigs:  []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, parts: []string{"2.1.1"}}},
			parts: []wantPart{{path: "2.1.1", sig: 1, text: "Signed, then encrypted: the signature is inside.", encrypted: true}},
		},
		{
			// multipart/signed around multipart/encrypted: the signature
			// covers the ciphertext, so the decrypted part counts as signed.
			file: "encrypt-then-sign.eml", summary: triage.SignatureGood, title: "Encrypt then sign",
			sigs:  []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, parts: []string{"1.2"}}},
			parts: []wantPart{{path: "1.2", sig: 1, text: "Encrypted, then signed from outside: the signature covers the ciphertext.", encrypted: true}},
		},
		{
			// Inline cleartext signature: only the block is signed;
			// dash-escaping is undone and a line that looks like armor
			// inside the signed text stays text.
			file: "clearsigned.eml", summary: triage.SignaturePartial, title: "Cleartext signed",
			sigs: []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, hash: "SHA512", parts: []string{"1+inline1"}}},
			parts: []wantPart{
				{path: "1", text: "Unsigned preface: anyone could have written this line."},
				{path: "1+inline1", sig: 1, text: "The staging host leaks its .git directory.\n- reproduce: curl https://staging.example.com/.git/config\n-----BEGIN PGP MESSAGE----- in the text is not armor here\nFrom the logs: 4 requests."},
				{path: "1+after1", text: "Unsigned footer, added by a mailing list."},
			},
		},
		{
			file: "ripemd160-signed.eml", summary: triage.SignatureWeak, title: "RIPEMD-160 signature",
			sigs:  []wantSig{{status: triage.SignatureWeak, parts: []string{"1+inline1"}, reason: "cannot be trusted", unparsed: true}},
			parts: []wantPart{{path: "1+inline1", sig: 1, text: "Signed inline with RIPEMD-160."}},
		},
		{
			file: "sha1-signed.eml", summary: triage.SignatureWeak,
			sigs:  []wantSig{{status: triage.SignatureWeak, signer: alice, fromMatches: true, hash: "SHA1", parts: []string{"1"}, reason: "SHA1"}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed with SHA-1, which can be forged."}},
		},
		{
			// Without the signer's key: still weak, never unknown_key
			// (which invites fetching the key to turn it good).
			file: "sha1-signed.eml", verify: keys.team, summary: triage.SignatureWeak,
			sigs:  []wantSig{{status: triage.SignatureWeak, hash: "SHA1", parts: []string{"1"}, reason: "which we do not hold"}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed with SHA-1, which can be forged."}},
		},
		{
			// go-crypto cannot even parse an MD5 signature packet.
			file: "md5-signed.eml", summary: triage.SignatureWeak,
			sigs:  []wantSig{{status: triage.SignatureWeak, signer: rita, fromMatches: true, hash: "MD5", parts: []string{"1"}, reason: "MD5"}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed with MD5 by an RSA-1024 key."}},
		},
		{
			file: "rsa1024-signed.eml", summary: triage.SignatureWeak,
			sigs:  []wantSig{{status: triage.SignatureWeak, signer: rita, fromMatches: true, hash: "SHA256", parts: []string{"1"}, reason: "RSA with 1024 bits"}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed with SHA-256, but by an RSA-1024 key."}},
		},
		{
			file: "expired-sig.eml", summary: triage.SignatureExpiredKey,
			sigs:  []wantSig{{status: triage.SignatureExpiredKey, signer: alice, fromMatches: true, parts: []string{"1"}, reason: "signature itself has expired"}},
			parts: []wantPart{{path: "1", sig: 1, text: "This signature expired a day after it was made."}},
		},
		{
			file: "expired-key.eml", summary: triage.SignatureExpiredKey,
			sigs:  []wantSig{{status: triage.SignatureExpiredKey, signer: "Erin Expired <erin@expired.example>", fromMatches: true, parts: []string{"1"}, reason: "had expired when the signature was made"}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed after the key had expired."}},
		},
		{
			file: "revoked-key.eml", summary: triage.SignatureRevokedKey,
			sigs:  []wantSig{{status: triage.SignatureRevokedKey, signer: "Rob Revoked <rob@revoked.example>", fromMatches: true, parts: []string{"1"}, reason: "revoked"}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed by a key that is now revoked."}},
		},
		{
			// Two signatures on one part, one by an unknown key: the
			// summary is the worst, the part points at the good one.
			file: "two-signers.eml", summary: triage.SignatureUnknownKey,
			sigs: []wantSig{
				{status: triage.SignatureGood, signer: alice, fromMatches: true, parts: []string{"1"}},
				{status: triage.SignatureUnknownKey, parts: []string{"1"}, reason: "which we do not hold"},
			},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed by two keys, one of them unknown."}},
		},
		{
			file: "pgpmime-unknown-signer.eml", summary: triage.SignatureUnknownKey,
			sigs:  []wantSig{{status: triage.SignatureUnknownKey, hash: "SHA512", parts: []string{"2"}, reason: "which we do not hold"}},
			parts: []wantPart{{path: "2", sig: 1, text: "Signed by a stranger: the upload endpoint accepts any MIME type.", encrypted: true}},
		},
		{
			// "Johnny, you are fired": a valid signed part wrapped in
			// unsigned ones.
			file: "wrapped-signed.eml", summary: triage.SignaturePartial, title: "Wrapped signature",
			sigs: []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, parts: []string{"2.1"}}},
			parts: []wantPart{
				{path: "1", text: "UNSIGNED: also wire 10000 EUR to the account below."},
				{path: "2.1", sig: 1, text: "The only signed sentence: please rotate the API keys."},
				{path: "3", text: "UNSIGNED footer: IBAN XX00 0000."},
			},
		},
		{
			// A forwarded signed mail is an attachment: its signature is
			// not the sender's and is not checked.
			file: "forwarded-signed.eml", summary: triage.SignatureNone, title: "Fwd: Token leak in /debug",
			parts: []wantPart{{path: "1", text: "Forwarding what Alice sent me."}},
		},
		{
			// Signed by Alice, From says Bob: good, but not From's.
			file: "signer-not-from.eml", summary: triage.SignatureGood,
			sigs:  []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: false, parts: []string{"1"}}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed by Alice, sent as Bob."}},
		},
		{
			// The signed entity's own Subject and From are neither the
			// title nor body text.
			file: "inner-headers.eml", summary: triage.SignatureGood, title: "Quarterly numbers",
			sigs:  []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, parts: []string{"1"}}},
			parts: []wantPart{{path: "1", sig: 1, text: "Quarterly numbers attached, all fine."}},
		},
		{
			// Inline encrypted blocks in HTML, in <pre> and with <br>.
			file: "inline-html.eml", summary: triage.SignatureNone, title: "Inline in HTML",
			parts: []wantPart{
				{path: "1", text: "Hello team & friends, two blocks follow.", fromHTML: true},
				{path: "1+inline1", text: "First HTML secret: the admin panel has no CSRF token.", encrypted: true},
				{path: "1+after1", text: "And one pasted with line breaks:", fromHTML: true},
				{path: "1+inline2", text: "Second HTML secret: session ids are sequential.", encrypted: true},
				{path: "1+after2", text: "Bye, Alice <https://researcher.example/>", fromHTML: true},
			},
		},
		{
			// Encrypted attachments in plain mail; one of them signed.
			file: "attachment-encrypted.eml", summary: triage.SignaturePartial, title: "Encrypted attachments",
			sigs: []wantSig{{status: triage.SignatureGood, signer: alice, fromMatches: true, hash: "SHA512", parts: []string{"3"}}},
			parts: []wantPart{
				{path: "1", text: "Unencrypted cover note: see the attachments."},
				{path: "2", text: `Details in the encrypted attachment: the S3 bucket "backups" is public.`, encrypted: true},
				{path: "3", sig: 1, text: "Armored attachment: the password reset link is valid for a year.", encrypted: true},
				{path: "4", text: "Encrypted HTML body: XSS in /search.", encrypted: true, fromHTML: true},
			},
		},
		{
			// Thunderbird's first contact: the key is attached inside the
			// signed and encrypted part, and verifies the signature.
			file: "key-attached.eml", verify: openpgp.EntityList{}, summary: triage.SignatureGood, title: "First contact with my key",
			sigs:  []wantSig{{status: triage.SignatureGood, signer: "Kim Newkey <kim@newkey.example>", fromMatches: true, parts: []string{"2.1"}}},
			parts: []wantPart{{path: "2.1", sig: 1, text: "Hello, my key is attached. The login form leaks usernames.", encrypted: true}},
		},
		{
			file: "autocrypt.eml", verify: openpgp.EntityList{}, summary: triage.SignatureGood,
			sigs:  []wantSig{{status: triage.SignatureGood, signer: "Ada Autocrypt <ada@autocrypt.example>", fromMatches: true, parts: []string{"1"}}},
			parts: []wantPart{{path: "1", sig: 1, text: "Signed by the key in my Autocrypt header."}},
		},
	}
	for _, tt := range tests {
		name := tt.file
		if tt.verify != nil {
			name += "/OtherKeys"
		}
		t.Run(name, func(t *testing.T) {
			v := verify
			if tt.verify != nil {
				v = tt.verify
			}
			m, err := ParseMessage(readFixture(t, tt.file), Keys(keys.all(), v), Limits{}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, m)
			if m.Encrypted && !m.Decrypted {
				t.Fatalf("not decrypted: %v", m.DecryptError)
			}
			if m.Signature.Status != tt.summary {
				t.Errorf("summary = %s (%s), want %s", m.Signature.Status, m.Signature.Reason, tt.summary)
			}
			if tt.title != "" && m.Title() != tt.title {
				t.Errorf("Title() = %q, want %q", m.Title(), tt.title)
			}
			if len(m.Signatures) != len(tt.sigs) {
				t.Fatalf("got %d signatures %+v, want %d", len(m.Signatures), m.Signatures, len(tt.sigs))
			}
			for i, want := range tt.sigs {
				got := m.Signatures[i]
				if got.Status != want.status || got.SignerUserID != want.signer || got.FromMatches != want.fromMatches ||
					strings.Join(got.Parts, "|") != strings.Join(want.parts, "|") || !strings.Contains(got.Reason, want.reason) ||
					(want.hash != "" && got.Hash != want.hash) {
					t.Errorf("signature %d = %+v\nwant %+v", i+1, got, want)
				}
				if !want.unparsed && len(got.KeyID) != 16 {
					t.Errorf("signature %d: KeyID %q", i+1, got.KeyID)
				}
				if !want.unparsed && got.SignedAt.IsZero() {
					t.Errorf("signature %d: no SignedAt", i+1)
				}
			}
			if len(m.Parts) != len(tt.parts) {
				t.Fatalf("got %d parts %+v, want %d", len(m.Parts), m.Parts, len(tt.parts))
			}
			for i, want := range tt.parts {
				got := m.Parts[i]
				if got.Path != want.path || got.Signature != want.sig || got.Text != want.text || got.Encrypted != want.encrypted || got.FromHTML != want.fromHTML {
					t.Errorf("part %d = %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

// TestParseMessage_OuterHeadersNeverSigned: whatever signature the body
// carries, the From and Subject staff see are the outer ones, and a
// signed entity's own header fields are not shown as text.
func TestParseMessage_OuterHeadersNeverSigned(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	m, err := ParseMessage(readFixture(t, "inner-headers.eml"), Keys(keys.all(), keys.researcher), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.FromEmail != "alice@researcher.example" || m.Title() != "Quarterly numbers" || m.ProtectedSubject != "" {
		t.Errorf("From %q, Title %q, ProtectedSubject %q", m.FromEmail, m.Title(), m.ProtectedSubject)
	}
	for _, s := range []string{"You are fired", "ceo@example.com", "Subject:"} {
		if strings.Contains(m.Text, s) {
			t.Errorf("Text shows the signed entity's header %q:\n%s", s, m.Text)
		}
	}
	// The same message with the outer Subject changed still verifies:
	// the outer header is not covered, and nobody may think it is.
	raw := bytes.Replace(readFixture(t, "inner-headers.eml"), []byte("Subject: Quarterly numbers"), []byte("Subject: You are fired"), 1)
	m, err = ParseMessage(raw, Keys(keys.all(), keys.researcher), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.Signature.Status != triage.SignatureGood || m.Title() != "You are fired" {
		t.Errorf("summary %s, Title %q", m.Signature.Status, m.Title())
	}
	for _, s := range m.Signatures {
		for _, p := range s.Parts {
			if p == "" || p == "0" || strings.HasPrefix(p, "header") {
				t.Errorf("a signature covers %q", p)
			}
		}
	}
}

func TestParseMessage_ForwardedSignedMail(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	m, err := ParseMessage(readFixture(t, "forwarded-signed.eml"), Keys(keys.all(), keys.researcher), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Signatures) != 0 || m.Signature.Status != triage.SignatureNone || m.Signature.FromMatches {
		t.Errorf("the forward's signature was taken for Bob's: %+v", m.Signatures)
	}
	if strings.Contains(m.Text, "Signed in the clear") {
		t.Errorf("the forwarded text is shown as Bob's body:\n%s", m.Text)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "message.eml" || m.Attachments[0].ContentType != "message/rfc822" ||
		!bytes.Contains(m.Attachments[0].Data, []byte("Signed in the clear")) {
		t.Errorf("attachments %v: want the forwarded message kept whole", names(m.Attachments))
	}
}

// TestParseMessage_ClearsignedAltered: changing one signed word makes the
// signature bad; changing the unsigned text around it does not; a Hash:
// header that lies about the hash makes it bad.
func TestParseMessage_ClearsignedAltered(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	raw := readFixture(t, "clearsigned.eml")
	tests := []struct {
		name, old, new string
		summary        triage.SignatureStatus
		sig            triage.SignatureStatus
		reason         string
	}{
		{"SignedText", "From the logs: 4 requests.", "From the logs: 5 requests.", triage.SignatureBad, triage.SignatureBad, "does not verify"},
		{"DashEscaped", "- - reproduce", "- - repr0duce", triage.SignatureBad, triage.SignatureBad, "does not verify"},
		{"UnsignedFooter", "added by a mailing list", "added by an attacker", triage.SignaturePartial, triage.SignatureGood, ""},
		{"HashHeader", "Hash: SHA512", "Hash: SHA256", triage.SignatureBad, triage.SignatureBad, "Hash: header"},
		{"TrailingBlanks", "From the logs: 4 requests.\r\n", "From the logs: 4 requests.  \t\r\n", triage.SignaturePartial, triage.SignatureGood, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(raw, []byte(tt.old)) {
				t.Fatalf("fixture lacks %q", tt.old)
			}
			m, err := ParseMessage(bytes.Replace(raw, []byte(tt.old), []byte(tt.new), 1), Keys(nil, keys.researcher), Limits{}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, m)
			if m.Signature.Status != tt.summary || len(m.Signatures) != 1 || m.Signatures[0].Status != tt.sig || !strings.Contains(m.Signatures[0].Reason, tt.reason) {
				t.Errorf("summary %s, signatures %+v; want summary %s, signature %s (%q)", m.Signature.Status, m.Signatures, tt.summary, tt.sig, tt.reason)
			}
		})
	}
}

// TestParseMessage_AlteredSignedParts: a byte changed in what a signature
// covers makes it bad, for each shape.
func TestParseMessage_AlteredSignedParts(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	tests := []struct{ file, old, new string }{
		{"signed-nested.eml", "ignores the Host header", "ignores the Host headers"},
		{"signed-nested.eml", "Host: evil.example", "Host: good.example"}, // an attachment inside the signed entity
		{"wrapped-signed.eml", "rotate the API keys", "rotate the API kees"},
		{"inner-headers.eml", "Subject: You are fired", "Subject: You are hired"}, // the signed entity's own header
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.new, func(t *testing.T) {
			raw := readFixture(t, tt.file)
			if !bytes.Contains(raw, []byte(tt.old)) {
				t.Fatalf("fixture lacks %q", tt.old)
			}
			m, err := ParseMessage(bytes.Replace(raw, []byte(tt.old), []byte(tt.new), 1), Keys(nil, keys.researcher), Limits{}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if m.Signature.Status != triage.SignatureBad || len(m.Signatures) != 1 || m.Signatures[0].Reason == "" {
				t.Errorf("summary %s, signatures %+v; want bad", m.Signature.Status, m.Signatures)
			}
		})
	}
}

// TestParseMessage_SignatureTime: a sender's clock may run a little
// ahead of ours, but a signature made well after the message arrived is
// not believed.
func TestParseMessage_SignatureTime(t *testing.T) {
	t.Parallel()
	signer := newKey(t, "Res Earcher", "res@earcher.example")
	tests := []struct {
		after time.Duration
		want  triage.SignatureStatus
	}{
		{-time.Minute, triage.SignatureGood},
		{10 * time.Minute, triage.SignatureGood},
		{24 * time.Hour, triage.SignatureBad},
	}
	for _, tt := range tests {
		signedAt := testNow.Add(tt.after)
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return signedAt }}
		entity := "Content-Type: text/plain\r\n\r\nsigned\r\n"
		var sig bytes.Buffer
		if err := openpgp.ArmoredDetachSign(&sig, []*openpgp.Entity{signer}, strings.NewReader(entity), &openpgp.SignParams{Config: cfg}); err != nil {
			t.Fatal(err)
		}
		raw := "From: res@earcher.example\r\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\r\n\r\n" +
			"--s\r\n" + entity + "\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n" + sig.String() + "\r\n--s--\r\n"
		m, err := ParseMessage([]byte(raw), Keys(nil, openpgp.EntityList{signer}), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Signature.Status != tt.want || !m.Signature.SignedAt.Equal(signedAt.Truncate(time.Second)) {
			t.Errorf("signed %v after receipt: %s at %v (%s), want %s", tt.after, m.Signature.Status, m.Signature.SignedAt, m.Signature.Reason, tt.want)
		}
	}
}

// TestParseMessage_ManySignatures: a signed-only block (GnuPG, 17
// signers) with more signatures than are verified is what it is: not
// encrypted, its content read and shown, its signatures unverified (bad,
// saying why), never "undecryptable".
func TestParseMessage_ManySignatures(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	m, err := ParseMessage(readFixture(t, "many-signatures.eml"), Keys(keys.all(), keys.researcher), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.Encrypted || m.Decrypted || m.DecryptError != nil {
		t.Errorf("Encrypted %v, Decrypted %v, DecryptError %v; want a message that is not encrypted", m.Encrypted, m.Decrypted, m.DecryptError)
	}
	for _, want := range []string{"Text before the signed block.", "Seventeen signatures on one message: the content must still be read."} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("Text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "BEGIN PGP MESSAGE") {
		t.Errorf("the signed block is shown armored, not read:\n%s", m.Text)
	}
	if m.Signature.Status != triage.SignatureBad || !strings.Contains(m.Signature.Reason, "more than 16 signatures") {
		t.Errorf("summary %s (%q), want bad: more than 16 signatures", m.Signature.Status, m.Signature.Reason)
	}
	if len(m.Signatures) != 1 {
		t.Fatalf("%d signature results, want the one saying none was verified: %+v", len(m.Signatures), m.Signatures)
	}
	covered := false
	for _, bp := range m.Parts {
		if strings.Contains(bp.Text, "Seventeen signatures") {
			covered = bp.Signature == 1
		}
	}
	if !covered {
		t.Errorf("the signed text does not point at its (unverified) signature result: %+v", m.Parts)
	}
}
