package pgp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// composeNow is when the test keys are made and the mail is composed.
var composeNow = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// composeKeys returns a team key for security@example.com and a
// researcher key for ada@example.org, both unlocked.
func composeKeys(t *testing.T) (team, researcher *openpgp.Entity) {
	t.Helper()
	team, err := pgp.GenerateKey("Security Team", "security@example.com", composeNow.Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	researcher, err = pgp.GenerateKey("Ada Lovelace", "ada@example.org", composeNow.Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	return team, researcher
}

// reply is a staff reply with non-ASCII, trailing spaces, a "From " line
// and a dash line: everything that could break a signature in transit.
func reply() pgp.OutgoingMail {
	return pgp.OutgoingMail{
		From:          "security@example.com",
		FromName:      "Security Team",
		To:            "ada@example.org",
		Subject:       "[SEC-2026-0001] Your security report — merci",
		Date:          composeNow,
		MessageID:     "<reply1@example.com>",
		InReplyTo:     "<ack1@example.com>",
		References:    []string{"<orig@example.org>", "<ack1@example.com>"},
		AutoSubmitted: "auto-replied",
		Body:          "Hello Ada, \n\nFrom what we see the bug is real. Thanks — ça marche.\n-- \nSecurity Team\n",
	}
}

func TestComposeMail_EncryptedRoundTrip(t *testing.T) {
	t.Parallel()
	team, researcher := composeKeys(t)
	m := reply()
	raw, err := pgp.ComposeMail(m, team, openpgp.EntityList{researcher}, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	assertMailShape(t, raw)
	if !bytes.Contains(unfold(raw), []byte(`Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"`)) {
		t.Errorf("not multipart/encrypted:\n%s", raw)
	}
	if bytes.Contains(raw, []byte("From what we see")) {
		t.Error("the body is readable outside the encryption")
	}
	// The researcher reads it: decrypted with her key, signed by the team.
	got, err := pgp.ParseMessage(raw, pgp.Keys(openpgp.EntityList{researcher}, openpgp.EntityList{team}), pgp.Limits{}, composeNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Encrypted || !got.Decrypted {
		t.Fatalf("encrypted %v decrypted %v: %v", got.Encrypted, got.Decrypted, got.DecryptError)
	}
	if got.Signature.Status != triage.SignatureGood || !got.Signature.FromMatches || got.Signature.Fingerprint != pgp.Fingerprint(team) {
		t.Errorf("signature %+v, want good by the team key, From matching", got.Signature)
	}
	if got.ProtectedSubject != m.Subject || got.Subject != m.Subject {
		t.Errorf("subject %q, protected %q, want %q", got.Subject, got.ProtectedSubject, m.Subject)
	}
	if want := "From what we see the bug is real. Thanks — ça marche."; !strings.Contains(got.Text, want) {
		t.Errorf("text %q lacks %q", got.Text, want)
	}
	if got.FromEmail != "security@example.com" || got.FromName != "Security Team" {
		t.Errorf("From %q <%s>", got.FromName, got.FromEmail)
	}
	if got.MessageID != m.MessageID || strings.Join(got.InReplyTo, " ") != m.InReplyTo ||
		strings.Join(got.References, " ") != strings.Join(m.References, " ") || got.AutoSubmitted != "auto-replied" || !got.Automated {
		t.Errorf("thread fields: id %q in-reply-to %q references %q auto %q automated %v",
			got.MessageID, got.InReplyTo, got.References, got.AutoSubmitted, got.Automated)
	}
	// The Autocrypt header carries the team key.
	if len(got.Keys) != 1 || got.Keys[0].Fingerprint != pgp.Fingerprint(team) || got.Keys[0].Source != triage.KeySourceAutocrypt {
		t.Errorf("keys %+v, want the team key from Autocrypt", got.Keys)
	}
	// The team reads what it sent.
	own, err := pgp.ParseMessage(raw, pgp.Keys(openpgp.EntityList{team}, nil), pgp.Limits{}, composeNow.Add(time.Minute))
	if err != nil || !own.Decrypted || own.Signature.Status != triage.SignatureGood {
		t.Fatalf("team copy: %v decrypted %v signature %+v", err, own != nil && own.Decrypted, own.Signature)
	}
}

func TestComposeMail_SignedRoundTrip(t *testing.T) {
	t.Parallel()
	team, _ := composeKeys(t)
	m := reply()
	m.AutoSubmitted = ""
	raw, err := pgp.ComposeMail(m, team, nil, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	assertMailShape(t, raw)
	if !bytes.Contains(unfold(raw), []byte(`Content-Type: multipart/signed; micalg=pgp-sha512; protocol="application/pgp-signature"`)) {
		t.Errorf("not multipart/signed with SHA-512:\n%s", raw)
	}
	if bytes.Contains(raw, []byte("Auto-Submitted")) {
		t.Error("Auto-Submitted written though empty")
	}
	got, err := pgp.ParseMessage(raw, pgp.Keys(nil, openpgp.EntityList{team}), pgp.Limits{}, composeNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.Encrypted || got.Signature.Status != triage.SignatureGood || !got.Signature.FromMatches {
		t.Fatalf("encrypted %v signature %+v", got.Encrypted, got.Signature)
	}
	if want := "Hello Ada, \n\nFrom what we see the bug is real. Thanks — ça marche.\n-- \nSecurity Team"; got.Text != want {
		t.Errorf("text %q, want %q", got.Text, want)
	}
	if got.Automated {
		t.Error("a reply people wrote is marked automated")
	}
	// Altered on the way: the signature must fail.
	bad := bytes.Replace(raw, []byte("=46rom what"), []byte("=46rom whet"), 1)
	if bytes.Equal(bad, raw) {
		t.Fatal("the From line is not quoted-printable encoded")
	}
	if got, _ := pgp.ParseMessage(bad, pgp.Keys(nil, openpgp.EntityList{team}), pgp.Limits{}, composeNow); got.Signature.Status != triage.SignatureBad {
		t.Errorf("tampered: signature %s, want bad", got.Signature.Status)
	}
}

// assertMailShape checks what every outgoing mail must be: 7-bit, CRLF
// only, no line over 998 bytes, the header fields present once, and the
// Autocrypt keydata folded to at most 78 characters a line.
func assertMailShape(t *testing.T, raw []byte) {
	t.Helper()
	for i, c := range raw {
		if c > 0x7e || (c < 0x20 && c != '\r' && c != '\n' && c != '\t') {
			t.Fatalf("byte %#x at %d: not 7-bit text", c, i)
		}
		if c == '\n' && (i == 0 || raw[i-1] != '\r') || c == '\r' && (i+1 == len(raw) || raw[i+1] != '\n') {
			t.Fatalf("bare CR or LF at %d", i)
		}
	}
	hdr, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(hdr), "\r\n") {
		if len(l) > 78 {
			t.Errorf("header line over 78: %q", l)
		}
	}
	for _, f := range []string{"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Autocrypt", "Content-Type"} {
		if n := strings.Count("\r\n"+string(hdr), "\r\n"+f+":"); n != 1 {
			t.Errorf("%d %s fields", n, f)
		}
	}
	if !bytes.Contains(hdr, []byte("\r\nFrom: \"Security Team\" <security@example.com>\r\n")) {
		t.Errorf("From field:\n%s", hdr)
	}
	if !bytes.Contains(hdr, []byte("Autocrypt: addr=security@example.com; prefer-encrypt=mutual; keydata=\r\n ")) {
		t.Errorf("Autocrypt field:\n%s", hdr)
	}
}

func TestComposeMail_AutocryptKeyIsMinimal(t *testing.T) {
	t.Parallel()
	team, _ := composeKeys(t)
	raw, err := pgp.ComposeMail(reply(), team, nil, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgp.ParseMessage(raw, nil, pgp.Limits{}, composeNow)
	if err != nil || len(got.Keys) != 1 {
		t.Fatalf("%v, keys %+v", err, got.Keys)
	}
	el, err := pgp.ReadPublicKeys(got.Keys[0].Public)
	if err != nil || len(el) != 1 {
		t.Fatal(err)
	}
	k := el[0]
	if len(k.Identities) != 1 || len(k.Subkeys) != 1 || k.PrivateKey != nil {
		t.Errorf("key has %d user IDs, %d subkeys, secret %v; want 1, 1, none", len(k.Identities), len(k.Subkeys), k.PrivateKey != nil)
	}
	if _, ok := k.EncryptionKey(composeNow, nil); !ok {
		t.Error("the Autocrypt key cannot be encrypted to")
	}
}

func TestComposeMail_RefusesInjection(t *testing.T) {
	t.Parallel()
	team, researcher := composeKeys(t)
	cases := []struct {
		name string
		edit func(*pgp.OutgoingMail)
	}{
		{"To with CRLF", func(m *pgp.OutgoingMail) { m.To = "ada@example.org\r\nBcc: eve@example.net" }},
		{"To with LF", func(m *pgp.OutgoingMail) { m.To = "ada@example.org\nBcc: eve@example.net" }},
		{"To two addresses", func(m *pgp.OutgoingMail) { m.To = "ada@example.org, eve@example.net" }},
		{"To with name", func(m *pgp.OutgoingMail) { m.To = "Ada <ada@example.org>" }},
		{"To group", func(m *pgp.OutgoingMail) { m.To = "friends: ada@example.org;" }},
		{"To empty", func(m *pgp.OutgoingMail) { m.To = "" }},
		{"To comment", func(m *pgp.OutgoingMail) { m.To = "ada@example.org (Ada)" }},
		{"From with CR", func(m *pgp.OutgoingMail) { m.From = "security@example.com\rBcc: x@y.z" }},
		{"From with name", func(m *pgp.OutgoingMail) { m.From = "Team <security@example.com>" }},
		{"From name with LF", func(m *pgp.OutgoingMail) { m.FromName = "Team\nBcc: eve@example.net" }},
		{"From name with NUL", func(m *pgp.OutgoingMail) { m.FromName = "Team\x00" }},
		{"Subject with CRLF", func(m *pgp.OutgoingMail) { m.Subject = "hi\r\nBcc: eve@example.net" }},
		{"Subject with LF", func(m *pgp.OutgoingMail) { m.Subject = "hi\nContent-Type: text/html" }},
		{"Subject with tab", func(m *pgp.OutgoingMail) { m.Subject = "hi\tthere" }},
		{"Subject with DEL", func(m *pgp.OutgoingMail) { m.Subject = "hi\x7f" }},
		{"Subject with C1 NEL", func(m *pgp.OutgoingMail) { m.Subject = "hi\u0085there" }},
		{"Subject not UTF-8", func(m *pgp.OutgoingMail) { m.Subject = "hi\xff" }},
		{"Subject too long", func(m *pgp.OutgoingMail) { m.Subject = strings.Repeat("é", 201) }},
		{"Message-ID with CRLF", func(m *pgp.OutgoingMail) { m.MessageID = "<a@b>\r\nBcc: eve@example.net" }},
		{"Message-ID bare", func(m *pgp.OutgoingMail) { m.MessageID = "a@b" }},
		{"Message-ID empty", func(m *pgp.OutgoingMail) { m.MessageID = "" }},
		{"Message-ID with space", func(m *pgp.OutgoingMail) { m.MessageID = "<a b@c>" }},
		{"In-Reply-To with LF", func(m *pgp.OutgoingMail) { m.InReplyTo = "<a@b>\nBcc: eve@example.net" }},
		{"References with CR", func(m *pgp.OutgoingMail) { m.References = []string{"<a@b>", "<c@d>\rX: y"} }},
		{"Auto-Submitted unknown", func(m *pgp.OutgoingMail) { m.AutoSubmitted = "yes\r\nBcc: eve@example.net" }},
		{"Body with NUL", func(m *pgp.OutgoingMail) { m.Body = "hi\x00" }},
		{"Body not UTF-8", func(m *pgp.OutgoingMail) { m.Body = "hi\xff" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, recipients := range []openpgp.EntityList{nil, {researcher}} {
				m := reply()
				c.edit(&m)
				raw, err := pgp.ComposeMail(m, team, recipients, composeNow)
				if err == nil || raw != nil {
					t.Fatalf("accepted: %q", raw)
				}
				if !errors.Is(err, pgp.ErrInvalidMail) {
					t.Errorf("error %v does not wrap ErrInvalidMail", err)
				}
			}
		})
	}
	t.Run("malformed references are dropped", func(t *testing.T) {
		m := reply()
		m.InReplyTo = "not-an-id"
		m.References = []string{"<ok@example.org>", "no brackets@x", "<>", "<ok2@example.com>"}
		raw, err := pgp.ComposeMail(m, team, nil, composeNow)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("In-Reply-To")) || !bytes.Contains(raw, []byte("References: <ok@example.org> <ok2@example.com>\r\n")) {
			t.Errorf("thread fields:\n%s", raw)
		}
	})
	t.Run("no signer", func(t *testing.T) {
		if _, err := pgp.ComposeMail(reply(), nil, nil, composeNow); err == nil {
			t.Error("composed without a signer")
		}
	})
}

func TestComposeMail_EncodedHeaders(t *testing.T) {
	t.Parallel()
	team, _ := composeKeys(t)
	m := reply()
	m.FromName = "Équipe sécurité"
	m.Subject = strings.Repeat("Réponse à votre rapport ", 8)
	m.References = nil
	for i := range 150 {
		m.References = append(m.References, "<ref"+strings.Repeat("x", i%40)+"@example.org>")
	}
	raw, err := pgp.ComposeMail(m, team, nil, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgp.ParseMessage(raw, pgp.Keys(nil, openpgp.EntityList{team}), pgp.Limits{}, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != strings.TrimSpace(m.Subject) || got.FromName != m.FromName {
		t.Errorf("subject %q from %q", got.Subject, got.FromName)
	}
	hdr, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(hdr), "\r\n") {
		if len(l) > 78 {
			t.Errorf("header line over 78: %q", l)
		}
	}
	// 150 references (deduplicated: 40 distinct) stay within 100.
	if len(got.References) != 40 || got.References[0] != m.References[0] {
		t.Errorf("%d references, first %q", len(got.References), got.References)
	}
}

func TestClearSign(t *testing.T) {
	t.Parallel()
	team, _ := composeKeys(t)
	text := "Contact: mailto:security@example.com  \nExpires: 2027-11-21T00:00:00Z\n-----BEGIN PGP SIGNATURE-----\n- dash\nFrom the team\t\n"
	signed, err := pgp.ClearSign([]byte(text), team, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	want := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" +
		"Contact: mailto:security@example.com\nExpires: 2027-11-21T00:00:00Z\n- -----BEGIN PGP SIGNATURE-----\n- - dash\nFrom the team\n" +
		"-----BEGIN PGP SIGNATURE-----\n"
	if !strings.HasPrefix(string(signed), want) || !strings.HasSuffix(string(signed), "-----END PGP SIGNATURE-----\n") {
		t.Fatalf("clear-signed text:\n%s", signed)
	}
	// pgp's own reader checks it as a cleartext-signed block in a mail.
	mail := "From: security@example.com\r\nSubject: security.txt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + string(signed)
	got, err := pgp.ParseMessage([]byte(mail), pgp.Keys(nil, openpgp.EntityList{team}), pgp.Limits{}, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	if got.Signature.Status != triage.SignatureGood || got.Signature.Hash != "SHA512" {
		t.Errorf("signature %+v", got.Signature)
	}
	if !strings.Contains(got.Text, "-----BEGIN PGP SIGNATURE-----\n- dash\nFrom the team") {
		t.Errorf("text %q: dash-escaping not undone", got.Text)
	}
	tampered := strings.Replace(mail, "2027-11-21", "2099-11-21", 1)
	if got, _ := pgp.ParseMessage([]byte(tampered), pgp.Keys(nil, openpgp.EntityList{team}), pgp.Limits{}, composeNow); got.Signature.Status != triage.SignatureBad {
		t.Errorf("tampered: %s, want bad", got.Signature.Status)
	}

	dir := t.TempDir()
	writeFile(t, dir, "security.txt.asc", signed)
	writeFile(t, dir, "team.pub.asc", armoredPublic(t, team))
	t.Run("gpg", func(t *testing.T) {
		g := newGPG(t)
		g.run("", "--import", filepath.Join(dir, "team.pub.asc"))
		_, stderr := g.run("", "--verify", filepath.Join(dir, "security.txt.asc"))
		if !strings.Contains(stderr, "Good signature") {
			t.Errorf("gpg --verify:\n%s", stderr)
		}
		tamperedFile := writeFile(t, dir, "tampered.asc", bytes.Replace(signed, []byte("2027"), []byte("2099"), 1))
		if _, stderr, err := g.try("", "--verify", tamperedFile); err == nil || !strings.Contains(stderr, "BAD signature") {
			t.Errorf("gpg --verify accepted a tampered file: %v\n%s", err, stderr)
		}
	})
	t.Run("sq", func(t *testing.T) {
		sq := newSq(t)
		out, stderr := runTool(t, dir, sq.bin, sq.verify("team.pub.asc", "--cleartext", "security.txt.asc")...)
		if !strings.Contains(stderr, "1 good signature") || !strings.Contains(out, "Expires: 2027-11-21") {
			t.Errorf("sq verify --cleartext: %s\n%s", out, stderr)
		}
	})
}

func TestMIMEEntity_EncryptedMail(t *testing.T) {
	t.Parallel()
	team, _ := composeKeys(t)
	files := []pgp.File{
		{Name: "../../poc.py", ContentType: "text/x-python", Data: []byte("print('pwned')\n")},
		{Name: "résumé\u202e.png", ContentType: "image/png; name=x", Data: []byte{0x89, 'P', 'N', 'G', 0, 1, 2}},
		{Name: "", ContentType: "not a type", Data: []byte("x")},
	}
	entity, err := pgp.MIMEEntity("XSS in the search box — détails", "Steps:\n1. open /search\n2. type <script>\n", files)
	if err != nil {
		t.Fatal(err)
	}
	armored, err := pgp.Encrypt(entity, openpgp.EntityList{team}, nil, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := pgp.EncryptedMail("ada@example.org", "security@example.com", "<form1@example.com>", composeNow, armored)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("\r\nSubject: ...\r\n")) || bytes.Contains(raw, []byte("XSS")) {
		t.Errorf("outer header:\n%s", raw)
	}
	got, err := pgp.ParseMessage(raw, pgp.Keys(openpgp.EntityList{team}, nil), pgp.Limits{}, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Decrypted || got.Title() != "XSS in the search box — détails" || got.FromEmail != "ada@example.org" || got.MessageID != "<form1@example.com>" {
		t.Fatalf("decrypted %v (%v) title %q from %q id %q", got.Decrypted, got.DecryptError, got.Title(), got.FromEmail, got.MessageID)
	}
	if got.Text != "Steps:\n1. open /search\n2. type <script>" {
		t.Errorf("text %q", got.Text)
	}
	wantAtt := []struct{ name, ct, data string }{
		{"poc.py", "text/x-python", "print('pwned')\n"},
		{"résumé.png", "image/png", "\x89PNG\x00\x01\x02"},
		{"attachment", "application/octet-stream", "x"},
	}
	if len(got.Attachments) != len(wantAtt) {
		t.Fatalf("attachments %+v", got.Attachments)
	}
	for i, w := range wantAtt {
		a := got.Attachments[i]
		if a.Name != w.name || a.ContentType != w.ct || string(a.Data) != w.data {
			t.Errorf("attachment %d: %q %q %q, want %q %q %q", i, a.Name, a.ContentType, a.Data, w.name, w.ct, w.data)
		}
	}
	if !bytes.Contains(entity, []byte("filename*=utf-8''r%C3%A9sum%C3%A9.png")) {
		t.Errorf("non-ASCII file name not RFC 2231 encoded:\n%s", entity)
	}

	t.Run("text only", func(t *testing.T) {
		entity, err := pgp.MIMEEntity("Open redirect", "at /login?next=", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(entity, []byte(`Content-Type: text/plain; charset=utf-8; protected-headers="v1"`)) {
			t.Errorf("entity:\n%s", entity)
		}
		armored, _ := pgp.Encrypt(entity, openpgp.EntityList{team}, nil, composeNow)
		raw, err := pgp.EncryptedMail("", "security@example.com", "<form2@example.com>", composeNow, armored)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := pgp.ParseMessage(raw, pgp.Keys(openpgp.EntityList{team}, nil), pgp.Limits{}, composeNow)
		if got.Title() != "Open redirect" || got.Text != "at /login?next=" || len(got.Attachments) != 0 || got.FromEmail != "" {
			t.Errorf("title %q text %q attachments %d from %q", got.Title(), got.Text, len(got.Attachments), got.FromEmail)
		}
	})
	t.Run("refused", func(t *testing.T) {
		if _, err := pgp.MIMEEntity("a\r\nBcc: x@y.z", "t", nil); !errors.Is(err, pgp.ErrInvalidMail) {
			t.Errorf("subject with CRLF: %v", err)
		}
		for _, c := range []struct{ from, to, id, armored string }{
			{"ada@example.org\r\nBcc: x@y.z", "security@example.com", "<a@b>", string(armored)},
			{"ada@example.org", "security@example.com, x@y.z", "<a@b>", string(armored)},
			{"ada@example.org", "security@example.com", "<a@b>\r\nX: y", string(armored)},
			{"ada@example.org", "security@example.com", "<a@b>", "hello"},
			{"ada@example.org", "security@example.com", "<a@b>", string(armored) + "\r\n--x--\r\nSubject: y"},
		} {
			if raw, err := pgp.EncryptedMail(c.from, c.to, c.id, composeNow, []byte(c.armored)); err == nil {
				t.Errorf("accepted %q %q %q: %q", c.from, c.to, c.id, raw)
			}
		}
	})
}

func TestParseMessage_ThreadHeaders(t *testing.T) {
	t.Parallel()
	long := "<" + strings.Repeat("a", 250) + "@x>"
	var many []string
	for i := range 130 {
		many = append(many, "<r"+strings.Repeat("z", i)+"@example.org>")
	}
	cases := []struct {
		name       string
		header     string
		inReplyTo  []string
		references []string
		auto       string
		precedence string
		listID     string
		automated  bool
	}{
		{name: "none", header: ""},
		{name: "reply", header: "In-Reply-To: <a@example.com>\r\nReferences: <root@example.org>\r\n <a@example.com>\r\n",
			inReplyTo: []string{"<a@example.com>"}, references: []string{"<root@example.org>", "<a@example.com>"}},
		{name: "comments and junk dropped", header: "In-Reply-To: <a@example.com> (Ada's message of Monday)\r\nReferences: junk <no-at> <a b@c> <> <ok@x> <ok@x>\r\n",
			inReplyTo: []string{"<a@example.com>"}, references: []string{"<ok@x>"}},
		{name: "nested bracket", header: "References: <evil <real@x>\r\n", references: []string{"<real@x>"}},
		{name: "too long id dropped", header: "References: " + long + " <ok@x>\r\n", references: []string{"<ok@x>"}},
		{name: "at most 100, first and latest", header: "References: " + strings.Join(many, "\r\n ") + "\r\n",
			references: append([]string{many[0]}, many[31:]...)},
		{name: "auto-replied", header: "Auto-Submitted: Auto-Replied; owner-email=\"x@y\"\r\n", auto: `auto-replied; owner-email="x@y"`, automated: true},
		{name: "auto-submitted no", header: "Auto-Submitted: no\r\n", auto: "no"},
		{name: "precedence bulk", header: "Precedence: Bulk\r\n", precedence: "bulk", automated: true},
		{name: "precedence junk", header: "Precedence: junk\r\n", precedence: "junk", automated: true},
		{name: "precedence auto_reply", header: "Precedence: auto_reply\r\n", precedence: "auto_reply", automated: true},
		{name: "precedence first-class", header: "Precedence: first-class\r\n", precedence: "first-class"},
		{name: "list-id only", header: "List-Id: Security list <sec.lists.example.org>\r\n", listID: "Security list <sec.lists.example.org>"},
		{name: "list-unsubscribe", header: "List-Unsubscribe: <mailto:u@x>\r\n", automated: true},
		{name: "list-post", header: "List-Post: <mailto:l@x>\r\n", automated: true},
		{name: "x-autoreply", header: "X-Autoreply: yes\r\n", automated: true},
		{name: "x-autorespond", header: "X-Autorespond: on\r\n", automated: true},
		{name: "delivery report", header: "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n", automated: true},
		{name: "long list-id cut", header: "List-Id: " + strings.Repeat("l", 400) + "\r\n", listID: strings.Repeat("l", 250)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := "From: ada@example.org\r\nSubject: hi\r\n" + c.header + "\r\nbody\r\n"
			got, err := pgp.ParseMessage([]byte(raw), nil, pgp.Limits{}, composeNow)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.InReplyTo, " ") != strings.Join(c.inReplyTo, " ") {
				t.Errorf("InReplyTo %q, want %q", got.InReplyTo, c.inReplyTo)
			}
			if strings.Join(got.References, " ") != strings.Join(c.references, " ") {
				t.Errorf("References %d %q, want %d %q", len(got.References), got.References, len(c.references), c.references)
			}
			if got.AutoSubmitted != c.auto || got.Precedence != c.precedence || got.ListID != c.listID || got.Automated != c.automated {
				t.Errorf("auto %q precedence %q list %q automated %v; want %q %q %q %v",
					got.AutoSubmitted, got.Precedence, got.ListID, got.Automated, c.auto, c.precedence, c.listID, c.automated)
			}
		})
	}
}

// Interoperability: what researchers' tools make of our mail.

func TestComposeMail_GnuPG(t *testing.T) {
	t.Parallel()
	team, researcher := composeKeys(t)
	g := newGPG(t)
	dir := t.TempDir()
	g.run("", "--import", writeFile(t, dir, "team.pub.asc", armoredPublic(t, team)))
	locked, err := pgp.LockKey(researcher, []byte("ada-passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	g.run("", "--passphrase", "ada-passphrase", "--import", writeFile(t, dir, "ada.sec.asc", locked))

	t.Run("encrypted", func(t *testing.T) {
		raw, err := pgp.ComposeMail(reply(), team, openpgp.EntityList{researcher}, composeNow)
		if err != nil {
			t.Fatal(err)
		}
		parts := mimeParts(t, raw)
		msg := writeFile(t, dir, "msg.asc", parts[1].body)
		out, stderr := g.run("", "--passphrase", "ada-passphrase", "--decrypt", msg)
		if !strings.Contains(stderr, `Good signature from "Security Team <security@example.com>"`) {
			t.Errorf("gpg --decrypt: no good signature:\n%s", stderr)
		}
		if !strings.Contains(out, "Subject: =?utf-8?q?") || !strings.Contains(out, "=46rom what we see the bug is real. Thanks =E2=80=94 =C3=A7a marche.") {
			t.Errorf("gpg --decrypt: plaintext:\n%s", out)
		}
	})
	t.Run("signed", func(t *testing.T) {
		raw, err := pgp.ComposeMail(reply(), team, nil, composeNow)
		if err != nil {
			t.Fatal(err)
		}
		parts := mimeParts(t, raw)
		signed := writeFile(t, dir, "part1", parts[0].raw)
		sig := writeFile(t, dir, "part1.sig", parts[1].body)
		if _, stderr := g.run("", "--verify", sig, signed); !strings.Contains(stderr, "Good signature") {
			t.Errorf("gpg --verify:\n%s", stderr)
		}
		changed := writeFile(t, dir, "part1.changed", bytes.Replace(parts[0].raw, []byte("Ada"), []byte("Eve"), 1))
		if _, stderr, err := g.try("", "--verify", sig, changed); err == nil {
			t.Errorf("gpg verified a changed part:\n%s", stderr)
		}
	})
}

func TestComposeMail_Sequoia(t *testing.T) {
	t.Parallel()
	sq := newSq(t)
	team, researcher := composeKeys(t)
	dir := t.TempDir()
	writeFile(t, dir, "team.pub.asc", armoredPublic(t, team))
	writeFile(t, dir, "ada.sec.asc", armoredSecret(t, researcher))
	raw, err := pgp.ComposeMail(reply(), team, openpgp.EntityList{researcher}, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "msg.asc", mimeParts(t, raw)[1].body)
	out, stderr := runTool(t, dir, sq.bin, sq.decrypt("ada.sec.asc", "team.pub.asc", "msg.asc")...)
	if !strings.Contains(stderr, "1 good signature") || !strings.Contains(out, "=46rom what we see the bug is real.") {
		t.Errorf("sq decrypt:\n%s\n%s", out, stderr)
	}

	signedRaw, err := pgp.ComposeMail(reply(), team, nil, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	parts := mimeParts(t, signedRaw)
	writeFile(t, dir, "part1", parts[0].raw)
	writeFile(t, dir, "part1.sig", parts[1].body)
	if _, stderr := runTool(t, dir, sq.bin, sq.verify("team.pub.asc", "--detached", "part1.sig", "part1")...); !strings.Contains(stderr, "1 good signature") {
		t.Errorf("sq verify --detached:\n%s", stderr)
	}
}

func TestComposeMail_OpenPGPjs(t *testing.T) {
	t.Parallel()
	node := lookTool(t, "node")
	js, err := filepath.Abs("testdata/interop/js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(js, "node_modules", "openpgp")); err != nil {
		t.Skip("OpenPGP.js not installed (make interop-js)")
	}
	team, researcher := composeKeys(t)
	dir := t.TempDir()
	pub := writeFile(t, dir, "team.pub.asc", armoredPublic(t, team))
	sec := writeFile(t, dir, "ada.sec.asc", armoredSecret(t, researcher))
	type result struct {
		Text       string
		Signatures []struct {
			KeyID string
			Valid bool
			Error string
		}
	}
	check := func(t *testing.T, args ...string) result {
		t.Helper()
		out, stderr := runTool(t, js, node, append([]string{"verify-mail.mjs"}, args...)...)
		var r result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s\n%s", err, out, stderr)
		}
		if len(r.Signatures) != 1 || !r.Signatures[0].Valid {
			t.Errorf("signatures %+v", r.Signatures)
		}
		return r
	}
	t.Run("encrypted", func(t *testing.T) {
		raw, err := pgp.ComposeMail(reply(), team, openpgp.EntityList{researcher}, composeNow)
		if err != nil {
			t.Fatal(err)
		}
		msg := writeFile(t, dir, "msg.asc", mimeParts(t, raw)[1].body)
		r := check(t, "decrypt", "--key", sec, "--signer", pub, "--in", msg)
		if !strings.Contains(r.Text, "protected-headers=\"v1\"") || !strings.Contains(r.Text, "=46rom what we see") {
			t.Errorf("plaintext %q", r.Text)
		}
	})
	t.Run("signed", func(t *testing.T) {
		raw, err := pgp.ComposeMail(reply(), team, nil, composeNow)
		if err != nil {
			t.Fatal(err)
		}
		parts := mimeParts(t, raw)
		check(t, "verify", "--signer", pub, "--in", writeFile(t, dir, "part1", parts[0].raw), "--sig", writeFile(t, dir, "part1.sig", parts[1].body))
	})
}

// unfold undoes header folding (RFC 5322 section 2.2.3).
func unfold(raw []byte) []byte { return bytes.ReplaceAll(raw, []byte("\r\n "), []byte(" ")) }

// mimePart is one body part of a multipart message: raw is its exact
// bytes (header and body, as signed), body what follows its header.
type mimePart struct{ raw, body []byte }

// mimeParts splits the top multipart of raw by its boundary, as RFC 2046
// section 5.1.1 does: the CRLF before a delimiter belongs to it.
func mimeParts(t *testing.T, raw []byte) []mimePart {
	t.Helper()
	hdr, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	unfolded := strings.ReplaceAll(string(hdr), "\r\n ", " ")
	var ct string
	for _, l := range strings.Split(unfolded, "\r\n") {
		if v, ok := strings.CutPrefix(l, "Content-Type: "); ok {
			ct = v
		}
	}
	_, params, err := mime.ParseMediaType(ct)
	if err != nil || params["boundary"] == "" {
		t.Fatalf("Content-Type %q: %v", ct, err)
	}
	delim := []byte("\r\n--" + params["boundary"])
	chunks := bytes.Split(append([]byte("\r\n"), body...), delim)
	var parts []mimePart
	for _, c := range chunks[1 : len(chunks)-1] {
		c = bytes.TrimPrefix(c, []byte("\r\n"))
		_, b, _ := bytes.Cut(c, []byte("\r\n\r\n"))
		parts = append(parts, mimePart{raw: c, body: b})
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts", len(parts))
	}
	return parts
}

func armoredPublic(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	b, err := pgp.ArmorPublicKey(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// armoredSecret is e's unprotected secret key (sq and the node script
// take no passphrase).
func armoredSecret(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := armor.Encode(&out, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return out.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skip(name + " not installed")
	}
	return p
}

// runTool runs a tool in dir and returns its stdout and stderr; it fails
// the test when the tool fails.
func runTool(t *testing.T, dir, tool string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s\n%s", filepath.Base(tool), args, err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// gpg runs GnuPG in a temporary home of its own.
type gpg struct {
	t    *testing.T
	bin  string
	home string
}

func newGPG(t *testing.T) *gpg {
	t.Helper()
	bin := lookTool(t, "gpg")
	// A short path: gpg-agent's socket path must fit in sun_path.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		os.RemoveAll(home)
	})
	return &gpg{t: t, bin: bin, home: home}
}

func (g *gpg) try(stdin string, args ...string) (string, string, error) {
	cmd := exec.Command(g.bin, append([]string{"--homedir", g.home, "--batch", "--no-tty",
		"--pinentry-mode", "loopback", "--trust-model", "always"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (g *gpg) run(stdin string, args ...string) (string, string) {
	g.t.Helper()
	out, stderr, err := g.try(stdin, args...)
	if err != nil {
		g.t.Fatalf("gpg %v: %v\n%s", args, err, stderr)
	}
	return out, stderr
}

// sqTool is Sequoia's sq, whose options changed after 0.27 (Debian 12):
// --recipient-key became --recipient-file, --signer-cert --signer-file,
// and cleartext signatures, found by 0.27 alone, need --cleartext.
type sqTool struct {
	bin string
	new bool // sq 0.28 or later
}

func newSq(t *testing.T) sqTool {
	t.Helper()
	bin := lookTool(t, "sq")
	help, _ := exec.Command(bin, "decrypt", "--help").CombinedOutput()
	return sqTool{bin: bin, new: bytes.Contains(help, []byte("--recipient-file"))}
}

func (s sqTool) decrypt(key, signer, file string) []string {
	if s.new {
		return []string{"decrypt", "--recipient-file", key, "--signer-file", signer, file}
	}
	return []string{"decrypt", "--recipient-key", key, "--signer-cert", signer, file}
}

// verify: args are --cleartext FILE or --detached SIG FILE.
func (s sqTool) verify(signer string, args ...string) []string {
	if s.new {
		if args[0] == "--detached" {
			args = []string{"--signature-file", args[1], args[2]}
		}
		return append([]string{"verify", "--signer-file", signer}, args...)
	}
	if args[0] == "--cleartext" {
		args = args[1:]
	}
	return append([]string{"verify", "--signer-cert", signer}, args...)
}

// TestComposeMail_Concurrent shares the team key between composing,
// clear-signing, encrypting and reading, as the sender, the web and
// intake do (run
// with -race: go-crypto caches verification results in the key).
func TestComposeMail_Concurrent(t *testing.T) {
	t.Parallel()
	team, researcher := composeKeys(t)
	raw, err := pgp.ComposeMail(reply(), team, openpgp.EntityList{researcher}, composeNow)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 16)
	for range 4 {
		go func() {
			_, err := pgp.Encrypt([]byte("web form"), openpgp.EntityList{team}, nil, composeNow)
			done <- err
		}()
		go func() {
			_, err := pgp.ComposeMail(reply(), team, openpgp.EntityList{researcher}, composeNow)
			done <- err
		}()
		go func() {
			_, err := pgp.ClearSign([]byte("Contact: mailto:security@example.com\n"), team, composeNow)
			done <- err
		}()
		go func() {
			m, err := pgp.ParseMessage(raw, pgp.Keys(openpgp.EntityList{team}, nil), pgp.Limits{}, composeNow)
			if err == nil && m.Signature.Status != triage.SignatureGood {
				err = errors.New("signature " + string(m.Signature.Status))
			}
			done <- err
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// FuzzComposeMail: whatever the fields, ComposeMail either refuses them
// or writes a mail whose header holds exactly the fields it meant to,
// with the subject and recipient read back unchanged.
func FuzzComposeMail(f *testing.F) {
	f.Add("ada@example.org", "Security Team", "[SEC-2026-0001] Report received", "Thanks!\n")
	f.Add("ada@example.org\r\nBcc: eve@example.net", "x", "y", "z")
	f.Add("ada@example.org", "Team\r\nBcc: eve@example.net", "y", "z")
	f.Add("ada@example.org", "\"Team\" <x@y>, eve@example.net", "a\u0085b", "z")
	f.Add("ada@example.org", "Équipe", strings.Repeat("é ", 100), "From me\n.\n-- \n")
	f.Add("ada@example.org", "=?utf-8?q?Eve?=", "=?utf-8?q?=0D=0ABcc:_eve@example.net?=", "z")
	team, err := pgp.GenerateKey("Security Team", "security@example.com", composeNow.Add(-time.Hour), 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, to, name, subject, body string) {
		m := reply()
		m.To, m.FromName, m.Subject, m.Body = to, name, subject, body
		raw, err := pgp.ComposeMail(m, team, nil, composeNow)
		if err != nil {
			return
		}
		hdr, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		var names []string
		for _, l := range strings.Split(string(hdr), "\r\n") {
			if l != "" && l[0] != ' ' {
				n, _, _ := strings.Cut(l, ":")
				names = append(names, n)
			}
		}
		want := "Date From To Subject Message-ID In-Reply-To References Auto-Submitted MIME-Version Autocrypt Content-Type"
		if strings.Join(names, " ") != want {
			t.Fatalf("header fields %q", names)
		}
		got, err := pgp.ParseMessage(raw, pgp.Keys(nil, openpgp.EntityList{team}), pgp.Limits{}, composeNow)
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != strings.TrimSpace(subject) || got.Signature.Status != triage.SignatureGood {
			t.Fatalf("subject %q (want %q), signature %s", got.Subject, subject, got.Signature.Status)
		}
		if got.FromEmail != "security@example.com" {
			t.Fatalf("From %q", got.FromEmail)
		}
	})
}
