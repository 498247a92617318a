package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// TestUserCommands drives the user subcommands and checks the database
// and the audit log after each.
func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	initData(t, data)
	cli(t, data, "", "user", "add", "--email", "boss@example.com", "--role", "admin")
	cli(t, data, "a long staff password\n", "user", "add", "--email", "lead@example.com", "--role", "viewer", "--password-stdin")

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
		t.Setenv("SECINBOX_KEY_PASSPHRASE", testPassphrase)
		return Main(context.Background(), append(args[:2:2], append([]string{"-data", data}, args[2:]...)...), strings.NewReader(stdin), &out, &errOut)
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
