package pgp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

func TestParseMessage_ProtectedHeaders(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	tests := []struct {
		file, protected string
	}{
		{"pgpmime-attachment.eml", "RCE in image upload"},         // Thunderbird: multipart/mixed; protected-headers="v1", legacy display part
		{"protected-k9.eml", "K-9: password hashes are unsalted"}, // a single text/plain entity with the Subject
		{"protected-legacy.eml", "Legacy display subject"},        // only the text/rfc822-headers legacy display part
		{"sign-then-encrypt.eml", "Nested: the real subject"},     // on the signed entity inside the encryption
		{"xss.eml", "<script>alert(1)</script> protected"},        // kept as text: escaping is the UI's job
		{"key-attached.eml", "First contact with my key"},         // signed and encrypted, verified by the attached key
		{"pgpmime-encrypted.eml", ""},                             // no protected headers: the outer Subject stands
		{"inner-headers.eml", ""},                                 // signed but not encrypted: the inner Subject is not taken
		{"multipart-signed.eml", ""},                              // idem
		{"encrypt-then-sign.eml", ""},                             // encrypted, no Subject inside
		{"attachment-encrypted.eml", ""},                          // an encrypted attachment has no say on the Subject
		{"inline.eml", ""},                                        // inline blocks carry no headers
		{"forwarded-signed.eml", ""},                              // a forwarded message's Subject is its own
		{"plain.eml", ""},                                         // nothing encrypted at all
		{"pgpmime-signed.eml", ""},                                // a bare text/plain entity without Subject
		{"signed-nested.eml", ""},                                 // signed only
		{"two-signers.eml", ""},                                   // signed only
		{"clearsigned.eml", ""},                                   // inline signed
		{"wrapped-signed.eml", ""},                                // signed part in unsigned wrapping
		{"autocrypt.eml", ""},                                     // signed only
		{"inline-html.eml", ""},                                   // inline blocks in HTML
		{"html-only.eml", ""},                                     // plain HTML
	}
	for _, tt := range tests {
		m, err := ParseMessage(readFixture(t, tt.file), Keys(keys.all(), keys.researcher), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.ProtectedSubject != tt.protected {
			t.Errorf("%s: ProtectedSubject = %q, want %q", tt.file, m.ProtectedSubject, tt.protected)
		}
		if tt.protected != "" && m.Title() != tt.protected {
			t.Errorf("%s: Title() = %q, want the protected Subject", tt.file, m.Title())
		}
		// The legacy display part and the protected header block are
		// never body text.
		if strings.Contains(m.Text, "Subject:") || strings.Contains(m.Text, "protected-headers") {
			t.Errorf("%s: header lines in Text:\n%s", tt.file, m.Text)
		}
	}

	t.Run("UnencryptedCannotFakeIt", func(t *testing.T) {
		raw := "From: mallory@elsewhere.example\r\nSubject: Harmless newsletter\r\n" +
			"Content-Type: multipart/mixed; boundary=b; protected-headers=\"v1\"\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; protected-headers=\"v1\"\r\nSubject: URGENT: send the keys\r\n\r\nbody text\r\n" +
			"--b\r\nContent-Type: text/rfc822-headers; protected-headers=\"v1\"\r\n\r\nSubject: URGENT: legacy\r\n" +
			"--b--\r\n"
		m, err := ParseMessage([]byte(raw), Keys(keys.all(), nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.ProtectedSubject != "" || m.Title() != "Harmless newsletter" {
			t.Errorf("ProtectedSubject %q, Title %q", m.ProtectedSubject, m.Title())
		}
		if m.Text != "body text" {
			t.Errorf("Text = %q", m.Text)
		}
	})
	t.Run("OuterDotsWithoutProtected", func(t *testing.T) {
		m := &Message{Subject: "..."}
		if m.Title() != "..." {
			t.Errorf("Title() = %q", m.Title())
		}
	})
}

// mixedMessage builds a multipart/mixed message from parts (each a whole
// MIME entity: header, blank line, body).
func mixedMessage(from, subject string, parts ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"mixed-b\"\r\n\r\n", from, subject)
	for _, p := range parts {
		b.WriteString("--mixed-b\r\n")
		b.WriteString(p)
		b.WriteString("\r\n")
	}
	b.WriteString("--mixed-b--\r\n")
	return []byte(b.String())
}

// base64Part is a MIME entity of content type ct holding data in base64.
func base64Part(ct, name string, data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n", ct, name)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	return b.String()
}

// encryptBinary encrypts plaintext to to, unarmored.
func encryptBinary(tb testing.TB, to openpgp.EntityList, plaintext []byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	w, err := openpgp.Encrypt(&out, to, nil, nil, nil, &packet.Config{Time: func() time.Time { return testNow }})
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(plaintext)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func TestParseMessage_EncryptedAttachments(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	const cover = "Content-Type: text/plain\r\n\r\ncover note"

	t.Run("GnuPG", func(t *testing.T) {
		m, err := ParseMessage(readFixture(t, "attachment-encrypted.eml"), Keys(keys.all(), keys.researcher), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Encrypted || !m.Decrypted {
			t.Fatalf("Encrypted %v, Decrypted %v: %v", m.Encrypted, m.Decrypted, m.DecryptError)
		}
		want := []struct{ name, ct, contains string }{
			{"report.txt.pgp", "application/octet-stream", ""},
			{"report.txt", "text/plain", `the S3 bucket "backups" is public`},
			{"details.txt.asc", "text/plain", "-----BEGIN PGP MESSAGE-----"},
			{"details.txt", "text/plain", "valid for a year"},
			{"PGPexch.htm.pgp", "application/octet-stream", ""},
			{"PGPexch.htm", "text/html", "<b>XSS</b>"},
		}
		if len(m.Attachments) != len(want) {
			t.Fatalf("attachments %q", names(m.Attachments))
		}
		for i, w := range want {
			a := m.Attachments[i]
			if a.Name != w.name || a.ContentType != w.ct || !bytes.Contains(a.Data, []byte(w.contains)) {
				t.Errorf("attachment %d = %q %q %q, want %q %q containing %q", i, a.Name, a.ContentType, a.Data, w.name, w.ct, w.contains)
			}
		}
		if strings.Contains(m.Text, "tracker.example") {
			t.Errorf("the HTML's image URL is in the text:\n%s", m.Text)
		}
	})
	t.Run("BinaryPlaintext", func(t *testing.T) {
		blob := make([]byte, 4096)
		rand.Read(blob)
		blob[0] = 0 // surely not text
		raw := mixedMessage("a@b.example", "blob", cover, base64Part("application/octet-stream", "dump.bin.gpg", encryptBinary(t, keys.team, blob)))
		m, err := ParseMessage(raw, Keys(keys.all(), nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Decrypted || len(m.Attachments) != 2 || m.Attachments[1].Name != "dump.bin" || m.Attachments[1].ContentType != "application/octet-stream" || !bytes.Equal(m.Attachments[1].Data, blob) {
			t.Fatalf("Decrypted %v (%v), attachments %q", m.Decrypted, m.DecryptError, names(m.Attachments))
		}
		if len(m.Parts) != 1 || m.Text != "cover note" {
			t.Errorf("binary plaintext shown as text: %+v", m.Parts)
		}
	})
	t.Run("ForSomeoneElse", func(t *testing.T) {
		other := readFixture(t, "pgpmime-other-key.eml")
		block := other[bytes.Index(other, []byte(armorBegin)) : bytes.Index(other, []byte(armorEnd))+len(armorEnd)]
		raw := mixedMessage("a@b.example", "other", cover, "Content-Type: text/plain; name=\"x.asc\"\r\nContent-Disposition: attachment; filename=\"x.asc\"\r\n\r\n"+string(block))
		m, err := ParseMessage(raw, Keys(keys.all(), nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Encrypted || m.Decrypted || !errors.Is(m.DecryptError, ErrNoKey) {
			t.Errorf("Encrypted %v, Decrypted %v, DecryptError %v; want ErrNoKey", m.Encrypted, m.Decrypted, m.DecryptError)
		}
		if len(m.Attachments) != 1 || m.Attachments[0].Name != "x.asc" || m.Text != "cover note" {
			t.Errorf("attachments %q, Text %q: want the ciphertext kept", names(m.Attachments), m.Text)
		}
	})
	t.Run("PGPEncryptedPart", func(t *testing.T) {
		// Old plug-ins send the ciphertext itself as an
		// application/pgp-encrypted part, outside multipart/encrypted.
		ct, err := Encrypt([]byte("plug-in secret"), keys.team, nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		raw := mixedMessage("a@b.example", "plug-in", cover, "Content-Type: application/pgp-encrypted\r\n\r\n"+string(ct))
		m, err := ParseMessage(raw, Keys(keys.all(), nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Decrypted || !strings.Contains(m.Text, "plug-in secret") {
			t.Errorf("Decrypted %v (%v), Text %q", m.Decrypted, m.DecryptError, m.Text)
		}
	})
	t.Run("NotOpenPGP", func(t *testing.T) {
		// Files that merely look like packets, or hold OpenPGP data that
		// is not a message, are only files.
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
		sig := readFixture(t, "multipart-signed.eml")
		sig = sig[bytes.Index(sig, []byte(clearSigBegin)) : bytes.Index(sig, []byte(clearSigEnd))+len(clearSigEnd)]
		raw := mixedMessage("a@b.example", "files", cover,
			base64Part("image/png", "shot.png", png),
			base64Part("application/octet-stream", "noise.pgp", []byte("\x00\x01 not packets")),
			"Content-Type: application/pgp-signature; name=\"poc.zip.asc\"\r\nContent-Disposition: attachment; filename=\"poc.zip.asc\"\r\n\r\n"+string(sig),
			"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n")
		m, err := ParseMessage(raw, Keys(keys.all(), nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Encrypted || m.DecryptError != nil || len(m.Signatures) != 0 {
			t.Errorf("Encrypted %v, DecryptError %v, signatures %v", m.Encrypted, m.DecryptError, m.Signatures)
		}
		if got := strings.Join(names(m.Attachments), "|"); got != "shot.png|noise.pgp" {
			t.Errorf("attachments %q", got)
		}
	})
}

func TestParseMessage_HTMLParts(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	m, err := ParseMessage(readFixture(t, "html-only.eml"), Keys(keys.all(), nil), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Parts) != 1 || !m.Parts[0].FromHTML || m.Parts[0].ContentType != "text/html" || m.Parts[0].Text != `The "export" button leaks every invoice.` {
		t.Errorf("parts %+v", m.Parts)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "body.html" || !bytes.Contains(m.Attachments[0].Data, []byte("<script>alert(1)</script>")) {
		t.Errorf("the HTML source is not kept as body.html: %q", names(m.Attachments))
	}
	// Both a text and an HTML body, not alternatives: both are read.
	raw := mixedMessage("a@b.example", "both", "Content-Type: text/plain\r\n\r\nplain body", "Content-Type: text/html\r\n\r\n<p>html&nbsp;body</p>")
	m, err = ParseMessage(raw, nil, Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "plain body\n\nhtml\u00a0body" || len(m.Parts) != 2 || m.Parts[0].FromHTML || !m.Parts[1].FromHTML {
		t.Errorf("Text %q, parts %+v", m.Text, m.Parts)
	}
}

// TestParseMessage_ReencryptedSignature is the surreptitious forwarding
// of a signed message (Davis 2001): Alice signs and encrypts to Other;
// Other decrypts and re-encrypts the same signed data to the team. The
// signature names Other as its intended recipient: it is no evidence
// that Alice wrote to the team.
func TestParseMessage_ReencryptedSignature(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	cfg := &packet.Config{Time: func() time.Time { return testNow }, DefaultCipher: packet.CipherAES256}
	signer, err := openpgp.NewEntity("Alice Go", "", "alice@researcher.example", cfg)
	if err != nil {
		t.Fatal(err)
	}
	other, err := openpgp.NewEntity("Other", "", "other@elsewhere.example", cfg)
	if err != nil {
		t.Fatal(err)
	}
	sessionKey := make([]byte, 32)
	rand.Read(sessionKey)
	var pkesk, data bytes.Buffer
	w, err := openpgp.EncryptWithParams(&data, []*openpgp.Entity{other}, nil, &openpgp.EncryptParams{
		KeyWriter: &pkesk, Signers: []*openpgp.Entity{signer}, SessionKey: sessionKey, Config: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Content-Type: text/plain\r\n\r\nAlice to Other only."))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	reencrypt := func(to *openpgp.Entity) []byte {
		key, ok := to.EncryptionKey(testNow, cfg)
		if !ok {
			t.Fatal("no encryption key")
		}
		var msg bytes.Buffer
		if err := packet.SerializeEncryptedKey(&msg, key.PublicKey, packet.CipherAES256, sessionKey, cfg); err != nil {
			t.Fatal(err)
		}
		msg.Write(data.Bytes())
		return pgpMIME(t, msg.Bytes())
	}
	m, err := ParseMessage(reencrypt(keys.team[0]), Keys(keys.team, openpgp.EntityList{signer}), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Decrypted || len(m.Signatures) != 1 || m.Signatures[0].Status != triage.SignatureBad || !strings.Contains(m.Signatures[0].Reason, "other recipients") {
		t.Errorf("Decrypted %v (%v), signatures %+v; want bad: made for other recipients", m.Decrypted, m.DecryptError, m.Signatures)
	}
	// The same construction to the team itself verifies: the test
	// would see a broken construction.
	var toTeam bytes.Buffer
	w, err = openpgp.Encrypt(&toTeam, keys.team, nil, []*openpgp.Entity{signer}, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Content-Type: text/plain\r\n\r\nAlice to the team."))
	w.Close()
	m, err = ParseMessage(pgpMIME(t, toTeam.Bytes()), Keys(keys.team, openpgp.EntityList{signer}), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.Signature.Status != triage.SignatureGood {
		t.Errorf("signed to the team: %+v", m.Signatures)
	}
}

// TestParseMessage_V6Signature: a v6 key (RFC 9580) signing detached, as
// go-crypto and Sequoia make them, verifies good; a v6 signature names
// the issuer by fingerprint.
func TestParseMessage_V6Signature(t *testing.T) {
	t.Parallel()
	cfg := &packet.Config{Time: func() time.Time { return testNow }, V6Keys: true, Algorithm: packet.PubKeyAlgoEd25519}
	e, err := openpgp.NewEntity("Vera Six", "", "vera@six.example", cfg)
	if err != nil {
		t.Fatal(err)
	}
	entity := "Content-Type: text/plain\r\n\r\nSigned with a v6 key.\r\n"
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, []*openpgp.Entity{e}, strings.NewReader(entity), &openpgp.SignParams{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	raw := "From: Vera <vera@six.example>\r\nSubject: v6\r\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\r\n\r\n" +
		"--s\r\n" + entity + "\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n" + sig.String() + "\r\n--s--\r\n"
	m, err := ParseMessage([]byte(raw), Keys(nil, openpgp.EntityList{e}), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Signatures) != 1 || m.Signature.Status != triage.SignatureGood || !m.Signature.FromMatches || len(m.Signature.Fingerprint) != 64 {
		t.Errorf("signatures %+v", m.Signatures)
	}
	m, err = ParseMessage([]byte(raw), nil, Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.Signature.Status != triage.SignatureUnknownKey || m.Signature.Fingerprint != Fingerprint(e) {
		t.Errorf("unknown v6 signer: %+v, want the issuer fingerprint %s", m.Signature, Fingerprint(e))
	}
}

// TestParseMessage_ClearsignedInHTML: a cleartext-signed block pasted
// into an HTML mail verifies when the HTML kept its lines (<pre>), and
// when it did not, it is bad with a reason that says why it may be.
func TestParseMessage_ClearsignedInHTML(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	raw := readFixture(t, "clearsigned.eml")
	block := raw[bytes.Index(raw, []byte(clearBegin)) : bytes.Index(raw, []byte(clearSigEnd))+len(clearSigEnd)]
	html := func(body string) []byte {
		return []byte("From: Alice Researcher <alice@researcher.example>\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body)
	}
	escaped := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(string(block))
	m, err := ParseMessage(html("<p>hello</p><pre>"+escaped+"</pre><p>bye</p>"), Keys(nil, keys.researcher), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.Signature.Status != triage.SignaturePartial || len(m.Signatures) != 1 || m.Signatures[0].Status != triage.SignatureGood {
		t.Errorf("in <pre>: summary %s, signatures %+v", m.Signature.Status, m.Signatures)
	}
	// A mailer that turned a space into a no-break space: the signed
	// bytes changed, the signature is bad, and the reason says why that
	// may be.
	nbsp := strings.Replace(escaped, "From the logs: 4", "From the logs:&nbsp;4", 1)
	m, err = ParseMessage(html("<div>"+strings.ReplaceAll(nbsp, "\r\n", "<br>\r\n")+"</div>"), Keys(nil, keys.researcher), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Signatures) != 1 || m.Signatures[0].Status != triage.SignatureBad || !strings.Contains(m.Signatures[0].Reason, "read from HTML") {
		t.Errorf("signatures %+v; want bad, with the HTML caveat", m.Signatures)
	}
}
