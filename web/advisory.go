package web

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/advisory"
	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// Advisories: triagers draft them from reports and edit them (API and
// the staff editor); publishing checks that every report is disclosed
// and no embargo holds, builds the documents (package advisory), signs
// the CSAF one with the team key (Config.DetachSign) and stores them all
// with a snapshot of what was published, which the public pages, feeds
// and files are served from: an edit after publication shows nowhere
// until it is published as the next version.

// AdvisoryStore is what advisories need from the database; Store embeds it.
type AdvisoryStore interface {
	// CreateAdvisory stores a new draft (title and report ids required).
	CreateAdvisory(ctx context.Context, c triage.AdvisoryChange, by triage.Actor, now time.Time) (*triage.Advisory, error)
	// Advisory returns an advisory, draft or published, or ENOTFOUND.
	Advisory(ctx context.Context, id int64) (*triage.Advisory, error)
	// PublishedAdvisory returns a published advisory by public id, or
	// ENOTFOUND.
	PublishedAdvisory(ctx context.Context, publicID string) (*triage.Advisory, error)
	// Advisories lists advisories, newest first: published ones only,
	// and those covering a report (0: any).
	Advisories(ctx context.Context, published bool, reportID int64) ([]*triage.Advisory, error)
	// UpdateAdvisory applies a change, audited.
	UpdateAdvisory(ctx context.Context, id int64, c triage.AdvisoryChange, by triage.Actor, now time.Time) (*triage.Advisory, error)
	// PublishAdvisory stores a publication and its documents, checking
	// again that the advisory did not change since before and may be
	// published at now.
	PublishAdvisory(ctx context.Context, a *triage.Advisory, before time.Time, docs map[string][]byte, by triage.Actor, now time.Time) error
	// AdvisoryDocument returns a published advisory's document of a kind.
	AdvisoryDocument(ctx context.Context, advisoryID int64, kind string) ([]byte, error)
}

// kindSnapshot is the stored advisory.Input of the latest publication.
const kindSnapshot = "snapshot"

// publisher is who the documents name.
func (s *server) publisher() advisory.Publisher {
	name := s.advisoryPublisher
	if name == "" {
		name = s.domain
	}
	return advisory.Publisher{Name: name, BaseURL: s.publicURL, Contact: s.contact}
}

// advisoryInput gathers what a's documents are made of: each report's
// tracking id, first CVE ID and CVSS, and the names of the researchers
// who chose to be credited by name or handle (nobody else).
func (s *server) advisoryInput(ctx context.Context, a *triage.Advisory) (advisory.Input, []*triage.Report, map[int64]*triage.Deadlines, error) {
	in := advisory.Input{Advisory: a, Publisher: s.publisher()}
	var reports []*triage.Report
	deadlines := map[int64]*triage.Deadlines{}
	for _, id := range a.ReportIDs {
		r, err := s.store.Report(ctx, id)
		if err != nil {
			return in, nil, nil, err
		}
		d, err := s.store.Deadlines(ctx, id)
		if err != nil {
			return in, nil, nil, err
		}
		reports, deadlines[id] = append(reports, r), d
		v := advisory.Vulnerability{TrackingID: r.TrackingID, CVSS: r.CVSS}
		if len(d.CVEIDs) > 0 {
			v.CVEID, v.OtherCVEIDs = d.CVEIDs[0], d.CVEIDs[1:]
		}
		c, err := s.store.Credit(ctx, id)
		switch {
		case err == nil && c.Published() && c.Choice.Named() && c.DisplayName != "":
			v.Credits = []string{triage.StripInvisible(c.DisplayName)}
		case err != nil && triage.ErrorCode(err) != triage.ENOTFOUND:
			return in, nil, nil, err
		}
		in.Vulns = append(in.Vulns, v)
	}
	return in, reports, deadlines, nil
}

// publishAdvisory publishes advisory id at now on behalf of by: it checks
// the reports (ECONFLICT while one is not disclosed or under embargo),
// builds and signs the documents, and stores them.
func (s *server) publishAdvisory(ctx context.Context, id int64, by triage.Actor, now time.Time) (*triage.Advisory, error) {
	a, err := s.store.Advisory(ctx, id)
	if err != nil {
		return nil, err
	}
	before := a.UpdatedAt
	in, reports, deadlines, err := s.advisoryInput(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := a.CanPublish(reports, deadlines, now); err != nil {
		return nil, err
	}
	if _, err := a.Publish(now); err != nil {
		return nil, err
	}
	docs, err := s.buildDocuments(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.store.PublishAdvisory(ctx, a, before, docs, by, now); err != nil {
		return nil, err
	}
	s.hallChanged() // the hall of fame links to it
	s.afterPublish(ctx, a, in, docs)
	return a, nil
}

// buildDocuments makes every document of in, signs the CSAF one, and
// returns them by kind, with the snapshot.
func (s *server) buildDocuments(ctx context.Context, in advisory.Input) (map[string][]byte, error) {
	docs := map[string][]byte{}
	var err error
	if docs[advisory.KindCSAF], err = advisory.CSAF(in); err != nil {
		return nil, err
	}
	if docs[advisory.KindOSV], err = advisory.OSV(in); err != nil {
		return nil, err
	}
	if docs[advisory.KindCVE], err = advisory.CVE(in, 0); err != nil {
		return nil, err
	}
	for i, v := range in.Vulns {
		if v.CVEID == "" {
			continue
		}
		b, err := advisory.CVE(in, i)
		if err != nil {
			return nil, err
		}
		for _, id := range append([]string{v.CVEID}, v.OtherCVEIDs...) {
			docs[advisory.KindCVE+":"+id] = b
		}
	}
	if docs[kindSnapshot], err = json.Marshal(in); err != nil {
		return nil, err
	}
	if s.detachSign != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		sig, err := s.detachSign(sctx, docs[advisory.KindCSAF])
		if err != nil {
			return nil, fmt.Errorf("web: signing the CSAF document: %w", err)
		}
		docs[advisory.KindCSAFSignature] = sig
	}
	return docs, nil
}

// snapshot returns what a's latest publication published.
func (s *server) snapshot(ctx context.Context, a *triage.Advisory) (advisory.Input, error) {
	var in advisory.Input
	b, err := s.store.AdvisoryDocument(ctx, a.ID, kindSnapshot)
	if err != nil {
		return in, err
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return in, fmt.Errorf("web: advisory %s: snapshot: %w", a.PublicID, err)
	}
	return in, nil
}

// ---- The JSON API ----------------------------------------------------------

type apiAdvisory struct {
	ID          int64                    `json:"id"`
	PublicID    string                   `json:"public_id"`
	ReportIDs   []int64                  `json:"report_ids"`
	Title       string                   `json:"title"`
	Summary     string                   `json:"summary"`
	Products    []triage.AdvisoryProduct `json:"products"`
	CWE         string                   `json:"cwe"`
	References  []string                 `json:"references"`
	State       string                   `json:"state"` // draft, published, changed
	Version     int                      `json:"version"`
	CreatedAt   string                   `json:"created_at"`
	UpdatedAt   string                   `json:"updated_at"`
	PublishedAt *string                  `json:"published_at"`
	URL         *string                  `json:"url"`
	Documents   map[string]string        `json:"documents"`
	// CVERecords are the reports' CVE IDs and their records' publication
	// at CVE Services (single advisories only; cve.go).
	CVERecords *[]apiCVERecord `json:"cve_records,omitempty"`
}

// writeAdvisory answers one advisory with its CVE records.
func (s *server) writeAdvisory(w http.ResponseWriter, r *http.Request, status int, a *triage.Advisory) {
	v := s.newAPIAdvisory(a)
	recs, err := s.apiCVERecords(r.Context(), a)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v.CVERecords = &recs
	writeJSON(w, status, v)
}

func advisoryState(a *triage.Advisory) string {
	switch {
	case a.Changed():
		return "changed"
	case a.Published():
		return "published"
	}
	return "draft"
}

func (s *server) newAPIAdvisory(a *triage.Advisory) apiAdvisory {
	v := apiAdvisory{ID: a.ID, PublicID: a.PublicID, ReportIDs: a.ReportIDs, Title: a.Title, Summary: a.Summary,
		Products: a.Products, CWE: a.CWE, References: a.Refs, State: advisoryState(a), Version: a.Version(),
		CreatedAt: formatRFC3339(a.CreatedAt), UpdatedAt: formatRFC3339(a.UpdatedAt), PublishedAt: apiTime(a.PublishedAt),
		Documents: map[string]string{}}
	if v.Products == nil {
		v.Products = []triage.AdvisoryProduct{}
	}
	if v.References == nil {
		v.References = []string{}
	}
	if a.Published() {
		u := s.publicURL + advisory.PagePath(a.PublicID)
		v.URL = &u
		csaf := s.publicURL + advisory.CSAFPath(a.PublicID)
		v.Documents = map[string]string{"csaf": csaf, "csaf_sha512": csaf + ".sha512", "osv": s.publicURL + advisory.OSVPath(a.PublicID),
			"cve": s.publicURL + advisory.CVEPath(a.PublicID)}
		if s.detachSign != nil {
			v.Documents["csaf_signature"] = csaf + ".asc"
		}
	}
	return v
}

// advisoryBody is POST and PATCH /api/v1/advisories's body.
type advisoryBody struct {
	ReportIDs  *[]int64                  `json:"report_ids"`
	Title      *string                   `json:"title"`
	Summary    *string                   `json:"summary"`
	Products   *[]triage.AdvisoryProduct `json:"products"`
	CWE        *string                   `json:"cwe"`
	References *[]string                 `json:"references"`
}

func (b advisoryBody) change() triage.AdvisoryChange {
	return triage.AdvisoryChange{ReportIDs: b.ReportIDs, Title: b.Title, Summary: b.Summary, Products: b.Products, CWE: b.CWE, Refs: b.References}
}

// apiAdvisories lists every advisory, drafts included, newest first;
// ?report=ID narrows to those covering a report.
func (s *server) apiAdvisories(w http.ResponseWriter, r *http.Request) {
	var report int64
	if v := r.URL.Query().Get("report"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.Error(w, r, triage.Errorf(triage.EINVALID, "report must be a report id"))
			return
		}
		report = id
	}
	as, err := s.store.Advisories(r.Context(), false, report)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := struct {
		Advisories []apiAdvisory `json:"advisories"`
	}{Advisories: make([]apiAdvisory, 0, len(as))}
	for _, a := range as {
		out.Advisories = append(out.Advisories, s.newAPIAdvisory(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// apiCreateAdvisory drafts an advisory: {"report_ids": [1], "title": "…",
// "summary": "…", "products": [{"name", "affected", "fixed"}], "cwe":
// "CWE-79", "references": ["https://…"]}. 201 with the draft.
func (s *server) apiCreateAdvisory(w http.ResponseWriter, r *http.Request) {
	var body advisoryBody
	if err := decodeBody(w, r, &body); err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.store.CreateAdvisory(r.Context(), body.change(), actorOf(r), s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeAdvisory(w, r, http.StatusCreated, a)
}

func (s *server) apiAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "adv")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.store.Advisory(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeAdvisory(w, r, http.StatusOK, a)
}

// apiPatchAdvisory edits an advisory: any field of the create body. An
// edit of a published advisory shows once it is published again.
func (s *server) apiPatchAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "adv")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var body advisoryBody
	if err := decodeBody(w, r, &body); err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.store.UpdateAdvisory(r.Context(), id, body.change(), actorOf(r), s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeAdvisory(w, r, http.StatusOK, a)
}

// apiPublishAdvisory publishes an advisory (again, after an edit): 409
// while a report it covers is not disclosed or under embargo.
func (s *server) apiPublishAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "adv")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.publishAdvisory(r.Context(), id, actorOf(r), s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeAdvisory(w, r, http.StatusOK, a)
}

// ---- Public pages and files ------------------------------------------------

// advisoryCacheControl lets caches keep advisories a few minutes.
const advisoryCacheControl = "public, max-age=300"

// advisoryFile serves /advisories/{file}: the page of a published
// advisory (SA-2026-0001), or one of its documents: .csaf.json (with
// .asc and .sha512), .osv.json, .cve.json (?id=CVE-… for another of its
// CVE IDs). Drafts are not found.
func (s *server) advisoryFile(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	type form struct{ suffix, kind, contentType string }
	forms := []form{
		{".csaf.json.asc", advisory.KindCSAFSignature, "application/pgp-signature"},
		{".csaf.json.sha512", advisory.KindCSAF, "text/plain; charset=utf-8"},
		{".csaf.json", advisory.KindCSAF, "application/json"},
		{".osv.json", advisory.KindOSV, "application/json"},
		{".cve.json", advisory.KindCVE, "application/json"},
	}
	pid, f := file, form{}
	for _, fm := range forms {
		if p, ok := strings.CutSuffix(file, fm.suffix); ok {
			pid, f = p, fm
			break
		}
	}
	if !triage.ValidAdvisoryPublicID(pid) {
		s.Error(w, r, triage.Errorf(triage.ENOTFOUND, "no such advisory"))
		return
	}
	a, err := s.store.PublishedAdvisory(r.Context(), pid)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if f.kind == "" {
		s.advisoryPage(w, r, a)
		return
	}
	kind := f.kind
	if cve := r.URL.Query().Get("id"); cve != "" && f.kind == advisory.KindCVE {
		kind = advisory.KindCVE + ":" + cve
	}
	body, err := s.store.AdvisoryDocument(r.Context(), a.ID, kind)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if f.suffix == ".csaf.json.sha512" {
		sum := sha512.Sum512(body)
		body = []byte(hex.EncodeToString(sum[:]) + "  " + pid + ".csaf.json\n")
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", advisoryCacheControl)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// advisoryPage is a published advisory's HTML page, from its snapshot.
func (s *server) advisoryPage(w http.ResponseWriter, r *http.Request, a *triage.Advisory) {
	in, err := s.snapshot(r.Context(), a)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p := in.Advisory
	v := templates.AdvisoryPageView{
		PublicID: p.PublicID, Title: p.Title, Summary: p.Summary, Refs: p.Refs,
		Version: strconv.Itoa(p.Version()),
	}
	if len(p.Revisions) > 0 {
		first, last := p.Revisions[0].Date, p.Revisions[len(p.Revisions)-1].Date
		v.Published, v.PublishedAt, v.Updated = deadlineTime(first), formatRFC3339(first), deadlineTime(last)
	}
	for _, rv := range p.Revisions {
		v.Revisions = append(v.Revisions, templates.AdvisoryRevisionView{Number: strconv.Itoa(rv.Number), Date: deadlineTime(rv.Date), Summary: rv.Summary})
	}
	for _, pr := range p.Products {
		v.Products = append(v.Products, templates.AdvisoryProductView{Name: pr.Name, Affected: pr.Affected, Fixed: pr.Fixed})
	}
	if p.CWE != "" {
		v.CWE = strings.TrimSpace(p.CWE + " " + advisory.CWEName(p.CWE))
	}
	seen := map[string]bool{}
	for _, vu := range in.Vulns {
		vv := templates.AdvisoryVulnView{TrackingID: vu.TrackingID, CVEID: vu.CVEID, Vector: vu.CVSS.Vector}
		if vu.CVEID != "" {
			vv.CVEURL = "https://www.cve.org/CVERecord?id=" + vu.CVEID
		}
		if vu.CVSS.Vector != "" {
			vv.Score = fmt.Sprintf("%.1f (%s)", vu.CVSS.Score, triage.SeverityFromScore(vu.CVSS.Score))
		}
		v.Vulns = append(v.Vulns, vv)
		for _, c := range vu.Credits {
			if !seen[c] {
				seen[c] = true
				v.Credits = append(v.Credits, c)
			}
		}
	}
	csaf := advisory.CSAFPath(p.PublicID)
	v.Docs = []templates.Link{{Label: "CSAF 2.0", URL: csaf}}
	if _, err := s.store.AdvisoryDocument(r.Context(), a.ID, advisory.KindCSAFSignature); err == nil {
		v.Docs = append(v.Docs, templates.Link{Label: "CSAF OpenPGP signature", URL: csaf + ".asc"})
	}
	v.Docs = append(v.Docs, templates.Link{Label: "CSAF SHA-512", URL: csaf + ".sha512"},
		templates.Link{Label: "OSV", URL: advisory.OSVPath(p.PublicID)}, templates.Link{Label: "CVE JSON 5 (CNA container)", URL: advisory.CVEPath(p.PublicID)})
	w.Header().Set("Cache-Control", advisoryCacheControl)
	s.render(w, r, http.StatusOK, templates.AdvisoryPage(v))
}

// publishedSnapshots returns the published advisories' snapshots, newest
// first.
func (s *server) publishedSnapshots(ctx context.Context) ([]advisory.Input, error) {
	as, err := s.store.Advisories(ctx, true, 0)
	if err != nil {
		return nil, err
	}
	var out []advisory.Input
	for _, a := range as {
		in, err := s.snapshot(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

func snapshotDates(in advisory.Input) (first, last time.Time) {
	rs := in.Advisory.Revisions
	if len(rs) == 0 {
		return
	}
	return rs[0].Date, rs[len(rs)-1].Date
}

// advisoriesIndex lists the published advisories.
func (s *server) advisoriesIndex(w http.ResponseWriter, r *http.Request) {
	ins, err := s.publishedSnapshots(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := templates.AdvisoryIndexView{FeedURL: advisory.AtomPath, CSAFURL: advisory.ProviderMetadataPath}
	for _, in := range ins {
		first, _ := snapshotDates(in)
		v.Items = append(v.Items, templates.AdvisoryIndexItem{PublicID: in.Advisory.PublicID, Title: in.Advisory.Title,
			URL: advisory.PagePath(in.Advisory.PublicID), Published: deadlineTime(first)})
	}
	w.Header().Set("Cache-Control", advisoryCacheControl)
	s.render(w, r, http.StatusOK, templates.AdvisoryIndex(v))
}

// advisoriesAtom is the Atom feed (RFC 4287) of the published
// advisories, one entry per advisory, updated with each version.
func (s *server) advisoriesAtom(w http.ResponseWriter, r *http.Request) {
	ins, err := s.publishedSnapshots(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	page := s.publicURL + "/advisories"
	f := atomFeed{
		ID: page, Title: "Security advisories: " + s.domain, Updated: s.hall.started.Format(time.RFC3339),
		Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: s.publicURL + advisory.AtomPath}, {Rel: "alternate", Type: "text/html", Href: page}},
		Author: atomPerson{Name: s.domain + " security team", Email: s.contact},
	}
	var newest time.Time
	for _, in := range ins {
		_, last := snapshotDates(in)
		if last.After(newest) {
			newest = last
		}
		link := s.publicURL + advisory.PagePath(in.Advisory.PublicID)
		f.Entries = append(f.Entries, atomEntry{
			ID: link, Title: in.Advisory.PublicID + ": " + in.Advisory.Title, Updated: last.UTC().Format(time.RFC3339),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: link},
			Content: atomText{Type: "text", Text: in.Advisory.Summary},
		})
	}
	if !newest.IsZero() {
		f.Updated = newest.UTC().Format(time.RFC3339)
	}
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", advisoryCacheControl)
	_, _ = w.Write(append([]byte(xml.Header), append(b, '\n')...))
}

// csafProviderMetadata serves /.well-known/csaf/provider-metadata.json.
func (s *server) csafProviderMetadata(w http.ResponseWriter, r *http.Request) {
	ins, err := s.publishedSnapshots(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	updated := s.hall.started
	for _, in := range ins {
		if _, last := snapshotDates(in); last.After(updated) {
			updated = last
		}
	}
	key := s.teamKey(r.Context())
	keyPath := ""
	if len(key.Armored) > 0 {
		keyPath = "/pgp-key.asc"
	}
	b, err := advisory.ProviderMetadata(s.publisher(), key.Fingerprint, keyPath, updated)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.serveJSONDoc(w, b)
}

// csafFeed serves the ROLIE feed of the published advisories.
func (s *server) csafFeed(w http.ResponseWriter, r *http.Request) {
	ins, err := s.publishedSnapshots(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	updated := s.hall.started
	var entries []advisory.FeedEntry
	for _, in := range ins {
		first, last := snapshotDates(in)
		if last.After(updated) {
			updated = last
		}
		entries = append(entries, advisory.FeedEntry{PublicID: in.Advisory.PublicID, Title: in.Advisory.Title,
			Published: first, Updated: last, Signed: s.detachSign != nil})
	}
	b, err := advisory.ROLIEFeed(s.publisher(), entries, updated)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.serveJSONDoc(w, b)
}

func (s *server) serveJSONDoc(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", advisoryCacheControl)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// ---- Staff pages -----------------------------------------------------------

// advisoriesPanel is the report page's advisories panel.
func (s *server) advisoriesPanel(r *http.Request, rep *triage.Report) (templates.AdvisoriesPanelView, error) {
	user := userFrom(r.Context())
	v := templates.AdvisoriesPanelView{CanAct: user != nil && user.Role.Can(triage.RoleTriager), DraftURL: reportURL(rep.ID) + "/advisory",
		Published: rep.Status == triage.StatusDisclosed}
	as, err := s.store.Advisories(r.Context(), false, rep.ID)
	if err != nil {
		return v, err
	}
	for _, a := range as {
		it := templates.AdvisoryStaffItem{PublicID: a.PublicID, Title: a.Title, State: advisoryState(a), EditURL: staffAdvisoryURL(a.ID)}
		if a.Published() {
			it.PageURL = advisory.PagePath(a.PublicID)
		}
		v.Items = append(v.Items, it)
	}
	return v, nil
}

func staffAdvisoryURL(id int64) string { return fmt.Sprintf("/staff/advisories/%d", id) }

// reportDraftAdvisory drafts an advisory from a report: its advisory
// title (credit.go) or "Vulnerability SEC-…" as title, never the report's
// own title. It redirects to the editor.
func (s *server) reportDraftAdvisory(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	title := "Vulnerability " + rep.TrackingID
	if c, err := s.store.Credit(r.Context(), rep.ID); err == nil && c.AdvisoryTitle != "" {
		title = c.AdvisoryTitle
	} else if err != nil && triage.ErrorCode(err) != triage.ENOTFOUND {
		s.Error(w, r, err)
		return
	}
	ids := []int64{rep.ID}
	a, err := s.store.CreateAdvisory(r.Context(), triage.AdvisoryChange{ReportIDs: &ids, Title: &title}, actorOf(r), s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, staffAdvisoryURL(a.ID), http.StatusSeeOther)
}

// staffAdvisory is the advisory editor.
func (s *server) staffAdvisory(w http.ResponseWriter, r *http.Request) {
	s.renderAdvisoryEdit(w, r, http.StatusOK, nil, "", nil)
}

func (s *server) renderAdvisoryEdit(w http.ResponseWriter, r *http.Request, status int, actErr error, notice string, input *templates.AdvisoryEditView) {
	id, err := pathID(r, "adv")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.store.Advisory(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	user := userFrom(r.Context())
	base := staffAdvisoryURL(a.ID)
	v := templates.AdvisoryEditView{
		Nav: staffNav(user), PublicID: a.PublicID, State: advisoryState(a), Version: strconv.Itoa(a.Version()),
		ActionURL: base, PublishURL: base + "/publish", CanAct: user != nil && user.Role.Can(triage.RoleTriager),
		Title: a.Title, Summary: a.Summary, CWE: a.CWE, Refs: strings.Join(a.Refs, "\n"), Notice: notice,
	}
	var lines []string
	for _, p := range a.Products {
		lines = append(lines, p.Name+" | "+p.Affected+" | "+p.Fixed)
	}
	v.Products = strings.Join(lines, "\n")
	if a.Published() {
		v.PageURL = advisory.PagePath(a.PublicID)
	}
	tracking, err := s.store.TrackingIDs(r.Context(), a.ReportIDs)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	for _, id := range a.ReportIDs {
		v.Reports = append(v.Reports, reportLink(id, tracking))
	}
	if !a.Published() && len(a.Products) > 0 && a.Summary != "" {
		v.CVEURL = base + "/cve.json"
	}
	if actErr != nil {
		v.Error = triage.ErrorMessage(actErr)
	} else if n := map[string]string{"saved": "Saved.", "published": "Published."}[r.URL.Query().Get("done")]; n != "" {
		v.Notice = n
	}
	if input != nil {
		v.Title, v.Summary, v.Products, v.CWE, v.Refs = input.Title, input.Summary, input.Products, input.CWE, input.Refs
	}
	s.render(w, r, status, templates.AdvisoryEdit(v))
}

// staffAdvisorySave saves the editor's form.
func (s *server) staffAdvisorySave(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	id, err := pathID(r, "adv")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f := r.PostForm
	in := &templates.AdvisoryEditView{Title: f.Get("title"), Summary: f.Get("summary"), Products: f.Get("products"), CWE: f.Get("cwe"), Refs: f.Get("refs")}
	products, err := parseProductLines(in.Products)
	if err == nil {
		refs := strings.Fields(in.Refs)
		c := triage.AdvisoryChange{Title: &in.Title, Summary: &in.Summary, Products: &products, CWE: &in.CWE, Refs: &refs}
		_, err = s.store.UpdateAdvisory(r.Context(), id, c, actorOf(r), s.now())
	}
	if err != nil {
		if errorStatus(triage.ErrorCode(err)) >= 500 {
			s.Error(w, r, err)
			return
		}
		s.renderAdvisoryEdit(w, r, errorStatus(triage.ErrorCode(err)), err, "", in)
		return
	}
	http.Redirect(w, r, staffAdvisoryURL(id)+"?done=saved", http.StatusSeeOther)
}

// parseProductLines reads the editor's products: one a line, "name |
// affected | fixed" (fixed may be left out).
func parseProductLines(s string) ([]triage.AdvisoryProduct, error) {
	var out []triage.AdvisoryProduct
	for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, triage.Errorf(triage.EINVALID, "products, line %d: write name | affected versions | fixed version", i+1)
		}
		p := triage.AdvisoryProduct{Name: parts[0], Affected: parts[1]}
		if len(parts) == 3 {
			p.Fixed = parts[2]
		}
		out = append(out, p)
	}
	if out == nil {
		out = []triage.AdvisoryProduct{}
	}
	return out, nil
}

// staffAdvisoryPublish publishes from the editor.
func (s *server) staffAdvisoryPublish(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "adv")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.publishAdvisory(r.Context(), id, actorOf(r), s.now()); err != nil {
		if errorStatus(triage.ErrorCode(err)) >= 500 {
			s.Error(w, r, err)
			return
		}
		s.renderAdvisoryEdit(w, r, errorStatus(triage.ErrorCode(err)), err, "", nil)
		return
	}
	http.Redirect(w, r, staffAdvisoryURL(id)+"?done=published", http.StatusSeeOther)
}

// staffAdvisoryCVE downloads a draft's CVE JSON (the CNA container of
// its first report) to hand to a CNA, made as if published now.
func (s *server) staffAdvisoryCVE(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "adv")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.store.Advisory(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	in, _, _, err := s.advisoryInput(r.Context(), a)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// As if published now: the documents date themselves by revision.
	draft := *a
	draft.Revisions = append(draft.Revisions, triage.AdvisoryRevision{Number: a.Version() + 1, Date: s.now().UTC(), Summary: "Draft."})
	in.Advisory = &draft
	b, err := advisory.CVE(in, 0)
	if err != nil {
		s.Error(w, r, triage.Errorf(triage.EINVALID, "%s", err))
		return
	}
	download(w, a.PublicID+".cve.json", bytes.Clone(b))
}
