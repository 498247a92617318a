package web

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// pathID parses the positive integer path value name; anything else is
// ENOTFOUND, as no such report exists.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, triage.Errorf(triage.ENOTFOUND, "not found")
	}
	return id, nil
}

// loadReport returns the report named by the {id} path value.
func (s *server) loadReport(r *http.Request) (*triage.Report, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.store.Report(r.Context(), id)
}

// report is one report's page.
func (s *server) report(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, triage.AuditReportView, reportTarget(rep.ID), nil); err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.now()
	v := templates.ReportView{
		Nav:             staffNav(userFrom(r.Context())),
		TrackingID:      rep.TrackingID,
		Title:           rep.Title,
		Status:          string(rep.Status),
		ResearcherName:  rep.ResearcherName,
		ResearcherEmail: rep.ResearcherEmail,
		Received:        formatTime(rep.ReceivedAt),
		ReceivedAt:      formatRFC3339(rep.ReceivedAt),
		Badges:          reportBadges(rep),
		Signature:       signatureView(rep.Signature).SignatureView,
		Body:            rep.Body,
		RawURL:          reportURL(rep.ID) + "/raw",
		BoardURL:        "/board",
		Authentication:  authenticationView(rep.Authentication),
	}
	if rep.Encrypted && !rep.Decrypted {
		v.DecryptError = rep.DecryptError
		if v.DecryptError == "" {
			v.DecryptError = "The message could not be decrypted."
		}
	}
	for _, a := range rep.Attachments {
		v.Attachments = append(v.Attachments, templates.AttachmentRow{
			Name:        a.Name,
			ContentType: a.ContentType,
			Size:        formatSize(a.Size),
			SHA256:      a.SHA256,
			URL:         fmt.Sprintf("%s/attachments/%d", reportURL(rep.ID), a.ID),
		})
		if viewableAsText(a.ContentType) {
			v.Attachments[len(v.Attachments)-1].SourceURL = sourceURL(rep.ID, a.ID)
		}
	}
	if err := s.fillReportContent(r, &v, rep, now); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.fillTriage(r, &v, rep, now); err != nil {
		s.Error(w, r, err)
		return
	}
	if v.Conversation, err = s.conversationView(r, rep, now); err != nil {
		s.Error(w, r, err)
		return
	}
	if v.Deadlines, err = s.deadlinesView(r, rep, now); err != nil {
		s.Error(w, r, err)
		return
	}
	if v.Advisories, err = s.advisoriesPanel(r, rep); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.fillSender(r, &v, rep); err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.ReportPage(v))
}

// reportRaw downloads the message a report was filed from, byte for byte.
func (s *server) reportRaw(w http.ResponseWriter, r *http.Request) {
	rep, err := s.loadReport(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	raw, err := s.store.RawMessage(r.Context(), rep.MessageID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, triage.AuditRawDownload, reportTarget(rep.ID), nil); err != nil {
		s.Error(w, r, err)
		return
	}
	name := rep.TrackingID
	if name == "" {
		name = fmt.Sprintf("report-%d", rep.ID)
	}
	download(w, triage.CleanFilename(name)+".eml", raw.Data)
}

// attachment downloads one attachment of a report.
func (s *server) attachment(w http.ResponseWriter, r *http.Request) {
	id, a, err := s.loadAttachment(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, triage.AuditAttachment, reportTarget(id), map[string]any{"attachment": a.ID, "sha256": a.SHA256}); err != nil {
		s.Error(w, r, err)
		return
	}
	download(w, triage.CleanFilename(a.Name), a.Data)
}

// download sends data as a file to save, never to display: the type is
// always application/octet-stream whatever the sender claimed, the
// disposition attachment, and the CSP sandboxes it should a browser
// render it anyway.
func download(w http.ResponseWriter, filename string, data []byte) {
	h := w.Header()
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	if disp == "" {
		disp = `attachment; filename="download"`
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", disp)
	h.Set("Content-Security-Policy", contentSecurityPolicy+"; sandbox")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// fillSender fills the report page's view of the sender: their other
// reports, the quarantine form, and whether this report is held.
func (s *server) fillSender(r *http.Request, v *templates.ReportView, rep *triage.Report) error {
	ctx := r.Context()
	user := userFrom(ctx)
	sv, err := s.senderView(ctx, rep, user)
	if err != nil {
		return err
	}
	sv.ReportID = rep.ID
	sv.Notice = quarantineNotice(r.URL.Query())
	if rep.Held() {
		sv.Held = true
		rules, err := s.store.QuarantineRules(ctx)
		if err != nil {
			return err
		}
		for _, q := range rules {
			if q.ID == rep.Quarantine {
				value := q.Value
				if q.Kind == triage.QuarantineFingerprint {
					value = formatFingerprint(value)
				}
				sv.HeldRule = string(q.Kind) + " " + value
			}
		}
		if user != nil && user.Role.Can(triage.RoleAdmin) {
			sv.ReleaseURL = fmt.Sprintf("/quarantine/%d/release", rep.Quarantine)
		}
	}
	v.Sender = sv
	return nil
}
