package main

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"net/smtp"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// secinbox runs the real binary with args. Its environment is this
// process's without any SECINBOX_ variable, plus env.
func secinbox(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return secinboxStdin(t, env, "", args...)
}

// secinboxStdin is secinbox with stdin.
func secinboxStdin(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SECINBOX_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("secinbox %s: %v", strings.Join(args, " "), err)
		}
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// mustSecinbox is secinbox for a run that must succeed.
func mustSecinbox(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := secinbox(t, env, args...)
	if code != 0 {
		t.Fatalf("secinbox %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// mailer sends reports titled "<prefix> N" over SMTP, one after the
// other, until stopped, and remembers which were acknowledged with 250.
type mailer struct {
	mu    sync.Mutex
	acked []string
	err   error
	stop  chan struct{}
	done  chan struct{}
}

func startMailer(addr, prefix string) *mailer {
	m := &mailer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for i := 1; ; i++ {
			select {
			case <-m.stop:
				return
			default:
			}
			title := fmt.Sprintf("%s %d", prefix, i)
			msg := crlf(fmt.Sprintf("From: r@example.org\nTo: security@localhost\nSubject: %s\n\n%s\n", title,
				strings.Repeat("the quick brown fox jumps over the lazy dog\n", 50)))
			// SendMail returns nil only once DATA was answered 250.
			if err := smtp.SendMail(addr, nil, "r@example.org", []string{"security@localhost"}, []byte(msg)); err != nil {
				m.mu.Lock()
				m.err = err
				m.mu.Unlock()
				return
			}
			m.mu.Lock()
			m.acked = append(m.acked, title)
			m.mu.Unlock()
		}
	}()
	return m
}

// ackedSoFar returns the titles acknowledged so far.
func (m *mailer) ackedSoFar() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.acked...)
}

// waitAcked waits until n reports were acknowledged.
func (m *mailer) waitAcked(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(m.ackedSoFar()) < n {
		m.mu.Lock()
		err := m.err
		m.mu.Unlock()
		if err != nil {
			t.Fatalf("sending: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reports acknowledged, want %d", len(m.ackedSoFar()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// halt stops the mailer and returns every title acknowledged.
func (m *mailer) halt(t *testing.T) []string {
	t.Helper()
	close(m.stop)
	<-m.done
	if m.err != nil {
		t.Fatalf("sending: %v", m.err)
	}
	return m.ackedSoFar()
}

// waitTitles polls the API until every title in want is a report.
func (p *proc) waitTitles(token string, want []string) {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var list struct {
			Reports []apiReport `json:"reports"`
		}
		if code := p.getJSON(token, "/api/v1/reports?limit=500", &list); code != 200 {
			p.t.Fatalf("GET /api/v1/reports: %d", code)
		}
		have := map[string]bool{}
		for _, r := range list.Reports {
			have[r.Title] = true
		}
		var missing []string
		for _, w := range want {
			if !have[w] {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%d of %d acknowledged reports missing: %v\n%s", len(missing), len(want), missing, p.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// isEmptyDir reports whether dir holds nothing (or does not exist).
func isEmptyDir(t *testing.T, dir string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(entries) == 0
}

// TestBackup_WhileMailArrives takes a backup with the key passphrase while
// reports keep arriving over SMTP, restores it into an empty data
// directory and starts a server there: every report acknowledged before
// the backup began is on its board, and the API token made before it
// still works.
func TestBackup_WhileMailArrives(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startProc(t, data)
	token := apiToken(t, data)
	pass := []string{"SECINBOX_KEY_PASSPHRASE=" + testPassphrase}

	m := startMailer(p.smtpAddr, "backup")
	m.waitAcked(t, 5)
	before := m.ackedSoFar()
	file := filepath.Join(t.TempDir(), "secinbox.age")
	mustSecinbox(t, pass, "backup", "-data", data, file)
	all := m.halt(t)
	t.Logf("%d reports acknowledged before the backup began, %d in all", len(before), len(all))

	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n-> scrypt ")) {
		t.Errorf("the backup is not an age file for a passphrase: %q", raw[:min(len(raw), 60)])
	}
	if bytes.Contains(raw, []byte("SQLite format 3")) || bytes.Contains(raw, []byte("the quick brown fox")) {
		t.Error("the backup holds the database in the clear")
	}
	leftovers, _ := filepath.Glob(filepath.Join(data, ".backup-*"))
	if len(leftovers) > 0 {
		t.Errorf("the backup left %v in the data directory", leftovers)
	}

	t.Run("RefusesNonEmptyDirectory", func(t *testing.T) {
		_, errOut, code := secinbox(t, pass, "restore", "-data", data, file)
		if code == 0 || !strings.Contains(errOut, "not empty") {
			t.Errorf("restore into the live data directory: exit %d, %q", code, errOut)
		}
	})
	t.Run("WrongPassphrase", func(t *testing.T) {
		dir := t.TempDir()
		_, errOut, code := secinbox(t, []string{"SECINBOX_KEY_PASSPHRASE=not the passphrase"}, "restore", "-data", dir, file)
		if code == 0 || !strings.Contains(errOut, "key passphrase does not decrypt") {
			t.Errorf("restore with a wrong passphrase: exit %d, %q", code, errOut)
		}
		if !isEmptyDir(t, dir) {
			t.Error("a failed restore left files behind")
		}
	})

	restored := filepath.Join(t.TempDir(), "data") // does not exist yet
	mustSecinbox(t, pass, "restore", "-data", restored, file)
	p.kill()
	p2 := startProc(t, restored)
	p2.waitTitles(token, before)
}

// TestBackup_Recipient: with the development passphrase (a file in the
// data directory) a backup needs an age recipient; the file then travels
// inside the encrypted backup, and a restore with the matching identity
// gives a data directory the server starts on. A wrong identity fails
// clearly.
func TestBackup_Recipient(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startProc(t, data, "SECINBOX_KEY_PASSPHRASE=") // generates data/key-passphrase
	token := apiToken(t, data)
	m := startMailer(p.smtpAddr, "recipient")
	m.waitAcked(t, 2)
	sent := m.halt(t)
	p.waitTitles(token, sent)
	devPass, err := os.ReadFile(filepath.Join(data, "key-passphrase"))
	if err != nil {
		t.Fatal(err)
	}

	_, errOut, code := secinbox(t, nil, "backup", "-data", data, filepath.Join(t.TempDir(), "b.age"))
	if code == 0 || !strings.Contains(errOut, "-to") || !strings.Contains(errOut, "key-passphrase") {
		t.Fatalf("backup with only the development passphrase: exit %d, %q", code, errOut)
	}

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(t.TempDir(), "id.txt")
	otherFile := filepath.Join(t.TempDir(), "other.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	os.WriteFile(otherFile, []byte(other.String()+"\n"), 0o600)

	file := filepath.Join(t.TempDir(), "b.age")
	// -to and the variable: both recipients can decrypt; -to wins over the variable.
	mustSecinbox(t, []string{"SECINBOX_BACKUP_RECIPIENT=" + other.Recipient().String()},
		"backup", "-data", data, "-to", id.Recipient().String(), file)
	raw, _ := os.ReadFile(file)
	if bytes.Contains(raw, bytes.TrimSpace(devPass)) {
		t.Fatal("the backup holds the development passphrase in the clear")
	}

	dir := t.TempDir()
	_, errOut, code = secinbox(t, nil, "restore", "-data", dir, "-identity", otherFile, file)
	if code == 0 || !strings.Contains(errOut, "-identity") || !strings.Contains(errOut, "does not match") {
		t.Errorf("restore with a wrong identity: exit %d, %q", code, errOut)
	}
	if !isEmptyDir(t, dir) {
		t.Error("a failed restore left files behind")
	}

	mustSecinbox(t, nil, "restore", "-data", dir, "-identity", idFile, file)
	restoredPass, err := os.ReadFile(filepath.Join(dir, "key-passphrase"))
	if err != nil || !bytes.Equal(restoredPass, devPass) {
		t.Fatalf("the development passphrase was not restored: %v", err)
	}
	for _, name := range []string{"key-passphrase", "secinbox.db"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", name, err, fi.Mode().Perm())
		}
	}
	p.kill()
	p2 := startProc(t, dir, "SECINBOX_KEY_PASSPHRASE=")
	p2.waitTitles(token, sent)
}

// TestReplica_SurvivesLostDisk streams the database to a file replica
// while reports arrive, kills the server with SIGKILL more than one sync
// interval after the last 250, deletes the data directory, rebuilds it
// from the replica and starts again: every acknowledged report is there.
func TestReplica_SurvivesLostDisk(t *testing.T) {
	env := []string{"SECINBOX_REPLICA_URL=file://" + filepath.Join(t.TempDir(), "replica")}
	replicaSurvivesLostDisk(t, env, nil, "-from-replica")
}

// TestReplica_S3SurvivesLostDisk is TestReplica_SurvivesLostDisk with an
// s3:// replica on an S3 server (gofakes3) on loopback, addressed
// path-style as MinIO, R2 or B2 are: serve takes the endpoint from
// SECINBOX_REPLICA_S3_ENDPOINT, restore from the URL's endpoint=.
func TestReplica_S3SurvivesLostDisk(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("secinbox-replica"); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithAutoBucket(false)).Server())
	t.Cleanup(s3srv.Close)
	aws := []string{"AWS_ACCESS_KEY_ID=secinbox-test", "AWS_SECRET_ACCESS_KEY=secinbox-test-secret",
		"AWS_REGION=eu-central-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	serveEnv := append([]string{"SECINBOX_REPLICA_URL=s3://secinbox-replica/prod/db",
		"SECINBOX_REPLICA_S3_ENDPOINT=" + s3srv.URL}, aws...)
	replicaSurvivesLostDisk(t, serveEnv, aws, "-from-replica", "s3://secinbox-replica/prod/db?endpoint="+url.QueryEscape(s3srv.URL))

	objs, err := backend.ListBucket("secinbox-replica", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Contents) == 0 {
		t.Fatal("nothing in the bucket")
	}
	for _, o := range objs.Contents {
		if !strings.HasPrefix(o.Key, "prod/db/generations/") {
			t.Errorf("object %s is outside the replica's path", o.Key)
		}
	}
}

// replicaSurvivesLostDisk runs the server with serveEnv (which names the
// replica), kills it with SIGKILL more than one sync interval after the
// last 250, deletes the data directory and runs 'secinbox restore' with
// restoreArgs in restoreEnv (nil: the server's). Then every acknowledged
// report is there.
func replicaSurvivesLostDisk(t *testing.T, serveEnv, restoreEnv []string, restoreArgs ...string) {
	const interval = 200 * time.Millisecond
	data := filepath.Join(t.TempDir(), "data")
	env := append(serveEnv, "SECINBOX_REPLICA_SYNC_INTERVAL="+interval.String())
	if restoreEnv == nil {
		restoreEnv = env
	}
	restore := append([]string{"restore", "-data", data}, restoreArgs...)
	p := startProc(t, data, env...)
	token := apiToken(t, data)
	m := startMailer(p.smtpAddr, "replica")
	m.waitAcked(t, 20)
	acked := m.halt(t)
	// More than one sync interval after the last 250 (five, for a
	// loaded machine); then the disk is lost.
	time.Sleep(5 * interval)
	p.kill()
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}

	mustSecinbox(t, restoreEnv, restore...)
	_, errOut, code := secinbox(t, restoreEnv, restore...)
	if code == 0 || !strings.Contains(errOut, "not empty") {
		t.Errorf("a second restore into the restored directory: exit %d, %q", code, errOut)
	}
	p2 := startProc(t, data, env...)
	p2.waitTitles(token, acked)
	t.Logf("%d acknowledged reports restored from the replica", len(acked))
}

// TestRestore_FromReplicaErrors: a replica URL that is missing, of an
// unsupported kind, or points at nothing fails clearly.
func TestRestore_FromReplicaErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-from-replica"}, "SECINBOX_REPLICA_URL"},
		{[]string{"-from-replica", "gs://bucket/path"}, "s3://bucket/path"},
		{[]string{"-from-replica", "file://" + t.TempDir()}, "no copy of the database"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		_, errOut, code := secinbox(t, nil, append([]string{"restore", "-data", dir}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("restore %v: exit %d, %q, want it to mention %q", c.args, code, errOut, c.want)
		}
		if !isEmptyDir(t, dir) {
			t.Errorf("restore %v left files behind", c.args)
		}
	}
}
