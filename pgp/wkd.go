package pgp

import (
	"crypto/sha1"
	"encoding/base32"
)

// zbase32 is z-base-32 (http://philzimmermann.com/docs/human-oriented-base-32-encoding.txt),
// which the Web Key Directory uses with the usual most-significant-bit-first order.
var zbase32 = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// WKDHash is the Web Key Directory hash of a local part: z-base-32 of
// the SHA-1 of its lower-cased form, where only ASCII A-Z are lowered
// (draft-koch-openpgp-webkey-service section 3.1). The result is always
// 32 characters.
func WKDHash(localPart string) string {
	b := []byte(localPart)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	sum := sha1.Sum(b)
	return zbase32.EncodeToString(sum[:])
}
