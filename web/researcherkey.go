package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// KeyFinder looks up a researcher's public keys on the network (Web Key
// Directory, keyserver). inbox.KeyLookup implements it. The keys come
// back with their Source set; an error means every method failed.
type KeyFinder interface {
	FindKeys(ctx context.Context, email string) ([]triage.ResearcherKey, error)
}

// Reverifier checks a report's signatures again against the keys stored
// now. inbox.Processor implements it.
type Reverifier interface {
	Reverify(ctx context.Context, reportID int64) (triage.SignatureStatus, error)
}

// Audit actions of this file.
const (
	auditKeyLookup  = "researcher_key.lookup"
	auditViewSource = "attachment.view_source"
)

// Notices after a lookup; ?lookup= picks one, so nothing the request says
// is printed.
var lookupNotices = map[string]string{
	"found":    "Key lookup: found the key(s) below and stored them with their source.",
	"verified": "Key lookup: found the key(s) below; the message's signatures were checked again with them.",
	"none":     "Key lookup: no key for this address in its Web Key Directory or on the keyserver.",
	"notkept":  "Key lookup: found key(s) for this address, but none was kept.",
	"failed":   "Key lookup failed: the servers did not answer, or answered something that was refused (see the server log).",
}

// notKeptNotice follows the notice when a lookup found keys the store
// turned away; %d is how many.
const notKeptNotice = " %d key(s) found were not kept: this address already holds as many keys as are kept, all from sources at least as strong."

// maxNotKept bounds the ?notkept= count the page believes.
const maxNotKept = 1000

// lookupResult is what one key lookup did.
type lookupResult struct {
	Keys      []triage.ResearcherKey // the keys found and stored
	NotKept   int                    // keys found that the store turned away
	Failed    bool
	Signature triage.SignatureStatus // the report's summary after verifying again; "" if not done
}

// notice is the ?lookup= value for r.
func (r lookupResult) notice() string {
	switch {
	case r.Failed:
		return "failed"
	case len(r.Keys) == 0 && r.NotKept > 0:
		return "notkept"
	case len(r.Keys) == 0:
		return "none"
	case r.Signature != "":
		return "verified"
	}
	return "found"
}

// lookupResearcherKey looks up the keys of rep's researcher, stores what
// it finds, and, when the report has a signature by a key we did not
// hold, verifies the message again. It fails only when the lookup is not
// configured or the store fails; a failed lookup is a result.
func (s *server) lookupResearcherKey(r *http.Request, rep *triage.Report) (lookupResult, error) {
	if s.keyFinder == nil {
		return lookupResult{}, triage.Errorf(triage.ENOTFOUND, "key lookup is not configured")
	}
	ctx := r.Context()
	var res lookupResult
	keys, err := s.keyFinder.FindKeys(ctx, rep.ResearcherEmail)
	if err != nil {
		s.log.WarnContext(ctx, "researcher key lookup failed", "report", rep.ID, "err", err)
		res.Failed = true
	}
	if err := s.audit(r, auditKeyLookup, reportTarget(rep.ID), map[string]any{"found": len(keys), "failed": res.Failed}); err != nil {
		return res, err
	}
	if len(keys) == 0 {
		return res, nil
	}
	if err := s.store.AddResearcherKeys(ctx, keys); err != nil {
		return res, err
	}
	for _, k := range keys {
		// ID 0: the address already holds its maximum of keys from
		// sources at least as strong, and this one was turned away.
		if k.ID == 0 {
			res.NotKept++
		} else {
			res.Keys = append(res.Keys, k)
		}
	}
	if len(res.Keys) > 0 && s.reverifier != nil && hasUnknownSigner(rep) {
		st, err := s.reverifier.Reverify(ctx, rep.ID)
		if err != nil {
			s.log.WarnContext(ctx, "verifying a report again failed", "report", rep.ID, "err", err)
		} else {
			res.Signature = st
		}
	}
	return res, nil
}

// hasUnknownSigner reports whether a signature of rep was made by a key
// we did not hold when it was filed.
func hasUnknownSigner(rep *triage.Report) bool {
	if rep.Signature.Status == triage.SignatureUnknownKey {
		return true
	}
	for _, s := range rep.Signatures {
		if s.Status == triage.SignatureUnknownKey {
			return true
		}
	}
	return false
}

// lookupKey is the report page's "Look up key" button.
func (s *server) lookupKey(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.lookupResearcherKey(r, rep)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	to := reportURL(rep.ID) + "?lookup=" + res.notice()
	if res.NotKept > 0 {
		to += "&notkept=" + strconv.Itoa(res.NotKept)
	}
	http.Redirect(w, r, to+"#researcher-keys", http.StatusSeeOther)
}

// apiResearcherKey is a researcher key in the JSON API.
type apiResearcherKey struct {
	Fingerprint string   `json:"fingerprint"`
	UserID      string   `json:"user_id"`
	Source      string   `json:"source"`
	Sources     []string `json:"sources"`
	FirstSeen   string   `json:"first_seen"`
	LastSeen    string   `json:"last_seen"`
	ExpiresAt   string   `json:"expires_at,omitempty"`
}

func newAPIResearcherKey(k triage.ResearcherKey) apiResearcherKey {
	v := apiResearcherKey{
		Fingerprint: k.Fingerprint, UserID: k.UserID, Source: string(k.Source), Sources: []string{},
		FirstSeen: formatRFC3339(k.FirstSeen), LastSeen: formatRFC3339(k.LastSeen), ExpiresAt: formatRFC3339(k.ExpiresAt),
	}
	for _, src := range k.Sources {
		v.Sources = append(v.Sources, string(src))
	}
	if len(v.Sources) == 0 {
		v.Sources = append(v.Sources, v.Source)
	}
	return v
}

// apiLookupKey is POST /api/v1/reports/{id}/lookup-key: the button's
// twin. It answers the keys found and stored ("found" counts them) and
// how many found keys the store turned away ("not_kept"); a lookup that
// failed is "failed": true, not an HTTP error.
func (s *server) apiLookupKey(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.lookupResearcherKey(r, rep)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := struct {
		Found     int                `json:"found"`
		NotKept   int                `json:"not_kept"`
		Failed    bool               `json:"failed"`
		Keys      []apiResearcherKey `json:"keys"`
		Signature string             `json:"signature,omitempty"`
	}{Found: len(res.Keys), NotKept: res.NotKept, Failed: res.Failed, Keys: []apiResearcherKey{}, Signature: string(res.Signature)}
	for _, k := range res.Keys {
		out.Keys = append(out.Keys, newAPIResearcherKey(k))
	}
	writeJSON(w, http.StatusOK, out)
}

// researcherKeyRows are the report page's rows for keys (best first).
func researcherKeyRows(keys []triage.ResearcherKey, best triage.ResearcherKey, hasBest bool, now time.Time) []templates.ResearcherKeyRow {
	var rows []templates.ResearcherKeyRow
	for _, k := range keys {
		var sources []string
		for _, src := range k.Sources {
			sources = append(sources, string(src))
		}
		row := templates.ResearcherKeyRow{
			Fingerprint: formatFingerprint(k.Fingerprint),
			UserID:      k.UserID,
			Source:      string(k.Source),
			Sources:     strings.Join(sources, ", "),
			FirstSeen:   formatTime(k.FirstSeen),
			LastSeen:    formatTime(k.LastSeen),
			Expires:     "never",
			Best:        hasBest && k.ID == best.ID && k.Fingerprint == best.Fingerprint,
		}
		if row.Sources == "" {
			row.Sources = row.Source
		}
		if !k.ExpiresAt.IsZero() {
			row.Expires = formatTime(k.ExpiresAt)
			row.Expired = !now.Before(k.ExpiresAt)
		}
		rows = append(rows, row)
	}
	return rows
}

// loadAttachment returns the report id and the attachment (with its
// data) named by the {id} and {aid} path values.
func (s *server) loadAttachment(r *http.Request) (int64, *triage.Attachment, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return 0, nil, err
	}
	a, err := s.store.Attachment(r.Context(), id, aid)
	return id, a, err
}

// maxSourceView bounds how much of an attachment the source page shows.
const maxSourceView = 1 << 20

// attachmentSource shows an attachment as escaped text: how staff read
// the HTML behind a part's extracted text without rendering it.
func (s *server) attachmentSource(w http.ResponseWriter, r *http.Request) {
	id, a, err := s.loadAttachment(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	rep, err := s.store.Report(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	aid := a.ID
	if err := s.audit(r, auditViewSource, reportTarget(id), map[string]any{"attachment": aid, "sha256": a.SHA256}); err != nil {
		s.Error(w, r, err)
		return
	}
	v := templates.SourceView{
		Nav:         staffNav(userFrom(r.Context())),
		TrackingID:  rep.TrackingID,
		ReportURL:   reportURL(id),
		Name:        a.Name,
		ContentType: a.ContentType,
		Size:        formatSize(a.Size),
		SHA256:      a.SHA256,
		DownloadURL: fmt.Sprintf("%s/attachments/%d", reportURL(id), aid),
	}
	data := a.Data
	if len(data) > maxSourceView {
		data, v.Truncated = data[:maxSourceView], true
	}
	if isBinary(data) {
		v.Binary = true
	} else {
		v.Text = strings.ToValidUTF8(string(data), "\uFFFD")
	}
	s.render(w, r, http.StatusOK, templates.SourcePage(v))
}

// isBinary: NUL bytes, or more than a tenth of the bytes not UTF-8 (a
// Latin-1 page has a few).
func isBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	if utf8.Valid(b) {
		return false
	}
	bad, total := 0, len(b)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			bad++
		}
		b = b[n:]
	}
	return bad*10 > total
}
