package web_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// testSecretKey is the server secret the accounts tests configure.
var testSecretKey = []byte("0123456789abcdef0123456789abcdef-test-secret")

// addUser creates a staff member with password (hashed at bcrypt's
// minimum cost, once per password: passwordHash, to keep tests fast).
func (e *env) addUser(email string, role triage.Role, password string) *triage.User {
	e.t.Helper()
	u := &triage.User{Email: email, Role: role, PasswordHash: passwordHash(e.t, password)}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// randomString is 24 random bytes, base64url.
func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSession stores a fresh session for user id straight in the database
// and returns its cookie value and id.
func (e *env) newSession(userID int64) (string, int64) {
	e.t.Helper()
	v := randomString()
	s := &triage.Session{TokenHash: sha256Sum(v), UserID: userID, CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Hour), RemoteAddr: "192.0.2.50"}
	if err := e.db.CreateSession(context.Background(), s); err != nil {
		e.t.Fatal(err)
	}
	return v, s.ID
}

// newToken stores an API token for user id and returns it.
func (e *env) newToken(userID int64) string {
	e.t.Helper()
	tok := "secinbox_" + randomString()
	if err := e.db.CreateAPIToken(context.Background(), &triage.APIToken{UserID: userID, Name: "test", TokenHash: sha256Sum(tok)}); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// do sends method path with c; form (may be nil) as the body of unsafe
// methods, which carry same-origin headers as a browser would send.
// header is name, value pairs.
func (e *env) do(c *http.Client, method, path string, form url.Values, header ...string) (*http.Response, string) {
	e.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if method != "GET" && method != "HEAD" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

// auditActions returns the audit log's actions (and targets), newest first.
func (e *env) auditEvents(f triage.AuditFilter) []*triage.AuditEvent {
	e.t.Helper()
	evs, err := e.db.AuditEvents(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// hasAudit reports whether the log holds an event with action, by actor
// email (any if ""), on target (any if "").
func (e *env) hasAudit(action, actor, target string) bool {
	e.t.Helper()
	for _, ev := range e.auditEvents(triage.AuditFilter{Action: action, Limit: 1000}) {
		if (actor == "" || ev.ActorEmail == actor) && (target == "" || ev.Target == target) {
			return true
		}
	}
	return false
}
