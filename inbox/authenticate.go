package inbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// Authenticator checks who really sent a raw message whose From address
// is fromEmail (SPF, DKIM, DMARC alignment; package mailauth). It must
// return within its own timeout: it runs while filing, after the 250.
type Authenticator func(ctx context.Context, raw *triage.RawMessage, fromEmail string) triage.Authentication

// authenticate runs p.cfg.Authenticate on raw, when set, guarding against a
// panic: a hostile message must not stop intake.
func (p *Processor) authenticate(ctx context.Context, raw *triage.RawMessage, m *pgp.Message) (a triage.Authentication) {
	if p.cfg.Authenticate == nil || m == nil {
		return triage.Authentication{}
	}
	defer func() {
		if v := recover(); v != nil {
			p.cfg.Logger.Error("intake: sender checks panicked", "message", raw.ID, "panic", fmt.Sprint(v))
			a = triage.Authentication{}
		}
	}()
	a = p.cfg.Authenticate(ctx, raw, m.FromEmail)
	if a.Checked {
		p.cfg.Logger.Info("sender checked", "message", raw.ID, "spf", a.SPF, "spf_domain", a.SPFDomain,
			"dkim", a.DKIM, "dkim_domains", strings.Join(a.DKIMDomains, ","), "from_domain", a.FromDomain,
			"dmarc_aligned", a.DMARCAligned)
	}
	return a
}

// provenSender tells whether m, which names a report by its tracking id
// only, is shown to come from that report's researcher: a DKIM signature
// aligned with its From domain verified, or it carries a good OpenPGP
// signature by a key held for the researcher before this message (keys
// the message brings itself prove possession, not identity).
func (p *Processor) provenSender(ctx context.Context, m *pgp.Message, auth triage.Authentication, researcher string) (bool, string, error) {
	if auth.AlignedDKIM() {
		return true, "aligned DKIM signature", nil
	}
	if m.Signature.Status == triage.SignatureGood && m.Signature.Fingerprint != "" {
		held, err := p.cfg.Store.ResearcherKeys(ctx, researcher)
		if err != nil {
			return false, "", fmt.Errorf("researcher keys: %w", err)
		}
		for _, k := range held {
			if strings.EqualFold(k.Fingerprint, m.Signature.Fingerprint) {
				return true, "OpenPGP signature by a key held for the researcher", nil
			}
		}
	}
	return false, "", nil
}
