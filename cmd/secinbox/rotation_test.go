package main

import (
	"bytes"
	"fmt"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
)

// gnupg runs gpg in its own home directory.
type gnupg struct {
	t    *testing.T
	bin  string
	home string
}

func newGnuPG(t *testing.T) *gnupg {
	t.Helper()
	bin, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("gpg not installed")
	}
	// A short path: gpg-agent's socket path must fit in sun_path.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		os.RemoveAll(home)
	})
	return &gnupg{t: t, bin: bin, home: home}
}

// run runs gpg with args and stdin and returns its standard output.
func (g *gnupg) run(stdin string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command(g.bin, append([]string{"--homedir", g.home, "--batch", "--no-tty", "--quiet",
		"--pinentry-mode", "loopback", "--trust-model", "always"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		g.t.Fatalf("gpg %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// encrypt encrypts a one-part MIME body to recipient (a fingerprint or
// address) and wraps it as PGP/MIME from from.
func (g *gnupg) encrypt(recipient, from, subject, text string) []byte {
	g.t.Helper()
	inner := crlf("Content-Type: text/plain; charset=utf-8\n\n" + text + "\n")
	armored := g.run(inner, "--armor", "--encrypt", "--recipient", recipient)
	return []byte(pgpMIME(from, subject, []byte(armored)))
}

// fprs returns the fingerprints of the primary keys gpg lists for args.
func (g *gnupg) fprs(args ...string) []string {
	g.t.Helper()
	var out []string
	sub := false
	for _, line := range strings.Split(g.run("", append([]string{"--with-colons"}, args...)...), "\n") {
		f := strings.Split(line, ":")
		switch {
		case f[0] == "pub" || f[0] == "sec":
			sub = false
		case f[0] == "sub" || f[0] == "ssb":
			sub = true
		case f[0] == "fpr" && !sub && len(f) > 9:
			out = append(out, f[9])
		}
	}
	return out
}

// TestKeyRotation_GnuPG is issue 3's promise: a team that imports its
// existing GnuPG key keeps receiving reports through a key rotation. The
// real binary serves SMTP and HTTP; GnuPG makes the team key and encrypts
// as researchers do; the rotation runs while the server is up.
func TestKeyRotation_GnuPG(t *testing.T) {
	t.Parallel()
	// The key a team has had for years, as GnuPG makes it by default:
	// RSA-3072 with an RSA-3072 encryption subkey, passphrase-protected,
	// exported with `gpg --armor --export-secret-keys` (made once by
	// testdata/gen-keys.sh: generating RSA keys takes gpg seconds).
	const export = "testdata/gnupg-default.sec.asc"
	oldFpr := fixtureFpr(t, "gnupg-default")

	data := t.TempDir()
	if out := cli(t, data, fixturePassphrase+"\n", "key", "import", export); !strings.HasPrefix(out, "imported "+oldFpr) {
		t.Fatalf("key import: %q", out)
	}
	p := startProc(t, data)
	token := apiToken(t, data)

	// A researcher fetches the team key and reports.
	researcher := newGnuPG(t)
	fetchKey := func() string {
		t.Helper()
		code, key := httpGet(t, p.url("/pgp-key.asc"))
		if code != 200 {
			t.Fatalf("/pgp-key.asc: %d", code)
		}
		researcher.run(key, "--import")
		es, err := openpgp.ReadArmoredKeyRing(strings.NewReader(key))
		if err != nil || len(es) != 1 {
			t.Fatalf("/pgp-key.asc: %v", err)
		}
		return pgp.Fingerprint(es[0])
	}
	if got := fetchKey(); got != oldFpr {
		t.Fatalf("/pgp-key.asc serves %s, want the imported %s", got, oldFpr)
	}
	send := func(msg []byte) {
		t.Helper()
		if err := smtp.SendMail(p.smtpAddr, nil, "ada@example.org", []string{"security@localhost"}, msg); err != nil {
			t.Fatal(err)
		}
	}
	send(researcher.encrypt(oldFpr, "Ada <ada@example.org>", "before rotation", "Report one, to the imported key."))
	p.waitReports(token, 1)

	// The rotation, by the real binary, while the server runs.
	cmd := exec.Command(binary, "key", "rotate", "-data", data, "-log-format", "json")
	cmd.Env = append(os.Environ(), "SECINBOX_KEY_PASSPHRASE="+testPassphrase)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("key rotate: %v\n%s", err, out)
	}
	f := strings.Fields(string(out[bytes.Index(out, []byte("new primary key ")):]))
	newFpr := f[3]
	if newFpr == oldFpr || len(newFpr) != 40 {
		t.Fatalf("key rotate: %s", out)
	}

	// The public endpoints publish the new key at once: no restart.
	if got := fetchKey(); got != newFpr {
		t.Fatalf("/pgp-key.asc serves %s after the rotation, want %s", got, newFpr)
	}
	code, wkd := httpGet(t, p.url("/.well-known/openpgpkey/hu/"+pgp.WKDHash("security")+"?l=security"))
	if wkdKeys, err := openpgp.ReadKeyRing(strings.NewReader(wkd)); code != 200 || err != nil || pgp.Fingerprint(wkdKeys[0]) != newFpr {
		t.Fatalf("WKD after the rotation: %d %v", code, err)
	}
	if _, txt := httpGet(t, p.url("/.well-known/security.txt")); !strings.Contains(txt, "Encryption: ") {
		t.Errorf("security.txt lost its Encryption field:\n%s", txt)
	}
	// GnuPG accepts the new key, with the old key's certification on it.
	sigs := researcher.run("", "--with-colons", "--check-sigs", newFpr)
	if !strings.Contains(sigs, ":"+oldFpr[24:]+":") {
		t.Errorf("the new key carries no certification by the old key %s:\n%s", oldFpr, sigs)
	}

	// A report to the new key and one from a researcher who still has the
	// old key both decrypt.
	send(researcher.encrypt(newFpr, "Ada <ada@example.org>", "to the new key", "Report two, to the rotated key."))
	send(researcher.encrypt(oldFpr, "Bob <bob@example.org>", "to the old key", "Report three, to the old key still."))
	want := map[string]string{
		"before rotation": "Report one, to the imported key.",
		"to the new key":  "Report two, to the rotated key.",
		"to the old key":  "Report three, to the old key still.",
	}
	for _, r := range p.waitReports(token, 3) {
		var full apiReport
		p.getJSON(token, fmt.Sprintf("/api/v1/reports/%d", r.ID), &full)
		if full.Status != "new" || !full.Decrypted || !strings.Contains(full.Body, want[full.Title]) {
			t.Errorf("%q: status %s, decrypted %v, body %q", full.Title, full.Status, full.Decrypted, full.Body)
		}
	}
	if !strings.Contains(p.logs(), "team primary key changed") {
		t.Error("the server did not log that it publishes a new key")
	}

	// The backup: every key, still locked, restores elsewhere, where
	// mail to the old key decrypts too; and GnuPG reads it.
	backup := filepath.Join(t.TempDir(), "backup.asc")
	os.WriteFile(backup, []byte(cli(t, data, "", "key", "export", "--secret", "--all")), 0o600)
	elsewhere := t.TempDir()
	cli(t, elsewhere, testPassphrase+"\n", "key", "import", "--all", backup)
	p.kill()
	p2 := startProc(t, elsewhere)
	if got := pgp.Fingerprint(teamKeyFrom(t, p2)[0]); got != newFpr {
		t.Errorf("restored server publishes %s, want %s", got, newFpr)
	}
	if err := smtp.SendMail(p2.smtpAddr, nil, "bob@example.org", []string{"security@localhost"},
		researcher.encrypt(oldFpr, "Bob <bob@example.org>", "old key, restored server", "Report four.")); err != nil {
		t.Fatal(err)
	}
	token2 := apiToken(t, elsewhere)
	var r apiReport
	p2.getJSON(token2, fmt.Sprintf("/api/v1/reports/%d", p2.waitReports(token2, 1)[0].ID), &r)
	if !r.Decrypted || !strings.Contains(r.Body, "Report four.") {
		t.Errorf("restored server: decrypted %v, body %q", r.Decrypted, r.Body)
	}
	gpgBackup := newGnuPG(t)
	gpgBackup.run("", "--passphrase", testPassphrase, "--import", backup)
	if got := gpgBackup.fprs("--list-secret-keys"); len(got) != 2 {
		t.Errorf("GnuPG imported %d secret keys from the backup, want 2", len(got))
	}
}
