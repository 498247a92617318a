// Package inbox is secinbox's SMTP intake (emersion/go-smtp): it accepts
// mail for the security addresses only, with explicit limits, commits the
// raw message durably before answering 250, and then files it as a report
// (decrypting it with package pgp).
package inbox
