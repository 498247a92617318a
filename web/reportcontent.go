package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// fillReportContent adds to v what the report page shows of rep's content
// and researcher: the body parts with their signature marks, the
// researcher's keys, and the key lookup button for those who may use it.
func (s *server) fillReportContent(r *http.Request, v *templates.ReportView, rep *triage.Report, now time.Time) error {
	v.Parts = partViews(rep)
	keys, err := s.store.ResearcherKeys(r.Context(), rep.ResearcherEmail)
	if err != nil {
		return err
	}
	best, ok := triage.BestResearcherKey(keys, now)
	v.Keys = researcherKeyRows(keys, best, ok, now)
	if u := userFrom(r.Context()); s.keyFinder != nil && u != nil && u.Role.Can(lookupRole) && rep.ResearcherEmail != "" {
		v.KeyLookupURL = reportURL(rep.ID) + "/lookup-key"
	}
	v.KeyNotice = lookupNotices[r.URL.Query().Get("lookup")]
	// Only a count we format ourselves is printed, never the request's text.
	if n, err := strconv.Atoi(r.URL.Query().Get("notkept")); err == nil && v.KeyNotice != "" && n > 0 && n <= maxNotKept {
		v.KeyNotice += fmt.Sprintf(notKeptNotice, n)
	}
	return nil
}

// lookupRole may look up researcher keys; it must match the routes.
const lookupRole = triage.RoleTriager

// partViews are rep's body parts for the page, each marked with exactly
// the signature that covers it.
func partViews(rep *triage.Report) []templates.PartView {
	out := bodyPartViews(rep.Parts, rep.Signatures)
	for i, p := range rep.Parts {
		if p.FromHTML && p.Source > 0 && p.Source <= len(rep.Attachments) {
			// The file pgp kept this part's HTML in, whatever other
			// files of the same name the sender attached.
			out[i].SourceURL = sourceURL(rep.ID, rep.Attachments[p.Source-1].ID)
		}
	}
	return out
}

// bodyPartViews are parts for the page, each marked with the signature
// of sigs that covers it: a report's first message, or a later one.
func bodyPartViews(parts []triage.BodyPart, sigs []triage.Signature) []templates.PartView {
	var out []templates.PartView
	for _, p := range parts {
		v := templates.PartView{
			Path:        p.Path,
			ContentType: p.ContentType,
			Text:        p.Text,
			FromHTML:    p.FromHTML,
			Encrypted:   p.Encrypted,
			Signature:   templates.PartSignature{Label: "Not signed", Class: "badge-neutral"},
		}
		if p.Signature > 0 && p.Signature <= len(sigs) {
			v.Signature = partSignature(sigs[p.Signature-1])
		}
		out = append(out, v)
	}
	return out
}

// partSignature is the mark of a part covered by signature sig.
func partSignature(sig triage.Signature) templates.PartSignature {
	m := templates.PartSignature{Signed: true, Fingerprint: formatFingerprint(sig.Fingerprint), Reason: sig.Reason}
	if m.Fingerprint == "" {
		m.KeyID = strings.ToUpper(sig.KeyID)
	}
	switch sig.Status {
	case triage.SignatureGood:
		who := sig.SignerUserID
		if who == "" {
			who = "key"
		}
		m.Label, m.Class = "Signed by "+who, "badge-ok"
		if !sig.FromMatches {
			m.Class = "badge-warn"
			m.Warning = "Signer is not the sender: no user ID of the signing key carries the From address (a forwarded mail, or an impersonation)."
		}
	case triage.SignatureBad:
		m.Label, m.Class = "Bad signature: it does not verify", "badge-bad"
	case triage.SignatureUnknownKey:
		m.Label, m.Class = "Signed by an unknown key", "badge-warn"
	case triage.SignatureExpiredKey:
		m.Label, m.Class = "Signed with an expired key", "badge-bad"
	case triage.SignatureRevokedKey:
		m.Label, m.Class = "Signed with a revoked key", "badge-bad"
	case triage.SignatureWeak:
		m.Label, m.Class = "Weak signature, not trusted", "badge-bad"
		if sig.Hash != "" {
			m.Label = "Weak signature (" + sig.Hash + "), not trusted"
		}
	default:
		m.Label, m.Class = "Signature: "+string(sig.Status), "badge-warn"
	}
	return m
}

func sourceURL(reportID, attachmentID int64) string {
	return fmt.Sprintf("%s/attachments/%d/source", reportURL(reportID), attachmentID)
}

// viewableAsText: attachment types the source page is offered for.
func viewableAsText(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch {
	case strings.HasPrefix(ct, "text/"), strings.HasPrefix(ct, "application/pgp"),
		ct == "message/rfc822", ct == "application/json", ct == "application/xml",
		ct == "application/xhtml+xml", ct == "application/javascript", ct == "image/svg+xml":
		return true
	}
	return false
}
