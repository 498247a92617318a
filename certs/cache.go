package certs

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// dirCache is autocert's DirCache with its permissions enforced: the
// directory 0700 even when it already existed (DirCache only creates it
// so), every file 0600 (DirCache relies on os.CreateTemp for that).
type dirCache struct {
	dir    string
	dc     autocert.DirCache
	stored func(host string, leaf *x509.Certificate)
}

// openCache creates dir or tightens it and the files in it.
func openCache(dir string, stored func(string, *x509.Certificate)) (*dirCache, error) {
	if dir == "" {
		return nil, fmt.Errorf("certs: no cache directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: cache directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: cache directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("certs: cache directory: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
				return nil, fmt.Errorf("certs: cache: %w", err)
			}
		}
	}
	return &dirCache{dir: dir, dc: autocert.DirCache(dir), stored: stored}, nil
}

func (c *dirCache) Get(ctx context.Context, name string) ([]byte, error) { return c.dc.Get(ctx, name) }

func (c *dirCache) Delete(ctx context.Context, name string) error { return c.dc.Delete(ctx, name) }

// Put writes the file 0600 and tells about a certificate.
func (c *dirCache) Put(ctx context.Context, name string, data []byte) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	if err := c.dc.Put(ctx, name, data); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(c.dir, filepath.Clean("/"+name)), 0o600); err != nil {
		return err
	}
	if host, ok := certName(name); ok && c.stored != nil {
		if leaf := leafOf(data); leaf != nil {
			c.stored(host, leaf)
		}
	}
	return nil
}

// certName tells which cache entries are certificates (autocert's keys:
// "host" and "host+rsa"; not the account key, the challenge tokens and
// the TLS-ALPN-01 certificates).
func certName(name string) (host string, ok bool) {
	if name == "acme_account+key" || strings.HasSuffix(name, "+http-01") || strings.HasSuffix(name, "+token") {
		return "", false
	}
	return strings.TrimSuffix(name, "+rsa"), true
}

// leafOf returns the first certificate of a cache entry (a private key
// followed by the chain, in PEM), or nil.
func leafOf(data []byte) *x509.Certificate {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil
			}
			return c
		}
	}
}

// Held returns the certificate for host in the cache directory dir when
// one is there and valid at now (ECDSA or RSA), or nil. It only reads
// the directory, so `secinbox dns` can ask while the server runs.
func Held(dir, host string, now time.Time) *x509.Certificate {
	host = normalize(host)
	for _, name := range []string{host, host + "+rsa"} {
		data, err := os.ReadFile(filepath.Join(dir, filepath.Clean("/"+name)))
		if err != nil {
			continue
		}
		leaf := leafOf(data)
		if leaf != nil && !now.Before(leaf.NotBefore) && now.Before(leaf.NotAfter) && leaf.VerifyHostname(host) == nil {
			return leaf
		}
	}
	return nil
}
