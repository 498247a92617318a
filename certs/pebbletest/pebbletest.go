// Package pebbletest runs Let's Encrypt's test CA, pebble, for tests:
// on loopback, with its configuration in the test's temporary directory,
// and with pebble-challtestsrv as its DNS server, which answers every
// name with 127.0.0.1, so that pebble's validation authority really
// fetches HTTP-01 challenges from the server under test. Both are Go
// tools of this module (go.mod's tool block); a test that cannot build
// them fails.
package pebbletest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure the CA.
type Options struct {
	// HTTPPort is the port pebble fetches HTTP-01 challenges from (on
	// 127.0.0.1, whatever the name); TLSPort the one it connects to for
	// TLS-ALPN-01. 0: a port nothing listens on, so that challenge fails.
	HTTPPort, TLSPort int
	// AlwaysValid skips validation (PEBBLE_VA_ALWAYS_VALID).
	AlwaysValid bool
	// Validity is the lifetime of the certificates pebble issues; 0: 90 days.
	Validity time.Duration
}

// CA is a running pebble.
type CA struct {
	// DirectoryURL is the ACME directory.
	DirectoryURL string
	// Roots trusts the certificates pebble issues (its root, fetched from
	// its management interface); RootPEM is that root.
	Roots   *x509.CertPool
	RootPEM []byte
	// ListenerCAFile is a PEM file of the CA of pebble's own HTTPS
	// listeners: an ACME client in another process trusts it with
	// SSL_CERT_FILE. ListenerRoots is the same as a pool.
	ListenerCAFile string
	ListenerRoots  *x509.CertPool
}

// FreePort returns a loopback TCP port nothing listens on just now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	toolsOnce sync.Once
	toolPaths map[string]string
	toolsErr  error
)

// tools builds pebble and pebble-challtestsrv once (go tool -n builds a
// tool and prints its path in the build cache).
func tools(t testing.TB) map[string]string {
	t.Helper()
	toolsOnce.Do(func() {
		toolPaths = map[string]string{}
		for _, name := range []string{"pebble", "pebble-challtestsrv"} {
			var out, errb bytes.Buffer
			cmd := exec.Command("go", "tool", "-n", name)
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				toolsErr = fmt.Errorf("go tool -n %s: %v\n%s", name, err, errb.String())
				return
			}
			toolPaths[name] = strings.TrimSpace(out.String())
		}
	})
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	return toolPaths
}

// logBuffer collects a child's output for the failure log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs a child process until the test ends.
func start(t testing.TB, log *logBuffer, env []string, path string, args ...string) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
}

// Start runs pebble and its DNS server until the test ends, and waits
// until pebble serves its directory.
func Start(t testing.TB, o Options) *CA {
	t.Helper()
	bin := tools(t)
	dir := t.TempDir()
	ca := &CA{}
	certFile, keyFile := listenerCert(t, dir, ca)

	log := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble log:\n%s", log.String())
		}
	})
	dnsPort, dnsMgmt := FreePort(t), FreePort(t)
	start(t, log, nil, bin["pebble-challtestsrv"],
		"-http01", "", "-https01", "", "-doh", "", "-tlsalpn01", "",
		"-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort),
		"-management", "127.0.0.1:"+strconv.Itoa(dnsMgmt),
		"-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	waitListening(t, log, "127.0.0.1:"+strconv.Itoa(dnsPort))

	if o.HTTPPort == 0 {
		o.HTTPPort = FreePort(t)
	}
	if o.TLSPort == 0 {
		o.TLSPort = FreePort(t)
	}
	validity := int64(90 * 24 * 3600)
	if o.Validity > 0 {
		validity = int64(o.Validity / time.Second)
	}
	acmePort, mgmtPort := FreePort(t), FreePort(t)
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(acmePort),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(mgmtPort),
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                o.HTTPPort,
		"tlsPort":                 o.TLSPort,
		"ocspResponderURL":        "",
		"keyAlgorithm":            "ecdsa",
		"profiles": map[string]any{
			"default": map[string]any{"description": "test", "validityPeriod": validity},
		},
	}}
	confJSON, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(confFile, confJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}
	if o.AlwaysValid {
		env = append(env, "PEBBLE_VA_ALWAYS_VALID=1")
	}
	start(t, log, env, bin["pebble"], "-config", confFile, "-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort))

	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.ListenerRoots}},
		Timeout:   10 * time.Second,
	}
	ca.DirectoryURL = "https://127.0.0.1:" + strconv.Itoa(acmePort) + "/dir"
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(ca.DirectoryURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble does not serve %s: %v\n%s", ca.DirectoryURL, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := client.Get("https://127.0.0.1:" + strconv.Itoa(mgmtPort) + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ca.RootPEM, err = io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("pebble root: %d %v", resp.StatusCode, err)
	}
	ca.Roots = x509.NewCertPool()
	if !ca.Roots.AppendCertsFromPEM(ca.RootPEM) {
		t.Fatalf("pebble root is not PEM: %q", ca.RootPEM)
	}
	return ca
}

// waitListening waits until something accepts TCP connections at addr.
func waitListening(t testing.TB, log *logBuffer, addr string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens at %s: %v\n%s", addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listenerCert makes a CA and, signed by it, the certificate of pebble's
// own listeners (127.0.0.1), written to dir.
func listenerCert(t testing.TB, dir string, ca *CA) (certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pebbletest listener CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "pebble"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "pebble.pem"), filepath.Join(dir, "pebble.key")
	ca.ListenerCAFile = filepath.Join(dir, "listener-ca.pem")
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(certFile, "CERTIFICATE", der)
	write(keyFile, "PRIVATE KEY", kder)
	write(ca.ListenerCAFile, "CERTIFICATE", caDER)
	ca.ListenerRoots = x509.NewCertPool()
	ca.ListenerRoots.AddCert(caCert)
	return certFile, keyFile
}
