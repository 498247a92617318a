package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"
)

// lockDatabase holds the database's write lock from another connection
// on the same file, as another process (the CLI, a backup) may, until
// the returned function is called. Readers go on: the database is WAL.
func (e *env) lockDatabase() (unlock func()) {
	e.t.Helper()
	ctx := context.Background()
	other, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=0")
	if err != nil {
		e.t.Fatal(err)
	}
	conn, err := other.Conn(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		e.t.Fatal(err)
	}
	done := false
	unlock = func() {
		if done {
			return
		}
		done = true
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		other.Close()
	}
	e.t.Cleanup(unlock)
	return unlock
}

// TestUses_ReadsWhileDatabaseLocked: reading with an API token or a
// session writes nothing on the request path, so reads answer while the
// database cannot be written; the uses are written in the background
// once it can be, and a sign-in that cannot be stored says so (503, not
// 500).
func TestUses_ReadsWhileDatabaseLocked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cookie, sid := e.newSession(e.viewerID)
	unlock := e.lockDatabase()

	// The token was never used: recording its first use on the request
	// path would have to write.
	resp, body := e.get(e.client(), "/api/v1/reports", "Authorization", "Bearer "+viewerToken)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, e.overdue.TrackingID) {
		t.Fatalf("API read while the database is locked: status %d: %.300s", resp.StatusCode, body)
	}
	e.clock.Set(t0.Add(2 * time.Minute))
	defer e.clock.Set(t0)
	if resp, _ := e.get(e.client(), "/board", "Cookie", "secinbox_session="+cookie); resp.StatusCode != http.StatusOK {
		t.Errorf("board while the database is locked: status %d", resp.StatusCode)
	}

	resp, body = e.do(e.client(), "POST", "/login", map[string][]string{"email": {viewerEmail}, "password": {viewerPassword}})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "try again") {
		t.Errorf("sign-in while the database is locked: status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// The background write fails and keeps the uses for the next try.
	if err := e.uses.Flush(t.Context()); err == nil {
		t.Fatal("Flush succeeded while the database is locked")
	}
	unlock()
	if err := e.uses.Flush(t.Context()); err != nil {
		t.Fatalf("Flush after the lock: %v", err)
	}
	toks, err := e.db.APITokens(t.Context(), e.viewerID)
	if err != nil || len(toks) != 1 || !toks[0].LastUsedAt.Equal(t0) {
		t.Errorf("token's last use %+v (%v), want %v", toks, err, t0)
	}
	sessions, err := e.db.Sessions(t.Context(), e.viewerID, t0)
	for _, s := range sessions {
		if s.ID == sid && (!s.LastSeenAt.Equal(t0.Add(2*time.Minute)) || s.LastAddr != "127.0.0.1") {
			t.Errorf("session's last use %v from %q", s.LastSeenAt, s.LastAddr)
		}
	}
	if err != nil || len(sessions) == 0 {
		t.Errorf("sessions %v %v", sessions, err)
	}
}
