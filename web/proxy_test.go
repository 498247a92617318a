package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// TestBehindNginx puts a real nginx (Debian's) in front of the site, as
// docs/deploy.md configures it, and has clients come from two loopback
// addresses: one address's wrong passwords do not block another's
// sign-in, the audit log records the client, not the proxy, and a client
// cannot choose its address by sending X-Forwarded-For itself.
func TestBehindNginx(t *testing.T) {
	t.Parallel()
	nginx := lookNginx(t)
	e := newEnv(t, func(c *web.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	front := startNginx(t, nginx, e.srv.Listener.Addr().String())

	attacker := clientFrom(t, "127.0.0.2")
	owner := clientFrom(t, "127.0.0.3")
	signIn := func(c *http.Client, email, password string, header ...string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", front+"/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// The attacker guesses passwords of many accounts until its address
	// is limited (accounts that exist: an unknown one costs a bcrypt of
	// full cost, to hide that it is unknown).
	const accounts = 60
	for i := range accounts {
		e.addUser(fmt.Sprintf("staff%d@example.com", i), triage.RoleViewer, "a long staff password")
	}
	limited := false
	for i := 0; i < accounts && !limited; i++ {
		limited = signIn(attacker, fmt.Sprintf("staff%d@example.com", i), "wrong password") == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatalf("%d wrong passwords from one address were never limited", accounts)
	}
	// Naming another address does not help: nginx appends the real one.
	if code := signIn(attacker, "staff0@example.com", "wrong password", "X-Forwarded-For", "127.0.0.9"); code != http.StatusTooManyRequests {
		t.Errorf("a spoofed X-Forwarded-For through nginx: status %d, want 429", code)
	}
	if code := signIn(owner, viewerEmail, viewerPassword); code != http.StatusSeeOther {
		t.Fatalf("sign-in from another address behind the same proxy: status %d, want 303", code)
	}
	evs, err := e.db.AuditEvents(context.Background(), triage.AuditFilter{Action: triage.AuditLoginSuccess})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || evs[0].RemoteAddr != "127.0.0.3" {
		t.Errorf("sign-in audited from %v, want 127.0.0.3", evs)
	}

	// Straight to the site, not through the proxy: the header is ignored.
	direct := clientFrom(t, "127.0.0.4")
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"email": {viewerEmail}, "password": {viewerPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "192.0.2.99")
	resp, err := direct.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	evs, _ = e.db.AuditEvents(context.Background(), triage.AuditFilter{Action: triage.AuditLoginSuccess})
	if len(evs) < 2 || evs[0].RemoteAddr != "127.0.0.4" {
		t.Errorf("a direct sign-in with X-Forwarded-For audited as %v, want 127.0.0.4", evs[0])
	}
}

// TestForwardedHeadersIgnoredByDefault: without trusted proxies, a
// client's X-Forwarded-For is not believed.
func TestForwardedHeadersIgnoredByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"email": {viewerEmail}, "password": {viewerPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "192.0.2.99")
	req.Header.Set("Forwarded", "for=192.0.2.98")
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	evs, _ := e.db.AuditEvents(context.Background(), triage.AuditFilter{Action: triage.AuditLoginSuccess})
	if len(evs) != 1 || evs[0].RemoteAddr != "127.0.0.1" {
		t.Errorf("audited %v, want 127.0.0.1", evs)
	}
}

func lookNginx(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed (.ci/run installs Debian's nginx)")
	}
	t.Skip("SKIPPED: nginx is not installed (apt-get install nginx); the reverse-proxy test needs a real one")
	return ""
}

// startNginx runs nginx in the foreground on a free loopback port,
// proxying to upstream as docs/deploy.md shows, and returns its base URL.
func startNginx(t *testing.T, nginx, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen %[2]s;
		location / {
			proxy_pass http://%[3]s;
			proxy_set_header Host $host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto $scheme;
		}
	}
}
`, dir, addr, upstream)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen on %s: %v\n%s%s", addr, err, out, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clientFrom returns a client whose connections come from local address
// ip (any of 127.0.0.0/8 on Linux), with a cookie jar and no redirects.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}
