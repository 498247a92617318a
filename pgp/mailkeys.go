package pgp

import (
	"bytes"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/emersion/go-message"

	"github.com/secinbox/secinbox/triage"
)

// Researcher keys carried by mail: attached public keys (an
// application/pgp-keys part, or any file holding an armored public key
// block) and the Autocrypt header (Autocrypt Level 1, section 2.1).
// Only keys for the From address are taken, trimmed to the user IDs that
// carry it: a key in a mail proves that the sender holds it, not who
// they are, and a key for another address is not the sender's to give.

const (
	// maxKeyBytes bounds one key as sent and as kept. Real keys with
	// a few user IDs and subkeys are 1-10 KiB; keys bloated with
	// signatures (certificate flooding) are refused.
	maxKeyBytes = 64 << 10
	// maxMessageKeys bounds the keys taken from one message.
	maxMessageKeys = 8
)

// autocrypt reads the outer Autocrypt header (never one inside the
// body: Autocrypt-Gossip and nested headers describe other people).
// Per Autocrypt Level 1 section 2.3 a header with an unknown critical
// attribute (one not starting with "_") is ignored, addr must be the From
// address, and when more than one valid header is present, all are
// ignored.
func (p *parser) autocrypt(h message.Header) {
	defer func() { recover() }() // best effort: a panic here costs the key
	from := strings.ToLower(p.msg.FromEmail)
	if from == "" {
		return
	}
	var keydata []string
	for _, v := range h.Values("Autocrypt") {
		attrs, ok := autocryptAttributes(v)
		if !ok || !strings.EqualFold(attrs["addr"], from) || attrs["keydata"] == "" {
			continue
		}
		keydata = append(keydata, attrs["keydata"])
	}
	if len(keydata) != 1 {
		return
	}
	if len(keydata[0]) > maxKeyBytes*4/3+4096 {
		return
	}
	p.addKeys(decodeBase64([]byte(keydata[0])), triage.KeySourceAutocrypt)
}

// autocryptAttributes parses "addr=a@b; prefer-encrypt=mutual;
// keydata=..." (Autocrypt Level 1 section 2.1); ok is false when the
// header must be ignored.
func autocryptAttributes(v string) (map[string]string, bool) {
	attrs := map[string]string{}
	for _, field := range strings.Split(v, ";") {
		k, val, found := strings.Cut(field, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !found || k == "" {
			continue
		}
		val = strings.TrimSpace(val)
		switch {
		case k == "addr" || k == "keydata" || k == "prefer-encrypt":
			attrs[k] = val
		case k == "type":
			if val != "1" {
				return nil, false
			}
		case strings.HasPrefix(k, "_"):
			// non-critical: ignored
		default:
			return nil, false
		}
	}
	if a := attrs["addr"]; a != "" {
		attrs["addr"] = strings.Trim(a, "<> ")
	}
	return attrs, true
}

// addKeys takes the public keys in data (armored or binary) that carry
// the From address, up to maxMessageKeys per message. Secret keys, keys
// over maxKeyBytes, revoked keys, keys without a valid self-signature and
// keys with no valid user ID for the From address are refused.
func (p *parser) addKeys(data []byte, src triage.KeySource) {
	from := strings.ToLower(p.msg.FromEmail)
	if from == "" || len(data) > maxKeyBytes || len(p.msg.Keys) >= maxMessageKeys {
		return
	}
	if bytes.Contains(data, []byte(privateKeyBegin)) {
		return // a secret key, sent by mistake: never kept as a key
	}
	el, err := readKeys(data)
	if err != nil {
		return
	}
	for _, e := range el {
		if len(p.msg.Keys) >= maxMessageKeys {
			return
		}
		if e.PrivateKey != nil {
			continue
		}
		k, trimmed, ok := p.researcherKey(e, from, src)
		if !ok || p.hasKey(k.Fingerprint) {
			continue
		}
		p.msg.Keys = append(p.msg.Keys, k)
		p.mailKeys = append(p.mailKeys, trimmed)
	}
}

func (p *parser) hasKey(fingerprint string) bool {
	for _, k := range p.msg.Keys {
		if k.Fingerprint == fingerprint {
			return true
		}
	}
	return false
}

// researcherKey returns e for address from: a copy of e with only the
// valid user IDs that carry from (and all its subkeys), serialized.
func (p *parser) researcherKey(e *openpgp.Entity, from string, src triage.KeySource) (triage.ResearcherKey, *openpgp.Entity, bool) {
	cfg := p.config(0)
	if _, err := e.VerifyPrimaryKey(time.Time{}, cfg); err != nil || e.Revoked(p.now) {
		return triage.ResearcherKey{}, nil, false
	}
	ids := map[string]*openpgp.Identity{}
	for name, id := range e.Identities {
		if identityEmail(id) != from {
			continue
		}
		if _, err := id.Verify(time.Time{}, cfg); err == nil {
			ids[name] = id
		}
	}
	if len(ids) == 0 {
		return triage.ResearcherKey{}, nil, false
	}
	trimmed := *e
	trimmed.Identities = ids
	trimmed.PrivateKey = nil
	var buf bytes.Buffer
	if err := trimmed.Serialize(&buf); err != nil || buf.Len() > maxKeyBytes {
		return triage.ResearcherKey{}, nil, false
	}
	return triage.ResearcherKey{
		Email:       from,
		Fingerprint: Fingerprint(&trimmed),
		UserID:      primaryUserID(&trimmed),
		Source:      src,
		Public:      buf.Bytes(),
		ExpiresAt:   keyExpiry(&trimmed),
	}, &trimmed, true
}
