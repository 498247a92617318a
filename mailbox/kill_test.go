package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// serveBinary builds the real secinbox binary once per test run, in
// binDir, which TestMain removes.
var serveBinary = sync.OnceValues(func() (string, error) {
	binBuilt.Store(true)
	dir, err := os.MkdirTemp("", "secinbox-mailbox-bin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "secinbox")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/secinbox/secinbox/cmd/secinbox").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

var (
	binBuilt atomic.Bool // serveBinary was called
	binDir   string      // set by serveBinary
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binBuilt.Load() {
		serveBinary() // done, or waited for
		if binDir != "" {
			os.RemoveAll(binDir)
		}
	}
	os.Exit(code)
}

// serveProc is a running `secinbox serve`.
type serveProc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	log    bytes.Buffer
	hung   chan struct{} // closed at the test hook's log line
	exited chan struct{}
}

// startServe runs `secinbox serve` over data, fetching from url (plain
// IMAP on loopback), with env added.
func startServe(t *testing.T, data, url string, env ...string) *serveProc {
	t.Helper()
	bin, err := serveBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "-data", data, "-smtp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0",
		"-log-format", "json", "-imap-url", url, "-imap-tls", "none")
	cmd.Env = append(os.Environ(), "SECINBOX_KEY_PASSPHRASE=correct horse battery staple", "SECINBOX_DOMAIN=example.com",
		"SECINBOX_IMAP_PASSWORD="+testPassword, HangAfterCommitEnv+"=")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, hung: make(chan struct{}), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		hung := false
		for sc.Scan() {
			p.mu.Lock()
			p.log.Write(sc.Bytes())
			p.log.WriteByte('\n')
			p.mu.Unlock()
			var rec struct{ Msg string }
			if !hung && json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == hangAfterCommitLog {
				hung = true
				close(p.hung)
			}
		}
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		if t.Failed() {
			p.mu.Lock()
			t.Logf("secinbox serve log:\n%s", p.log.String())
			p.mu.Unlock()
		}
	})
	return p
}

// signal sends sig and waits for the process to be gone.
func (p *serveProc) signal(sig syscall.Signal) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(sig)
	<-p.exited
}

// TestServe_KillNineAfterCommit runs the real `secinbox serve` against
// Dovecot and kills it with SIGKILL right after a message's raw bytes
// are committed and before the message is moved (the hook
// HangAfterCommitEnv holds it there), once per message of a burst. A
// last run without the hook then leaves every message filed exactly once
// and all of them in the done folder.
func TestServe_KillNineAfterCommit(t *testing.T) {
	t.Parallel()
	go serveBinary() // built while Dovecot starts
	d := startDovecot(t, false, "")
	mua := d.peer(t)
	const n = 3
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("Burst report %d", i)
		mua.appendMessage("INBOX", plainMessage(fmt.Sprintf("burst-%d", i), want[i]))
	}
	data := filepath.Join(t.TempDir(), "data")
	url := "imap://" + testUser + "@" + d.imapAddr + "/INBOX"

	for i := range n {
		p := startServe(t, data, url, HangAfterCommitEnv+"=1")
		select {
		case <-p.hung:
		case <-p.exited:
			t.Fatalf("run %d: the server exited", i)
		case <-time.After(90 * time.Second): // a safety net only
			t.Fatalf("run %d: no commit", i)
		}
		p.signal(syscall.SIGKILL)
		// Each run moved the message the previous one committed, and
		// committed one more that it did not move.
		if got := mua.count("INBOX"); got != n-i {
			t.Fatalf("after kill %d: INBOX holds %d messages, want %d", i+1, got, n-i)
		}
	}

	p := startServe(t, data, url)
	waitFor(t, "an empty INBOX", func() bool { return mua.count("INBOX") == 0 })
	if got := mua.count("secinbox-filed"); got != n {
		t.Errorf("done folder holds %d messages, want %d", got, n)
	}
	p.signal(syscall.SIGTERM)

	ctx := context.Background()
	st, err := db.Open(ctx, filepath.Join(data, "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reports, err := st.Reports(ctx, triage.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := st.PendingRawMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reports {
		got = append(got, r.Title)
	}
	sort.Strings(got)
	if len(pending) != 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reports %q and %d unfiled messages; want one report each of %q", got, len(pending), want)
	}
}
