package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/teamkey"
	"github.com/secinbox/secinbox/triage"
)

// The fixtures in testdata are GnuPG exports made by testdata/gen-keys.sh.
const fixturePassphrase = "fixture passphrase"

// fixtureFpr is the fingerprint of fixture key name ("rsa-team",
// "ed25519-team"), as gen-keys.sh recorded it.
func fixtureFpr(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/fingerprints.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			return f[1]
		}
	}
	t.Fatalf("no fingerprint for %s", name)
	return ""
}

// importTemplate is a data directory made once per package by importing
// a fixture; importedData copies it.
type importTemplate struct {
	once sync.Once
	dir  string
	err  error
}

var (
	importTemplatesMu sync.Mutex
	importTemplates   = map[string]*importTemplate{}
)

// importedData returns a new data directory (the test's own) where fixture
// ("ed25519-team", "rsa-team") has been imported with `secinbox key import
// testdata/FIXTURE.sec.asc` under testPassphrase: a copy of a directory the
// real binary made once for the package. Unlocking a GnuPG export runs its
// S2K (65011712 bytes of SHA-1 per secret key), seconds under the race
// detector, and for most tests the import is only where they start from;
// TestKeyImport_GnuPGExports tests the command itself.
func importedData(t *testing.T, fixture string) string {
	t.Helper()
	importTemplatesMu.Lock()
	tp := importTemplates[fixture]
	if tp == nil {
		tp = &importTemplate{}
		importTemplates[fixture] = tp
	}
	importTemplatesMu.Unlock()
	tp.once.Do(func() {
		tp.dir = filepath.Join(filepath.Dir(binary), "imported-"+fixture)
		cmd := exec.Command(binary, "key", "import", "-data", tp.dir, "testdata/"+fixture+".sec.asc")
		cmd.Env = append(os.Environ(), "SECINBOX_KEY_PASSPHRASE="+testPassphrase)
		cmd.Stdin = strings.NewReader(fixturePassphrase + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			tp.err = fmt.Errorf("secinbox key import testdata/%s.sec.asc: %v\n%s", fixture, err, out)
		}
	})
	if tp.err != nil {
		t.Fatal(tp.err)
	}
	data := t.TempDir()
	entries, err := os.ReadDir(tp.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries { // the database, closed: no process has it open
		b, err := os.ReadFile(filepath.Join(tp.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// run runs a secinbox subcommand in-process against data, as cli does,
// but returns the outcome instead of failing.
func run(t *testing.T, data, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), cliArgs(data, testPassphrase, args...), strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// importKey runs `secinbox key import ARGS` against data as the built
// binary, with the key passphrase pass in its environment and stdin, and
// returns the outcome. Unlocking a GnuPG export (65011712 bytes of SHA-1
// per secret key) takes six times as long in-process under the race
// detector; TestKeyImport and TestKeyRotation_GnuPG import in-process.
func importKey(t *testing.T, data, pass, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	args = append([]string{"key", "import", "-data", data}, args...)
	return secinboxStdin(t, []string{"SECINBOX_KEY_PASSPHRASE=" + pass}, stdin, args...)
}

// mustImportKey is importKey under testPassphrase for an import that must
// succeed; it returns the standard output.
func mustImportKey(t *testing.T, data, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := importKey(t, data, testPassphrase, stdin, args...)
	if code != 0 {
		t.Fatalf("secinbox key import %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// keyList returns `secinbox key list`, one line per key.
func keyList(t *testing.T, data string) []string {
	t.Helper()
	out := strings.TrimSpace(cli(t, data, "", "key", "list"))
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// writeKey writes e locked with passphrase to a file and returns its path.
func writeKey(t *testing.T, e *openpgp.Entity, passphrase string) string {
	t.Helper()
	b, err := pgp.LockKey(e, []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.asc")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKeyImport_GnuPGExports: `key import` takes GnuPG exports as teams
// have them, and says clearly what is wrong with those it cannot take.
// A refused import stores nothing.
func TestKeyImport_GnuPGExports(t *testing.T) {
	t.Parallel()
	rsa, ed := fixtureFpr(t, "rsa-team"), fixtureFpr(t, "ed25519-team")

	t.Run("ArmoredRSAWithOldSubkeys", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		initData(t, data)
		out := mustImportKey(t, data, fixturePassphrase+"\n", "testdata/rsa-team.sec.asc")
		if out != "imported "+rsa+" Example Security Team <security@example.com>\n" {
			t.Fatalf("import: %q", out)
		}
		list := keyList(t, data)
		if len(list) != 1 || !strings.HasPrefix(list[0], "* "+rsa+"  RSA-3072") ||
			!strings.Contains(list[0], "expires never  primary  Example Security Team <security@example.com>") {
			t.Errorf("key list: %q", list)
		}
		// Stored under secinbox's passphrase, not the GnuPG one.
		exp := cli(t, data, "", "key", "export", "--secret")
		if _, err := pgp.ReadSecretKeys([]byte(exp), []byte(testPassphrase)); err != nil {
			t.Errorf("the stored key does not unlock with the key passphrase: %v", err)
		}
		if _, err := pgp.ReadSecretKeys([]byte(exp), []byte(fixturePassphrase)); err == nil {
			t.Error("the stored key still unlocks with the GnuPG passphrase")
		}
	})

	t.Run("Binary", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		initData(t, data)
		if out := mustImportKey(t, data, fixturePassphrase+"\n", "testdata/rsa-team.sec.gpg"); !strings.HasPrefix(out, "imported "+rsa) {
			t.Fatalf("import: %q", out)
		}
	})

	t.Run("Ed25519", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		initData(t, data)
		mustImportKey(t, data, fixturePassphrase+"\n", "testdata/ed25519-team.sec.asc")
		list := keyList(t, data)
		if len(list) != 1 || !strings.HasPrefix(list[0], "* "+ed+"  Ed25519") || !strings.Contains(list[0], "expires 2033-12-29") {
			t.Errorf("key list: %q", list)
		}
	})

	t.Run("SeveralKeys", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		initData(t, data)
		_, stderr, code := importKey(t, data, testPassphrase, fixturePassphrase+"\n", "testdata/two-keys.sec.asc")
		if code != 1 || !strings.Contains(stderr, "holds 2 secret keys") || !strings.Contains(stderr, "--key") ||
			!strings.Contains(stderr, rsa) || !strings.Contains(stderr, ed) {
			t.Errorf("import of two keys without a choice: exit %d: %s", code, stderr)
		}
		if list := keyList(t, data); len(list) != 0 {
			t.Fatalf("a refused import stored %q", list)
		}
		// Chosen by fingerprint, or by key ID with spaces as GnuPG prints it.
		mustImportKey(t, data, fixturePassphrase+"\n", "--key", rsa, "testdata/two-keys.sec.asc")
		keyID := ed[24:28] + " " + ed[28:32] + " " + ed[32:36] + " " + ed[36:]
		mustImportKey(t, data, fixturePassphrase+"\n", "--primary=false", "--key", keyID, "testdata/two-keys.sec.asc")
		if list := keyList(t, data); len(list) != 2 || !strings.HasPrefix(list[0], "* "+rsa) ||
			!strings.HasPrefix(list[1], "  "+ed) || !strings.Contains(list[1], "decrypts") {
			t.Errorf("key list: %q", list)
		}

		other := t.TempDir()
		out := mustImportKey(t, other, fixturePassphrase+"\n", "--all", "testdata/two-keys.sec.asc")
		if strings.Count(out, "imported ") != 2 {
			t.Errorf("--all: %q", out)
		}
		if list := keyList(t, other); len(list) != 2 || !strings.HasPrefix(list[0], "* "+ed) {
			t.Errorf("--all: the file's first key should be primary: %q", list)
		}
	})

	refused := []struct {
		name, file, stdin string
		args              []string
		want              []string
	}{
		{"PublicOnly", "testdata/rsa-team.pub.asc", fixturePassphrase, nil,
			[]string{"holds only public keys", "gpg --export-secret-keys --armor", rsa}},
		{"PublicPartChosen", "testdata/rsa-team.pub.asc", fixturePassphrase, []string{"--key", rsa},
			[]string{"only the public part of key " + rsa}},
		{"WrongPassphrase", "testdata/rsa-team.sec.asc", "not the passphrase", nil,
			[]string{"wrong passphrase for key " + rsa, "nothing was imported"}},
		{"NoSuchKey", "testdata/two-keys.sec.asc", fixturePassphrase, []string{"--key", "0123456789ABCDEF"},
			[]string{"holds no key 0123456789ABCDEF", rsa, ed}},
		{"NotAKey", "testdata/gen-keys.sh", "", nil, []string{"not an OpenPGP key file"}},
		{"Missing", "testdata/no-such-file.asc", "", nil, []string{"no such file"}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			initData(t, data)
			_, stderr, code := importKey(t, data, testPassphrase, tc.stdin+"\n", append(append([]string(nil), tc.args...), tc.file)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
			if list := keyList(t, data); len(list) != 0 {
				t.Errorf("a refused import stored %q", list)
			}
		})
	}

	t.Run("ExpiredKey", func(t *testing.T) {
		t.Parallel()
		// An expired key cannot be published, but can be kept to decrypt.
		now := time.Now()
		old, err := pgp.GenerateKey("Old Team", "security@localhost", now.AddDate(-3, 0, 0), 365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		file := writeKey(t, old, "old passphrase")
		data := importedData(t, "ed25519-team")
		_, stderr, code := importKey(t, data, testPassphrase, "old passphrase\n", file)
		if code != 1 || !strings.Contains(stderr, "cannot be the primary key: it expired on "+pgp.KeyExpiry(old).UTC().Format(time.DateOnly)) ||
			!strings.Contains(stderr, "--primary=false") {
			t.Errorf("expired key as primary: exit %d: %s", code, stderr)
		}
		mustImportKey(t, data, "old passphrase\n", "--primary=false", file)
		list := keyList(t, data)
		if len(list) != 2 || !strings.HasPrefix(list[0], "* "+ed) || !strings.Contains(list[1], "expires EXPIRED ") ||
			!strings.Contains(list[1], "decrypts") {
			t.Errorf("key list: %q", list)
		}
	})

	t.Run("AlreadyThere", func(t *testing.T) {
		t.Parallel()
		data := importedData(t, "ed25519-team")
		_, stderr, code := importKey(t, data, testPassphrase, fixturePassphrase+"\n", "testdata/ed25519-team.sec.asc")
		if code != 1 || !strings.Contains(stderr, "in the team keyring already") {
			t.Errorf("second import: exit %d: %s", code, stderr)
		}
	})

	t.Run("OtherServerPassphrase", func(t *testing.T) {
		t.Parallel()
		// A key locked with another passphrase than the server's would
		// stop the server at its next start: refused before it is stored.
		data := importedData(t, "ed25519-team")
		_, stderr, code := importKey(t, data, "another passphrase", fixturePassphrase+"\n", "testdata/rsa-team.sec.asc")
		if code != 1 || !strings.Contains(stderr, "does not unlock team key "+ed) {
			t.Errorf("import under another passphrase: exit %d: %s", code, stderr)
		}
		if list := keyList(t, data); len(list) != 1 {
			t.Errorf("key list: %q", list)
		}
	})
}

// TestKeyImport_OldSubkeysDecrypt: after importing a GnuPG key that has
// been in use for years, mail encrypted to its current encryption subkey
// decrypts, and so does mail encrypted long ago to a subkey that has
// expired or been revoked since.
func TestKeyImport_OldSubkeysDecrypt(t *testing.T) {
	t.Parallel()
	data := importedData(t, "rsa-team")
	p := startProc(t, data)
	if got := pgp.Fingerprint(teamKeyFrom(t, p)[0]); got != fixtureFpr(t, "rsa-team") {
		t.Errorf("/pgp-key.asc serves %s", got)
	}
	want := map[string]string{
		"to-current": "A report encrypted to the current subkey.",
		"to-expired": "A report encrypted in 2020 to the subkey that has expired since.",
		"to-revoked": "A report encrypted in 2021 to the subkey that was revoked since.",
	}
	for name := range want {
		armored, err := os.ReadFile("testdata/" + name + ".asc")
		if err != nil {
			t.Fatal(err)
		}
		msg := pgpMIME("r@example.org", name, armored)
		if err := smtp.SendMail(p.smtpAddr, nil, "r@example.org", []string{"security@localhost"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	token := apiToken(t, data)
	for _, r := range p.waitReports(token, len(want)) {
		var full apiReport
		p.getJSON(token, fmt.Sprintf("/api/v1/reports/%d", r.ID), &full)
		if !full.Decrypted || !strings.Contains(full.Body, want[full.Title]) {
			t.Errorf("%s: decrypted %v, body %q", full.Title, full.Decrypted, full.Body)
		}
	}
}

// TestKeyRotate: rotation makes a new primary key with the old primary's
// user ID, certified by the old key; the old key keeps decrypting; keys
// can be made primary again and retired; every operation is in the audit
// log.
func TestKeyRotate(t *testing.T) {
	t.Parallel()
	data := importedData(t, "ed25519-team")
	old := fixtureFpr(t, "ed25519-team")

	out := cli(t, data, "", "key", "rotate")
	f := strings.Fields(out)
	if len(f) < 4 || f[0] != "new" || f[1] != "primary" || f[2] != "key" || !strings.Contains(out, "(Ed25519, expires ") ||
		!strings.Contains(out, "previous primary "+old+" keeps decrypting") {
		t.Fatalf("rotate: %q", out)
	}
	next := f[3]
	list := keyList(t, data)
	if len(list) != 2 || !strings.HasPrefix(list[0], "* "+next+"  Ed25519") || !strings.HasPrefix(list[1], "  "+old) ||
		!strings.Contains(list[1], "decrypts") {
		t.Fatalf("key list after rotate: %q", list)
	}
	// Valid for -key-lifetime (two years by default) from now.
	m := regexp.MustCompile(`expires (\d{4}-\d\d-\d\d)`).FindStringSubmatch(list[0])
	if m == nil {
		t.Fatalf("no expiry in %q", list[0])
	}
	if exp, _ := time.Parse(time.DateOnly, m[1]); exp.Sub(time.Now().Add(17520*time.Hour)).Abs() > 48*time.Hour {
		t.Errorf("new key expires %s, want two years from now", m[1])
	}

	// The published key carries the old key's user ID, certified by it.
	pub, err := openpgp.ReadArmoredKeyRing(strings.NewReader(cli(t, data, "", "key", "export")))
	if err != nil || len(pub) != 1 || pgp.Fingerprint(pub[0]) != next {
		t.Fatalf("export after rotate: %v", err)
	}
	oldPub, err := openpgp.ReadArmoredKeyRing(strings.NewReader(cli(t, data, "", "key", "export", "--key", old)))
	if err != nil {
		t.Fatal(err)
	}
	const uid = "Security <security@example.org>"
	id := pub[0].Identities[uid]
	if id == nil || len(pub[0].Identities) != 1 {
		t.Fatalf("new key's user IDs: %v", pub[0].Identities)
	}
	if len(id.OtherCertifications) != 1 {
		t.Fatalf("new key's user ID has %d certifications by others, want 1 (the old key)", len(id.OtherCertifications))
	}
	sig := id.OtherCertifications[0].Packet
	if err := oldPub[0].PrimaryKey.VerifyUserIdSignature(uid, pub[0].PrimaryKey, sig); err != nil {
		t.Errorf("the old key's certification of the new key does not verify: %v", err)
	}

	t.Run("Algorithm", func(t *testing.T) {
		_, _, code := run(t, data, "", "key", "rotate", "--algorithm", "dsa1024")
		if code != 2 {
			t.Errorf("rotate --algorithm dsa1024: exit %d, want 2 (usage)", code)
		}
	})

	t.Run("SetPrimaryAndRetire", func(t *testing.T) {
		if out := cli(t, data, "", "key", "set-primary", old); !strings.HasPrefix(out, "primary key "+old) {
			t.Errorf("set-primary: %q", out)
		}
		if list := keyList(t, data); !strings.HasPrefix(list[0], "* "+old) {
			t.Errorf("after set-primary: %q", list)
		}
		if _, stderr, code := run(t, data, "", "key", "retire", old); code != 1 || !strings.Contains(stderr, "is the primary key") {
			t.Errorf("retiring the primary: exit %d: %s", code, stderr)
		}
		cli(t, data, "", "key", "set-primary", next[24:]) // by key ID
		if out := cli(t, data, "", "key", "retire", old); !strings.HasPrefix(out, "retired "+old) {
			t.Errorf("retire: %q", out)
		}
		list := keyList(t, data)
		if len(list) != 2 || !strings.HasPrefix(list[0], "* "+next) || !strings.Contains(list[1], "retired "+time.Now().UTC().Format(time.DateOnly)) {
			t.Errorf("after retire: %q", list)
		}
		if _, stderr, code := run(t, data, "", "key", "set-primary", old); code != 1 || !strings.Contains(stderr, "retired") {
			t.Errorf("set-primary of a retired key: exit %d: %s", code, stderr)
		}
		if _, stderr, code := run(t, data, "", "key", "retire", "0123456789ABCDEF"); code != 1 || !strings.Contains(stderr, "no team key") {
			t.Errorf("retire of an unknown key: exit %d: %s", code, stderr)
		}
	})

	t.Run("Audit", func(t *testing.T) {
		cli(t, data, "", "key", "export", "--secret")
		d, err := db.Open(context.Background(), filepath.Join(data, "secinbox.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		evs, err := d.AuditEvents(context.Background(), triage.AuditFilter{Action: "key."})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := len(evs) - 1; i >= 0; i-- {
			ev := evs[i]
			got = append(got, ev.Action+" "+ev.Target)
			var detail map[string]any
			if ev.ActorEmail != triage.ActorCLI || json.Unmarshal([]byte(ev.Detail), &detail) != nil {
				t.Errorf("audit event %+v", ev)
			}
			if strings.Contains(ev.Detail, "PRIVATE KEY") || strings.Contains(ev.Detail, testPassphrase) {
				t.Errorf("a secret in the audit log: %s", ev.Detail)
			}
		}
		want := []string{
			"key.import key:" + old,
			"key.rotate key:" + next,
			"key.set_primary key:" + old,
			"key.set_primary key:" + next,
			"key.retire key:" + old,
			"key.export key:" + next,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestKeyExport_SecretBackup: `key export --secret --all` is a backup of
// every key, never in the clear, that `key import --all` restores on
// another machine.
func TestKeyExport_SecretBackup(t *testing.T) {
	t.Parallel()
	data := importedData(t, "ed25519-team")
	cli(t, data, "", "key", "rotate")
	before := keyList(t, data)

	backup := cli(t, data, "", "key", "export", "--secret", "--all")
	if strings.Count(backup, "-----BEGIN PGP PRIVATE KEY BLOCK-----") != 2 {
		t.Fatalf("backup holds %d keys, want 2", strings.Count(backup, "BEGIN PGP PRIVATE KEY BLOCK"))
	}
	keys, err := pgp.ReadKeyFile([]byte(backup))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.PrivateKey == nil || !k.PrivateKey.Encrypted {
			t.Errorf("key %s: primary secret key in the clear", pgp.Fingerprint(k))
		}
		for _, s := range k.Subkeys {
			if s.PrivateKey == nil || !s.PrivateKey.Encrypted {
				t.Errorf("key %s: secret subkey in the clear", pgp.Fingerprint(k))
			}
		}
	}

	file := filepath.Join(t.TempDir(), "backup.asc")
	os.WriteFile(file, []byte(backup), 0o600)
	elsewhere := t.TempDir()
	cli(t, elsewhere, testPassphrase+"\n", "key", "import", "--all", file)
	after := keyList(t, elsewhere)
	if len(after) != 2 || after[0] != before[0] || after[1] != before[1] {
		t.Errorf("restored keyring:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// TestKeyExpiry_Warnings: the server warns in its log when the primary
// key expires within 30 days and logs an error once it has expired; the
// board shows staff a banner; security.txt expires with the key.
func TestKeyExpiry_Warnings(t *testing.T) {
	t.Parallel()
	now := time.Now()
	storeKey := func(t *testing.T, data string, e *openpgp.Entity) {
		t.Helper()
		d, err := openData(context.Background(), &Config{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		k, err := teamkey.Locked(e, []byte(testPassphrase), true, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.AddTeamKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	logged := func(p *proc, level, msg string) bool {
		for _, line := range strings.Split(p.logs(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == level && strings.Contains(fmt.Sprint(rec["msg"]), msg) {
				return true
			}
		}
		return false
	}

	t.Run("Soon", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		e, err := pgp.GenerateKey("Security Team", "security@localhost", now.Add(-355*24*time.Hour), 365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		storeKey(t, data, e)
		p := startProc(t, data)
		if !logged(p, "WARN", "the team's primary key expires soon") {
			t.Errorf("no warning logged for a key expiring in 10 days:\n%s", p.logs())
		}
		addStaff(t, data, "lead@example.com", triage.RoleViewer)
		board := staffGet(t, p, "lead@example.com", staffPassword, "/board")
		if !strings.Contains(board, `data-testid="key-warning"`) || !strings.Contains(board, "expires on "+pgp.KeyExpiry(e).UTC().Format("2006-01-02 15:04")) {
			t.Error("the board does not warn staff that the key expires in 10 days")
		}
		resp, body := httpGet(t, p.url("/.well-known/security.txt"))
		if resp != 200 || !strings.Contains(body, "Expires: "+pgp.KeyExpiry(e).UTC().Format(time.RFC3339)) {
			t.Errorf("security.txt does not expire with the key (%s):\n%s", pgp.KeyExpiry(e).UTC().Format(time.RFC3339), body)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		e, err := pgp.GenerateKey("Security Team", "security@localhost", now.AddDate(-2, 0, 0), 365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		storeKey(t, data, e)
		p := startProc(t, data)
		if !logged(p, "ERROR", "the team's primary key has expired") {
			t.Errorf("no error logged for an expired key:\n%s", p.logs())
		}
	})

	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		p := startProc(t, t.TempDir()) // a generated key, valid two years
		if logged(p, "WARN", "expires soon") || logged(p, "ERROR", "has expired") {
			t.Errorf("expiry warning for a fresh key:\n%s", p.logs())
		}
	})
}

// httpGet GETs url and returns the status code and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestKeyring_LiveReload runs the server's keyring in-process, under the
// race detector in `make test`: while readers use it from several
// goroutines (the processor decrypting, HTTP handlers publishing), a
// rotation by the CLI is picked up, the old key keeps decrypting, and a
// change the server cannot use (a key locked with another passphrase)
// keeps the keys loaded before.
func TestKeyring_LiveReload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := t.TempDir()
	cfg := &Config{Data: data, Domain: "localhost", KeyLifetime: 24 * time.Hour * 365}
	d, err := openData(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var logs syncBuffer
	log := newLogger(&Config{LogFormat: "json"}, &logs)
	kr, err := teamkey.Open(ctx, teamkey.Config{Store: d, Passphrase: []byte(testPassphrase), Domain: cfg.Domain, Lifetime: cfg.KeyLifetime, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	first := kr.Published(ctx).Fingerprint
	firstKeys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(kr.Published(ctx).Armored))
	if err != nil {
		t.Fatal(err)
	}
	encryptTo := func(keys openpgp.EntityList, text string) []byte {
		ct, err := pgp.Encrypt([]byte("Content-Type: text/plain\r\n\r\n"+text+"\r\n"), keys, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte("From: r@example.org\r\nSubject: s\r\n\r\n"), ct...)
	}
	toFirst := encryptTo(firstKeys, "to the first key")
	decrypts := func(msg []byte, want string) bool {
		m, err := pgp.ParseMessage(msg, kr.Decryption(), pgp.DefaultLimits(), time.Now())
		return err == nil && m.Decrypted && strings.Contains(m.Text, want)
	}

	stop := make(chan struct{})
	done := make(chan error, 4)
	for range 2 {
		go func() { // HTTP handlers
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if k := kr.Published(ctx); len(k.Armored) == 0 || len(k.Binary) == 0 {
					done <- fmt.Errorf("published key without bytes")
					return
				}
				time.Sleep(time.Millisecond) // leave the CPU to the key derivations
			}
		}()
	}
	go func() { // the processor
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if !decrypts(toFirst, "to the first key") {
				done <- fmt.Errorf("mail to the first key stopped decrypting")
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	cli(t, data, "", "key", "rotate")
	second := kr.Published(ctx).Fingerprint
	if second == first {
		t.Fatal("the keyring did not pick up the rotation")
	}
	secondKeys, _ := openpgp.ReadArmoredKeyRing(bytes.NewReader(kr.Published(ctx).Armored))
	if !decrypts(encryptTo(secondKeys, "to the second key"), "to the second key") {
		t.Error("mail to the rotated key does not decrypt")
	}

	// A key the server's passphrase does not unlock: refused by the CLI,
	// so store it behind its back, as a copied database would.
	other, err := pgp.GenerateKey("Intruder", "security@localhost", time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := teamkey.Locked(other, []byte("another passphrase"), true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddTeamKey(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if got := kr.Published(ctx).Fingerprint; got != second {
		t.Errorf("after an unusable change the keyring publishes %s, want %s still", got, second)
	}
	close(stop)
	for range 3 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if !decrypts(toFirst, "to the first key") {
		t.Error("mail to the first key no longer decrypts")
	}
	if n := strings.Count(logs.String(), "team keyring changed but cannot be used"); n != 1 {
		t.Errorf("the unusable keyring was logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Error("the unusable keyring was not logged as an error")
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
