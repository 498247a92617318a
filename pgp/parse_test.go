package pgp

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/aes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

// testNow is after the fixtures were made (2025-01-02) and before any key expires.
var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

const teamPassphrase = "team-passphrase"

type fixtureKeys struct {
	team, teamRSA, researcher openpgp.EntityList
}

var (
	fixturesOnce sync.Once
	fixtureData  [3][]byte // team and teamRSA unlocked, researcher public
	fixturesErr  error
)

// loadKeys returns the GnuPG-made keys in testdata, the team's unlocked.
// Unlocking costs a deliberately slow S2K, so it is done once per test
// binary; each call parses a copy of its own from the unlocked keys, since
// go-crypto caches signature checks in the entities it parses (writes) and
// parallel tests must not share them.
func loadKeys(tb testing.TB) fixtureKeys {
	tb.Helper()
	fixturesOnce.Do(func() {
		for i, f := range []struct {
			name   string
			secret bool
		}{{"team-ed25519.sec.asc", true}, {"team-rsa.sec.asc", true}, {"researcher.pub.asc", false}} {
			data, err := os.ReadFile(filepath.Join("testdata", f.name))
			if err != nil {
				fixturesErr = err
				return
			}
			var el openpgp.EntityList
			if f.secret {
				el, err = ReadSecretKeys(data, []byte(teamPassphrase))
			} else {
				el, err = ReadPublicKeys(data)
			}
			var buf bytes.Buffer
			for _, e := range el {
				if err == nil && f.secret {
					err = e.SerializePrivateWithoutSigning(&buf, nil)
				} else if err == nil {
					err = e.Serialize(&buf)
				}
			}
			if err != nil {
				fixturesErr = fmt.Errorf("%s: %w", f.name, err)
				return
			}
			fixtureData[i] = buf.Bytes()
		}
	})
	if fixturesErr != nil {
		tb.Fatal(fixturesErr)
	}
	var k [3]openpgp.EntityList
	for i, data := range fixtureData {
		el, err := openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			tb.Fatal(err)
		}
		k[i] = el
	}
	return fixtureKeys{team: k[0], teamRSA: k[1], researcher: k[2]}
}

func (k fixtureKeys) all() openpgp.EntityList {
	return append(append(openpgp.EntityList{}, k.team...), k.teamRSA...)
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestParseMessage_Fixtures(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	researcherFpr := Fingerprint(keys.researcher[0])
	poc := readFixture(t, "poc.py")
	redirect := []byte("https://example.com/login?next=https://evil.example/\n")

	type att struct{ name, contentType, sha256 string }
	tests := []struct {
		file        string
		encrypted   bool
		decrypted   bool
		err         error // errors.Is(DecryptError, err); nil: DecryptError must be nil
		sig         triage.SignatureStatus
		sigFpr      string
		sigKeyID    bool // KeyID must be set
		sigIssuer   bool // Fingerprint is the issuer fingerprint the packet names (ends in KeyID)
		title       string
		from        string
		contains    []string
		notContains []string
		attachments []att
	}{
		{
			file: "pgpmime-encrypted.eml", encrypted: true, decrypted: true, sig: triage.SignatureNone,
			title: "SQL injection in /admin", from: "alice@researcher.example",
			contains:    []string{"Hello security team,", "The login form at /admin is vulnerable to SQL injection."},
			notContains: []string{"BEGIN PGP", "OpenPGP/MIME encrypted message", "Version: 1", "\r"},
		},
		{
			file: "pgpmime-signed.eml", encrypted: true, decrypted: true,
			sig: triage.SignatureGood, sigFpr: researcherFpr, sigKeyID: true,
			title:    "Reset tokens never expire",
			contains: []string{"the password reset token never expires"},
		},
		{
			file: "pgpmime-unknown-signer.eml", encrypted: true, decrypted: true,
			sig: triage.SignatureUnknownKey, sigKeyID: true, sigIssuer: true,
			title:    "Upload accepts anything",
			contains: []string{"the upload endpoint accepts any MIME type"},
		},
		{
			file: "inline.eml", encrypted: true, decrypted: true, sig: triage.SignatureNone,
			title: "Two findings — inline",
			contains: []string{
				"Hello team — text before the first block.",
				"First secret: the staging database is reachable from the internet.",
				"Text between the blocks.",
				"Second secret: the backup bucket is world readable.",
				"Text after the blocks. Alice",
			},
			notContains: []string{"BEGIN PGP MESSAGE", "=3D", "=E2"},
		},
		{
			file: "pgpmime-attachment.eml", encrypted: true, decrypted: true,
			sig: triage.SignatureGood, sigFpr: researcherFpr, sigKeyID: true,
			title:       "RCE in image upload",
			contains:    []string{"Uploading a crafted SVG gives remote code execution. Café proof attached."},
			notContains: []string{"Subject:", "requests.post"},
			attachments: []att{{"poc.py", "text/x-python", sha256Hex(poc)}},
		},
		{
			file: "pgpmime-other-key.eml", encrypted: true, err: ErrNoKey, sig: triage.SignatureNone,
			title: "Not for you", notContains: []string{"meant for someone else"},
		},
		{
			file: "pgpmime-tampered.eml", encrypted: true, err: ErrIntegrity, sig: triage.SignatureNone,
			title: "Tampered", notContains: []string{"TAMPERED", "PLAINTEXT", "must never be shown"},
		},
		{
			file: "pgpmime-rsa.eml", encrypted: true, decrypted: true, sig: triage.SignatureNone,
			title:    "Cookie without Secure",
			contains: []string{"the session cookie lacks the Secure flag"},
		},
		{
			file: "xss.eml", encrypted: true, decrypted: true, sig: triage.SignatureNone,
			title:       "<script>alert(1)</script> protected",
			contains:    []string{"Body with <script>alert(1)</script> and <img src=x onerror=alert(2)>."},
			notContains: []string{"alert(4)", "alert(5)"},
			attachments: []att{{"_img src=x onerror=alert(3)_.html", "text/html", sha256Hex([]byte("<p onmouseover=\"alert(4)\">hover</p><script>alert(5)</script>"))}},
		},
		{
			file: "multipart-signed.eml", sig: triage.SignatureGood, sigFpr: researcherFpr, sigKeyID: true,
			title:       "Token leak in /debug",
			contains:    []string{"Signed in the clear: the API leaks tokens in /debug."},
			notContains: []string{"BEGIN PGP SIGNATURE"},
		},
		{
			file: "plain.eml", sig: triage.SignatureNone,
			title: "Open redirect on /login", from: "bob@finder.example",
			contains:    []string{"The next= parameter of /login redirects anywhere."},
			notContains: []string{"<b>", "<p>"},
			attachments: []att{{"redirect.txt", "application/octet-stream", sha256Hex(redirect)}},
		},
		{
			file: "html-only.eml", sig: triage.SignatureNone, title: "HTML only",
			contains:    []string{`The "export" button leaks every invoice.`},
			notContains: []string{"<p>", "color: red", "alert(1)"},
			attachments: []att{{"body.html", "text/html", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := ParseMessage(readFixture(t, tt.file), Keys(keys.all(), keys.researcher), Limits{}, testNow)
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if m.Encrypted != tt.encrypted || m.Decrypted != tt.decrypted {
				t.Errorf("Encrypted, Decrypted = %v, %v; want %v, %v", m.Encrypted, m.Decrypted, tt.encrypted, tt.decrypted)
			}
			if tt.err == nil && m.DecryptError != nil {
				t.Errorf("DecryptError = %v, want nil", m.DecryptError)
			}
			if tt.err != nil && !errors.Is(m.DecryptError, tt.err) {
				t.Errorf("DecryptError = %v, want %v", m.DecryptError, tt.err)
			}
			if m.Signature.Status != tt.sig {
				t.Errorf("Signature = %+v, want status %q", m.Signature, tt.sig)
			}
			switch {
			case tt.sigIssuer:
				if !strings.HasSuffix(m.Signature.Fingerprint, m.Signature.KeyID) || len(m.Signature.Fingerprint) != 40 {
					t.Errorf("Signature.Fingerprint = %q, want the issuer fingerprint ending in KeyID %q", m.Signature.Fingerprint, m.Signature.KeyID)
				}
			case m.Signature.Fingerprint != tt.sigFpr:
				t.Errorf("Signature.Fingerprint = %q, want %q", m.Signature.Fingerprint, tt.sigFpr)
			}
			if tt.sigKeyID && len(m.Signature.KeyID) != 16 {
				t.Errorf("Signature.KeyID = %q, want 16 hex digits", m.Signature.KeyID)
			}
			if got := m.Title(); got != tt.title {
				t.Errorf("Title() = %q, want %q", got, tt.title)
			}
			if tt.from != "" && m.FromEmail != tt.from {
				t.Errorf("FromEmail = %q, want %q", m.FromEmail, tt.from)
			}
			for _, s := range tt.contains {
				if !strings.Contains(m.Text, s) {
					t.Errorf("Text does not contain %q:\n%s", s, m.Text)
				}
			}
			for _, s := range tt.notContains {
				if strings.Contains(m.Text, s) {
					t.Errorf("Text contains %q:\n%s", s, m.Text)
				}
			}
			if len(m.Attachments) != len(tt.attachments) {
				t.Fatalf("got %d attachments %+v, want %d", len(m.Attachments), names(m.Attachments), len(tt.attachments))
			}
			for i, want := range tt.attachments {
				a := m.Attachments[i]
				if a.Name != want.name || a.ContentType != want.contentType {
					t.Errorf("attachment %d = %q %q, want %q %q", i, a.Name, a.ContentType, want.name, want.contentType)
				}
				if want.sha256 != "" && a.SHA256 != want.sha256 {
					t.Errorf("attachment %d SHA256 = %s, want %s", i, a.SHA256, want.sha256)
				}
				if a.SHA256 != sha256Hex(a.Data) || a.Size != int64(len(a.Data)) {
					t.Errorf("attachment %d: SHA256/Size do not match Data", i)
				}
			}
		})
	}
}

func names(as []triage.Attachment) []string {
	var n []string
	for _, a := range as {
		n = append(n, a.Name)
	}
	return n
}

func TestParseMessage_Headers(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	m, err := ParseMessage(readFixture(t, "plain.eml"), Keys(keys.all(), nil), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.FromEmail != "bob@finder.example" || m.FromName != "Bob Finder" {
		t.Errorf("From = %q %q", m.FromEmail, m.FromName)
	}
	if m.MessageID != "<plain@finder.example>" {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	m, err = ParseMessage(readFixture(t, "pgpmime-attachment.eml"), Keys(keys.all(), nil), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "..." || m.ProtectedSubject != "RCE in image upload" {
		t.Errorf("Subject, ProtectedSubject = %q, %q", m.Subject, m.ProtectedSubject)
	}
}

func TestMessage_Title(t *testing.T) {
	t.Parallel()
	tests := []struct {
		subject, protected, want string
	}{
		{"outer", "inner", "inner"},
		{"outer", "...", "outer"},
		{"outer", "", "outer"},
		{"", "", "(no subject)"},
		{"  ", " ... ", "(no subject)"},
	}
	for _, tt := range tests {
		m := &Message{Subject: tt.subject, ProtectedSubject: tt.protected}
		if got := m.Title(); got != tt.want {
			t.Errorf("Title(%q, %q) = %q, want %q", tt.subject, tt.protected, got, tt.want)
		}
	}
}

// TestParseMessage_Signatures covers what the fixtures' table cannot:
// the same messages against other key sets, and altered signed data.
func TestParseMessage_Signatures(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	t.Run("SignerKeyMissing", func(t *testing.T) {
		m, err := ParseMessage(readFixture(t, "pgpmime-signed.eml"), Keys(keys.team, nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		s := m.Signature
		if !m.Decrypted || s.Status != triage.SignatureUnknownKey || s.KeyID == "" || !strings.HasSuffix(s.Fingerprint, s.KeyID) || s.SignerUserID != "" || s.FromMatches {
			t.Errorf("got Decrypted %v, Signature %+v; want unknown_key with KeyID and issuer fingerprint", m.Decrypted, s)
		}
	})
	t.Run("MultipartSignedAltered", func(t *testing.T) {
		raw := bytes.Replace(readFixture(t, "multipart-signed.eml"), []byte("leaks tokens"), []byte("leaks tokenz"), 1)
		m, err := ParseMessage(raw, Keys(keys.team, keys.researcher), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Signature.Status != triage.SignatureBad {
			t.Errorf("Signature = %+v, want bad", m.Signature)
		}
	})
	t.Run("MultipartSignedUnknown", func(t *testing.T) {
		m, err := ParseMessage(readFixture(t, "multipart-signed.eml"), Keys(keys.team, nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Signature.Status != triage.SignatureUnknownKey || m.Signature.KeyID == "" {
			t.Errorf("Signature = %+v, want unknown_key with KeyID", m.Signature)
		}
	})
	t.Run("MultipartSignedLF", func(t *testing.T) {
		// A message stored with LF line endings still verifies: the signed
		// part is canonicalized to CRLF first (RFC 3156 section 5).
		raw := bytes.ReplaceAll(readFixture(t, "multipart-signed.eml"), []byte("\r\n"), []byte("\n"))
		m, err := ParseMessage(raw, Keys(nil, keys.researcher), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Signature.Status != triage.SignatureGood {
			t.Errorf("Signature = %+v, want good", m.Signature)
		}
	})
	t.Run("NoKeys", func(t *testing.T) {
		m, err := ParseMessage(readFixture(t, "pgpmime-encrypted.eml"), nil, Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Decrypted || !errors.Is(m.DecryptError, ErrNoKey) || m.Text != "" {
			t.Errorf("got Decrypted %v, DecryptError %v, Text %q; want ErrNoKey and no text", m.Decrypted, m.DecryptError, m.Text)
		}
	})
	t.Run("LockedKey", func(t *testing.T) {
		locked, err := ReadPublicKeys(readFixture(t, "team-ed25519.sec.asc")) // read, not unlocked
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseMessage(readFixture(t, "pgpmime-encrypted.eml"), Keys(locked, nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(m.DecryptError, ErrNoKey) {
			t.Errorf("DecryptError = %v, want ErrNoKey", m.DecryptError)
		}
	})
}

func TestParseMessage_MIME(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		raw         string
		contains    []string
		notContains []string
		attachments []string
	}{
		{
			name:     "UnknownCharset",
			raw:      "Subject: x\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nplain words survive\r\n",
			contains: []string{"plain words survive"},
		},
		{
			name:     "Latin1Base64",
			raw:      "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nQ2Fm6SBvcGVu\r\n",
			contains: []string{"Café open"},
		},
		{
			name:     "NoHeaders",
			raw:      "\r\njust a body\r\n",
			contains: []string{"just a body"},
		},
		{
			name:     "NoContentType",
			raw:      "From: a@b.example\nSubject: hi\n\nLF only body\n",
			contains: []string{"LF only body"},
		},
		{
			name: "AttachmentNameSanitized",
			raw: "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n" +
				"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"..\\\\..\\\\evil\u202egnp.exe\"\r\n\r\nMZ\r\n" +
				"--b\r\nContent-Type: application/pdf; name=\"=?UTF-8?B?csOpc3Vtw6kucGRm?=\"\r\n\r\n%PDF\r\n" +
				"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment\r\n\r\nno name\r\n--b--\r\n",
			contains:    []string{"see file"},
			attachments: []string{"evilgnp.exe", "résumé.pdf", "attachment"},
		},
		{
			name:        "MissingCloseDelimiter",
			raw:         "Content-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n--b\r\n\r\nfirst\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecond, unterminated",
			contains:    []string{"first", "second, unterminated"},
			notContains: []string{"preamble"},
		},
		{
			name:        "AlternativePrefersPlain",
			raw:         "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain version\r\n--b--\r\n",
			contains:    []string{"plain version"},
			notContains: []string{"html version"},
		},
		{
			name:     "InlineGarbageBlock",
			raw:      "Content-Type: text/plain\r\n\r\nbefore\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nnot base64 at all!!\r\n-----END PGP MESSAGE-----\r\nafter\r\n",
			contains: []string{"before", "not base64 at all!!", "after"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.raw), nil, Limits{}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(m.Text, s) {
					t.Errorf("Text does not contain %q: %q", s, m.Text)
				}
			}
			for _, s := range tt.notContains {
				if strings.Contains(m.Text, s) {
					t.Errorf("Text contains %q: %q", s, m.Text)
				}
			}
			if got := names(m.Attachments); strings.Join(got, "|") != strings.Join(tt.attachments, "|") {
				t.Errorf("attachments = %q, want %q", got, tt.attachments)
			}
		})
	}
	t.Run("InlineGarbageIsDecryptError", func(t *testing.T) {
		m, _ := ParseMessage([]byte(tests[len(tests)-1].raw), nil, Limits{}, testNow)
		if !m.Encrypted || m.Decrypted || !errors.Is(m.DecryptError, ErrMalformed) {
			t.Errorf("got %v %v %v, want encrypted, not decrypted, ErrMalformed", m.Encrypted, m.Decrypted, m.DecryptError)
		}
	})
}

func TestParseMessage_HeaderErrors(t *testing.T) {
	t.Parallel()
	_, err := ParseMessage([]byte("Subject: "+strings.Repeat("x", 300<<10)+"\r\n\r\nbody"), nil, Limits{}, testNow)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("huge header: err = %v, want ErrMalformed", err)
	}
	_, err = ParseMessage([]byte("not a header line\r\n\r\nbody"), nil, Limits{}, testNow)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed header: err = %v, want ErrMalformed", err)
	}
	m, err := ParseMessage(nil, nil, Limits{}, testNow)
	if err != nil || m.Title() != "(no subject)" || m.Signature.Status != triage.SignatureNone {
		t.Errorf("empty message: %+v, %v", m, err)
	}
}

// TestParseMessage_MIMECaps: hostile nesting and part counts stay
// bounded; what is within the caps is kept, the rest dropped, no error.
func TestParseMessage_MIMECaps(t *testing.T) {
	t.Parallel()
	t.Run("Depth", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		const depth = 40
		for i := 1; i <= depth; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\ntext at level %d\r\n", i-1, i)
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
		}
		for i := depth; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		m, err := ParseMessage([]byte(b.String()), nil, Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, "text at level 1\n") || !strings.Contains(m.Text, "text at level 32") {
			t.Errorf("levels within MaxDepth missing:\n%s", m.Text)
		}
		if strings.Contains(m.Text, "text at level 33") || strings.Contains(m.Text, "text at level 40") {
			t.Errorf("levels past MaxDepth walked:\n%s", m.Text)
		}
	})
	t.Run("Parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Subject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(&b, "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=f%d.bin\r\n\r\n%d\r\n", i, i)
		}
		b.WriteString("--b--\r\n")
		m, err := ParseMessage([]byte(b.String()), nil, Limits{MaxParts: 1000}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		// The root counts as one part.
		if len(m.Attachments) != 999 {
			t.Errorf("got %d attachments, want 999", len(m.Attachments))
		}
	})
	t.Run("InlineBlocks", func(t *testing.T) {
		block := "-----BEGIN PGP MESSAGE-----\r\n\r\nAAAA\r\n-----END PGP MESSAGE-----\r\n"
		raw := "Content-Type: text/plain\r\n\r\n" + strings.Repeat(block, 50)
		m, err := ParseMessage([]byte(raw), nil, Limits{MaxParts: 10}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Encrypted || m.Decrypted {
			t.Errorf("Encrypted, Decrypted = %v, %v", m.Encrypted, m.Decrypted)
		}
	})
}

// bombMessage returns a PGP/MIME message whose OpenPGP message, encrypted
// to to, compresses size zero bytes: a Compressed Data packet (ZLIB, RFC
// 4880 section 5.6) holding a Literal Data packet of size zeros, in an
// integrity-protected encrypted packet.
func bombMessage(tb testing.TB, to *openpgp.Entity, size int64) []byte {
	tb.Helper()
	key, ok := to.EncryptionKey(testNow, nil)
	if !ok {
		tb.Fatal("no encryption key")
	}
	// The Literal Data packet's header (RFC 4880 section 5.9): new-format
	// tag 11 with a five-octet length; binary, no file name, no date.
	var lit bytes.Buffer
	lit.Write([]byte{0xc0 | tagLiteralData, 0xff})
	binary.Write(&lit, binary.BigEndian, uint32(6+size))
	lit.Write([]byte{'b', 0, 0, 0, 0, 0})
	z := zlibZeros(tb, lit.Bytes(), size)

	sessionKey := make([]byte, 32)
	if _, err := rand.Read(sessionKey); err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	if err := packet.SerializeEncryptedKeyAEAD(&out, key.PublicKey, packet.CipherAES256, false, sessionKey, nil); err != nil {
		tb.Fatal(err)
	}
	w, err := packet.SerializeSymmetricallyEncrypted(&out, packet.CipherAES256, false, packet.CipherSuite{}, sessionKey, nil)
	if err != nil {
		tb.Fatal(err)
	}
	// New-format tag 8, five-octet length, algorithm 2: ZLIB.
	w.Write([]byte{0xc0 | tagCompressed, 0xff})
	binary.Write(w, binary.BigEndian, uint32(1+len(z)))
	w.Write([]byte{2})
	w.Write(z)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return pgpMIME(tb, out.Bytes())
}

// zlibZeros returns a ZLIB stream (RFC 1950) of prefix followed by n zero
// bytes, without compressing each of them (200 MB took seconds under the
// race detector). Once 64 KB of zeros have been written, deflate's
// window (32 KB, RFC 1951 section 2) holds nothing but zeros, so every
// further 64 KB compress to the same blocks: they are made once, with
// a dictionary of zeros, and repeated. Each piece ends with a sync flush
// (an empty stored block) on a byte boundary, so pieces concatenate.
func zlibZeros(tb testing.TB, prefix []byte, n int64) []byte {
	tb.Helper()
	const chunk = 64 << 10
	zeros := make([]byte, chunk)
	window := zeros[:32<<10]
	deflate := func(dict, data []byte, final bool) []byte {
		var b bytes.Buffer
		w, err := flate.NewWriterDict(&b, flate.DefaultCompression, dict)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(data)
		if final {
			err = w.Close()
		} else {
			err = w.Flush()
		}
		if err != nil {
			tb.Fatal(err)
		}
		return b.Bytes()
	}
	var out bytes.Buffer
	out.Write([]byte{0x78, 0x9c}) // deflate, 32 KB window, default level
	first := min(n, chunk)
	out.Write(deflate(nil, append(append([]byte(nil), prefix...), zeros[:first]...), false))
	rest := n - first
	if rest >= chunk {
		mega := deflate(window, zeros, false)
		for ; rest >= chunk; rest -= chunk {
			out.Write(mega)
		}
	}
	out.Write(deflate(window, zeros[:rest], true))
	// Adler-32 (RFC 1950 section 8.2): a zero byte leaves the sum of the
	// bytes, a, as it is and adds a to b.
	sum := adler32.Checksum(prefix)
	a, b := uint64(sum&0xffff), uint64(sum>>16)
	b = (b + uint64(n)%65521*a) % 65521
	binary.Write(&out, binary.BigEndian, uint32(b<<16|a))
	return out.Bytes()
}

// pgpMIME wraps binary OpenPGP data in an RFC 3156 message, base64 encoded.
func pgpMIME(tb testing.TB, openpgpData []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString("Subject: made in Go\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=x\r\n\r\n")
	b.WriteString("--x\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n")
	b.WriteString("--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := make([]byte, (len(openpgpData)+2)/3*4)
	base64Std.Encode(enc, openpgpData)
	for len(enc) > 76 {
		b.Write(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.Write(enc)
	b.WriteString("\r\n--x--\r\n")
	return b.Bytes()
}

func TestParseMessage_Bomb(t *testing.T) {
	// Not parallel: it counts what the whole process allocates.
	keys := loadKeys(t)
	const bombSize = 200 << 20
	raw := bombMessage(t, keys.team[0], bombSize)
	t.Logf("bomb: %d bytes of message for %d bytes of plaintext", len(raw), bombSize)
	if int64(len(raw)) > bombSize/100 {
		t.Fatalf("bomb message is %d bytes: not compressed?", len(raw))
	}

	lim := Limits{MaxDecompressedSize: 1 << 20}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := ParseMessage(raw, Keys(keys.team, nil), lim, testNow)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Encrypted || m.Decrypted || !errors.Is(m.DecryptError, ErrTooLarge) {
		t.Errorf("got Encrypted %v, Decrypted %v, DecryptError %v; want ErrTooLarge", m.Encrypted, m.Decrypted, m.DecryptError)
	}
	if m.Text != "" || len(m.Attachments) != 0 {
		t.Errorf("plaintext of a bomb kept: %d bytes of text, %d attachments", len(m.Text), len(m.Attachments))
	}
	// TotalAlloc counts every byte allocated, freed or not: it would be
	// at least the bomb's size had the plaintext been read into memory.
	allocated := after.TotalAlloc - before.TotalAlloc
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("allocated %d bytes in total, heap grew by %d", allocated, growth)
	if allocated > bombSize/8 || growth > bombSize/8 {
		t.Errorf("allocated %d bytes (heap +%d) for a %d byte bomb with a %d byte limit", allocated, growth, bombSize, lim.MaxDecompressedSize)
	}

	t.Run("JustUnderLimit", func(t *testing.T) {
		// The same construction under the limit decrypts: the cap is
		// what refused the bomb, nothing else.
		raw := bombMessage(t, keys.team[0], 512<<10)
		m, err := ParseMessage(raw, Keys(keys.team, nil), lim, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Decrypted {
			t.Errorf("DecryptError = %v, want decrypted", m.DecryptError)
		}
	})
}

// noMDCMessage builds what gpg no longer makes: a Public-Key Encrypted
// Session Key packet followed by a Symmetrically Encrypted Data packet
// (tag 9, RFC 4880 section 5.7), which has no integrity protection.
func noMDCMessage(tb testing.TB, to *openpgp.Entity, plaintext []byte) []byte {
	tb.Helper()
	key, ok := to.EncryptionKey(testNow, nil)
	if !ok {
		tb.Fatal("no encryption key")
	}
	sessionKey := make([]byte, 32)
	if _, err := rand.Read(sessionKey); err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	if err := packet.SerializeEncryptedKey(&out, key.PublicKey, packet.CipherAES256, sessionKey, nil); err != nil {
		tb.Fatal(err)
	}
	var lit bytes.Buffer
	lw, err := packet.SerializeLiteral(nopCloser{&lit}, true, "", 0)
	if err != nil {
		tb.Fatal(err)
	}
	lw.Write(plaintext)
	lw.Close()
	block, _ := aes.NewCipher(sessionKey)
	iv := make([]byte, block.BlockSize())
	rand.Read(iv)
	stream, prefix := packet.NewOCFBEncrypter(block, iv, packet.OCFBResync)
	body := append([]byte(nil), prefix...)
	enc := make([]byte, lit.Len())
	stream.XORKeyStream(enc, lit.Bytes())
	body = append(body, enc...)
	// New-format packet header, tag 9, five-octet length (RFC 4880 section 4.2.2.1).
	out.WriteByte(0xc0 | 9)
	out.WriteByte(0xff)
	binary.Write(&out, binary.BigEndian, uint32(len(body)))
	out.Write(body)
	return out.Bytes()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func TestParseMessage_NoMDC(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	raw := pgpMIME(t, noMDCMessage(t, keys.team[0], []byte("UNAUTHENTICATED plaintext")))
	m, err := ParseMessage(raw, Keys(keys.team, nil), Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Encrypted || m.Decrypted || !errors.Is(m.DecryptError, ErrIntegrity) {
		t.Errorf("got Encrypted %v, Decrypted %v, DecryptError %v; want ErrIntegrity", m.Encrypted, m.Decrypted, m.DecryptError)
	}
	if strings.Contains(m.Text, "UNAUTHENTICATED") {
		t.Errorf("Text has the unauthenticated plaintext: %q", m.Text)
	}
}

func TestParseMessage_Tampered(t *testing.T) {
	t.Parallel()
	// Flip every 97th byte of a ciphertext made here, one at a time: each
	// variant must fail without leaking any plaintext.
	keys := loadKeys(t)
	secret := strings.Repeat("SECRET-PLAINTEXT ", 200)
	ct, err := Encrypt([]byte("Content-Type: text/plain\r\n\r\n"+secret), keys.team, nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	bin := dearmor(t, ct)
	for i := 120; i < len(bin); i += 97 {
		bad := append([]byte(nil), bin...)
		bad[i] ^= 0x40
		m, err := ParseMessage(pgpMIME(t, bad), Keys(keys.team, nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Decrypted || m.DecryptError == nil {
			t.Errorf("byte %d flipped: Decrypted %v, DecryptError %v", i, m.Decrypted, m.DecryptError)
		}
		if strings.Contains(m.Text, "SECRET") {
			t.Errorf("byte %d flipped: plaintext in Text", i)
		}
	}
}

func dearmor(tb testing.TB, armored []byte) []byte {
	tb.Helper()
	block, err := armorDecode(armored)
	if err != nil {
		tb.Fatal(err)
	}
	return block
}

func TestParseMessage_TextIsUTF8(t *testing.T) {
	t.Parallel()
	raw := "Subject: =?iso-8859-1?q?caf=E9?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbad \xff\xfe bytes\r\n"
	m, err := ParseMessage([]byte(raw), nil, Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(m.Text) || !strings.Contains(m.Text, "bad") {
		t.Errorf("Text = %q", m.Text)
	}
	if m.Subject != "café" {
		t.Errorf("Subject = %q", m.Subject)
	}
}

// TestParseMessage_SignatureFlood: thousands of one-pass signature
// packets compress to a few hundred bytes and cost go-crypto quadratic
// time (about 3 s for 20000 here without preflight); go-crypto never
// reads them. Inside encryption the block is refused; a block that is
// only signed is read without them, its signatures unverified.
func TestParseMessage_SignatureFlood(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	flood := func(n int) []byte {
		var bin bytes.Buffer
		cw, err := packet.SerializeCompressed(nopCloser{&bin}, packet.CompressionZLIB, &packet.CompressionConfig{Level: 9})
		if err != nil {
			t.Fatal(err)
		}
		ops := &packet.OnePassSignature{Version: 3, SigType: packet.SigTypeBinary, Hash: crypto.SHA256, PubKeyAlgo: packet.PubKeyAlgoEdDSA, KeyId: 1}
		for i := 0; i < n; i++ {
			if err := ops.Serialize(cw); err != nil {
				t.Fatal(err)
			}
		}
		lw, _ := packet.SerializeLiteral(cw, true, "", 0)
		lw.Write([]byte("flooded"))
		lw.Close() // closes cw too
		return bin.Bytes()
	}
	t.Run("Inline", func(t *testing.T) {
		var arm bytes.Buffer
		w, _ := armor.Encode(&arm, "PGP MESSAGE", nil)
		w.Write(flood(20000))
		w.Close()
		m, err := ParseMessage([]byte("Content-Type: text/plain\r\n\r\n"+arm.String()), nil, Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Encrypted || m.DecryptError != nil || !strings.Contains(m.Text, "flooded") {
			t.Errorf("Encrypted %v, DecryptError %v, Text %q; want the signed text read", m.Encrypted, m.DecryptError, m.Text)
		}
		if m.Signature.Status != triage.SignatureBad || !strings.Contains(m.Signature.Reason, "none was verified") {
			t.Errorf("signature %s (%q), want bad: none was verified", m.Signature.Status, m.Signature.Reason)
		}
	})
	// encrypted is the flood inside the encryption, after prefix.
	encrypted := func(t *testing.T, prefix []byte) []byte {
		var ct bytes.Buffer
		ct.Write(prefix)
		key, _ := keys.team[0].EncryptionKey(testNow, nil)
		sessionKey := make([]byte, 32)
		rand.Read(sessionKey)
		if err := packet.SerializeEncryptedKey(&ct, key.PublicKey, packet.CipherAES256, sessionKey, nil); err != nil {
			t.Fatal(err)
		}
		w, err := packet.SerializeSymmetricallyEncrypted(&ct, packet.CipherAES256, false, packet.CipherSuite{}, sessionKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(flood(20000))
		w.Close()
		return pgpMIME(t, ct.Bytes())
	}
	for name, prefix := range map[string][]byte{
		// preflight decrypts to see it.
		"Encrypted": nil,
		// A PKESK of unknown version (7), which ReadMessage skips:
		// preflight must read on behind it too.
		"EncryptedBehindUnsupportedPacket": {0xC1, 2, 7, 0},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := ParseMessage(encrypted(t, prefix), Keys(keys.team, nil), Limits{}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(m.DecryptError, errSignatureFlood) || !errors.Is(m.DecryptError, ErrMalformed) {
				t.Errorf("DecryptError = %v, want errSignatureFlood (ErrMalformed)", m.DecryptError)
			}
		})
	}
	t.Run("FewAreFine", func(t *testing.T) {
		var arm bytes.Buffer
		w, _ := armor.Encode(&arm, "PGP MESSAGE", nil)
		w.Write(flood(0))
		w.Close()
		m, err := ParseMessage([]byte("Content-Type: text/plain\r\n\r\nbefore\r\n"+arm.String()), nil, Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Encrypted || !strings.Contains(m.Text, "flooded") {
			t.Errorf("a compressed, unsigned, unencrypted block: Encrypted %v, Text %q, err %v", m.Encrypted, m.Text, m.DecryptError)
		}
	})
}

// TestParseMessage_SessionKeyFlood: bogus session-key packets for our key
// before the real one each cost ReadMessage a private-key operation (an
// RSA-3072 team key: 11 s for 2000 of them in a 1 MB message); past
// maxKeyAttempts the block is refused before any is tried.
func TestParseMessage_SessionKeyFlood(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	flood := func(t *testing.T, bogus int) []byte {
		key, _ := keys.team[0].EncryptionKey(testNow, nil)
		var ct bytes.Buffer
		for i := 0; i <= bogus; i++ {
			var one bytes.Buffer
			sessionKey := make([]byte, 32)
			rand.Read(sessionKey)
			if err := packet.SerializeEncryptedKey(&one, key.PublicKey, packet.CipherAES256, sessionKey, nil); err != nil {
				t.Fatal(err)
			}
			b := one.Bytes()
			if i < bogus {
				b[len(b)-3] ^= 0x55 // the wrapped key no longer unwraps
				ct.Write(b)
				continue
			}
			ct.Write(b)
			w, err := packet.SerializeSymmetricallyEncrypted(&ct, packet.CipherAES256, false, packet.CipherSuite{}, sessionKey, nil)
			if err != nil {
				t.Fatal(err)
			}
			lw, _ := packet.SerializeLiteral(w, true, "", 0)
			lw.Write([]byte("the real report"))
			lw.Close()
		}
		return pgpMIME(t, ct.Bytes())
	}
	t.Run("Flood", func(t *testing.T) {
		m, err := ParseMessage(flood(t, maxKeyAttempts), Keys(keys.all(), nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if m.Decrypted || !errors.Is(m.DecryptError, errKeyFlood) || !errors.Is(m.DecryptError, ErrMalformed) {
			t.Errorf("Decrypted %v, DecryptError %v; want errKeyFlood (ErrMalformed)", m.Decrypted, m.DecryptError)
		}
	})
	t.Run("FewAreFine", func(t *testing.T) {
		m, err := ParseMessage(flood(t, 10), Keys(keys.all(), nil), Limits{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Decrypted || !strings.Contains(m.Text, "the real report") {
			t.Errorf("Decrypted %v (%v), Text %q", m.Decrypted, m.DecryptError, m.Text)
		}
	})
}

// BenchmarkParseMessage measures ParseMessage on typical reports: plain,
// PGP/MIME encrypted (Ed25519 and RSA team keys), signed and encrypted
// with the signer's key attached (read twice), and HTML with inline
// blocks.
func BenchmarkParseMessage(b *testing.B) {
	keys := loadKeys(b)
	for _, file := range []string{"plain.eml", "multipart-signed.eml", "pgpmime-encrypted.eml", "pgpmime-rsa.eml", "pgpmime-signed.eml", "key-attached.eml", "inline-html.eml"} {
		raw := readFixture(b, file)
		b.Run(strings.TrimSuffix(file, ".eml"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				m, err := ParseMessage(raw, Keys(keys.all(), keys.researcher), Limits{}, testNow)
				if err != nil || (m.Encrypted && !m.Decrypted) {
					b.Fatalf("%v %v", err, m.DecryptError)
				}
			}
		})
	}
}

// TestParseMessage_Concurrent: intake's workers and the web's
// re-verification call ParseMessage at once with one TeamKeys, each with
// researcher keys parsed for it (as the store's lookups are), while go-
// crypto caches verification results in entities without locking. Run
// with -race.
func TestParseMessage_Concurrent(t *testing.T) {
	t.Parallel()
	teamEntities, err := ReadSecretKeys(readFixture(t, "team-ed25519.sec.asc"), []byte(teamPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	team := NewTeamKeys(teamEntities)
	files := []string{"pgpmime-signed.eml", "multipart-signed.eml", "pgpmime-attachment.eml", "clearsigned.eml"}
	raws := make([][]byte, len(files))
	for i, f := range files {
		raws[i] = readFixture(t, f)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, raw := range raws {
				researcher, err := ReadPublicKeys(readFixture(t, "researcher.pub.asc"))
				if err != nil {
					t.Error(err)
					return
				}
				m, err := ParseMessage(raw, KeyChain{team, researcher}, Limits{}, testNow)
				if err != nil || len(m.Signatures) == 0 || m.Signatures[0].Status != triage.SignatureGood {
					t.Errorf("err %v, signatures %+v", err, m.Signatures)
				}
			}
		})
	}
	wg.Wait()
}

// TestKeyStatus_ConcurrentWithParse: the server works out the team key's
// status (EncryptionExpiry, KeyExpiry, PrimaryUserID: its owner,
// teamkey.Ring, serializes those) while intake decrypts with the
// TeamKeys made from the same entity, which uses only its secret key
// material. Run with -race.
func TestKeyStatus_ConcurrentWithParse(t *testing.T) {
	t.Parallel()
	team, err := ReadSecretKeys(readFixture(t, "team-ed25519.sec.asc"), []byte(teamPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	raw := readFixture(t, "pgpmime-encrypted.eml")
	keys := NewTeamKeys(team)
	var wg sync.WaitGroup
	wg.Go(func() {
		if m, err := ParseMessage(raw, keys, Limits{}, testNow); err != nil || !m.Decrypted {
			t.Errorf("ParseMessage: %v", err)
		}
	})
	wg.Go(func() {
		if _, ok := EncryptionExpiry(team[0], testNow); !ok {
			t.Error("EncryptionExpiry: the team key cannot be encrypted to")
		}
		KeyExpiry(team[0])
		if PrimaryUserID(team[0]) == "" {
			t.Error("PrimaryUserID: none")
		}
	})
	wg.Wait()
}

// countingRing counts what ParseMessage asks its key ring.
type countingRing struct {
	openpgp.KeyRing
	keys, entities int
}

func (c *countingRing) KeysById(id uint64) []openpgp.Key {
	c.keys++
	return c.KeyRing.KeysById(id)
}

func (c *countingRing) EntitiesById(id uint64) []*openpgp.Entity {
	c.entities++
	return c.KeyRing.EntitiesById(id)
}

// TestParseMessage_OneDecryption: a signed and encrypted report that
// carries its signer's key inside the encryption (as Thunderbird's "attach
// my key" does) is decrypted once: the ring is asked for the session key
// once, and the signature, checked before the key was met, is verified
// with it from the plaintext already read.
func TestParseMessage_OneDecryption(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	signer, err := openpgp.NewEntity("Rita Researcher", "", "rita@researcher.example", &packet.Config{Time: func() time.Time { return testNow.Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	signer.Serialize(w)
	w.Close()
	inner := "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n" +
		"--m\r\nContent-Type: text/plain\r\n\r\nThe key is attached.\r\n" +
		"--m\r\nContent-Type: application/pgp-keys\r\nContent-Disposition: attachment; filename=\"key.asc\"\r\n\r\n" +
		pub.String() + "\r\n--m--\r\n"
	ct, err := Encrypt([]byte(inner), keys.team, signer, testNow)
	if err != nil {
		t.Fatal(err)
	}
	raw := append([]byte("From: Rita Researcher <rita@researcher.example>\r\n"), pgpMIME(t, dearmor(t, ct))...)
	ring := &countingRing{KeyRing: Keys(keys.team, nil)}
	m, err := ParseMessage(raw, ring, Limits{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Decrypted || m.Signature.Status != triage.SignatureGood || m.Signature.Fingerprint != Fingerprint(signer) {
		t.Fatalf("decrypted %v, signature %+v; want good by the carried key", m.Decrypted, m.Signature)
	}
	if ring.keys != 1 {
		t.Errorf("the ring was asked for decryption keys %d times, want once", ring.keys)
	}
}

// TestParseMessage_ConcurrentTeamKeys: parses sharing one TeamKeys run
// in parallel without a lock (run with -race): a report signed by a team
// key is decrypted with the shared secret keys and verified against a
// copy of the team's public key each time.
func TestParseMessage_ConcurrentTeamKeys(t *testing.T) {
	t.Parallel()
	keys := loadKeys(t)
	ct, err := Encrypt([]byte("Content-Type: text/plain\r\n\r\nsigned by the team"), keys.team, keys.team[0], testNow)
	if err != nil {
		t.Fatal(err)
	}
	raw := pgpMIME(t, dearmor(t, ct))
	team := NewTeamKeys(keys.team)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			m, err := ParseMessage(raw, team, Limits{}, testNow)
			switch {
			case err != nil:
				errs <- err
			case !m.Decrypted || m.Signature.Status != triage.SignatureGood:
				errs <- fmt.Errorf("decrypted %v, signature %+v", m.Decrypted, m.Signature)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
