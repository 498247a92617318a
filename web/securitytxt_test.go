package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/web"
)

// TestSecurityTxt_HiringCSAF: the optional fields appear when set, and
// only absolute https URLs are accepted for them.
func TestSecurityTxt_HiringCSAF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *web.Config) {
		c.SecurityTxtHiring = "https://example.com/jobs/security"
		c.SecurityTxtCSAF = "https://example.com/.well-known/csaf/provider-metadata.json"
	})
	_, body := e.get(e.client(), "/.well-known/security.txt")
	f := parseSecurityTxt(t, body)
	if got := f["Hiring"]; len(got) != 1 || got[0] != "https://example.com/jobs/security" {
		t.Errorf("Hiring = %q", got)
	}
	if got := f["CSAF"]; len(got) != 1 || got[0] != "https://example.com/.well-known/csaf/provider-metadata.json" {
		t.Errorf("CSAF = %q", got)
	}

	_, body = newEnv(t).get(e.client(), "/.well-known/security.txt")
	if strings.Contains(body, "Hiring:") || strings.Contains(body, "CSAF:") {
		t.Errorf("unset fields present:\n%s", body)
	}

	d, err := db.Open(context.Background(), newDBFile(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, bad := range []string{
		"http://example.com/jobs", "/jobs", "example.com/jobs", "https://", "https://user:pw@example.com/",
		"https://example.com/jobs\nContact: mailto:evil@example.org", "https://example.com/a b", "javascript:alert(1)",
	} {
		for _, field := range []string{"Hiring", "CSAF"} {
			cfg := web.Config{Store: d, Domain: "localhost", PublicURL: "http://localhost:8080"}
			if field == "Hiring" {
				cfg.SecurityTxtHiring = bad
			} else {
				cfg.SecurityTxtCSAF = bad
			}
			if _, err := web.New(cfg); err == nil || !strings.Contains(err.Error(), "SecurityTxt"+field) {
				t.Errorf("%s %q: New error %v", field, bad, err)
			}
		}
	}
}

// TestSecurityTxt_Signed: with the team key's clear-signer, the file
// served is an OpenPGP cleartext signature that GnuPG accepts, with
// Hiring, CSAF and an Expires in the future.
func TestSecurityTxt_Signed(t *testing.T) {
	t.Parallel()
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("gpg not installed")
	}
	now := time.Now().UTC().Truncate(time.Second)
	key, err := pgp.GenerateKey("Security team", "security@localhost", now.Add(-time.Hour), 2*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	armored, err := pgp.ArmorPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var signs atomic.Int32
	e := newEnv(t, func(c *web.Config) {
		c.PublicKeyArmored = armored
		c.KeyFingerprint = pgp.Fingerprint(key)
		c.KeyExpires = pgp.KeyExpiry(key)
		c.SecurityTxtHiring = "https://example.com/jobs"
		c.SecurityTxtCSAF = "https://example.com/.well-known/csaf/provider-metadata.json"
		c.ClearSign = func(_ context.Context, text []byte) ([]byte, error) {
			signs.Add(1)
			return pgp.ClearSign(text, key, time.Now())
		}
	})
	e.clock.Set(now)
	resp, body := e.get(e.client(), "/.well-known/security.txt")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(body, "-----BEGIN PGP SIGNED MESSAGE-----\n") || !strings.Contains(body, "-----BEGIN PGP SIGNATURE-----") {
		t.Fatalf("not clear-signed:\n%s", body)
	}

	home := t.TempDir()
	dir := t.TempDir()
	keyFile, txtFile := filepath.Join(dir, "key.asc"), filepath.Join(dir, "security.txt")
	if err := os.WriteFile(keyFile, armored, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(txtFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(gpg, append([]string{"--homedir", home, "--batch", "--no-tty", "--status-fd", "1"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gpg %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("--import", keyFile)
	out := run("--verify", txtFile)
	if !strings.Contains(out, "[GNUPG:] GOODSIG") || !strings.Contains(out, "[GNUPG:] VALIDSIG "+strings.ToUpper(pgp.Fingerprint(key))) {
		t.Errorf("gpg --verify:\n%s", out)
	}

	// The signed text, as gpg prints it, has every field.
	plain := run("--decrypt", txtFile)
	plain = plain[strings.Index(plain, "Contact:"):]
	plain = plain[:strings.Index(plain, "[GNUPG:]")]
	f := parseSecurityTxt(t, plain)
	for k, want := range map[string]string{
		"Contact":   "mailto:security@localhost",
		"Hiring":    "https://example.com/jobs",
		"CSAF":      "https://example.com/.well-known/csaf/provider-metadata.json",
		"Canonical": "http://localhost:8080/.well-known/security.txt",
	} {
		if len(f[k]) != 1 || f[k][0] != want {
			t.Errorf("signed %s = %q, want %q", k, f[k], want)
		}
	}
	exp, err := time.Parse(time.RFC3339, strings.Join(f["Expires"], ""))
	if err != nil || !exp.After(time.Now()) || exp.After(now.AddDate(1, 0, 1)) {
		t.Errorf("signed Expires = %q (%v)", f["Expires"], err)
	}

	// Signed once, then served from the cache for the day.
	for range 3 {
		if _, again := e.get(e.client(), "/.well-known/security.txt"); again != body {
			t.Error("security.txt changed within the day")
		}
	}
	if n := signs.Load(); n != 1 {
		t.Errorf("signed %d times, want once", n)
	}
}

// TestSecurityTxt_Resign: the signed file is made again when Expires
// moves to another day or the key changes, not otherwise; a failing
// signer gives the unsigned file, never an error.
func TestSecurityTxt_Resign(t *testing.T) {
	t.Parallel()
	var signs atomic.Int32
	var fail atomic.Bool
	live := &liveKey{key: publishedKey("A", time.Time{})}
	var logs syncBuffer
	e := newEnv(t, func(c *web.Config) {
		c.TeamKey = live.get
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		c.ClearSign = func(_ context.Context, text []byte) ([]byte, error) {
			signs.Add(1)
			if fail.Load() {
				return nil, errors.New("key locked")
			}
			return append([]byte("SIGNED\n"), text...), nil
		}
	})
	get := func() string {
		t.Helper()
		resp, body := e.get(e.client(), "/.well-known/security.txt")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return body
	}
	want := func(n int32) {
		t.Helper()
		if got := signs.Load(); got != n {
			t.Errorf("signed %d times, want %d", got, n)
		}
	}
	first := get()
	if !strings.HasPrefix(first, "SIGNED\n") {
		t.Fatalf("not signed: %q", first)
	}
	e.clock.Set(t0.Add(5 * time.Hour)) // same day
	if get() != first {
		t.Error("re-made within the day")
	}
	want(1)
	e.clock.Set(t0.Add(24 * time.Hour))
	if get() == first {
		t.Error("not re-made the next day")
	}
	want(2)
	live.set(publishedKey("B", time.Time{}))
	get()
	want(3)

	fail.Store(true)
	live.set(publishedKey("C", time.Time{}))
	body := get()
	if strings.HasPrefix(body, "SIGNED") || !strings.HasPrefix(body, "Contact: mailto:security@localhost\n") {
		t.Errorf("failed signing: served %q", body)
	}
	if !strings.Contains(logs.String(), "key locked") {
		t.Errorf("signing failure not logged:\n%s", logs.String())
	}
	want(4)
	get() // a broken signer is not asked again at once
	want(4)
	fail.Store(false)
	e.clock.Set(t0.Add(24*time.Hour + 6*time.Minute))
	if body := get(); !strings.HasPrefix(body, "SIGNED\n") {
		t.Errorf("not signed again after the signer recovered: %q", body)
	}
	want(5)
}
