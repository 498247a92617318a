package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLI_Refusals: what a new user types wrong is refused at once, with
// the flag or variable named, and nothing is created on the way.
func TestCLI_Refusals(t *testing.T) {
	t.Parallel()
	// main runs secinbox with args in-process or, when env sets variables,
	// as the built binary with them in its environment: this process's is
	// left alone, so that tests can run in parallel.
	main := func(t *testing.T, env map[string]string, stdin string, args ...string) (string, int) {
		t.Helper()
		var out, errOut bytes.Buffer
		if env == nil {
			code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
			return out.String() + errOut.String(), code
		}
		cmd := exec.Command(binary, args...)
		cmd.Env = os.Environ()
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		var exit *exec.ExitError
		if err := cmd.Run(); err != nil && !errors.As(err, &exit) {
			t.Fatalf("secinbox %s: %v", strings.Join(args, " "), err)
		}
		return out.String() + errOut.String(), cmd.ProcessState.ExitCode()
	}
	data := t.TempDir()
	initData(t, data)
	missing := filepath.Join(t.TempDir(), "dta") // a typo'd -data

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"UserAddWithoutRole", nil, []string{"user", "add", "-data", data, "--email", "a@example.com"}, 2, "--role admin|triager|viewer"},
		{"UserAddBadEmail", nil, []string{"user", "add", "-data", data, "--email", "x@y", "--role", "admin"}, 1, "--email"},
		{"UserAddBadRole", nil, []string{"user", "add", "-data", data, "--email", "a@example.com", "--role", "owner"}, 1, "--role"},
		{"UserListTypoData", nil, []string{"user", "list", "-data", missing}, 1, "no secinbox database in -data " + missing},
		{"TokenTypoData", nil, []string{"token", "create", "-data", missing, "--user", "a@example.com"}, 1, "no secinbox database"},
		{"KeyRotateTypoData", nil, []string{"key", "rotate", "-data", missing}, 1, "no secinbox database"},
		{"LogLevelFlag", nil, []string{"user", "list", "-data", data, "-log-level", "verbose"}, 2, `"verbose" is not one of debug, info, warn, error`},
		{"LogFormatVariable", map[string]string{"SECINBOX_LOG_FORMAT": "yaml"}, []string{"user", "list", "-data", data}, 1, `$SECINBOX_LOG_FORMAT: "yaml" is not one of text, json`},
		{"RelayTLS", nil, []string{"serve", "-data", data, "-relay-tls", "maybe"}, 2, "-relay-tls"},
		{"PublicURL", nil, []string{"serve", "-data", data, "-public-url", "security.example.com"}, 1, "-public-url must be an absolute http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := main(t, tc.env, "", tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d; output does not say %q:\n%s", code, tc.code, tc.want, out)
			}
			if strings.Contains(out, "Config.") {
				t.Errorf("the error names a Go field:\n%s", out)
			}
		})
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a subcommand created the mistyped data directory %s (%v)", missing, err)
	}

	t.Run("StoredKeyWithoutPassphrase", func(t *testing.T) {
		// A key stored under a generated development passphrase whose
		// file is then lost: no new passphrase is generated, and the
		// error names the variables to set.
		dir := t.TempDir()
		noPassphrase := map[string]string{"SECINBOX_KEY_PASSPHRASE": ""}
		if out, code := main(t, noPassphrase, fixturePassphrase+"\n", "key", "import", "-data", dir, "testdata/ed25519-team.sec.asc"); code != 0 {
			t.Fatalf("import: exit %d: %s", code, out)
		}
		if err := os.Remove(filepath.Join(dir, devPassphraseFile)); err != nil {
			t.Fatal(err)
		}
		out, code := main(t, noPassphrase, "", "key", "rotate", "-data", dir)
		if code != 1 || !strings.Contains(out, "SECINBOX_KEY_PASSPHRASE or SECINBOX_KEY_PASSPHRASE_FILE") || !strings.Contains(out, "none is set") {
			t.Errorf("exit %d: %s", code, out)
		}
		if _, err := os.Stat(filepath.Join(dir, devPassphraseFile)); !os.IsNotExist(err) {
			t.Errorf("a new passphrase file was generated (%v)", err)
		}
	})
}

// TestServe_NextSteps: the start-up log ends with where to sign in and,
// while there is no staff account, the command that makes one.
func TestServe_NextSteps(t *testing.T) {
	t.Parallel()
	p := startProc(t, t.TempDir())
	p.waitLog(t, "no staff account yet: run `secinbox user add")
	p.waitLog(t, "sign in at http://localhost:")
}

// waitLog waits until the process has logged want.
func (p *proc) waitLog(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logs(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", want, p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
