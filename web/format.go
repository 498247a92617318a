package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// Values are formatted here, once, for the templates and the API.

const displayTime = "2006-01-02 15:04 UTC"

// formatTime is t in UTC for display, "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(displayTime)
}

// formatRFC3339 is t in UTC as RFC 3339, "" for the zero time.
func formatRFC3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// formatDuration is d (≥ 0) as "23h 12m", or "3d 4h" from 48 hours on.
// It rounds down to the minute.
func formatDuration(d time.Duration) string {
	d = d.Truncate(time.Minute)
	h := int64(d / time.Hour)
	m := int64((d % time.Hour) / time.Minute)
	if h >= 48 {
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	}
	return fmt.Sprintf("%dh %dm", h, m)
}

// formatFingerprint groups an OpenPGP fingerprint in blocks of four
// upper-case hex digits, the way gpg prints it. Non-hex input is returned
// trimmed as is.
func formatFingerprint(fpr string) string {
	fpr = strings.ToUpper(strings.Join(strings.Fields(fpr), ""))
	for _, c := range fpr {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return fpr
		}
	}
	var b strings.Builder
	for i := 0; i < len(fpr); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fpr[i:min(i+4, len(fpr))])
	}
	return b.String()
}

// formatSize is n bytes in binary units: "512 B", "1.2 KiB", "3.4 MiB".
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// reportBadges are the encryption and signature badges of r.
func reportBadges(r *triage.Report) []templates.Badge {
	var bs []templates.Badge
	switch {
	case r.Encrypted && r.Decrypted:
		bs = append(bs, templates.Badge{Label: "encrypted", Class: "badge-ok"}, templates.Badge{Label: "decrypted", Class: "badge-ok"})
	case r.Encrypted:
		bs = append(bs, templates.Badge{Label: "encrypted", Class: "badge-neutral"}, templates.Badge{Label: "undecryptable", Class: "badge-bad"})
	default:
		bs = append(bs, templates.Badge{Label: "plaintext", Class: "badge-warn"})
	}
	sig := signatureView(r.Signature)
	return append(bs, templates.Badge{Label: sig.Badge, Class: sig.Class})
}

type sigView struct {
	templates.SignatureView
	Badge string // short form for the board
}

// signatureView describes a signature check for display.
func signatureView(sig triage.Signature) sigView {
	v := sigView{SignatureView: templates.SignatureView{
		Fingerprint: formatFingerprint(sig.Fingerprint),
		KeyID:       strings.ToUpper(sig.KeyID),
	}}
	switch sig.Status {
	case triage.SignatureGood:
		v.Label, v.Badge, v.Class = "Good signature", "signed: good", "badge-ok"
	case triage.SignatureBad:
		v.Label, v.Badge, v.Class = "Bad signature: it does not verify", "signed: bad", "badge-bad"
	case triage.SignatureUnknownKey:
		v.Label, v.Badge, v.Class = "Signed by a key we do not have", "signed: unknown key", "badge-warn"
	case triage.SignatureExpiredKey:
		v.Label, v.Badge, v.Class = "Signed with an expired key", "signed: expired key", "badge-bad"
	case triage.SignatureRevokedKey:
		v.Label, v.Badge, v.Class = "Signed with a revoked key", "signed: revoked key", "badge-bad"
	case triage.SignatureWeak:
		v.Label, v.Badge, v.Class = "Weak signature (broken algorithm): not trusted", "signed: weak", "badge-bad"
	case triage.SignaturePartial:
		v.Label, v.Badge, v.Class = "Partly signed: only the parts marked below are covered", "partly signed", "badge-warn"
	default:
		v.Label, v.Badge, v.Class = "Not signed", "unsigned", "badge-neutral"
	}
	return v
}

// staffNav is the layout's view of the signed-in user.
func staffNav(u *triage.User) templates.StaffNav {
	if u == nil {
		return templates.StaffNav{}
	}
	return templates.StaffNav{Email: u.Email, Role: string(u.Role)}
}
