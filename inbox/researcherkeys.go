package inbox

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// How the Processor uses researcher keys.
//
// Before parsing, it takes the keys stored for the sender (the From
// address, and the envelope sender) as pgp.ParseMessage's verifyKeys. If
// a signature then names an issuer we did not pass but hold for another
// address (a forwarded mail, a researcher writing from a second address),
// the message is parsed once more with that key too: pgp decides good or
// bad, and whether the signer's user ID matches From.
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

// parseVerified parses raw with the stored keys that may have signed it.
// parseErr is pgp's error (the message is unreadable); err is a failure to
// read the stored keys.
func (p *Processor) parseVerified(ctx context.Context, raw *triage.RawMessage) (m *pgp.Message, verifyKeys openpgp.EntityList, parseErr, err error) {
	seen := map[int64]bool{}
	addKeys := func(ks []triage.ResearcherKey) (added bool) {
		for _, k := range ks {
			if seen[k.ID] {
				continue
			}
			seen[k.ID] = true
			el, err := pgp.ReadPublicKeys(k.Public)
			if err != nil {
				p.Logger.Warn("intake: stored researcher key unreadable", "key", k.ID, "err", err)
				continue
			}
			verifyKeys = append(verifyKeys, el...)
			added = true
		}
		return added
	}
	for _, addr := range senderAddresses(raw) {
		ks, err := p.Store.ResearcherKeys(ctx, addr)
		if err != nil {
			return nil, nil, nil, err
		}
		addKeys(ks)
	}
	if m, parseErr = p.parse(raw, verifyKeys); parseErr != nil {
		return nil, nil, parseErr, nil
	}
	ids := unknownIssuers(m)
	if len(ids) == 0 {
		return m, verifyKeys, nil, nil
	}
	ks, err := p.Store.ResearcherKeysByKeyID(ctx, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	if !addKeys(ks) {
		return m, verifyKeys, nil, nil
	}
	m2, err2 := p.parse(raw, verifyKeys)
	if err2 != nil { // cannot happen when the first parse succeeded; keep the first
		return m, verifyKeys, nil, nil
	}
	return m2, verifyKeys, nil, nil
}

// senderAddresses are the addresses whose stored keys may have signed
// raw: the first From address (read here with net/mail, before pgp
// parses the message, from the first 256 KiB only) and the envelope
// sender.
func senderAddresses(raw *triage.RawMessage) []string {
	var out []string
	data := raw.Data
	if max := pgp.DefaultLimits().MaxHeaderBytes; len(data) > max {
		data = data[:max]
	}
	if msg, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		if addrs, err := msg.Header.AddressList("From"); err == nil && len(addrs) > 0 && addrs[0].Address != "" {
			out = append(out, strings.ToLower(addrs[0].Address))
		}
	}
	if env := strings.ToLower(strings.TrimSpace(raw.MailFrom)); env != "" && (len(out) == 0 || out[0] != env) {
		out = append(out, env)
	}
	return out
}

// unknownIssuers are the issuer key IDs of m's signatures made by keys
// we did not hold.
func unknownIssuers(m *pgp.Message) []string {
	var ids []string
	for _, s := range append([]triage.Signature{m.Signature}, m.Signatures...) {
		if s.Status == triage.SignatureUnknownKey && s.KeyID != "" {
			ids = append(ids, s.KeyID)
		}
	}
	return ids
}

// messageKeys are the researcher keys m brought for address email (see
// the comment at the top of this file), seen at raw's receipt.
func (p *Processor) messageKeys(raw *triage.RawMessage, email string, m *pgp.Message, verifyKeys openpgp.EntityList) []triage.ResearcherKey {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil
	}
	now := p.Now()
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
			p.Logger.Warn("intake: researcher key refused", "message", raw.ID, "source", k.Source, "err", err)
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
	err := p.Store.AddResearcherKeys(ctx, keys)
	if triage.ErrorCode(err) == triage.EINVALID {
		p.Logger.Warn("intake: researcher keys refused by the store", "err", err)
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
	rep, err := p.Store.Report(ctx, id)
	if err != nil {
		return "", fmt.Errorf("inbox: reverify report %d: %w", id, err)
	}
	raw, err := p.Store.RawMessage(ctx, rep.MessageID)
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
	if err := p.Store.UpdateReportSignatures(ctx, id, m.Signature, sigs, parts); err != nil {
		return "", fmt.Errorf("inbox: reverify report %d: %w", id, err)
	}
	p.Logger.Info("report verified again", "report", id, "signature", m.Signature.Status, "was", rep.Signature.Status)
	return m.Signature.Status, nil
}
