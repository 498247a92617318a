package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/secinbox/secinbox/advisory"
	"github.com/secinbox/secinbox/triage"
)

// CVE IDs: with CVE Services configured (Config.CVEServices), a triager
// reserves a CVE ID for a report, and the record is published when an
// advisory covering the report is; without it, an ID assigned elsewhere
// is recorded by hand and the advisory's CVE JSON is downloaded to hand
// to the CNA.

// CVEServices is the CVE Program's API as secinbox uses it
// (cveservices.Client implements it).
type CVEServices interface {
	// Reserve reserves one CVE ID of year.
	Reserve(ctx context.Context, year int) (string, error)
	// Publish publishes (update: updates) the record of a CVE ID with a
	// CNA container ({"cnaContainer": …}).
	Publish(ctx context.Context, id string, body []byte, update bool) error
}

// CVEStore is what CVE IDs need from the database; Store embeds it.
type CVEStore interface {
	// AddCVEID records a report's CVE ID (ECONFLICT if already recorded).
	AddCVEID(ctx context.Context, reportID int64, id, source string, by triage.Actor, now time.Time) error
	// CVERecords returns the reports' CVE IDs and their publication.
	CVERecords(ctx context.Context, reportIDs []int64) ([]triage.CVERecord, error)
	// MarkCVEPublished records a publication attempt of a CVE record.
	MarkCVEPublished(ctx context.Context, id string, pubErr error, now time.Time) error
}

var cveIDRE = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)

// upstreamError is a failure of CVE Services, answered 502.
type upstreamError struct{ err error }

func (e upstreamError) Error() string      { return e.err.Error() }
func (e upstreamError) Unwrap() error      { return e.err }
func (e upstreamError) BadGateway() string { return "CVE Services: " + e.err.Error() }

// addCVEID gives report id a CVE ID: cveID when given (recorded by hand),
// else one reserved through CVE Services for now's year. It returns the
// ID.
func (s *server) addCVEID(ctx context.Context, id int64, cveID string, by triage.Actor, now time.Time) (string, error) {
	if _, err := s.store.Report(ctx, id); err != nil {
		return "", err
	}
	source := triage.CVESourceManual
	if cveID = strings.ToUpper(strings.TrimSpace(cveID)); cveID != "" {
		if !cveIDRE.MatchString(cveID) {
			return "", triage.Errorf(triage.EINVALID, "cve_id: a CVE ID such as CVE-2026-12345")
		}
	} else {
		if s.cve == nil {
			return "", triage.Errorf(triage.EINVALID, "CVE Services is not configured (SECINBOX_CVE_API_USER, _ORG, _KEY): record a CVE ID assigned elsewhere instead")
		}
		var err error
		if cveID, err = s.cve.Reserve(ctx, now.UTC().Year()); err != nil {
			return "", upstreamError{err}
		}
		source = triage.CVESourceServices
	}
	if err := s.store.AddCVEID(ctx, id, cveID, source, by, now); err != nil {
		return "", err
	}
	return cveID, nil
}

// apiAddCVEID is POST /api/v1/reports/{id}/cve-id: {} reserves one
// through CVE Services; {"cve_id": "CVE-…"} records one assigned
// elsewhere. 201 with {"cve_id", "source"}.
func (s *server) apiAddCVEID(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var body struct {
		CVEID string `json:"cve_id"`
	}
	if r.ContentLength != 0 {
		if err := decodeBody(w, r, &body); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	cveID, err := s.addCVEID(r.Context(), id, body.CVEID, actorOf(r), s.now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	source := triage.CVESourceServices
	if body.CVEID != "" {
		source = triage.CVESourceManual
	}
	writeJSON(w, http.StatusCreated, map[string]string{"cve_id": cveID, "source": source})
}

// reportAddCVEID is the disclosure panel's CVE form.
func (s *server) reportAddCVEID(w http.ResponseWriter, r *http.Request) {
	if err := parseActionForm(w, r); err != nil {
		s.Error(w, r, err)
		return
	}
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.addCVEID(r.Context(), rep.ID, r.PostForm.Get("cve_id"), actorOf(r), s.now()); err != nil {
		if status := errorStatus(triage.ErrorCode(err)); status < 500 {
			st := &deadlineAction{err: err, input: map[string]string{"cve_id": r.PostForm.Get("cve_id")}}
			s.report(&statusWriter{ResponseWriter: w, status: status}, r.WithContext(context.WithValue(r.Context(), deadlineActionKey{}, st)))
			return
		}
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s?done=deadlines#deadlines", reportURL(rep.ID)), http.StatusSeeOther)
}

// afterPublish publishes the CVE records of a's reports that secinbox
// reserved through CVE Services, with the CNA containers just built: a
// first publication posts them, a later version updates them. A failure
// is logged and kept with the ID (API: the advisory's cve_records); the
// advisory stays published, and publishing its next version tries again.
func (s *server) afterPublish(ctx context.Context, a *triage.Advisory, in advisory.Input, docs map[string][]byte) {
	if s.cve == nil {
		return
	}
	recs, err := s.store.CVERecords(ctx, a.ReportIDs)
	if err != nil {
		s.log.ErrorContext(ctx, "cve records", "advisory", a.PublicID, "err", err)
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, c := range recs {
		body := docs[advisory.KindCVE+":"+c.ID]
		if c.Source != triage.CVESourceServices || body == nil {
			continue
		}
		pubErr := s.cve.Publish(ctx, c.ID, body, !c.PublishedAt.IsZero())
		if pubErr != nil {
			s.log.ErrorContext(ctx, "publishing a CVE record failed", "cve", c.ID, "advisory", a.PublicID, "err", pubErr)
		} else {
			s.log.InfoContext(ctx, "CVE record published", "cve", c.ID, "advisory", a.PublicID)
		}
		if err := s.store.MarkCVEPublished(ctx, c.ID, pubErr, s.now()); err != nil {
			s.log.ErrorContext(ctx, "recording a CVE record's publication", "cve", c.ID, "err", err)
		}
	}
}

// apiCVERecord is one CVE ID of an advisory's reports.
type apiCVERecord struct {
	CVEID       string  `json:"cve_id"`
	ReportID    int64   `json:"report_id"`
	Source      string  `json:"source"`
	PublishedAt *string `json:"published_at"` // at CVE Services
	Error       string  `json:"error,omitempty"`
}

func (s *server) apiCVERecords(ctx context.Context, a *triage.Advisory) ([]apiCVERecord, error) {
	recs, err := s.store.CVERecords(ctx, a.ReportIDs)
	if err != nil {
		return nil, err
	}
	out := make([]apiCVERecord, 0, len(recs))
	for _, c := range recs {
		out = append(out, apiCVERecord{CVEID: c.ID, ReportID: c.ReportID, Source: c.Source, PublishedAt: apiTime(c.PublishedAt), Error: c.PublishError})
	}
	return out, nil
}
