package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/triage"
)

// binary is the secinbox executable built once for the tests that run the
// server as a separate process (kill -9, SIGTERM, benchmarks).
var binary string

func TestMain(m *testing.M) {
	go staffPasswordHash() // while the binary is built
	dir, err := os.MkdirTemp("", "secinbox-test-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "secinbox")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building secinbox:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `secinbox serve` process.
type proc struct {
	t        testing.TB
	cmd      *exec.Cmd
	data     string
	smtpAddr string
	httpAddr string
	mu       sync.Mutex
	log      bytes.Buffer
	exited   chan struct{}
	exitErr  error
}

const testPassphrase = "correct horse battery staple"

// startProc starts the server on loopback ports chosen by the kernel, over
// the data directory data, and waits until it is serving.
func startProc(t testing.TB, data string, extraEnv ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, "serve", "-data", data,
		"-smtp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", "-log-format", "json")
	cmd.Env = append(os.Environ(), "SECINBOX_KEY_PASSPHRASE="+testPassphrase, "SECINBOX_DOMAIN=localhost")
	cmd.Env = append(cmd.Env, extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, data: data, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.log.Write(line)
			p.log.WriteByte('\n')
			p.mu.Unlock()
			var rec map[string]any
			// Only the start line is decoded: benchmarks log a line or
			// three per message, and this process shares the CPU.
			if bytes.Contains(line, []byte(`"secinbox started"`)) && json.Unmarshal(line, &rec) == nil && rec["msg"] == "secinbox started" {
				started <- rec
			}
		}
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("server log:\n%s", p.logs())
		}
	})
	select {
	case rec := <-started:
		p.smtpAddr, p.httpAddr = rec["smtp"].(string), rec["http"].(string)
	case <-p.exited:
		t.Fatalf("server exited at start: %v\n%s", p.exitErr, p.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start\n%s", p.logs())
	}
	return p
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// terminate sends SIGTERM and waits for the process to exit, as it must
// within 10 s. If it has not exited after 20 s, a SIGQUIT makes the Go
// runtime print every goroutine into the server log, and the test fails
// with it: a hung shutdown must show where it hangs.
func (p *proc) terminate(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(20 * time.Second):
	}
	p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	t.Fatalf("the server did not exit within 20 s of SIGTERM; its goroutines:\n%s", p.logs())
}

func (p *proc) url(path string) string { return "http://" + p.httpAddr + path }

// cli runs a secinbox subcommand in-process against data and returns its
// standard output. The key passphrase is testPassphrase, given as the
// -key-passphrase flag: the process's environment is left alone, so that
// tests using cli can run in parallel.
func cli(t testing.TB, data, stdin string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	args = cliArgs(data, testPassphrase, args...)
	if args[0] == "serve" {
		t.Fatal("use startProc for serve")
	}
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	if code != 0 {
		t.Fatalf("secinbox %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

// cliArgs puts -data data and -key-passphrase pass (when not empty) after
// the subcommand's name in args ("key import FILE": after "import").
func cliArgs(data, pass string, args ...string) []string {
	flags := []string{"-data", data}
	if pass != "" {
		flags = append(flags, "-key-passphrase", pass)
	}
	return append(args[:2:2], append(flags, args[2:]...)...)
}

// initData makes the database in data, as the first `secinbox serve` does,
// for tests that run other subcommands on a new data directory.
func initData(t testing.TB, data string) {
	t.Helper()
	d, err := openData(context.Background(), &Config{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// apiToken makes a staff user and an API token for them.
func apiToken(t testing.TB, data string) string {
	t.Helper()
	addStaff(t, data, "api@example.com", triage.RoleViewer)
	return strings.TrimSpace(cli(t, data, "", "token", "create", "--user", "api@example.com"))
}

// staffPassword is the password of the staff accounts addStaff makes.
const staffPassword = "a long staff password"

// staffPasswordHash is staffPassword's bcrypt hash at the production cost,
// made once for the package (TestMain starts it): bcrypt at cost 12 takes
// seconds under the race detector, and most tests only need an account.
var staffPasswordHash = sync.OnceValues(func() ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(staffPassword), triage.PasswordCost)
})

// addStaff adds a staff member who signs in with staffPassword to the
// database in data, and audits it, as `secinbox user add --password-stdin`
// does (TestUserCommands tests that command), with the hash made once.
func addStaff(t testing.TB, data, email string, role triage.Role) {
	t.Helper()
	hash, err := staffPasswordHash()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := openExisting(ctx, &Config{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u := &triage.User{Email: email, Role: role, PasswordHash: hash}
	ev := cliAudit(triage.AuditUserCreate, "", map[string]string{"email": u.Email, "role": string(u.Role)})
	if err := d.CreateUserAudited(ctx, u, ev); err != nil {
		t.Fatalf("adding staff member %s: %v", email, err)
	}
}

type apiReport struct {
	ID               int64     `json:"id"`
	TrackingID       string    `json:"tracking_id"`
	Title            string    `json:"title"`
	Status           string    `json:"status"`
	ReceivedAt       time.Time `json:"received_at"`
	FirstResponseDue time.Time `json:"first_response_due"`
	Encrypted        bool      `json:"encrypted"`
	Decrypted        bool      `json:"decrypted"`
	Signature        struct {
		Status      string `json:"status"`
		Fingerprint string `json:"fingerprint"`
	} `json:"signature"`
	Researcher struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"researcher"`
	Body        string `json:"body"`
	Attachments []struct {
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
		SHA256      string `json:"sha256"`
	} `json:"attachments"`
}

// getJSON GETs path with the bearer token and decodes the answer into v.
func (p *proc) getJSON(token, path string, v any) int {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.url(path), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			p.t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

// waitReports polls the API until n reports are filed.
func (p *proc) waitReports(token string, n int) []apiReport {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct {
			Reports []apiReport `json:"reports"`
		}
		if code := p.getJSON(token, "/api/v1/reports", &list); code != 200 {
			p.t.Fatalf("GET /api/v1/reports: %d", code)
		}
		if len(list.Reports) >= n {
			return list.Reports
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%d reports filed, want %d\n%s", len(list.Reports), n, p.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
