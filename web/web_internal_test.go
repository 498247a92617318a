package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

// TestAuthorize_Forbidden checks the role check with a route only admins
// may use (the table has none yet): a viewer gets 403 on both the HTML
// and the API side, an admin gets through.
func TestAuthorize_Forbidden(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	token := map[triage.Role]string{}
	for _, role := range []triage.Role{triage.RoleViewer, triage.RoleAdmin} {
		h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
		u := &triage.User{Email: string(role) + "@localhost", Role: role, PasswordHash: h}
		if err := d.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		token[role] = "token-" + string(role)
		sum := sha256.Sum256([]byte(token[role]))
		if err := d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID, TokenHash: sum[:]}); err != nil {
			t.Fatal(err)
		}
		sum = sha256.Sum256([]byte("session-" + string(role)))
		if err := d.CreateSession(ctx, &triage.Session{TokenHash: sum[:], UserID: u.ID, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	secret := func(*server, http.ResponseWriter, *http.Request) {}
	table := append(Routes(),
		Route{Method: "GET", Pattern: "/admin", Role: triage.RoleAdmin, handle: secret},
		Route{Method: "GET", Pattern: "/api/v1/admin", Role: triage.RoleAdmin, API: true, handle: secret},
	)
	h, err := newHandler(Config{Store: d, Domain: "localhost", PublicURL: "http://localhost"}, table)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []triage.Role{triage.RoleViewer, triage.RoleAdmin} {
		want := http.StatusForbidden
		if role == triage.RoleAdmin {
			want = http.StatusOK
		}
		req := httptest.NewRequest("GET", "/admin", nil)
		req.AddCookie(&http.Cookie{Name: "secinbox_session", Value: "session-" + string(role)})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s GET /admin: status %d, want %d", role, rec.Code, want)
		}
		req = httptest.NewRequest("GET", "/api/v1/admin", nil)
		req.Header.Set("Authorization", "Bearer "+token[role])
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s GET /api/v1/admin: status %d, want %d", role, rec.Code, want)
		}
	}
}

// TestError_Internal checks that a failing store gives a generic 500 and
// that the cause goes to the log.
func TestError_Internal(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "secinbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	d.Close() // every call fails from now on
	var logs bytes.Buffer
	h, err := New(Config{Store: d, Domain: "localhost", PublicURL: "http://localhost",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/reports", nil)
	req.Header.Set("Authorization", "Bearer whatever")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	var m map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m["error"] != "internal error" {
		t.Errorf("body %q", rec.Body)
	}
	if !strings.Contains(logs.String(), "request failed") || !strings.Contains(logs.String(), "err=") {
		t.Errorf("cause not logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "whatever") {
		t.Error("token in the log")
	}
}

func TestErrorStatus(t *testing.T) {
	for code, want := range map[string]int{
		triage.ENOTFOUND: 404, triage.EINVALID: 400, triage.EUNAUTHORIZED: 401,
		triage.EFORBIDDEN: 403, triage.ECONFLICT: 409, triage.EINTERNAL: 500, "other": 500,
	} {
		if got := errorStatus(code); got != want {
			t.Errorf("errorStatus(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestNew_Invalid(t *testing.T) {
	ok := Config{Store: (*db.DB)(nil), Domain: "localhost", PublicURL: "http://localhost"}
	for name, mod := range map[string]func(*Config){
		"NoStore":   func(c *Config) { c.Store = nil },
		"NoDomain":  func(c *Config) { c.Domain = "" },
		"BadDomain": func(c *Config) { c.Domain = "a@b" },
		"NoURL":     func(c *Config) { c.PublicURL = "" },
		"Relative":  func(c *Config) { c.PublicURL = "/x" },
		"JS":        func(c *Config) { c.PublicURL = "javascript:alert(1)" },
	} {
		c := ok
		mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := New(ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestFormatClock(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		received  time.Duration // before now
		text, cls string
	}{
		{48 * time.Minute, "23h 12m left", "clock-ok"},
		{0, "24h 0m left", "clock-ok"},
		{21 * time.Hour, "3h 0m left", "clock-soon"},
		{24*time.Hour - 30*time.Second, "0h 0m left", "clock-soon"},
		{24 * time.Hour, "overdue by 0h 0m", "clock-overdue"},
		{26*time.Hour + 5*time.Minute, "overdue by 2h 5m", "clock-overdue"},
		{24*time.Hour + 75*time.Hour, "overdue by 3d 3h", "clock-overdue"},
	}
	for _, tt := range tests {
		r := triage.NewReport(now.Add(-tt.received))
		text, cls := formatClock(r, now)
		if text != tt.text || cls != tt.cls {
			t.Errorf("received %v ago: %q %q, want %q %q", tt.received, text, cls, tt.text, tt.cls)
		}
	}
}

func TestFormat(t *testing.T) {
	for in, want := range map[string]string{
		"0123456789abcdef0123456789abcdef01234567": "0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567",
		"":          "",
		"not-a-fpr": "NOT-A-FPR",
	} {
		if got := formatFingerprint(in); got != want {
			t.Errorf("formatFingerprint(%q) = %q, want %q", in, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestDownload_CleansName: downloads go through triage.CleanFilename
// (whose rules are tested in triage) and the name reaches the header
// quoted, whatever it holds.
func TestDownload_CleansName(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":           `attachment; filename=report.pdf`,
		"../../etc/passwd":     `attachment; filename=passwd`,
		"a\r\nContent-Type: x": `attachment; filename="a__Content-Type_ x"`,
		`say "hi".txt`:         `attachment; filename="say _hi_.txt"`,
		"":                     `attachment; filename=attachment`,
	} {
		rec := httptest.NewRecorder()
		download(rec, triage.CleanFilename(in), []byte("x"))
		if got := rec.Header().Get("Content-Disposition"); got != want {
			t.Errorf("download(%q): Content-Disposition %q, want %q", in, got, want)
		}
		if got := rec.Header().Get("Content-Type"); got != "application/octet-stream" {
			t.Errorf("download(%q): Content-Type %q", in, got)
		}
	}
}
