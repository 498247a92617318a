// Package pgp reads incoming mail for secinbox: MIME (RFC 2045 and
// friends), PGP/MIME (RFC 3156) and inline OpenPGP, decrypted and
// verified with ProtonMail/go-crypto's openpgp/v2. It also generates,
// protects and exports the team's keys.
//
// It is a pure library over byte slices and io.Readers: no files, no
// network, no clock (time comes in as an argument). Every input is
// hostile, so every size, depth and count has an explicit cap (Limits),
// plaintext is trusted only after it was read to EOF and its integrity
// (MDC or AEAD) verified, and panics from the libraries below are
// recovered into errors.
//
// Entry points: ParseMessage for a raw RFC 5322 message, read once, with
// the keys a KeyRing resolves by key ID (TeamKeys for the team's secret
// keys, KeyChain to add others; resolve.go); GenerateKey, LockKey,
// ReadSecretKeys, ArmorPublicKey and WKDHash for the team key.
package pgp

//go:generate go test -run ^TestFuzzCorpus$ -update-corpus
