// Package mtasts writes the MTA-STS policy (RFC 8461) that tells sending
// mail servers to deliver to our MX over TLS with a valid certificate,
// and the id that names one version of it in the _mta-sts TXT record.
package mtasts

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// The policy modes (RFC 8461 section 5).
const (
	// Enforce: senders deliver only over TLS with a certificate valid for
	// an MX host named in the policy.
	Enforce = "enforce"
	// Testing: senders deliver anyway and report failures (TLS-RPT).
	Testing = "testing"
)

// DefaultMaxAge is one week, in seconds: how long senders cache the policy.
const DefaultMaxAge = 604800

// Policy is one MTA-STS policy.
type Policy struct {
	Mode   string   // Enforce or Testing
	MX     []string // MX host names (or "*.example.com" patterns)
	MaxAge int      // seconds; 0: DefaultMaxAge
}

// Text returns the policy file served at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt: CRLF-terminated
// key: value lines (RFC 8461 section 3.2).
func (p Policy) Text() []byte {
	maxAge := p.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	var b strings.Builder
	b.WriteString("version: STSv1\r\n")
	b.WriteString("mode: " + p.Mode + "\r\n")
	for _, mx := range p.MX {
		b.WriteString("mx: " + strings.ToLower(strings.TrimSuffix(mx, ".")) + "\r\n")
	}
	b.WriteString("max_age: " + strconv.Itoa(maxAge) + "\r\n")
	return []byte(b.String())
}

// ID returns the policy's id for the TXT record: 20 hex digits of the
// SHA-256 of its text, so that it changes whenever the policy does
// (RFC 8461 section 3.1 allows 1 to 32 letters and digits).
func (p Policy) ID() string {
	sum := sha256.Sum256(p.Text())
	return hex.EncodeToString(sum[:10])
}

// TXT returns the value of the _mta-sts.DOMAIN TXT record.
func (p Policy) TXT() string { return "v=STSv1; id=" + p.ID() }
