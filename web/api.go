package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// apiReport is a report as the JSON API shows it. Times are RFC 3339 UTC.
// Body is left out of list items.
type apiReport struct {
	ID               int64           `json:"id"`
	TrackingID       string          `json:"tracking_id"`
	Title            string          `json:"title"`
	Status           string          `json:"status"`
	ReceivedAt       string          `json:"received_at"`
	FirstResponseDue string          `json:"first_response_due"`
	Overdue          bool            `json:"overdue"`
	Encrypted        bool            `json:"encrypted"`
	Decrypted        bool            `json:"decrypted"`
	DecryptError     string          `json:"decrypt_error,omitempty"`
	Signature        apiSignature    `json:"signature"`
	Researcher       apiResearcher   `json:"researcher"`
	Body             *string         `json:"body,omitempty"`
	Attachments      []apiAttachment `json:"attachments"`
	// Signatures and Parts are left out of list items.
	Signatures *[]apiSignatureDetail `json:"signatures,omitempty"`
	Parts      *[]apiPart            `json:"parts,omitempty"`

	// Triage (api_reports.go).
	CVSS        apiCVSS  `json:"cvss"`
	RiskRank    int      `json:"risk_rank"`
	Assignee    *apiUser `json:"assignee"`
	Labels      []string `json:"labels"`
	DuplicateOf *int64   `json:"duplicate_of"`
	Duplicates  *[]int64 `json:"duplicates,omitempty"` // single reports only
	SLA         apiSLA   `json:"sla"`
	// Quarantine is the rule holding the report in quarantine, or null.
	Quarantine *int64 `json:"quarantine"`

	// Coordinated disclosure (deadlines_api.go).
	Disclosure apiDisclosure `json:"disclosure"`
	CRA        apiCRA        `json:"cra"`
	CVEIDs     []string      `json:"cve_ids"`

	// Messages is the conversation, the first message first (single
	// reports only; conversation_api.go).
	Messages *[]apiMessage `json:"messages,omitempty"`
	// Authentication is what SPF and DKIM said about the sender (single
	// reports only; absent when the message was not checked).
	Authentication *apiAuthentication `json:"authentication,omitempty"`
}

type apiSignature struct {
	Status      string `json:"status"`
	Fingerprint string `json:"fingerprint"`
	KeyID       string `json:"key_id"`
}

type apiResearcher struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	// The best current key (triage.BestResearcherKey), "" when none; left
	// out of list items.
	KeyFingerprint *string `json:"key_fingerprint,omitempty"`
	KeySource      *string `json:"key_source,omitempty"`
}

// apiSignatureDetail is one signature of a report and the parts it covers.
type apiSignatureDetail struct {
	Status       string   `json:"status"`
	Fingerprint  string   `json:"fingerprint"`
	KeyID        string   `json:"key_id"`
	SignerUserID string   `json:"signer_user_id"`
	FromMatches  bool     `json:"from_matches"`
	Hash         string   `json:"hash"`
	SignedAt     string   `json:"signed_at,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	Parts        []string `json:"parts"`
}

// apiPart is one body part. Signature is the index in signatures of the
// signature covering it, null when none does.
type apiPart struct {
	Path        string `json:"path"`
	ContentType string `json:"content_type"`
	Text        string `json:"text"`
	FromHTML    bool   `json:"from_html"`
	Encrypted   bool   `json:"encrypted"`
	Signature   *int   `json:"signature"`
}

type apiAttachment struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// newAPIReport converts r, its clocks under p at now; withBody includes
// the body.
func newAPIReport(r *triage.Report, p *triage.SLAPolicy, now time.Time, withBody bool) apiReport {
	sig := r.Signature
	if sig.Status == "" {
		sig.Status = triage.SignatureNone
	}
	v := apiReport{
		ID:               r.ID,
		TrackingID:       r.TrackingID,
		Title:            r.Title,
		Status:           string(r.Status),
		ReceivedAt:       formatRFC3339(r.ReceivedAt),
		FirstResponseDue: formatRFC3339(r.FirstResponseDue),
		Encrypted:        r.Encrypted,
		Decrypted:        r.Decrypted,
		DecryptError:     r.DecryptError,
		Signature:        apiSignature{Status: string(sig.Status), Fingerprint: sig.Fingerprint, KeyID: sig.KeyID},
		Researcher:       apiResearcher{Email: r.ResearcherEmail, Name: r.ResearcherName},
		Attachments:      make([]apiAttachment, 0, len(r.Attachments)),
	}
	if withBody {
		body := r.Body
		v.Body = &body
	}
	for _, a := range r.Attachments {
		v.Attachments = append(v.Attachments, apiAttachment{
			ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256,
		})
	}
	setAPITriage(&v, r, p, now)
	return v
}

// apiReport returns one report with its body and attachment metadata.
// Like the report page, it is a view of decrypted content: audited
// first, and not served if it cannot be.
func (s *server) apiReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, triage.AuditReportView, reportTarget(rep.ID), map[string]string{"via": "api"}); err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.now()
	p, err := s.store.SLAPolicy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := newAPIReport(rep, p, now, true)
	v.Authentication = newAPIAuthentication(rep.Authentication)
	v.Duplicates = &rep.Duplicates
	if rep.Duplicates == nil {
		v.Duplicates = &[]int64{}
	}
	setAPIContent(&v, rep)
	msgs, err := s.apiMessageList(r.Context(), rep)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v.Messages = &msgs
	keys, err := s.store.ResearcherKeys(r.Context(), rep.ResearcherEmail)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var fpr, src string
	if best, ok := triage.BestResearcherKey(keys, now); ok {
		fpr, src = best.Fingerprint, string(best.Source)
	}
	v.Researcher.KeyFingerprint, v.Researcher.KeySource = &fpr, &src
	if err := s.setAPIDeadlinesOne(r.Context(), &v, rep, now); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// setAPIContent adds rep's signatures and body parts to v.
func setAPIContent(v *apiReport, rep *triage.Report) {
	sigs := make([]apiSignatureDetail, 0, len(rep.Signatures))
	for _, sg := range rep.Signatures {
		d := apiSignatureDetail{
			Status: string(sg.Status), Fingerprint: sg.Fingerprint, KeyID: sg.KeyID, SignerUserID: sg.SignerUserID,
			FromMatches: sg.FromMatches, Hash: sg.Hash, SignedAt: formatRFC3339(sg.SignedAt), Reason: sg.Reason,
			Parts: sg.Parts,
		}
		if d.Parts == nil {
			d.Parts = []string{}
		}
		sigs = append(sigs, d)
	}
	parts := make([]apiPart, 0, len(rep.Parts))
	for _, p := range rep.Parts {
		ap := apiPart{Path: p.Path, ContentType: p.ContentType, Text: p.Text, FromHTML: p.FromHTML, Encrypted: p.Encrypted}
		if p.Signature > 0 && p.Signature <= len(rep.Signatures) {
			i := p.Signature - 1
			ap.Signature = &i
		}
		parts = append(parts, ap)
	}
	v.Signatures, v.Parts = &sigs, &parts
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, strconv.ErrRange
	}
	return n, nil
}
