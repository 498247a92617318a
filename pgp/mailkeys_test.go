package pgp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

var keyConfig = &packet.Config{
	Algorithm: packet.PubKeyAlgoEdDSA,
	Time:      func() time.Time { return testNow.Add(-time.Hour) },
}

// newKey makes an Ed25519 key with a Curve25519 subkey for "name <email>".
func newKey(t *testing.T, name, email string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", email, keyConfig)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func armoredPublic(t *testing.T, e *openpgp.Entity) string {
	t.Helper()
	b, err := ArmorPublicKey(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func binaryPublic(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	b, err := PublicKeyBytes(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// autocryptHeader is an Autocrypt header field for e, folded.
func autocryptHeader(t *testing.T, addr string, e *openpgp.Entity, extra string) string {
	t.Helper()
	kd := base64.StdEncoding.EncodeToString(binaryPublic(t, e))
	var b strings.Builder
	fmt.Fprintf(&b, "Autocrypt: addr=%s;%s keydata=", addr, extra)
	for len(kd) > 70 {
		b.WriteString("\r\n " + kd[:70])
		kd = kd[70:]
	}
	b.WriteString("\r\n " + kd + "\r\n")
	return b.String()
}

// signedMail is a multipart/signed message from from, with extra header
// fields, signed by signer over a text/plain body and further parts.
func signedMail(t *testing.T, from, extraHeaders string, signer *openpgp.Entity, parts ...string) []byte {
	t.Helper()
	var entity strings.Builder
	entity.WriteString("Content-Type: multipart/mixed; boundary=in\r\n\r\n--in\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n")
	for _, p := range parts {
		entity.WriteString("--in\r\n" + p + "\r\n")
	}
	entity.WriteString("--in--\r\n")
	signed := string(canonicalCRLF([]byte(entity.String()))) // RFC 3156 section 5: sign the CRLF form
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, []*openpgp.Entity{signer}, strings.NewReader(signed), &openpgp.SignParams{Config: keyConfig}); err != nil {
		t.Fatal(err)
	}
	return []byte("From: " + from + "\r\nSubject: keys\r\n" + extraHeaders +
		"Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\r\n\r\n" +
		"--s\r\n" + signed + "\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n" + sig.String() + "\r\n--s--\r\n")
}

func keyPart(armored string) string {
	return "Content-Type: application/pgp-keys\r\nContent-Disposition: attachment; filename=\"key.asc\"\r\n\r\n" + armored
}

func TestParseMessage_KeysFromFixtures(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	tests := []struct {
		file, email, userID string
		source              triage.KeySource
	}{
		{"key-attached.eml", "kim@newkey.example", "Kim Newkey <kim@newkey.example>", triage.KeySourceAttachment},
		{"autocrypt.eml", "ada@autocrypt.example", "Ada Autocrypt <ada@autocrypt.example>", triage.KeySourceAutocrypt},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := ParseMessage(readFixture(t, tt.file), Keys(keys.all(), nil), Limits{}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Keys) != 1 {
				t.Fatalf("got %d keys", len(m.Keys))
			}
			k := m.Keys[0]
			if k.Email != tt.email || k.UserID != tt.userID || k.Source != tt.source || !k.ExpiresAt.IsZero() {
				t.Errorf("key %+v", k)
			}
			// The key verified the message's signature.
			if m.Signature.Status != triage.SignatureGood || m.Signature.Fingerprint != k.Fingerprint || !m.Signature.FromMatches {
				t.Errorf("signature %+v, key %s", m.Signature, k.Fingerprint)
			}
			el, err := openpgp.ReadKeyRing(bytes.NewReader(k.Public))
			if err != nil || len(el) != 1 {
				t.Fatalf("Public does not read back: %v", err)
			}
			e := el[0]
			if Fingerprint(e) != k.Fingerprint || e.PrivateKey != nil || len(e.Subkeys) != 1 {
				t.Errorf("Public: fingerprint %s, private %v, %d subkeys", Fingerprint(e), e.PrivateKey != nil, len(e.Subkeys))
			}
			for name := range e.Identities {
				if !strings.Contains(name, "<"+tt.email+">") {
					t.Errorf("Public keeps user ID %q of another address", name)
				}
			}
			if len(e.Identities) != 1 {
				t.Errorf("Public has %d user IDs", len(e.Identities))
			}
		})
	}
}

func TestParseMessage_KeysFromMail(t *testing.T) {
	t.Parallel()
	const from = "Res Earcher <res@earcher.example>"
	res := newKey(t, "Res Earcher", "res@earcher.example")
	other := newKey(t, "Someone Else", "someone@else.example")
	tests := []struct {
		name    string
		raw     func(t *testing.T) []byte
		keys    int
		source  triage.KeySource
		summary triage.SignatureStatus
	}{
		{
			name: "Autocrypt", keys: 1, source: triage.KeySourceAutocrypt, summary: triage.SignatureGood,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, autocryptHeader(t, "res@earcher.example", res, " prefer-encrypt=mutual;"), res)
			},
		},
		{
			name: "AutocryptAddrCase", keys: 1, source: triage.KeySourceAutocrypt, summary: triage.SignatureGood,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, autocryptHeader(t, "RES@Earcher.example", res, ""), res)
			},
		},
		{
			name: "AutocryptNonCriticalAttribute", keys: 1, source: triage.KeySourceAutocrypt, summary: triage.SignatureGood,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, autocryptHeader(t, "res@earcher.example", res, " _venue=x;"), res)
			},
		},
		{
			name: "AutocryptCriticalAttribute", summary: triage.SignatureUnknownKey,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, autocryptHeader(t, "res@earcher.example", res, " future=1;"), res)
			},
		},
		{
			name: "AutocryptAddrIsNotFrom", summary: triage.SignatureUnknownKey,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, autocryptHeader(t, "someone@else.example", res, ""), res)
			},
		},
		{
			name: "TwoAutocryptHeaders", summary: triage.SignatureUnknownKey,
			raw: func(t *testing.T) []byte {
				h := autocryptHeader(t, "res@earcher.example", res, "") + autocryptHeader(t, "res@earcher.example", res, " prefer-encrypt=mutual;")
				return signedMail(t, from, h, res)
			},
		},
		{
			name: "AutocryptInsideTheBody", summary: triage.SignatureUnknownKey,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, "", res, autocryptHeader(t, "res@earcher.example", res, "")+"Content-Type: text/plain\r\n\r\nnested header")
			},
		},
		{
			name: "Attachment", keys: 1, source: triage.KeySourceAttachment, summary: triage.SignatureGood,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, "", res, keyPart(armoredPublic(t, res)))
			},
		},
		{
			name: "BinaryAttachment", keys: 1, source: triage.KeySourceAttachment, summary: triage.SignatureGood,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, "", res, base64Part("application/pgp-keys", "key.gpg", binaryPublic(t, res)))
			},
		},
		{
			name: "ArmoredKeyAsOctetStream", keys: 1, source: triage.KeySourceAttachment, summary: triage.SignatureGood,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, "", res, "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"0xRES.asc\"\r\n\r\n"+armoredPublic(t, res))
			},
		},
		{
			name: "AutocryptAndAttachmentOnce", keys: 1, source: triage.KeySourceAutocrypt, summary: triage.SignatureGood,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, autocryptHeader(t, "res@earcher.example", res, ""), res, keyPart(armoredPublic(t, res)))
			},
		},
		{
			// A key for another address is not the sender's to give,
			// and cannot vouch for their signature.
			name: "KeyForAnotherAddress", summary: triage.SignatureUnknownKey,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, "", other, keyPart(armoredPublic(t, other)))
			},
		},
		{
			name: "SecretKey", summary: triage.SignatureUnknownKey,
			raw: func(t *testing.T) []byte {
				var b bytes.Buffer
				w, _ := armor.Encode(&b, openpgp.PrivateKeyType, nil)
				if err := res.SerializePrivateWithoutSigning(w, nil); err != nil {
					t.Fatal(err)
				}
				w.Close()
				return signedMail(t, from, "", res, keyPart(b.String()))
			},
		},
		{
			name: "OverSizeCap", summary: triage.SignatureUnknownKey,
			raw: func(t *testing.T) []byte {
				return signedMail(t, from, "", res, keyPart(armoredPublic(t, res)+strings.Repeat("padding line\r\n", 5000)))
			},
		},
		{
			// A revoked key is refused, so the signature it made has no key.
			name: "RevokedKey", summary: triage.SignatureUnknownKey,
			raw: func(t *testing.T) []byte {
				revoked := newKey(t, "Res Earcher", "res@earcher.example")
				raw := signedMail(t, from, "", revoked, "Content-Type: text/plain\r\n\r\nplaceholder")
				if err := revoked.Revoke(packet.KeyCompromised, "stolen", keyConfig); err != nil {
					t.Fatal(err)
				}
				return bytes.Replace(raw, []byte("Content-Type: text/plain\r\n\r\nplaceholder"), []byte(keyPart(armoredPublic(t, revoked))), 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw(t)
			m, err := ParseMessage(raw, nil, Limits{}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, m)
			if len(m.Keys) != tt.keys {
				t.Fatalf("got %d keys %+v, want %d", len(m.Keys), m.Keys, tt.keys)
			}
			if tt.keys > 0 && (m.Keys[0].Source != tt.source || m.Keys[0].Fingerprint != Fingerprint(res) || m.Keys[0].Email != "res@earcher.example") {
				t.Errorf("key %+v", m.Keys[0])
			}
			if m.Signature.Status != tt.summary {
				t.Errorf("summary %s (%s), want %s", m.Signature.Status, m.Signature.Reason, tt.summary)
			}
		})
	}

	t.Run("AtMostEight", func(t *testing.T) {
		var parts []string
		for i := 0; i < 10; i++ {
			parts = append(parts, keyPart(armoredPublic(t, newKey(t, fmt.Sprintf("Res %d", i), "res@earcher.example"))))
		}
		m, err := ParseMessage(mixedMessage(from, "many keys", parts...), nil, Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Keys) != maxMessageKeys || len(m.Attachments) != 10 {
			t.Errorf("%d keys, %d attachments", len(m.Keys), len(m.Attachments))
		}
	})
	t.Run("TrimmedToFromAddress", func(t *testing.T) {
		e := newKey(t, "Res Earcher", "res@earcher.example")
		for _, uid := range []string{"Res at work <res@work.example>", "Res Again <res@earcher.example>"} {
			name, _, _ := strings.Cut(uid, " <")
			email := strings.TrimSuffix(strings.SplitN(uid, "<", 2)[1], ">")
			if err := e.AddUserId(name, "", email, keyConfig); err != nil {
				t.Fatal(err)
			}
		}
		m, err := ParseMessage(mixedMessage(from, "uids", keyPart(armoredPublic(t, e))), nil, Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Keys) != 1 {
			t.Fatalf("%d keys", len(m.Keys))
		}
		el, err := openpgp.ReadKeyRing(bytes.NewReader(m.Keys[0].Public))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for name := range el[0].Identities {
			ids = append(ids, name)
		}
		if len(ids) != 2 || strings.Contains(strings.Join(ids, "|"), "work.example") {
			t.Errorf("user IDs kept: %q", ids)
		}
	})
	t.Run("NoFrom", func(t *testing.T) {
		m, err := ParseMessage(mixedMessage("not an address", "x", keyPart(armoredPublic(t, res))), nil, Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Keys) != 0 {
			t.Errorf("%d keys without a From address", len(m.Keys))
		}
	})
}

func TestAutocryptAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		ok   bool
		addr string
	}{
		{"addr=a@b.example; keydata=AAAA", true, "a@b.example"},
		{"addr=<a@b.example>; prefer-encrypt=mutual; keydata=AAAA", true, "a@b.example"},
		{"type=1; addr=a@b.example; keydata=AAAA", true, "a@b.example"},
		{"type=2; addr=a@b.example; keydata=AAAA", false, ""},
		{"addr=a@b.example; _x=1; keydata=AAAA", true, "a@b.example"},
		{"addr=a@b.example; x=1; keydata=AAAA", false, ""},
		{"ADDR=a@b.example; KEYDATA=AAAA", true, "a@b.example"},
		{"garbage", true, ""},
	}
	for _, tt := range tests {
		attrs, ok := autocryptAttributes(tt.in)
		if ok != tt.ok || (ok && attrs["addr"] != tt.addr) {
			t.Errorf("autocryptAttributes(%q) = %v, %v", tt.in, attrs, ok)
		}
	}
}
