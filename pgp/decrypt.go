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
	name      string // the literal data's file name, if any
	sigs      []triage.Signature
	// verify checks the signatures again with the keys known by then
	// (parser.recheck), without decrypting anything; nil when there is
	// nothing to check.
	verify func() []triage.Signature
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
// go-crypto's own decompression limit (MaxDecompressedMessageSize, one
// per compressed packet) is set a quarter above our limit, as the
// backstop on CPU and memory, while the exact plaintext cap is our own
// count in readSigned: that is what tells ErrTooLarge apart from other
// failures.
func (p *parser) config(limit int64) *packet.Config {
	backstop := limit + limit/4 + 64<<10
	if backstop < limit { // overflow
		backstop = math.MaxInt64
	}
	// Signatures are judged at the time of receipt, plus clockSkew for
	// senders whose clocks run ahead.
	cfg := readConfig(p.now.Add(clockSkew))
	cfg.MaxDecompressedMessageSize = &backstop
	// InsecureAllowUnauthenticatedMessages stays false: RFC 9580
	// section 5.13.1 and every modern implementation require MDC or AEAD.

	// go-crypto's algorithm policy is opened up (readConfig) so that it
	// verifies what it can (SHA-1, small RSA, DSA) instead of failing
	// with an error we would have to parse; verify.go then classifies
	// those signatures as weak by looking at the packets.
	return cfg
}

// How one OpenPGP message is read (open): in one pass over its packets,
// decrypting, decompressing and hashing each byte once.
//
//   - The encryption layer is ours: the session key is decrypted with the
//     first key of the ring (KeysById) that can (RFC 9580 section 5.1),
//     the encrypted data packet with it, and the plaintext packets are
//     read to the end before the MDC or AEAD tag is checked (Close).
//   - The packets inside (compressed, one-pass signatures, literal data,
//     signatures) are read as they are, decompressed within
//     MaxDecompressedMessageSize, and counted before go-crypto sees any:
//     go-crypto's ReadMessage keeps one-pass signatures in a slice it
//     prepends to, and trailing signatures all in memory, so thousands
//     of them in a few compressed bytes would cost quadratic time. More
//     than maxSignatures: inside encryption the block is refused
//     (errSignatureFlood); outside, its content is kept unverified.
//   - go-crypto's ReadMessage then verifies the signatures over the same
//     packets without compression or encryption (so nothing is done
//     twice), with the ring's public keys (EntitiesById).
//
// Signature packets go-crypto cannot parse (MD5, RIPEMD-160, v3 and v5
// signatures) get a result of their own: go-crypto skips them silently,
// and the message would look unsigned.

// maxSignatures bounds the signature packets of one OpenPGP message
// that are verified. Real messages carry one or two.
const maxSignatures = 16

// errSignatureFlood is the refusal of an encrypted message with more
// than maxSignatures signature packets; it wraps ErrMalformed. A message
// that is not encrypted is read all the same (unverified).
var errSignatureFlood = fmt.Errorf("pgp: more than %d signature packets: %w", maxSignatures, ErrMalformed)

// maxKeyAttempts bounds the session-key decryptions one ParseMessage
// may cause: pairs of a Public-Key Encrypted Session Key packet and an
// unlocked key of ours it may be for (a wildcard "anonymous recipient"
// packet is for all of them), an RSA private-key operation each: a few
// thousand bogus PKESKs for our key fit in a megabyte and would cost
// seconds. A real block has one pair per team key it was encrypted to, a
// few more when recipients are hidden.
const maxKeyAttempts = 256

// errKeyFlood is the refusal of a block that would go over
// maxKeyAttempts; it wraps ErrMalformed.
var errKeyFlood = fmt.Errorf("pgp: more than %d session-key decryptions for one message: %w", maxKeyAttempts, ErrMalformed)

// maxPacketDepth bounds compressed packets nested in one another.
const maxPacketDepth = 8

// maxLayerPackets bounds the packets other than signatures read inside
// one message (after decryption and decompression): markers, padding,
// unknown packets. Real messages have a handful. Signature packets are
// bounded by maxSignatures (past it they are skipped unread).
const maxLayerPackets = 1000

// open decrypts and/or verifies one OpenPGP message (RFC 4880 section
// 11.3, RFC 9580 section 10.3), armored (RFC 4880 section 6) or binary,
// as described above. It draws the plaintext from p.budget. Panics
// inside go-crypto become ErrPanic.
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
	cfg := p.config(p.budget)
	r := packet.NewOpaqueReader(in)
	var (
		eks       []sessionKeyPacket
		symmetric bool // a passphrase-encrypted session key: we hold no passphrase
	)
	for {
		op, err := r.Next()
		if err == io.EOF {
			return opened{}, fmt.Errorf("pgp: reading message: no encrypted or literal data: %w", ErrMalformed)
		} else if err != nil {
			return opened{}, fmt.Errorf("pgp: reading message: %w: %w", classify(err), err)
		}
		switch op.Tag {
		case tagEncryptedKey:
			pk, err := op.Parse()
			if err != nil {
				if isUnsupported(err) {
					continue // an unknown PKESK version: skipped, as go-crypto's reader does
				}
				return opened{}, fmt.Errorf("pgp: reading message: %w: %w", ErrMalformed, err)
			}
			ek, ok := pk.(*packet.EncryptedKey)
			if !ok || !decryptableAlgorithm(ek.Algo) {
				continue // go-crypto's ReadMessage does not try these either
			}
			keys := p.decryptionKeys(ek)
			if p.keyAttempts += len(keys); p.keyAttempts > maxKeyAttempts {
				return opened{}, errKeyFlood
			}
			eks = append(eks, sessionKeyPacket{ek, keys})
		case tagSymmetricKeyEncrypted:
			symmetric = true
		case tagSymmetricallyEncrypted:
			return opened{}, fmt.Errorf("pgp: reading message: %w: %w", ErrIntegrity, errNotIntegrityProtected)
		case tagSymmetricallyEncryptedMDC, tagAEADEncrypted:
			pk, err := op.Parse()
			if err != nil {
				return opened{}, fmt.Errorf("pgp: reading message: %w: %w", classify(err), err)
			}
			edp, ok := pk.(packet.EncryptedDataPacket)
			if !ok {
				return opened{}, fmt.Errorf("pgp: reading message: unexpected %T: %w", pk, ErrMalformed)
			}
			return p.decrypt(edp, eks, cfg)
		case tagCompressed, tagOnePassSignature, tagSignature, tagLiteralData:
			if len(eks) > 0 || symmetric {
				return opened{}, fmt.Errorf("pgp: reading message: session keys not followed by encrypted data: %w", ErrMalformed)
			}
			res, err := p.readSigned(r, op, cfg, nil)
			if err != nil {
				return opened{}, err
			}
			return res, nil
		default:
			// Marker and padding packets, unknown tags: skipped, as
			// go-crypto's reader does.
		}
	}
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

// Packet tags (RFC 9580 section 5).
const (
	tagEncryptedKey              = 1
	tagSignature                 = 2
	tagSymmetricKeyEncrypted     = 3
	tagOnePassSignature          = 4
	tagCompressed                = 8
	tagSymmetricallyEncrypted    = 9
	tagLiteralData               = 11
	tagSymmetricallyEncryptedMDC = 18
	tagAEADEncrypted             = 20
)

// decryptableAlgorithm: the public-key algorithms go-crypto's ReadMessage
// decrypts session keys with.
func decryptableAlgorithm(a packet.PublicKeyAlgorithm) bool {
	switch a {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSAEncryptOnly, packet.PubKeyAlgoElGamal, packet.PubKeyAlgoECDH,
		packet.PubKeyAlgoX25519, packet.PubKeyAlgoX448,
		packet.PubKeyAlgoMlkem768X25519, packet.PubKeyAlgoMlkem1024X448:
		return true
	}
	return false
}

func isUnsupported(err error) bool {
	var u pgperrors.UnsupportedError
	return errors.As(err, &u)
}

// decrypt recovers the session key from eks with the first key of the
// ring that decrypts one (in packet order, then key order, as go-crypto's
// ReadMessage does), decrypts edp with it, reads the packets inside, and
// checks the MDC or AEAD tag once they are read to the end. After
// decryption every failure but an oversized plaintext or a signature
// flood is an integrity failure: tampered or corrupt, the plaintext
// cannot be trusted (go-crypto does not tell them apart either, on
// purpose).
func (p *parser) decrypt(edp packet.EncryptedDataPacket, eks []sessionKeyPacket, cfg *packet.Config) (opened, error) {
	var (
		key    []byte
		cipher packet.CipherFunction
		by     *openpgp.Key
	)
Keys:
	for _, ek := range eks {
		for _, k := range ek.keys {
			if ek.Decrypt(k.PrivateKey, cfg) == nil {
				key, cipher, by = ek.Key, ek.CipherFunc, &k
				break Keys
			}
		}
	}
	if key == nil {
		return opened{}, fmt.Errorf("pgp: reading message: %w: %w", ErrNoKey, pgperrors.ErrKeyIncorrect)
	}
	dec, err := edp.Decrypt(cipher, key)
	if err != nil {
		return opened{}, fmt.Errorf("pgp: reading message: %w: %w", classify(err), err)
	}
	inner := packet.NewOpaqueReader(dec)
	first, err := inner.Next()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return opened{}, afterDecryption(err)
	}
	res, err := p.readSigned(inner, first, cfg, by)
	if err != nil {
		return opened{}, afterDecryption(err)
	}
	if err := dec.Close(); err != nil {
		return opened{}, fmt.Errorf("pgp: reading plaintext: %w: %w", ErrIntegrity, err)
	}
	res.encrypted = true
	return res, nil
}

// sessionKeyPacket is a Public-Key Encrypted Session Key packet with
// the keys of the ring that may decrypt it.
type sessionKeyPacket struct {
	*packet.EncryptedKey
	keys []openpgp.Key
}

// afterDecryption is the error of a failure inside decrypted data.
func afterDecryption(err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, errSignatureFlood) || errors.Is(err, ErrPanic) {
		return err
	}
	return fmt.Errorf("pgp: reading plaintext: %w: %w", ErrIntegrity, err)
}

// decryptionKeys are the ring's unlocked keys that may decrypt ek, in
// the ring's order.
func (p *parser) decryptionKeys(ek *packet.EncryptedKey) []openpgp.Key {
	var keys []openpgp.Key
	for _, k := range p.keys.KeysById(ek.KeyId) {
		if k.PrivateKey != nil && !k.PrivateKey.Encrypted && !k.PrivateKey.Dummy() {
			keys = append(keys, k)
		}
	}
	return keys
}

// signedLayer is what readSigned collects of the packets of a message
// inside its encryption, without compression: the one-pass signatures
// and signatures before the literal data, the literal data packet, and
// the signatures after it, each as it was sent.
type signedLayer struct {
	before, after bytes.Buffer
	literal       []byte // the literal data packet's body, header fields included
	name          string // its file name
	plain         []byte // its data: literal without the header fields
	verifiable    int    // signature and one-pass signature packets go-crypto parses
	unparsed      []triage.Signature
	packets       int
	flooded       bool // over maxSignatures: nothing is verified
}

// readSigned reads the packets of r, first being already read, as a
// signed (or only compressed, or bare) message: see the top of this
// section. by is the key that decrypted them, nil when they were not
// encrypted.
func (p *parser) readSigned(r *packet.OpaqueReader, first *packet.OpaquePacket, cfg *packet.Config, by *openpgp.Key) (opened, error) {
	var l signedLayer
	if err := p.walkPackets(r, first, &l, cfg, by != nil, 0); err != nil {
		return opened{}, err
	}
	if l.literal == nil {
		return opened{}, fmt.Errorf("pgp: signed message without literal data: %w", ErrMalformed)
	}
	p.budget -= int64(len(l.plain)) // walkPackets checked it against the budget
	res := opened{plain: l.plain, name: l.name}
	if l.flooded {
		res.sigs = []triage.Signature{{
			Status: triage.SignatureBad,
			Reason: fmt.Sprintf("more than %d signatures: none was verified", maxSignatures),
		}}
		return res, nil
	}
	if l.verifiable == 0 {
		res.sigs = l.unparsed
		return res, nil
	}
	verify := func() ([]triage.Signature, error) {
		sigs, err := p.verifyLayer(&l, by)
		if err != nil {
			return nil, err
		}
		return append(sigs, l.unparsed...), nil
	}
	sigs, err := verify()
	if err != nil {
		return opened{}, err
	}
	res.sigs = sigs
	res.verify = func() []triage.Signature {
		sigs, _ := verify()
		return sigs
	}
	return res, nil
}

// walkPackets reads the packets of r (first already read) into l,
// decompressing compressed packets in place, at compression depth depth.
// It reads r to its end: that is what lets the caller check the MDC.
func (p *parser) walkPackets(r *packet.OpaqueReader, op *packet.OpaquePacket, l *signedLayer, cfg *packet.Config, encrypted bool, depth int) error {
	for ; ; op = nil {
		if op == nil {
			var err error
			if op, err = r.Next(); err == io.EOF {
				return nil
			} else if err != nil {
				return readError(err)
			}
		}
		if op.Tag != tagSignature && op.Tag != tagOnePassSignature {
			l.packets++
		}
		if l.packets > maxLayerPackets {
			return fmt.Errorf("pgp: more than %d packets in one message: %w", maxLayerPackets, ErrMalformed)
		}
		done := l.literal != nil // after the literal data only signatures count
		switch op.Tag {
		case tagCompressed:
			if done {
				continue // go-crypto does not decompress past the literal data either
			}
			if depth >= maxPacketDepth {
				return fmt.Errorf("pgp: compressed packets nested more than %d deep: %w", maxPacketDepth, ErrMalformed)
			}
			pk, err := op.Parse()
			if err != nil {
				return fmt.Errorf("pgp: reading compressed data: %w: %w", classify(err), err)
			}
			c, ok := pk.(*packet.Compressed)
			if !ok {
				return fmt.Errorf("pgp: reading compressed data: unexpected %T: %w", pk, ErrMalformed)
			}
			nr := packet.NewOpaqueReader(c.LimitedBodyReader(cfg.MaxDecompressedMessageSize))
			first, err := nr.Next()
			if err == io.EOF {
				continue
			} else if err != nil {
				return readError(err)
			}
			if err := p.walkPackets(nr, first, l, cfg, encrypted, depth+1); err != nil {
				return err
			}
		case tagOnePassSignature:
			if done {
				continue // read and discarded by go-crypto too
			}
			if _, err := op.Parse(); err != nil {
				if isUnsupported(err) {
					continue // skipped by go-crypto's reader
				}
				return fmt.Errorf("pgp: reading one-pass signature: %w: %w", ErrMalformed, err)
			}
			if err := l.countSignature(encrypted); err != nil {
				return err
			}
			if !l.flooded {
				op.Serialize(&l.before)
				l.verifiable++
			}
		case tagSignature:
			_, err := op.Parse()
			switch {
			case err != nil && !isUnsupported(err):
				return fmt.Errorf("pgp: reading signature: %w: %w", ErrMalformed, err)
			}
			if cerr := l.countSignature(encrypted); cerr != nil {
				return cerr
			}
			if l.flooded {
				if l.literal != nil {
					return nil // nothing more is needed: the content is kept unverified
				}
				continue
			}
			if err != nil {
				r := readRawSignature(op.Contents)
				l.unparsed = append(l.unparsed, unparsed(rawSignature{version: r.version, pubKeyAlgo: r.pubKeyAlgo, hashID: -1}))
				continue // go-crypto skips it
			}
			l.verifiable++
			if done {
				op.Serialize(&l.after)
			} else {
				op.Serialize(&l.before)
			}
		case tagLiteralData:
			if done {
				continue // go-crypto reads the first literal data only
			}
			pk, err := op.Parse()
			if err != nil {
				return fmt.Errorf("pgp: reading literal data: %w: %w", classify(err), err)
			}
			lit, ok := pk.(*packet.LiteralData)
			hdr := 6 + len(lit.FileName) // format, name length, name, date
			if !ok || hdr > len(op.Contents) {
				return fmt.Errorf("pgp: reading literal data: %w", ErrMalformed)
			}
			l.literal, l.name, l.plain = op.Contents, lit.FileName, op.Contents[hdr:]
			if int64(len(l.plain)) > p.budget {
				limit := p.budget
				p.budget = 0
				return fmt.Errorf("pgp: plaintext over %d bytes: %w", limit, ErrTooLarge)
			}
			if l.flooded {
				return nil
			}
		case tagEncryptedKey, tagSymmetricKeyEncrypted, tagSymmetricallyEncrypted, tagSymmetricallyEncryptedMDC, tagAEADEncrypted:
			if l.flooded {
				return errSignatureFlood
			}
			if done {
				continue
			}
			return fmt.Errorf("pgp: encrypted data inside a signed message: %w", ErrMalformed)
		default:
			// Marker and padding packets, unknown tags: skipped.
		}
	}
}

// countSignature counts one signature packet; past maxSignatures the
// layer is flooded, which inside encryption refuses the message.
func (l *signedLayer) countSignature(encrypted bool) error {
	if l.verifiable+len(l.unparsed)+1 > maxSignatures || l.flooded {
		if encrypted {
			return errSignatureFlood
		}
		l.flooded = true
		return nil
	}
	return nil
}

// readError is the error of reading packets.
func readError(err error) error {
	if errors.Is(err, pgperrors.ErrMessageTooLarge) {
		return fmt.Errorf("pgp: decompressed data over the limit: %w: %w", ErrTooLarge, err)
	}
	return fmt.Errorf("pgp: reading message: %w: %w", classify(err), err)
}

// verifyLayer has go-crypto verify the signatures of l, collected by
// readSigned, over its literal data: the same packets without
// compression or encryption. by is the key that decrypted them (nil:
// they were not encrypted), for the intended-recipient check that
// go-crypto would make on an encrypted message (RFC 9580 section
// 5.2.3.36).
func (p *parser) verifyLayer(l *signedLayer, by *openpgp.Key) ([]triage.Signature, error) {
	var hdr bytes.Buffer
	literalHeader(&hdr, len(l.literal))
	stream := io.MultiReader(bytes.NewReader(l.before.Bytes()), &hdr, bytes.NewReader(l.literal), bytes.NewReader(l.after.Bytes()))
	cfg := p.config(int64(len(l.plain)))
	noCheck := false
	cfg.CheckIntendedRecipients = &noCheck // checked below, against the key that decrypted
	md, err := openpgp.ReadMessage(stream, p.keys, nil, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgp: reading message: %w: %w", classify(err), err)
	}
	if _, err := io.Copy(io.Discard, md.UnverifiedBody); err != nil {
		return nil, fmt.Errorf("pgp: reading plaintext: %w: %w", classify(err), err)
	}
	if !md.IsSigned {
		return nil, nil
	}
	for _, c := range md.SignatureCandidates {
		sig := c.CorrespondingSig
		if c.SignatureError != nil || c.SignedBy == nil || sig == nil || len(sig.IntendedRecipients) == 0 {
			continue
		}
		switch {
		case by == nil:
			c.SignatureError = pgperrors.SignatureError("intended recipients in non-encrypted message")
		case by.Entity == nil || by.Entity.PrimaryKey == nil || !intendedFor(sig, by.Entity.PrimaryKey.Fingerprint):
			c.SignatureError = pgperrors.SignatureError("intended recipients in the signature does not match the decryption key")
		}
	}
	return p.signatureResults(md, cfg), nil
}

// intendedFor reports whether sig names fpr among its intended recipients.
func intendedFor(sig *packet.Signature, fpr []byte) bool {
	for _, r := range sig.IntendedRecipients {
		if bytes.Equal(r.Fingerprint, fpr) {
			return true
		}
	}
	return false
}

// literalHeader writes the header of a literal data packet (tag 11) of
// n bytes, in the new format (RFC 9580 section 4.2.1).
func literalHeader(w *bytes.Buffer, n int) {
	w.WriteByte(0xc0 | tagLiteralData)
	switch {
	case n < 192:
		w.WriteByte(byte(n))
	case n < 8384:
		n -= 192
		w.WriteByte(byte(n>>8) + 192)
		w.WriteByte(byte(n))
	default:
		w.WriteByte(0xff)
		w.WriteByte(byte(n >> 24))
		w.WriteByte(byte(n >> 16))
		w.WriteByte(byte(n >> 8))
		w.WriteByte(byte(n))
	}
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
