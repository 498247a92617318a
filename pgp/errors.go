package pgp

import "errors"

// Sentinel errors. Functions wrap them with context; test with errors.Is.
var (
	// ErrNoKey: the message is encrypted, but to none of the keys given
	// (or only to keys whose secret part is still locked).
	ErrNoKey = errors.New("pgp: no key to decrypt")
	// ErrIntegrity: the ciphertext is not integrity protected (no MDC, no
	// AEAD), or its MDC or AEAD tag does not verify, or the decrypted
	// packets do not parse (which, after decryption, is the same thing:
	// go-crypto deliberately does not tell them apart). The plaintext is
	// discarded.
	ErrIntegrity = errors.New("pgp: integrity check failed")
	// ErrTooLarge: the plaintext exceeds Limits.MaxDecompressedSize
	// (typically a compression bomb). The plaintext is discarded.
	ErrTooLarge = errors.New("pgp: decompressed message too large")
	// ErrMalformed: the OpenPGP data or the MIME structure around it cannot
	// be read.
	ErrMalformed = errors.New("pgp: malformed message")
	// ErrPanic: go-crypto or go-message panicked on this input; the panic
	// was recovered.
	ErrPanic = errors.New("pgp: internal error while decrypting")
	// ErrBadPassphrase: a secret key could not be unlocked with the passphrase.
	ErrBadPassphrase = errors.New("pgp: wrong passphrase")
	// ErrNotSecret: a key that should hold secret key material holds none.
	ErrNotSecret = errors.New("pgp: no secret key material")
)
