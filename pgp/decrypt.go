package pgp

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/triage"
)

// opened is what reading one OpenPGP message gave.
type opened struct {
	encrypted bool   // it was encrypted (not merely signed or compressed)
	plain     []byte // the literal data, read to EOF, integrity verified
	name      string // the literal data's file name, if any
	sigs      []triage.Signature
}

// errNotIntegrityProtected is the exact error go-crypto's ReadMessage
// returns for a Symmetrically Encrypted Data packet (tag 9, no MDC) when
// InsecureAllowUnauthenticatedMessages is false, as it always is here.
var errNotIntegrityProtected = pgperrors.UnsupportedError("message is not integrity protected")

// clockSkew is how far ahead of our clock a sender's may be: a signature
// made up to this long after the message was received is not "from the
// future". go-crypto would call such a signature expired.
const clockSkew = time.Hour

// config returns the go-crypto configuration for reading with a
// plaintext budget of limit bytes.
//
// go-crypto's own decompression limit (MaxDecompressedMessageSize) counts
// the decompressed packet stream, framing included, and its error reaches
// us rewritten as a generic parsing error (errors.HandleSensitiveParsingError).
// So it is set a quarter above our limit, as the backstop on CPU, while
// the exact plaintext cap is our own counting reader in open: that is
// what tells ErrTooLarge apart from ErrIntegrity.
func (p *parser) config(limit int64) *packet.Config {
	backstop := limit + limit/4 + 64<<10
	if backstop < limit { // overflow
		backstop = math.MaxInt64
	}
	// Signatures are judged at the time of receipt, plus clockSkew for
	// senders whose clocks run ahead.
	now := p.now.Add(clockSkew)
	return &packet.Config{
		MaxDecompressedMessageSize: &backstop,
		Time:                       func() time.Time { return now },
		// InsecureAllowUnauthenticatedMessages stays false: RFC 9580
		// section 5.13.1 and every modern implementation require MDC or AEAD.

		// go-crypto's algorithm policy is opened up so that it verifies
		// what it can (SHA-1, small RSA, DSA) instead of failing with an
		// error we would have to parse; verify.go then classifies those
		// signatures as weak by looking at the packets. Empty, non-nil
		// maps reject nothing.
		RejectPublicKeyAlgorithms:   map[packet.PublicKeyAlgorithm]bool{},
		RejectHashAlgorithms:        map[crypto.Hash]bool{},
		RejectMessageHashAlgorithms: map[crypto.Hash]bool{},
		RejectCurves:                map[packet.Curve]bool{},
		MinRSABits:                  512,
	}
}

// open decrypts and/or verifies one OpenPGP message (RFC 4880 section 11.3,
// RFC 9580 section 10.3), armored (RFC 4880 section 6) or binary. The
// plaintext is read to EOF, which is when go-crypto checks the MDC or
// AEAD tag and the signatures; on any error it is discarded. It draws the
// plaintext from p.budget. Panics inside go-crypto become ErrPanic.
func (p *parser) open(data []byte) (res opened, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = opened{}, fmt.Errorf("pgp: decrypting: %w: %v", ErrPanic, r)
		}
	}()
	if p.budget <= 0 {
		return opened{}, fmt.Errorf("pgp: no plaintext budget left: %w", ErrTooLarge)
	}
	in, err := packetStream(data)
	if err != nil {
		return opened{}, err
	}
	unparsed, flooded, err := p.preflight(in)
	if err != nil {
		return opened{}, err
	}
	in, _ = packetStream(data)
	if flooded {
		return p.unverified(in)
	}
	cfg := p.config(p.budget)
	md, err := openpgp.ReadMessage(in, p.keyring, nil, cfg)
	if err != nil {
		return opened{}, fmt.Errorf("pgp: reading message: %w: %w", classify(err), err)
	}
	// Count the plaintext ourselves: one byte over the budget is enough
	// to know it is too large, and memory stays at budget+1.
	plain, err := io.ReadAll(io.LimitReader(md.UnverifiedBody, p.budget+1))
	if limit := p.budget; int64(len(plain)) > limit {
		p.budget = 0
		return opened{}, fmt.Errorf("pgp: plaintext over %d bytes: %w", limit, ErrTooLarge)
	}
	if err != nil {
		return opened{}, fmt.Errorf("pgp: reading plaintext: %w: %w", classify(err), err)
	}
	p.budget -= int64(len(plain))
	// EOF was seen: integrity is verified and the signature fields are valid.
	res = opened{encrypted: md.IsEncrypted, plain: plain}
	if md.LiteralData != nil {
		res.name = md.LiteralData.FileName
	}
	if md.IsSigned {
		res.sigs = p.signatureResults(md, cfg)
	}
	res.sigs = append(res.sigs, unparsed...)
	return res, nil
}

// packetStream returns the OpenPGP packets in data, armored or binary.
func packetStream(data []byte) (io.Reader, error) {
	if !bytes.Contains(data, []byte("-----BEGIN PGP")) {
		return bytes.NewReader(data), nil
	}
	block, err := armor.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("pgp: reading armor: %w: %w", ErrMalformed, err)
	}
	if block.Type != openpgp.MessageType {
		return nil, fmt.Errorf("pgp: armor type %q, want %q: %w", block.Type, openpgp.MessageType, ErrMalformed)
	}
	return block.Body, nil
}

// maxSignatures bounds the signature packets of one OpenPGP message
// that are verified. Real messages carry one or two.
const maxSignatures = 16

// errSignatureFlood is preflight's refusal of an encrypted message with
// more than maxSignatures signature packets; it wraps ErrMalformed. A
// message that is not encrypted is read all the same (unverified).
var errSignatureFlood = fmt.Errorf("pgp: more than %d signature packets: %w", maxSignatures, ErrMalformed)

// maxKeyAttempts bounds the session-key decryptions one ParseMessage
// pass may cause: pairs of a Public-Key Encrypted Session Key packet and
// an unlocked key of ours it may be for (a wildcard "anonymous recipient"
// packet is for all of them). ReadMessage tries every pair until one
// works, an RSA private-key operation each: a few thousand bogus PKESKs
// for our key fit in a megabyte and cost seconds, repeated by preflight
// and by every encrypted block. A real block has one pair per team key
// it was encrypted to, a few more when recipients are hidden.
const maxKeyAttempts = 256

// errKeyFlood is preflight's refusal of a block that would go over
// maxKeyAttempts; it wraps ErrMalformed.
var errKeyFlood = fmt.Errorf("pgp: more than %d session-key decryptions for one message: %w", maxKeyAttempts, ErrMalformed)

// preflight counts the (one-pass) signature packets of an OpenPGP
// message before go-crypto's ReadMessage sees it. ReadMessage keeps
// one-pass signatures in a slice it prepends to, and all trailing
// signature packets in memory: thousands of them fit in a few compressed
// bytes and cost quadratic time, or memory, before we could stop it.
// So preflight walks the packets the way ReadMessage does (recovering
// the session key a second time, decompressing within the same limit,
// skipping the literal data) and stops at more than maxSignatures:
// inside encryption it refuses the message with errSignatureFlood;
// outside any, flooded is true and open reads the content without
// go-crypto (unverified), since a signed message is no less readable for
// carrying many signatures. Every other problem is left to ReadMessage to
// report.
//
// It adds the session-key decryptions ReadMessage may try to
// p.keyAttempts, refusing with errKeyFlood past maxKeyAttempts.
//
// It also returns a result for each signature packet go-crypto cannot
// parse (MD5, RIPEMD-160, v3 and v5 signatures): ReadMessage skips those
// silently, and the message would look unsigned.
func (p *parser) preflight(in io.Reader) (unparsed []triage.Signature, flooded bool, err error) {
	cfg := p.config(p.budget)
	packets := packet.NewReader(in)
	var key []byte
	var cipher packet.CipherFunction
	sigs := 0
	encrypted := false // a session key or encrypted data was seen
	for {
		pk, err := packets.NextWithUnsupported()
		if err != nil {
			return unparsed, false, nil
		}
		if u, ok := pk.(*packet.UnsupportedPacket); ok {
			switch u := u.IncompletePacket.(type) {
			case *packet.Signature:
				unparsed = append(unparsed, unparsedSignature(u))
				pk = u
			case *packet.OnePassSignature:
				pk = u
			case *packet.SymmetricallyEncrypted, *packet.AEADEncrypted, *packet.Compressed, *packet.LiteralData:
				return unparsed, false, nil // ReadMessage fails on these too
			default:
				// ReadMessage's packet reader skips the other unsupported
				// packets (an unknown PKESK version, say) and reads on:
				// so must we, or a flood behind one goes unseen.
				continue
			}
		}
		switch pk := pk.(type) {
		case *packet.EncryptedKey:
			encrypted = true
			keys := p.decryptionKeys(pk, cfg)
			if p.keyAttempts += len(keys); p.keyAttempts > maxKeyAttempts {
				return nil, false, errKeyFlood
			}
			if key == nil {
				key, cipher = sessionKey(pk, keys, cfg)
			}
		case *packet.SymmetricallyEncrypted, *packet.AEADEncrypted:
			encrypted = true
			if se, ok := pk.(*packet.SymmetricallyEncrypted); ok && !se.IntegrityProtected || key == nil {
				return unparsed, false, nil
			}
			dec, err := pk.(packet.EncryptedDataPacket).Decrypt(cipher, key)
			if err != nil || packets.Push(dec) != nil {
				return unparsed, false, nil
			}
		case *packet.Compressed:
			if packets.Push(pk.LimitedBodyReader(cfg.MaxDecompressedMessageSize)) != nil {
				return unparsed, false, nil
			}
		case *packet.OnePassSignature, *packet.Signature:
			if sigs++; sigs > maxSignatures {
				if encrypted {
					return nil, false, errSignatureFlood
				}
				return nil, true, nil
			}
		case *packet.LiteralData:
			if _, err := io.Copy(io.Discard, io.LimitReader(pk.Body, p.budget+1)); err != nil {
				return unparsed, false, nil
			}
		}
	}
}

// unverified reads a message that preflight found flooded: not
// encrypted, with more than maxSignatures signature packets. go-crypto's
// ReadMessage must not see it (see preflight), so its packets are walked
// here up to the first literal data, which is the content: kept, from
// p.budget like any plaintext, with one signature result saying that
// none was verified. Encryption met on the way is refused with
// errSignatureFlood, as preflight refuses a flood inside encryption.
func (p *parser) unverified(in io.Reader) (opened, error) {
	cfg := p.config(p.budget)
	packets := packet.NewReader(in)
	for {
		pk, err := packets.Next()
		if err == io.EOF {
			return opened{}, fmt.Errorf("pgp: signed message without literal data: %w", ErrMalformed)
		} else if err != nil {
			return opened{}, fmt.Errorf("pgp: reading message: %w: %w", classify(err), err)
		}
		switch pk := pk.(type) {
		case *packet.EncryptedKey, *packet.SymmetricKeyEncrypted, *packet.SymmetricallyEncrypted, *packet.AEADEncrypted:
			return opened{}, errSignatureFlood
		case *packet.Compressed:
			if err := packets.Push(pk.LimitedBodyReader(cfg.MaxDecompressedMessageSize)); err != nil {
				return opened{}, fmt.Errorf("pgp: reading message: %w: %w", ErrMalformed, err)
			}
		case *packet.LiteralData:
			plain, err := io.ReadAll(io.LimitReader(pk.Body, p.budget+1))
			if limit := p.budget; int64(len(plain)) > limit {
				p.budget = 0
				return opened{}, fmt.Errorf("pgp: plaintext over %d bytes: %w", limit, ErrTooLarge)
			}
			if err != nil {
				return opened{}, fmt.Errorf("pgp: reading plaintext: %w: %w", classify(err), err)
			}
			p.budget -= int64(len(plain))
			return opened{plain: plain, name: pk.FileName, sigs: []triage.Signature{{
				Status: triage.SignatureBad,
				Reason: fmt.Sprintf("more than %d signatures: none was verified", maxSignatures),
			}}}, nil
		}
	}
}

// decryptionKeys are our unlocked keys that ReadMessage would try on a
// Public-Key Encrypted Session Key packet, in its order.
func (p *parser) decryptionKeys(ek *packet.EncryptedKey, cfg *packet.Config) []openpgp.Key {
	var keys []openpgp.Key
	for _, e := range p.keyring.EntitiesById(ek.KeyId) {
		for _, k := range e.DecryptionKeys(ek.KeyId, time.Time{}, cfg) {
			if k.PrivateKey != nil && !k.PrivateKey.Encrypted {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// sessionKey decrypts a Public-Key Encrypted Session Key packet with the
// first of keys that works, as ReadMessage does.
func sessionKey(ek *packet.EncryptedKey, keys []openpgp.Key, cfg *packet.Config) ([]byte, packet.CipherFunction) {
	for _, k := range keys {
		if ek.Decrypt(k.PrivateKey, cfg) == nil {
			return ek.Key, ek.CipherFunc
		}
	}
	return nil, 0
}

// classify maps a go-crypto error onto our sentinels.
func classify(err error) error {
	var sessionErr pgperrors.DecryptWithSessionKeyError
	var sessionErrPtr *pgperrors.DecryptWithSessionKeyError
	switch {
	case errors.Is(err, pgperrors.ErrKeyIncorrect):
		return ErrNoKey
	case errors.Is(err, pgperrors.ErrMessageTooLarge):
		return ErrTooLarge
	case errors.Is(err, errNotIntegrityProtected),
		errors.Is(err, pgperrors.ErrMDCHashMismatch),
		errors.Is(err, pgperrors.ErrMDCMissing),
		errors.Is(err, pgperrors.ErrAEADTagVerification),
		// After decryption every failure is reported as a session-key
		// error, on purpose (no oracle): tampered, or corrupt, the
		// plaintext cannot be trusted.
		errors.As(err, &sessionErr), errors.As(err, &sessionErrPtr):
		return ErrIntegrity
	}
	return ErrMalformed
}
