// Package mailauth checks who really sent a message: SPF (RFC 7208, a
// small evaluator here), DKIM (RFC 6376, emersion/go-msgauth's dkim
// package) and whether either is aligned with the From domain, as DMARC
// (RFC 7489 section 3.1) asks in relaxed mode. DNS goes through a
// Resolver, so tests run offline with a fake one; every check is bounded
// by a timeout.
package mailauth
