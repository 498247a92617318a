package pgp

import (
	"bytes"
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
	sig       triage.Signature
}

// errNotIntegrityProtected is the exact error go-crypto's ReadMessage
// returns for a Symmetrically Encrypted Data packet (tag 9, no MDC) when
// InsecureAllowUnauthenticatedMessages is false, as it always is here.
var errNotIntegrityProtected = pgperrors.UnsupportedError("message is not integrity protected")

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
	now := p.now
	return &packet.Config{
		MaxDecompressedMessageSize: &backstop,
		Time:                       func() time.Time { return now },
		// InsecureAllowUnauthenticatedMessages stays false: RFC 9580
		// section 5.13.1 and every modern implementation require MDC or AEAD.
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
	if err := p.preflight(in); err != nil {
		return opened{}, err
	}
	in, _ = packetStream(data)
	md, err := openpgp.ReadMessage(in, p.keyring, nil, p.config(p.budget))
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
	return opened{encrypted: md.IsEncrypted, plain: plain, sig: signatureOf(md)}, nil
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

// maxSignatures bounds the signature packets of one OpenPGP message.
// Real messages carry one or two.
const maxSignatures = 16

// errSignatureFlood is preflight's refusal; it wraps ErrMalformed.
var errSignatureFlood = fmt.Errorf("pgp: more than %d signature packets: %w", maxSignatures, ErrMalformed)

// preflight counts the (one-pass) signature packets of an OpenPGP
// message before go-crypto's ReadMessage sees it. ReadMessage keeps
// one-pass signatures in a slice it prepends to, and all trailing
// signature packets in memory: thousands of them fit in a few compressed
// bytes and cost quadratic time, or memory, before we could stop it.
// So preflight walks the packets the way ReadMessage does (recovering
// the session key a second time, decompressing within the same limit,
// skipping the literal data) and refuses more than maxSignatures with
// ErrMalformed. Every other problem is left to ReadMessage to report.
func (p *parser) preflight(in io.Reader) error {
	cfg := p.config(p.budget)
	packets := packet.NewReader(in)
	var key []byte
	var cipher packet.CipherFunction
	sigs := 0
	for {
		pk, err := packets.Next()
		if err != nil {
			return nil
		}
		switch pk := pk.(type) {
		case *packet.EncryptedKey:
			if key == nil {
				key, cipher = p.sessionKey(pk, cfg)
			}
		case *packet.SymmetricallyEncrypted, *packet.AEADEncrypted:
			if se, ok := pk.(*packet.SymmetricallyEncrypted); ok && !se.IntegrityProtected || key == nil {
				return nil
			}
			dec, err := pk.(packet.EncryptedDataPacket).Decrypt(cipher, key)
			if err != nil || packets.Push(dec) != nil {
				return nil
			}
		case *packet.Compressed:
			if packets.Push(pk.LimitedBodyReader(cfg.MaxDecompressedMessageSize)) != nil {
				return nil
			}
		case *packet.OnePassSignature, *packet.Signature:
			if sigs++; sigs > maxSignatures {
				return errSignatureFlood
			}
		case *packet.LiteralData:
			if _, err := io.Copy(io.Discard, io.LimitReader(pk.Body, p.budget+1)); err != nil {
				return nil
			}
		}
	}
}

// sessionKey decrypts a Public-Key Encrypted Session Key packet with the
// first unlocked key of ours that it names, as ReadMessage does.
func (p *parser) sessionKey(ek *packet.EncryptedKey, cfg *packet.Config) ([]byte, packet.CipherFunction) {
	for _, e := range p.keyring.EntitiesById(ek.KeyId) {
		for _, k := range e.DecryptionKeys(ek.KeyId, time.Time{}, cfg) {
			if k.PrivateKey == nil || k.PrivateKey.Encrypted {
				continue
			}
			if ek.Decrypt(k.PrivateKey, cfg) == nil {
				return ek.Key, ek.CipherFunc
			}
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

// signatureOf records the signature state of md, which must have been
// read to EOF. Good only when go-crypto verified a signature with a key
// we hold.
func signatureOf(md *openpgp.MessageDetails) triage.Signature {
	if !md.IsSigned {
		return triage.Signature{Status: triage.SignatureNone}
	}
	var keyID string
	if c := md.SelectedCandidate; c != nil {
		keyID = fmt.Sprintf("%016X", c.IssuerKeyId)
	}
	switch {
	case md.IsVerified && md.SignatureError == nil && md.Signature != nil && md.SignedBy != nil && md.SignedBy.Entity != nil:
		return triage.Signature{
			Status:      triage.SignatureGood,
			Fingerprint: fmt.Sprintf("%X", md.SignedBy.Entity.PrimaryKey.Fingerprint),
			KeyID:       keyID,
		}
	case errors.Is(md.SignatureError, pgperrors.ErrUnknownIssuer):
		return triage.Signature{Status: triage.SignatureUnknownKey, KeyID: keyID}
	}
	return triage.Signature{Status: triage.SignatureBad, KeyID: keyID}
}

// verifyDetached checks a detached signature (RFC 3156 section 5,
// armored or binary) over signed, which must already be canonical.
// Whatever goes wrong, the result is never "good" unless go-crypto
// verified the signature.
func (p *parser) verifyDetached(signed, sigData []byte) (sig triage.Signature) {
	defer func() {
		if r := recover(); r != nil {
			sig = triage.Signature{Status: triage.SignatureBad}
		}
	}()
	var in io.Reader = bytes.NewReader(sigData)
	if bytes.Contains(sigData, []byte("-----BEGIN PGP")) {
		block, err := armor.Decode(in)
		if err != nil || block.Type != openpgp.SignatureType {
			return triage.Signature{Status: triage.SignatureBad}
		}
		in = block.Body
	}
	md, err := openpgp.VerifyDetachedSignatureReader(p.keyring, bytes.NewReader(signed), in, p.config(0))
	if err != nil {
		if errors.Is(err, pgperrors.ErrUnknownIssuer) {
			return triage.Signature{Status: triage.SignatureUnknownKey}
		}
		return triage.Signature{Status: triage.SignatureBad}
	}
	if _, err := io.Copy(io.Discard, md.UnverifiedBody); err != nil {
		return triage.Signature{Status: triage.SignatureBad}
	}
	return signatureOf(md)
}
