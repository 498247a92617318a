package inbox

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// How the Processor uses researcher keys.
//
// While pgp reads a message, every signature's issuer key ID is looked up
// among the store's researcher keys (storedKeys, a KeyRing behind the
// team's keys), whatever address they are held for (a forwarded mail, a
// researcher writing from a second address): pgp decides good or bad,
// and whether the signer's user ID matches From. Keys the message itself
// carries verify too (pgp does that). The message is read once.
//
// After parsing, it stores the keys the message brought: attached
// application/pgp-keys parts and Autocrypt headers (as pgp reports them in
// Message.Keys), and, with source "signature", the key that made a good
// signature, but only when that key was already stored before this
// message and carries the sender's address. A key attached to the very
// message it signs proves nothing about who holds it, so it never earns
// the strongest provenance by itself. Every key must pass acceptEntity:
// public only, valid self-signature, not revoked or expired, and a user ID
// carrying the sender's address.

// maxStoredKeyLookups bounds the key IDs one message may have looked up
// in the store (a message has at most a few dozen signatures; each
// distinct issuer costs one query).
const maxStoredKeyLookups = 16

// storedKeys resolves signers' key IDs to the store's researcher keys,
// for one message, as a KeyRing (pgp's resolver shape). Each key ID is
// looked up once; the entities are parsed for this message only, so no
// lock is needed. It is not safe for concurrent use.
type storedKeys struct {
	ctx     context.Context
	store   Store
	log     *slog.Logger
	byID    map[uint64][]*openpgp.Entity
	seen    map[int64]bool     // stored key IDs already parsed
	found   openpgp.EntityList // every stored key resolved, in order
	lookups int
	err     error // the first store failure: the message is tried again later
}

func newStoredKeys(ctx context.Context, store Store, log *slog.Logger) *storedKeys {
	return &storedKeys{ctx: ctx, store: store, log: log, byID: map[uint64][]*openpgp.Entity{}, seen: map[int64]bool{}}
}

// KeysById implements openpgp.KeyRing: researcher keys never decrypt.
func (s *storedKeys) KeysById(uint64) []openpgp.Key { return nil }

// EntitiesById implements openpgp.KeyRing: the stored keys having a key
// with ID id.
func (s *storedKeys) EntitiesById(id uint64) []*openpgp.Entity {
	if es, ok := s.byID[id]; ok {
		return es
	}
	if id == 0 || s.err != nil || s.lookups >= maxStoredKeyLookups {
		return nil
	}
	s.lookups++
	ks, err := s.store.ResearcherKeysByKeyID(s.ctx, []string{fmt.Sprintf("%016X", id)})
	if err != nil {
		s.err = err
		return nil
	}
	var es []*openpgp.Entity
	for _, k := range ks {
		el, err := pgp.ReadPublicKeys(k.Public)
		if err != nil {
			s.log.Warn("intake: stored researcher key unreadable", "key", k.ID, "err", err)
			continue
		}
		for _, e := range el.EntitiesById(id) {
			es = append(es, e)
			if !s.seen[k.ID] {
				s.seen[k.ID] = true
				s.found = append(s.found, e)
			}
		}
	}
	s.byID[id] = es
	return es
}

// parseVerified parses raw, verifying its signatures with the team's
// keys, the stored researcher keys and the keys it carries, and returns
// the stored keys that were used. parseErr is pgp's error (the message is
// unreadable); err is a failure to read the stored keys.
func (p *Processor) parseVerified(ctx context.Context, raw *triage.RawMessage) (m *pgp.Message, verifyKeys openpgp.EntityList, parseErr, err error) {
	stored := newStoredKeys(ctx, p.cfg.Store, p.cfg.Logger)
	m, parseErr = p.parse(raw, stored)
	if stored.err != nil {
		return nil, nil, nil, stored.err
	}
	if parseErr != nil {
		return nil, nil, parseErr, nil
	}
	return m, stored.found, nil, nil
}

// messageKeys are the researcher keys m brought for address email (see
// the comment at the top of this file), seen at raw's receipt.
func (p *Processor) messageKeys(raw *triage.RawMessage, email string, m *pgp.Message, verifyKeys openpgp.EntityList) []triage.ResearcherKey {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil
	}
	now := p.cfg.Now()
	var keys []triage.ResearcherKey
	for i, k := range m.Keys {
		if i >= maxMessageKeys {
			break
		}
		if k.Source != triage.KeySourceAttachment && k.Source != triage.KeySourceAutocrypt {
			continue // a message can only claim these two
		}
		ks, err := acceptKeys(k.Public, email, k.Source, now, maxLookupKeys)
		if err != nil {
			p.cfg.Logger.Warn("intake: researcher key refused", "message", raw.ID, "source", k.Source, "err", err)
			continue
		}
		keys = append(keys, ks...)
	}
	sigs := m.Signatures
	if len(sigs) == 0 {
		sigs = []triage.Signature{m.Signature}
	}
	for _, s := range sigs {
		if s.Status != triage.SignatureGood || s.Fingerprint == "" {
			continue
		}
		for _, e := range verifyKeys {
			if strings.EqualFold(pgp.Fingerprint(e), s.Fingerprint) {
				if k, ok := acceptEntity(e, email, triage.KeySourceSignature, now); ok {
					keys = append(keys, k)
				}
			}
		}
	}
	out := keys[:0]
	seen := map[string]bool{}
	for _, k := range keys {
		if id := k.Fingerprint + " " + string(k.Source); !seen[id] {
			seen[id] = true
			k.FirstSeen, k.LastSeen = raw.ReceivedAt, raw.ReceivedAt
			out = append(out, k)
		}
	}
	return out
}

// storeKeys stores keys. A key the store refuses as invalid is logged and
// dropped: it must not keep the report from being filed.
func (p *Processor) storeKeys(ctx context.Context, keys []triage.ResearcherKey) error {
	if len(keys) == 0 {
		return nil
	}
	err := p.cfg.Store.AddResearcherKeys(ctx, keys)
	if triage.ErrorCode(err) == triage.EINVALID {
		p.cfg.Logger.Warn("intake: researcher keys refused by the store", "err", err)
		return nil
	}
	return err
}

// Bounds the store enforces on a report's content (db checks them too).
const (
	maxReportParts      = 2000
	maxReportSignatures = 100
)

// cleanContent returns copies of sigs and parts that the store accepts
// whatever pgp returned: a signature without a status counts as bad, a
// part pointing at a signature that does not exist counts as not signed
// (the safe side in both cases), and the counts are capped.
func cleanContent(sigs []triage.Signature, parts []triage.BodyPart) ([]triage.Signature, []triage.BodyPart) {
	if len(sigs) > maxReportSignatures {
		sigs = sigs[:maxReportSignatures]
	}
	if len(parts) > maxReportParts {
		parts = parts[:maxReportParts]
	}
	sigs = append([]triage.Signature(nil), sigs...)
	parts = append([]triage.BodyPart(nil), parts...)
	for i := range sigs {
		if sigs[i].Status == "" {
			sigs[i].Status = triage.SignatureBad
			sigs[i].Reason = "no verification result was recorded"
		}
	}
	for i := range parts {
		if parts[i].Signature < 0 || parts[i].Signature > len(sigs) {
			parts[i].Signature = 0
		}
	}
	return sigs, parts
}

// Reverify checks the signatures of report id's message again against the
// researcher keys stored now (typically right after a key lookup found the
// signer's key), stores the signer's key provenance as filing does, and
// replaces the report's signature results and body parts; the rest of the
// report stays as filed. It returns the new summary status; a message that
// cannot be read or decrypted any more is left as it is.
func (p *Processor) Reverify(ctx context.Context, id int64) (triage.SignatureStatus, error) {
	rep, err := p.cfg.Store.Report(ctx, id)
	if err != nil {
		return "", fmt.Errorf("inbox: reverify report %d: %w", id, err)
	}
	raw, err := p.cfg.Store.RawMessage(ctx, rep.MessageID)
	if err != nil {
		return "", fmt.Errorf("inbox: reverify report %d: %w", id, err)
	}
	m, verifyKeys, parseErr, err := p.parseVerified(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("inbox: reverify report %d: %w", id, err)
	}
	if parseErr != nil || (m.Encrypted && !m.Decrypted) {
		return rep.Signature.Status, nil
	}
	if err := p.storeKeys(ctx, p.messageKeys(raw, rep.ResearcherEmail, m, verifyKeys)); err != nil {
		return "", fmt.Errorf("inbox: reverify report %d: %w", id, err)
	}
	sigs, parts := cleanContent(m.Signatures, m.Parts)
	if err := p.cfg.Store.UpdateReportSignatures(ctx, id, m.Signature, sigs, parts); err != nil {
		return "", fmt.Errorf("inbox: reverify report %d: %w", id, err)
	}
	p.cfg.Logger.Info("report verified again", "report", id, "signature", m.Signature.Status, "was", rep.Signature.Status)
	return m.Signature.Status, nil
}
