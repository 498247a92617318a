package web

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/secinbox/secinbox/triage"
)

// metrics serves the Prometheus text exposition format (version 0.0.4),
// written by hand: counts read from the database in one snapshot, plus
// the process's own counters. Admins only: a session, or an admin's API
// token as a bearer token (what Prometheus sends).
func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	failureActions := []string{triage.AuditLoginFailure, triage.AuditTwoFactorFail, triage.AuditAPIAuthFailure, triage.AuditLoginOIDCFail}
	st, err := s.store.Stats(r.Context(), s.now(), failureActions)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// The same count the team metrics page shows; a second read, so it
	// may be a moment apart from the snapshot above.
	open, err := s.store.OpenBySeverity(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var b bytes.Buffer
	m := metricWriter{&b}

	m.family("secinbox_reports", "gauge", "Reports by workflow status.")
	statuses := triage.Statuses()
	for status := range st.ReportsByStatus { // statuses the code no longer lists still show
		if !slices.Contains(statuses, status) {
			statuses = append(statuses, status)
		}
	}
	for _, status := range statuses {
		m.sample("secinbox_reports", st.ReportsByStatus[status], "status", string(status))
	}
	m.family("secinbox_reports_open", "gauge", "Reports not closed, by severity.")
	for _, sev := range []triage.Severity{triage.SeverityCritical, triage.SeverityHigh, triage.SeverityMedium,
		triage.SeverityLow, triage.SeverityNone, triage.SeverityUnscored} {
		label := string(sev)
		if sev == triage.SeverityUnscored {
			label = "unscored"
		}
		m.sample("secinbox_reports_open", int64(open[sev]), "severity", label)
	}
	m.family("secinbox_reports_filed_total", "counter", "Reports filed since the database was created.")
	m.sample("secinbox_reports_filed_total", st.ReportsTotal)
	m.family("secinbox_messages_received_total", "counter", "Messages accepted over SMTP since the database was created.")
	m.sample("secinbox_messages_received_total", st.MessagesTotal)
	m.family("secinbox_intake_backlog", "gauge", "Messages committed (answered 250) but not yet filed as reports.")
	m.sample("secinbox_intake_backlog", st.MessagesPending)
	m.family("secinbox_intake_queue", "gauge", "Deprecated: secinbox_intake_backlog.")
	m.sample("secinbox_intake_queue", st.MessagesPending)
	m.histogram("secinbox_intake_filing_seconds", "Time from a message's 250 to its filing (decrypted, verified, on the board, acknowledgement queued), since this process started.",
		s.filingLatency.Snapshot())

	s.mailboxMetrics(m)

	m.family("secinbox_users", "gauge", "Active staff accounts by role.")
	for _, role := range []triage.Role{triage.RoleAdmin, triage.RoleTriager, triage.RoleViewer} {
		m.sample("secinbox_users", st.UsersByRole[role], "role", string(role))
	}
	m.family("secinbox_users_disabled", "gauge", "Disabled staff accounts.")
	m.sample("secinbox_users_disabled", st.UsersDisabled)
	m.family("secinbox_users_two_factor", "gauge", "Active staff accounts with two-factor sign-in on.")
	m.sample("secinbox_users_two_factor", st.UsersTwoFactor)
	m.family("secinbox_sessions", "gauge", "Live staff sessions.")
	m.sample("secinbox_sessions", st.SessionsLive)

	m.family("secinbox_auth_failures_total", "counter", "Failed authentications recorded in the audit log, by kind.")
	m.sample("secinbox_auth_failures_total", st.AuditByAction[triage.AuditLoginFailure], "kind", "password")
	m.sample("secinbox_auth_failures_total", st.AuditByAction[triage.AuditTwoFactorFail], "kind", "two_factor")
	m.sample("secinbox_auth_failures_total", st.AuditByAction[triage.AuditAPIAuthFailure], "kind", "api_token")
	m.sample("secinbox_auth_failures_total", st.AuditByAction[triage.AuditLoginOIDCFail], "kind", "sso")
	m.family("secinbox_rate_limited_total", "counter", "Requests refused 429 by the sign-in and API rate limits since this process started.")
	m.sample("secinbox_rate_limited_total", s.acct.limited.Load())
	m.family("secinbox_audit_events_total", "counter", "Events written to the audit log since the database was created.")
	m.sample("secinbox_audit_events_total", st.AuditEventsTotal)
	if err := s.deadlineMetrics(r, m); err != nil {
		s.Error(w, r, err)
		return
	}

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = b.WriteTo(w)
}

// metricWriter writes the text exposition format.
type metricWriter struct{ b *bytes.Buffer }

func (m metricWriter) family(name, typ, help string) {
	fmt.Fprintf(m.b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
}

// sample writes one sample; labels are name, value pairs.
func (m metricWriter) sample(name string, v int64, labels ...string) {
	m.b.WriteString(name)
	if len(labels) > 0 {
		pairs := make([]string, 0, len(labels)/2)
		for i := 0; i+1 < len(labels); i += 2 {
			pairs = append(pairs, labels[i]+`="`+escapeLabel(labels[i+1])+`"`)
		}
		sort.Strings(pairs)
		m.b.WriteString("{" + strings.Join(pairs, ",") + "}")
	}
	m.b.WriteString(" " + strconv.FormatInt(v, 10) + "\n")
}

// histogram writes a histogram family of seconds from h.
func (m metricWriter) histogram(name, help string, h triage.HistogramSnapshot) {
	m.family(name, "histogram", help)
	for i, le := range triage.LatencyBuckets {
		fmt.Fprintf(m.b, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(le.Seconds(), 'g', -1, 64), h.Cumulative[i])
	}
	fmt.Fprintf(m.b, "%s_bucket{le=\"+Inf\"} %d\n", name, h.Count)
	fmt.Fprintf(m.b, "%s_sum %s\n", name, strconv.FormatFloat(h.Sum.Seconds(), 'g', -1, 64))
	fmt.Fprintf(m.b, "%s_count %d\n", name, h.Count)
}

// escapeLabel escapes a label value: backslash, double quote, newline.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// escapeHelp escapes HELP text: backslash and newline.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}
