package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// PublishedKey is the team's primary public key as the public endpoints
// serve it (/pgp-key.asc, WKD, security.txt, the policy page) and as
// staff are warned about.
type PublishedKey struct {
	Armored     []byte    // armored transferable public key
	Binary      []byte    // the same, binary (WKD)
	Fingerprint string    // hex
	Expires     time.Time // when researchers can no longer encrypt to it; zero: never
}

// teamKey is the key to publish for a request: Config.TeamKey's answer
// when set (it follows key rotations), else the fixed key of the Config.
func (s *server) teamKey(ctx context.Context) PublishedKey {
	if s.teamKeyFn != nil {
		return s.teamKeyFn(ctx)
	}
	return PublishedKey{Armored: s.keyArmored, Binary: s.keyBinary, Fingerprint: s.keyFpr, Expires: s.keyExpires}
}

// withKeyWarning returns r's context carrying the key expiry banner for
// signed-in staff; the public and anonymous requests get none.
func (s *server) withKeyWarning(r *http.Request) context.Context {
	ctx := r.Context()
	if userFrom(ctx) == nil {
		return ctx
	}
	return templates.WithKeyWarning(ctx, keyWarning(s.teamKey(ctx), s.now()))
}

// keyWarning words the banner for key k at now: empty while k is valid
// for more than triage.KeyExpiryWarning.
func keyWarning(k PublishedKey, now time.Time) templates.KeyWarning {
	fpr := formatFingerprint(k.Fingerprint)
	switch triage.KeyExpiryAt(k.Expires, now) {
	case triage.KeyExpired:
		return templates.KeyWarning{Expired: true, Message: fmt.Sprintf(
			"The team key %s expired on %s: researchers can no longer encrypt reports to it. Run `secinbox key rotate` now.",
			fpr, formatTime(k.Expires))}
	case triage.KeyExpiringSoon:
		return templates.KeyWarning{Message: fmt.Sprintf(
			"The team key %s expires on %s (in %s): run `secinbox key rotate` so researchers can fetch the new key in time.",
			fpr, formatTime(k.Expires), formatDuration(k.Expires.Sub(now)))}
	}
	return templates.KeyWarning{}
}
