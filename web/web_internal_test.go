package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
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
	t.Parallel()
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
	t.Parallel()
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

// diskFull is how db marks an error caused by a full disk.
type diskFull struct{ error }

func (diskFull) DiskFull() bool { return true }

// TestError_CannotWrite: a write refused for a full disk (or a database
// locked by another process: TestUses_ReadsWhileDatabaseLocked) is our
// passing fault: 503 with Retry-After and a message that says to retry,
// not a bare 500.
func TestError_CannotWrite(t *testing.T) {
	t.Parallel()
	s := &server{log: slog.New(slog.DiscardHandler)}
	for _, path := range []string{"/login", "/api/v1/reports"} {
		rec := httptest.NewRecorder()
		s.Error(rec, httptest.NewRequest("POST", path, nil), fmt.Errorf("db: create session: %w", diskFull{errors.New("database or disk is full")}))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "try again") {
			t.Errorf("%s: status %d Retry-After %q: %s", path, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
}

func TestErrorStatus(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// TestFirstResponseView: the report page's first-response line follows the
// clock under the SLA policy: an answered report is met, not overdue.
func TestFirstResponseView(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	p := triage.DefaultSLAPolicy()
	for _, tt := range []struct {
		name      string
		received  time.Duration // before now
		responded time.Duration // after receipt; 0: not yet
		text, cls string
	}{
		{"Running", 48 * time.Minute, 0, "23h 12m left", "clock-ok"},
		{"Soon", 23 * time.Hour, 0, "1h 00m left", "clock-soon"},
		{"SoonMinutes", 23*time.Hour + 15*time.Minute + 30*time.Second, 0, "44m left", "clock-soon"},
		{"Breached", 26*time.Hour + 5*time.Minute, 0, "overdue by 2h 05m", "clock-overdue"},
		{"BreachedDays", 80 * time.Hour, 0, "overdue by 2d 8h", "clock-overdue"},
		{"AnsweredInTime", 30 * time.Hour, 2 * time.Hour, "met", "clock-met"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := triage.NewReport(now.Add(-tt.received))
			if tt.responded != 0 {
				r.Timeline.RespondedAt = r.ReceivedAt.Add(tt.responded)
			}
			v := firstResponseView(r, p, now)
			if v.Text != tt.text || v.Class != tt.cls {
				t.Errorf("%q %q, want %q %q", v.Text, v.Class, tt.text, tt.cls)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
