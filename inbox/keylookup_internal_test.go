package inbox

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestPublicIP(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"93.184.215.14":         true,
		"2606:2800:21f:cb07::1": true,
		"127.0.0.1":             false,
		"10.1.2.3":              false,
		"172.16.0.1":            false,
		"192.168.1.1":           false,
		"169.254.169.254":       false, // cloud metadata
		"100.64.0.1":            false, // shared address space
		"0.0.0.0":               false,
		"255.255.255.255":       false,
		"224.0.0.1":             false,
		"::1":                   false,
		"fe80::1":               false,
		"fc00::1":               false,
		"::ffff:127.0.0.1":      false, // IPv4-mapped loopback
		"::ffff:10.0.0.1":       false,
		"2001:db8::1":           false,
		"64:ff9b::7f00:1":       false, // NAT64 of 127.0.0.1
	} {
		if got := publicIP(netip.MustParseAddr(addr)); got != want {
			t.Errorf("publicIP(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestSplitAddress(t *testing.T) {
	t.Parallel()
	local, domain, err := splitAddress(" Alice.R+sec@Mail.Researcher.EXAMPLE. ")
	if err != nil || local != "Alice.R+sec" || domain != "mail.researcher.example" {
		t.Errorf("got %q %q %v", local, domain, err)
	}
	if _, _, err := splitAddress("a@xn--bcher-kva.example"); err != nil {
		t.Errorf("punycode domain: %v", err)
	}
}

// TestKeyLookup_Dialer: a host that is not written in the configuration
// may only be reached at public addresses, so a forged From address
// cannot make secinbox probe its own network.
func TestKeyLookup_Dialer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	l, err := NewKeyLookup(KeyLookupConfig{WKDDirectURL: "http://127.0.0.1:" + port + "/{domain}"})
	if err != nil {
		t.Fatal(err)
	}
	dial := l.dialer(&net.Dialer{})
	ctx := context.Background()
	if c, err := dial(ctx, "tcp", "127.0.0.1:"+port); err != nil {
		t.Errorf("configured host refused: %v", err)
	} else {
		c.Close()
	}
	for _, addr := range []string{"localhost:" + port, "[::1]:" + port, "10.0.0.1:443", "169.254.169.254:80"} {
		if _, err := dial(ctx, "tcp", addr); !errors.Is(err, ErrLookupRefused) {
			t.Errorf("dial %s: %v, want ErrLookupRefused", addr, err)
		}
	}
}
