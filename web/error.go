package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// errorStatus maps a triage error code to its HTTP status. It is the only
// place that does.
func errorStatus(code string) int {
	switch code {
	case triage.ENOTFOUND:
		return http.StatusNotFound
	case triage.EINVALID:
		return http.StatusBadRequest
	case triage.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case triage.EFORBIDDEN:
		return http.StatusForbidden
	case triage.ECONFLICT:
		return http.StatusConflict
	case triage.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// cannotWrite reports whether err is the database refusing a write for
// now: the disk is full (DiskFull), or another process held the write
// lock too long (Busy).
func cannotWrite(err error) bool {
	var full interface{ DiskFull() bool }
	if errors.As(err, &full) && full.DiskFull() {
		return true
	}
	var busy interface{ Busy() bool }
	return errors.As(err, &busy) && busy.Busy()
}

// isAPI reports whether r is for the JSON API.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// Error answers r with err: JSON {"error": "..."} on the API, an HTML page
// elsewhere. Internal errors are logged with their cause and answered with
// a generic message; the log never gets request bodies or report content.
//
// EINVALID is 400 Bad Request for what the URL says (query parameters)
// and for a body that cannot be read as asked (malformedError), and 422
// Unprocessable Content for an API write whose values the domain refuses
// (an invalid CVSS vector, an unknown status, a bad label).
func (s *server) Error(w http.ResponseWriter, r *http.Request, err error) {
	code := triage.ErrorCode(err)
	status := errorStatus(code)
	if status == http.StatusBadRequest && isAPI(r) && r.Method != http.MethodGet && r.Method != http.MethodHead &&
		!errors.As(err, new(malformedError)) {
		status = http.StatusUnprocessableEntity
	}
	msg := triage.ErrorMessage(err)
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("The request is larger than the %s allowed.", formatSize(tooBig.Limit))
	}
	if errors.As(err, new(slowUploadError)) {
		status = http.StatusRequestTimeout
		msg = fmt.Sprintf("The upload was too slow (under %s a second after the first %d seconds), so it was stopped. Try again from a better connection, or send the report by email.",
			limitSize(minUploadRate), int(uploadGrace/time.Second))
		// The rest of the body is not read: the connection cannot be reused.
		w.Header().Set("Connection", "close")
	}
	if status == http.StatusInternalServerError && cannotWrite(err) {
		// Our fault, and passing: say so, and when to try again.
		s.log.ErrorContext(r.Context(), "request failed: the database cannot be written", "method", r.Method, "path", logPath(r), "err", err)
		status, msg = http.StatusServiceUnavailable, "The server cannot save anything right now (its disk is full or its database is busy). Nothing was changed. Please try again in a minute."
		w.Header().Set("Retry-After", "60")
	}
	if gw := (interface{ BadGateway() string })(nil); status == http.StatusInternalServerError && errors.As(err, &gw) {
		// A service we call failed (CVE Services, cve.go): its message
		// (never a credential) tells the user what to fix or wait for.
		s.log.WarnContext(r.Context(), "request failed upstream", "method", r.Method, "path", logPath(r), "err", err)
		status, msg = http.StatusBadGateway, gw.BadGateway()
	}
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", logPath(r), "err", err)
		msg = "internal error"
	} else {
		s.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", logPath(r), "code", code)
	}

	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Cache-Control", "no-store")
	if isAPI(r) {
		if status == http.StatusUnauthorized {
			h.Set("WWW-Authenticate", `Bearer realm="secinbox"`)
		}
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	v := templates.ErrorView{Status: status, Title: http.StatusText(status), Message: msg}
	ctx := r.Context()
	if status < 500 {
		ctx = templates.WithBranding(ctx, s.branding(ctx)) // not when the store may be what failed
	}
	if err := templates.ErrorPage(v).Render(ctx, w); err != nil {
		s.log.DebugContext(r.Context(), "rendering error page", "err", err)
	}
}

// logPath is r's path as logs may show it: the token of a credit or
// status link is a secret (it lets anyone act as the researcher), so
// those paths are logged without it.
func logPath(r *http.Request) string {
	p := r.URL.Path
	for _, prefix := range []string{"/credit/", "/status/"} {
		if strings.HasPrefix(p, prefix) {
			return prefix + "REDACTED"
		}
	}
	return p
}

// writeJSON writes v as the JSON response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// component is a templ component; web does not import templ itself.
type component interface {
	Render(ctx context.Context, w io.Writer) error
}

// render writes c as an HTML page with status. It renders into a buffer
// first so that a failure becomes a clean error page, not half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, c component) {
	var buf bytes.Buffer
	ctx := templates.WithBranding(s.withKeyWarning(r), s.branding(r.Context()))
	if err := c.Render(ctx, &buf); err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
