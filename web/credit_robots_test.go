package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestCredit_NotIndexed: the credit link is private, like the status
// page: its pages, found or not, tell robots not to index them.
func TestCredit_NotIndexed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rep := e.fileReport(t0.Add(-time.Hour), func(r *triage.Report) {
		r.ResearcherEmail = "alice@example.org"
		r.Status = triage.StatusAccepted
	})
	const token = "tok-robots-0123456789abcdefghijklmnopqrstuvwxyz"
	e.offerCredit(rep, token, time.Time{})
	c := e.client()
	for path, code := range map[string]int{"/credit/" + token: http.StatusOK, "/credit/unknown-token": http.StatusNotFound} {
		resp, _ := e.get(c, path)
		if resp.StatusCode != code || resp.Header.Get("X-Robots-Tag") != "noindex, nofollow" {
			t.Errorf("GET %s: status %d, X-Robots-Tag %q", path, resp.StatusCode, resp.Header.Get("X-Robots-Tag"))
		}
	}
}
