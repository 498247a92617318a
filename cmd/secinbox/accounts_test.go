package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// TestUserCommands drives the user subcommands and checks the database
// and the audit log after each.
func TestUserCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	initData(t, data)
	// user add hashes the password with bcrypt at cost 12, which takes
	// seconds in-process under the race detector: the built binary adds
	// the two accounts; the other commands run in-process.
	if out, errOut, code := secinbox(t, nil, "user", "add", "-data", data, "--email", "boss@example.com", "--role", "admin"); code != 0 ||
		!strings.HasPrefix(out, "added boss@example.com (admin)\npassword: ") {
		t.Fatalf("user add: exit %d: %s%s", code, out, errOut)
	}
	if out, errOut, code := secinboxStdin(t, nil, "a long staff password\n", "user", "add", "-data", data,
		"--email", "lead@example.com", "--role", "viewer", "--password-stdin"); code != 0 || out != "added lead@example.com (viewer)\n" {
		t.Fatalf("user add --password-stdin: exit %d: %s%s", code, out, errOut)
	}

	if out := cli(t, data, "", "user", "list"); !strings.Contains(out, "boss@example.com\tadmin\t2fa:off\tactive") ||
		!strings.Contains(out, "lead@example.com\tviewer\t2fa:off\tactive") {
		t.Errorf("user list:\n%s", out)
	}
	cli(t, data, "", "user", "role", "--email", "lead@example.com", "--role", "triager")
	cli(t, data, "", "user", "disable", "--email", "lead@example.com")
	if out := cli(t, data, "", "user", "list"); !strings.Contains(out, "lead@example.com\ttriager\t2fa:off\tdisabled") {
		t.Errorf("after role and disable:\n%s", out)
	}
	cli(t, data, "", "user", "enable", "--email", "lead@example.com")
	cli(t, data, "", "user", "reset-2fa", "--email", "lead@example.com")

	// Refusals: the last admin, a weak password, an unknown user.
	var out, errOut bytes.Buffer
	run := func(stdin string, args ...string) int {
		out.Reset()
		errOut.Reset()
		return Main(context.Background(), cliArgs(data, testPassphrase, args...), strings.NewReader(stdin), &out, &errOut)
	}
	if code := run("", "user", "disable", "--email", "boss@example.com"); code != 1 || !strings.Contains(errOut.String(), "last active admin") {
		t.Errorf("disabling the last admin: exit %d: %s", code, errOut.String())
	}
	if code := run("short\n", "user", "add", "--email", "x@example.com", "--role", "viewer", "--password-stdin"); code != 1 || !strings.Contains(errOut.String(), "at least 12") {
		t.Errorf("weak password: exit %d: %s", code, errOut.String())
	}
	if code := run("", "user", "role", "--email", "nobody@example.com", "--role", "viewer"); code != 1 {
		t.Errorf("unknown user: exit %d", code)
	}
	if code := run("", "user", "role", "--role", "viewer"); code != 2 {
		t.Errorf("no --email: exit %d, want 2", code)
	}
	cli(t, data, "", "token", "create", "--user", "lead@example.com", "--name", "ci")

	d, err := db.Open(context.Background(), filepath.Join(data, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	evs, err := d.AuditEvents(context.Background(), triage.AuditFilter{Actor: triage.ActorCLI})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append([]string{ev.Action}, got...)
	}
	want := []string{triage.AuditUserCreate, triage.AuditUserCreate, triage.AuditUserRole, triage.AuditUserDisable,
		triage.AuditUserEnable, triage.AuditTwoFactorReset, triage.AuditTokenCreate}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audited %v, want %v", got, want)
	}
}

func TestWebSecretKey(t *testing.T) {
	t.Parallel()
	salt, otherSalt := []byte("0123456789abcdef"), []byte("fedcba9876543210")
	a, b := webSecretKey([]byte("passphrase one"), salt), webSecretKey([]byte("passphrase one"), salt)
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("not a stable 32-byte key: %x %x", a, b)
	}
	if bytes.Equal(a, webSecretKey([]byte("passphrase two"), salt)) {
		t.Error("two passphrases, one key")
	}
	if bytes.Equal(a, webSecretKey([]byte("passphrase one"), otherSalt)) {
		t.Error("two installations, one key for the same passphrase")
	}
	if webSecretKey(nil, salt) != nil {
		t.Error("a key from no passphrase")
	}
}

// TestTokenCommands: tokens made with the CLI expire (90 days unless
// --expires says otherwise), are listed with their state and last use,
// and can be revoked; both changes are audited.
func TestTokenCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	initData(t, data)
	ctx := context.Background()
	addStaff(t, data, "bot@example.com", triage.RoleViewer)
	long := strings.TrimSpace(cli(t, data, "", "token", "create", "--user", "bot@example.com", "--name", "ci"))
	short := strings.TrimSpace(cli(t, data, "", "token", "create", "--user", "bot@example.com", "--name", "one-off", "--expires", "2h"))

	out := cli(t, data, "", "token", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "\tbot@example.com\tone-off\t") || !strings.HasSuffix(lines[1], "\tnever\tactive") ||
		!strings.Contains(lines[2], "\tci\t") {
		t.Fatalf("token list:\n%s", out)
	}
	id := strings.Split(lines[1], "\t")[0]

	d, err := db.Open(ctx, filepath.Join(data, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	toks, err := d.APITokens(ctx, 0)
	if err != nil || len(toks) != 2 {
		t.Fatalf("tokens %v %v", toks, err)
	}
	if life := toks[1].ExpiresAt.Sub(toks[1].CreatedAt); life < triage.APITokenLifetime-time.Minute || life > triage.APITokenLifetime {
		t.Errorf("default lifetime %v, want %v", life, triage.APITokenLifetime)
	}
	if life := toks[0].ExpiresAt.Sub(toks[0].CreatedAt); life < 2*time.Hour-time.Minute || life > 2*time.Hour+time.Minute {
		t.Errorf("--expires 2h gave %v", life)
	}
	if _, _, err := d.APITokenByHash(ctx, sha256Sum(short), now.Add(3*time.Hour)); triage.ErrorCode(err) != triage.ENOTFOUND {
		t.Errorf("the 2h token 3h on: %v, want it refused", err)
	}
	d.Close()

	if out := cli(t, data, "", "token", "revoke", "--id", id); !strings.Contains(out, "revoked token "+id) {
		t.Errorf("revoke: %s", out)
	}
	if out := cli(t, data, "", "token", "list", "--user", "bot@example.com"); !strings.Contains(out, "\tone-off\t") || !strings.Contains(out, "\trevoked\n") {
		t.Errorf("after revoke:\n%s", out)
	}

	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"token", "create", "--user", "bot@example.com", "--expires", "400d"},
		{"token", "create", "--user", "bot@example.com", "--expires", "soon"},
		{"token", "revoke", "--id", "999"},
	} {
		if code := Main(ctx, cliArgs(data, testPassphrase, args...), strings.NewReader(""), &stdout, &stderr); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
	}
	if code := Main(ctx, cliArgs(data, testPassphrase, "token", "revoke"), strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Errorf("revoke without --id: exit %d, want 2", code)
	}

	d, err = db.Open(ctx, filepath.Join(data, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, _, err := d.APITokenByHash(ctx, sha256Sum(short), now); triage.ErrorCode(err) != triage.ENOTFOUND {
		t.Errorf("revoked token: %v, want it refused", err)
	}
	if _, _, err := d.APITokenByHash(ctx, sha256Sum(long), now); err != nil {
		t.Errorf("the other token: %v", err)
	}
	evs, _ := d.AuditEvents(ctx, triage.AuditFilter{Action: "token."})
	if len(evs) != 3 || evs[0].Action != triage.AuditTokenRevoke || evs[0].Target != "token:"+id || evs[0].ActorEmail != triage.ActorCLI {
		t.Errorf("audit %+v", evs)
	}
}

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}
