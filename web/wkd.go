package web

import (
	"crypto/sha1"
	"encoding/base32"
	"strings"
)

// zbase32 is the z-base-32 encoding (RFC 6189 §5.1.6) used by the OpenPGP
// Web Key Directory. Its bit order is that of RFC 4648 base32; only the
// alphabet differs.
var zbase32 = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// wkdHash returns the WKD hash of an address's local part: the z-base-32
// encoded SHA-1 of the lower-cased local part
// (draft-koch-openpgp-webkey-service §3.1).
func wkdHash(local string) string {
	sum := sha1.Sum([]byte(strings.ToLower(local)))
	return zbase32.EncodeToString(sum[:])
}
