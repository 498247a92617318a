package pgp

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

// Signature results. go-crypto is asked to check as much as it can (its
// algorithm policy is opened up in parser.config, so that a SHA-1 or
// RSA-1024 signature is verified rather than rejected with an error we
// would have to parse), and then every result is classified here by
// looking at the signature packet and the signer's key, not at error
// strings:
//
//   - good: the signature verifies, with a key we hold (the team's
//     verification keys, or a key carried by the message itself) that was
//     valid, not expired and not revoked when the signature was made, the
//     signature has not expired, and nothing in it is weak.
//   - weak: made with a broken hash (SHA-1, MD5, RIPEMD-160: see weakHash)
//     or by a key too small to trust (RSA or DSA under 2048 bits, ElGamal:
//     see weakKey). Never good, even when the mathematics verify, because
//     such signatures can be forged. MD5 and RIPEMD-160 signature packets
//     are not even parsed by go-crypto; they are found by walking the
//     packets (preflight, verifyDetached) and reported weak unverified.
//   - expired_key, revoked_key: the signing key (or its subkey) had
//     expired or was revoked when the signature was made (a revocation
//     for compromise or without reason counts whenever it was made), or
//     the signature itself has expired. If the mathematics fail too, bad.
//   - unknown_key: we hold no key with the issuer's key ID. KeyID is
//     recorded, and Fingerprint is the issuer fingerprint the packet
//     names, if it names one (that may be a subkey's).
//   - bad: anything else, with the reason: the data was altered, the key
//     may not sign, the signature names other intended recipients (a
//     re-encrypted, forwarded message), the signature packet cannot be
//     parsed or uses an algorithm we cannot check (v5 signatures, new
//     public-key algorithms).

// minKeyBits is the smallest RSA or DSA key whose signatures can be good.
// NIST SP 800-131A disallowed 1024-bit RSA and DSA signatures in 2013.
const minKeyBits = 2048

// maxSignatureBytes bounds a detached signature part. A signature is a
// few hundred bytes; the cap only stops waste.
const maxSignatureBytes = 1 << 20

// weakHash reports whether h is a hash whose collisions are practical
// (SHA-1: SHAttered 2017, chosen-prefix 2020; MD5) or too small to trust
// (RIPEMD-160), as RFC 9580 section 9.5 and GnuPG 2.4 treat them.
func weakHash(h crypto.Hash) bool {
	switch h {
	case crypto.SHA1, crypto.MD5, crypto.RIPEMD160, crypto.MD4:
		return true
	}
	return false
}

// hashName is the OpenPGP text name of h (RFC 9580 section 9.5).
func hashName(h crypto.Hash) string {
	switch h {
	case crypto.MD5:
		return "MD5"
	case crypto.SHA1:
		return "SHA1"
	case crypto.RIPEMD160:
		return "RIPEMD160"
	case crypto.SHA224:
		return "SHA224"
	case crypto.SHA256:
		return "SHA256"
	case crypto.SHA384:
		return "SHA384"
	case crypto.SHA512:
		return "SHA512"
	case crypto.SHA3_256:
		return "SHA3-256"
	case crypto.SHA3_512:
		return "SHA3-512"
	}
	return ""
}

// weakKey returns why pk is too weak to make a good signature, or "".
func weakKey(pk *packet.PublicKey) string {
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly, packet.PubKeyAlgoRSAEncryptOnly:
		if bits, err := pk.BitLength(); err != nil || bits < minKeyBits {
			return fmt.Sprintf("the signing key is RSA with %d bits, under %d", bits, minKeyBits)
		}
	case packet.PubKeyAlgoDSA:
		if bits, err := pk.BitLength(); err != nil || bits < minKeyBits {
			return fmt.Sprintf("the signing key is DSA with %d bits, under %d", bits, minKeyBits)
		}
	case packet.PubKeyAlgoElGamal:
		return "the signing key is ElGamal, which must not sign"
	}
	return ""
}

// signatureResults classifies the candidates of a message read to EOF.
func (p *parser) signatureResults(md *openpgp.MessageDetails, cfg *packet.Config) []triage.Signature {
	out := make([]triage.Signature, 0, len(md.SignatureCandidates))
	for _, c := range md.SignatureCandidates {
		out = append(out, p.candidateResult(c, cfg))
	}
	return out
}

// candidateResult classifies one signature go-crypto has checked.
func (p *parser) candidateResult(c *openpgp.SignatureCandidate, cfg *packet.Config) triage.Signature {
	s := triage.Signature{KeyID: fmt.Sprintf("%016X", c.IssuerKeyId), Hash: hashName(c.HashAlgorithm)}
	sig := c.CorrespondingSig
	issuerFpr := c.IssuerFingerprint
	if sig != nil {
		s.SignedAt = sig.CreationTime.UTC()
		if len(issuerFpr) == 0 {
			issuerFpr = sig.IssuerFingerprint
		}
	}
	e := c.SignedByEntity
	if e != nil {
		s.Fingerprint = Fingerprint(e)
		s.SignerUserID = primaryUserID(e)
		s.FromMatches = p.fromMatches(e)
	}
	weak := weakHash(c.HashAlgorithm)
	switch {
	case sig == nil:
		return bad(s, "the signature packets do not match the one-pass signature packets announcing them")
	case e == nil && weak:
		s.Fingerprint = fmt.Sprintf("%X", issuerFpr)
		s.Status = triage.SignatureWeak
		s.Reason = fmt.Sprintf("made with %s, which can be forged, by key %s, which we do not hold: it cannot be trusted", s.Hash, s.KeyID)
		return s
	case e == nil:
		s.Fingerprint = fmt.Sprintf("%X", issuerFpr)
		s.Status = triage.SignatureUnknownKey
		s.Reason = fmt.Sprintf("signed by key %s, which we do not hold", s.KeyID)
		return s
	}

	err := c.SignatureError
	if errors.Is(err, pgperrors.ErrSignatureExpired) {
		// Raised only after the mathematics verified: by the message
		// signature itself, or by a self-signature of the key that had
		// expired when the message was signed.
		if sig.CreationTime.After(p.now.Add(clockSkew)) {
			return bad(s, "the signature claims to be made on "+sig.CreationTime.UTC().Format(time.RFC3339)+", after the message was received")
		}
		s.Status = triage.SignatureExpiredKey
		if sig.SigExpired(p.now.Add(clockSkew)) {
			s.Reason = "the signature itself has expired"
			if sig.SigLifetimeSecs != nil {
				s.Reason += " (on " + sig.CreationTime.Add(time.Duration(*sig.SigLifetimeSecs)*time.Second).UTC().Format(time.DateOnly) + ")"
			}
		} else {
			s.Reason = "the signing key's self-signature had expired when the signature was made"
		}
		return s
	}
	if err != nil {
		if status, why := keyStateAt(e, c.IssuerKeyId, sig.CreationTime, cfg); status != "" {
			if ok, known := mathematicsVerify(e, c, sig); known && !ok {
				return bad(s, "the signature does not match the signed data")
			}
			s.Status, s.Reason = status, why
			return s
		}
		var weakAlgo pgperrors.WeakAlgorithmError
		if errors.As(err, &weakAlgo) {
			s.Status = triage.SignatureWeak
			s.Reason = "the signing key uses a weak algorithm: " + string(weakAlgo)
			return s
		}
		if why := p.otherRecipients(sig); why != "" {
			return bad(s, why)
		}
		return bad(s, "the signature does not verify: "+err.Error())
	}

	// Verified, with a key valid at signing time. Weak parts make it weak.
	if weak {
		s.Status = triage.SignatureWeak
		s.Reason = fmt.Sprintf("made with %s, which can be forged: the signature verifies but cannot be trusted", s.Hash)
		return s
	}
	if c.SignedBy != nil && c.SignedBy.PublicKey != nil {
		if why := weakKey(c.SignedBy.PublicKey); why != "" {
			s.Status = triage.SignatureWeak
			s.Reason = why + ": the signature verifies but cannot be trusted"
			return s
		}
	}
	s.Status = triage.SignatureGood
	return s
}

func bad(s triage.Signature, reason string) triage.Signature {
	s.Status = triage.SignatureBad
	s.Reason = reason
	return s
}

// keyStateAt tells whether the key keyID of e had expired or was revoked
// at t (as go-crypto judges it), with the reason; "" when neither.
func keyStateAt(e *openpgp.Entity, keyID uint64, t time.Time, cfg *packet.Config) (triage.SignatureStatus, string) {
	state := func(err error, what string) (triage.SignatureStatus, string) {
		switch {
		case errors.Is(err, pgperrors.ErrKeyRevoked):
			return triage.SignatureRevokedKey, "the signing " + what + " is revoked"
		case errors.Is(err, pgperrors.ErrKeyExpired):
			why := "the signing " + what + " had expired when the signature was made"
			if exp := keyExpiry(e); what == "key" && !exp.IsZero() {
				why += " (it expired on " + exp.UTC().Format(time.DateOnly) + ")"
			}
			return triage.SignatureExpiredKey, why
		}
		return "", ""
	}
	if _, err := e.VerifyPrimaryKey(t, cfg); err != nil {
		if st, why := state(err, "key"); st != "" {
			return st, why
		}
	}
	for i := range e.Subkeys {
		sub := &e.Subkeys[i]
		if sub.PublicKey == nil || sub.PublicKey.KeyId != keyID {
			continue
		}
		if _, err := sub.Verify(t, cfg); err != nil {
			if st, why := state(err, "subkey"); st != "" {
				return st, why
			}
		}
	}
	return "", ""
}

// mathematicsVerify checks sig against the hash go-crypto accumulated
// for candidate c, with the key of e that c names, regardless of that
// key's validity. known is false when that cannot be done.
func mathematicsVerify(e *openpgp.Entity, c *openpgp.SignatureCandidate, sig *packet.Signature) (ok, known bool) {
	if c.Hash == nil {
		return false, false
	}
	pk := e.PrimaryKey
	if pk == nil || pk.KeyId != c.IssuerKeyId {
		pk = nil
		for i := range e.Subkeys {
			if sk := e.Subkeys[i].PublicKey; sk != nil && sk.KeyId == c.IssuerKeyId {
				pk = sk
				break
			}
		}
	}
	if pk == nil {
		return false, false
	}
	return pk.VerifySignature(c.Hash, sig) == nil, true
}

// otherRecipients explains a signature whose Intended Recipient
// subpackets (RFC 9580 section 5.2.3.36) name none of our keys: it was
// made for someone else and re-encrypted to us, so it is no evidence
// that its signer wrote to us.
func (p *parser) otherRecipients(sig *packet.Signature) string {
	if len(sig.IntendedRecipients) == 0 {
		return ""
	}
	for _, r := range sig.IntendedRecipients {
		for _, k := range p.keys.KeysById(0) { // every key that decrypts: ours
			if k.PrivateKey != nil && k.Entity != nil && k.Entity.PrimaryKey != nil && bytes.Equal(r.Fingerprint, k.Entity.PrimaryKey.Fingerprint) {
				return ""
			}
		}
	}
	return "the signature was made for other recipients and re-encrypted to us: it does not show that the signer wrote to us"
}

// fromMatches reports whether one of e's valid user IDs carries the
// outer From address (case-insensitive).
func (p *parser) fromMatches(e *openpgp.Entity) bool {
	from := strings.ToLower(p.msg.FromEmail)
	if from == "" {
		return false
	}
	for _, id := range e.Identities {
		if identityEmail(id) == from {
			if _, err := id.Verify(time.Time{}, p.config(0)); err == nil {
				return true
			}
		}
	}
	return false
}

// identityEmail is the lower-cased address in a user ID ("Name <a@b>"
// or a bare "a@b"), or "".
func identityEmail(id *openpgp.Identity) string {
	if id == nil {
		return ""
	}
	if id.UserId != nil && id.UserId.Email != "" {
		return strings.ToLower(strings.TrimSpace(id.UserId.Email))
	}
	if a, err := mail.ParseAddress(id.Name); err == nil {
		return strings.ToLower(a.Address)
	}
	return ""
}

// unparsedSignature is the result for a signature packet go-crypto could
// not parse (it skips those silently, which would make a signed message
// look unsigned). sig holds what was read before the parser gave up.
func unparsedSignature(sig *packet.Signature) triage.Signature {
	return unparsed(rawSignature{version: sig.Version, pubKeyAlgo: sig.PubKeyAlgo, hashID: -1})
}

// rawSignature is what can be read of a signature packet by hand.
type rawSignature struct {
	version    int
	pubKeyAlgo packet.PublicKeyAlgorithm
	hashID     int // RFC 9580 section 9.5; -1 if unknown
	keyID      uint64
	issuerFpr  []byte
	signedAt   time.Time
}

// hashIDs names the hash algorithm IDs go-crypto does not parse.
var hashIDs = map[int]string{1: "MD5", 2: "SHA1", 3: "RIPEMD160"}

// unparsed classifies a signature packet go-crypto cannot parse: weak
// when its hash is broken (or it is a PGP 2 signature), bad (cannot be
// checked) otherwise.
func unparsed(r rawSignature) triage.Signature {
	s := triage.Signature{Status: triage.SignatureBad, Hash: hashIDs[r.hashID]}
	if r.keyID != 0 {
		s.KeyID = fmt.Sprintf("%016X", r.keyID)
	}
	if len(r.issuerFpr) > 0 {
		s.Fingerprint = fmt.Sprintf("%X", r.issuerFpr)
	}
	s.SignedAt = r.signedAt
	switch {
	case r.version == 2 || r.version == 3:
		s.Status = triage.SignatureWeak
		s.Reason = "a version 3 (PGP 2) signature, made with MD5-era algorithms: it cannot be trusted"
	case r.version == 5:
		s.Reason = "a version 5 (LibrePGP) signature, which cannot be checked here"
	case r.version != 4 && r.version != 6:
		s.Reason = fmt.Sprintf("a version %d signature packet, which cannot be checked here", r.version)
	case !supportedSigningAlgorithm(r.pubKeyAlgo):
		s.Reason = fmt.Sprintf("made with public-key algorithm %d, which cannot be checked here", r.pubKeyAlgo)
	case s.Hash != "":
		// The packet parser stopped at the hash algorithm.
		s.Status = triage.SignatureWeak
		s.Reason = "made with " + s.Hash + ", which can be forged: it cannot be trusted"
	default:
		s.Status = triage.SignatureWeak
		s.Reason = "made with a broken or unknown hash algorithm (MD5, RIPEMD-160, or SHA-1 in a version 6 signature): it cannot be trusted"
	}
	return s
}

// readRawSignature reads the fixed fields and issuer subpackets of the
// body of a signature packet (RFC 9580 section 5.2.3, RFC 4880 section
// 5.2.2 for version 3) without go-crypto's parser.
func readRawSignature(c []byte) rawSignature {
	r := rawSignature{hashID: -1}
	if len(c) == 0 {
		return r
	}
	r.version = int(c[0])
	switch {
	case (r.version == 2 || r.version == 3) && len(c) >= 17:
		r.signedAt = time.Unix(int64(binary.BigEndian.Uint32(c[3:7])), 0).UTC()
		r.keyID = binary.BigEndian.Uint64(c[7:15])
		r.pubKeyAlgo = packet.PublicKeyAlgorithm(c[15])
		r.hashID = int(c[16])
	case (r.version == 4 || r.version == 5) && len(c) >= 6:
		r.pubKeyAlgo, r.hashID = packet.PublicKeyAlgorithm(c[2]), int(c[3])
		r.readSubpackets(c[4:], 2)
	case r.version == 6 && len(c) >= 8:
		r.pubKeyAlgo, r.hashID = packet.PublicKeyAlgorithm(c[2]), int(c[3])
		r.readSubpackets(c[4:], 4)
	}
	return r
}

// readSubpackets reads the hashed then the unhashed subpacket area of b,
// each preceded by a big-endian length of n bytes, for the issuer.
func (r *rawSignature) readSubpackets(b []byte, n int) {
	for area := 0; area < 2 && len(b) >= n; area++ {
		length := 0
		for _, c := range b[:n] {
			length = length<<8 | int(c)
		}
		b = b[n:]
		if length < 0 || length > len(b) {
			return
		}
		subs, err := packet.OpaqueSubpackets(b[:length])
		b = b[length:]
		if err != nil {
			continue
		}
		for _, sp := range subs {
			switch typ := sp.SubType & 0x7f; { // without the critical bit
			case typ == 2 && len(sp.Contents) == 4 && area == 0: // creation time, hashed only
				r.signedAt = time.Unix(int64(binary.BigEndian.Uint32(sp.Contents)), 0).UTC()
			case typ == 16 && len(sp.Contents) == 8: // issuer key ID
				r.keyID = binary.BigEndian.Uint64(sp.Contents)
			case typ == 33 && len(sp.Contents) > 1: // issuer fingerprint
				r.issuerFpr = append([]byte(nil), sp.Contents[1:]...)
				if r.keyID == 0 && len(r.issuerFpr) >= 20 {
					if sp.Contents[0] == 4 {
						r.keyID = binary.BigEndian.Uint64(r.issuerFpr[len(r.issuerFpr)-8:])
					} else {
						r.keyID = binary.BigEndian.Uint64(r.issuerFpr[:8])
					}
				}
			}
		}
	}
}

// supportedSigningAlgorithm mirrors the list go-crypto's signature
// parser accepts before it reads the hash algorithm.
func supportedSigningAlgorithm(a packet.PublicKeyAlgorithm) bool {
	switch a {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly, packet.PubKeyAlgoDSA,
		packet.PubKeyAlgoECDSA, packet.PubKeyAlgoEdDSA, packet.PubKeyAlgoEd25519, packet.PubKeyAlgoEd448:
		return true
	}
	return false
}

// verifyDetached checks a detached signature (RFC 3156 section 5, or the
// signature of a cleartext-signed message; armored or binary) over
// signed, which must already be canonical. It returns one result per
// signature packet; never good unless go-crypto verified it.
func (p *parser) verifyDetached(signed, sigData []byte) (out []triage.Signature) {
	defer func() {
		if r := recover(); r != nil {
			out = []triage.Signature{{Status: triage.SignatureBad, Reason: fmt.Sprintf("internal error while verifying: %v", r)}}
		}
	}()
	raw, err := signatureBytes(sigData)
	if err != nil {
		return []triage.Signature{{Status: triage.SignatureBad, Reason: err.Error()}}
	}
	// Walk the packets first: go-crypto skips the ones it cannot parse.
	var skipped []triage.Signature
	parsed := 0
	packets := packet.NewOpaqueReader(bytes.NewReader(raw))
	for {
		op, err := packets.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return []triage.Signature{{Status: triage.SignatureBad, Reason: "the signature cannot be read: " + err.Error()}}
		}
		if op.Tag != 2 { // signature packet
			continue
		}
		if _, err := op.Parse(); err != nil {
			var unsupported pgperrors.UnsupportedError
			if !errors.As(err, &unsupported) {
				return []triage.Signature{{Status: triage.SignatureBad, Reason: "the signature cannot be read: " + err.Error()}}
			}
			r := readRawSignature(op.Contents)
			s := unparsed(r)
			if es := p.keys.EntitiesById(r.keyID); r.keyID != 0 && len(es) > 0 {
				s.Fingerprint = Fingerprint(es[0])
				s.SignerUserID = primaryUserID(es[0])
				s.FromMatches = p.fromMatches(es[0])
			}
			skipped = append(skipped, s)
		} else {
			parsed++
		}
		if parsed+len(skipped) > maxSignatures {
			return []triage.Signature{{Status: triage.SignatureBad, Reason: fmt.Sprintf("more than %d signatures in one signature part", maxSignatures)}}
		}
	}
	if parsed == 0 && len(skipped) == 0 {
		return []triage.Signature{{Status: triage.SignatureBad, Reason: "the signature part holds no OpenPGP signature"}}
	}
	if parsed > 0 {
		cfg := p.config(0)
		md, err := openpgp.VerifyDetachedSignatureReader(p.keys, bytes.NewReader(signed), bytes.NewReader(raw), cfg)
		switch {
		case err != nil:
			out = append(out, triage.Signature{Status: triage.SignatureBad, Reason: "the signature cannot be read: " + err.Error()})
		default:
			if _, err := io.Copy(io.Discard, md.UnverifiedBody); err != nil {
				out = append(out, triage.Signature{Status: triage.SignatureBad, Reason: "the signature cannot be checked: " + err.Error()})
				break
			}
			out = append(out, p.signatureResults(md, cfg)...)
		}
	}
	return append(out, skipped...)
}

// signatureBytes returns the binary signature packets of sigData, which
// may be armored ("-----BEGIN PGP SIGNATURE-----").
func signatureBytes(sigData []byte) ([]byte, error) {
	var in io.Reader = bytes.NewReader(sigData)
	if bytes.Contains(sigData, []byte("-----BEGIN PGP")) {
		block, err := armor.Decode(in)
		if err != nil {
			return nil, errors.New("the signature's armor cannot be read")
		}
		if block.Type != openpgp.SignatureType {
			return nil, fmt.Errorf("the signature part holds a %q block, not a signature", block.Type)
		}
		in = block.Body
	}
	raw, err := io.ReadAll(io.LimitReader(in, maxSignatureBytes+1))
	if err != nil {
		return nil, errors.New("the signature's armor cannot be read: " + err.Error())
	}
	if len(raw) > maxSignatureBytes {
		return nil, fmt.Errorf("the signature part is over %d bytes", maxSignatureBytes)
	}
	return raw, nil
}
