package web

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/secinbox/secinbox/triage"
)

// audit appends an event done by the signed-in user of r (none on public
// routes) to the audit log. detail is a string, or anything else which is
// stored as JSON; nil for none. Never put report content, passwords,
// codes or secrets in it.
//
// Handlers that show decrypted content or hand out a file call it before
// answering and fail with its error: a view the log cannot record is not
// served. The error is already logged.
func (s *server) audit(r *http.Request, action, target string, detail any) error {
	return s.auditAs(r, userFrom(r.Context()), "", action, target, detail)
}

// auditAs is audit for a request whose actor is not (yet) in its context:
// sign-in events. With u nil, email is recorded as the actor's email (the
// address that was tried).
func (s *server) auditAs(r *http.Request, u *triage.User, email, action, target string, detail any) error {
	ev := &triage.AuditEvent{
		At:         s.now(),
		ActorEmail: email,
		Action:     action,
		Target:     target,
		RemoteAddr: clientIP(r),
		UserAgent:  r.UserAgent(),
	}
	if u != nil {
		ev.ActorID, ev.ActorEmail = u.ID, u.Email
	}
	switch d := detail.(type) {
	case nil:
	case string:
		ev.Detail = d
	default:
		b, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("web: audit %s: %w", action, err)
		}
		ev.Detail = string(b)
	}
	if err := s.store.AddAudit(r.Context(), ev); err != nil {
		s.log.ErrorContext(r.Context(), "audit log write failed", "action", action, "target", target, "err", err)
		return fmt.Errorf("web: audit %s: %w", action, err)
	}
	return nil
}

// clientIP is the address of the client that sent r, without the port.
// secinbox does not trust X-Forwarded-For: behind a reverse proxy every
// client has the proxy's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Targets of audit events.

func reportTarget(id int64) string { return fmt.Sprintf("report:%d", id) }
func userTarget(id int64) string   { return fmt.Sprintf("user:%d", id) }
