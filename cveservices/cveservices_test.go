package cveservices_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/secinbox/secinbox/cveservices"
)

// fake is CVE Services as far as secinbox uses it.
type fake struct {
	mu        sync.Mutex
	calls     []string
	published map[string]string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI())
	if r.Header.Get("CVE-API-ORG") != "example" || r.Header.Get("CVE-API-USER") != "psirt@example.com" || r.Header.Get("CVE-API-KEY") != "s3cret-key" {
		w.WriteHeader(401)
		io.WriteString(w, `{"error": "UNAUTHORIZED", "message": "Unauthorized"}`)
		return
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/cve-id":
		q := r.URL.Query()
		if q.Get("amount") != "1" || q.Get("cve_year") != "2026" || q.Get("short_name") != "example" {
			w.WriteHeader(400)
			return
		}
		io.WriteString(w, `{"cve_ids": [{"cve_id": "CVE-2026-40001", "cve_year": "2026", "owning_cna": "example", "state": "RESERVED"}], "meta": {"remaining_quota": 99}}`)
	case strings.HasPrefix(r.URL.Path, "/api/cve/") && strings.HasSuffix(r.URL.Path, "/cna"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/cve/"), "/cna")
		b, _ := io.ReadAll(r.Body)
		if _, ok := f.published[id]; ok == (r.Method == "POST") {
			w.WriteHeader(400)
			io.WriteString(w, `{"error": "CVE_RECORD_EXISTS", "message": "The record already exists."}`)
			return
		}
		f.published[id] = string(b)
		io.WriteString(w, `{"message": "ok"}`)
	default:
		w.WriteHeader(404)
	}
}

func TestClient(t *testing.T) {
	f := &fake{published: map[string]string{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := &cveservices.Client{BaseURL: srv.URL + "/api", Org: "example", User: "psirt@example.com", Key: "s3cret-key"}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := c.Reserve(ctx, 2026)
	if err != nil || id != "CVE-2026-40001" {
		t.Fatalf("reserve: %q %v", id, err)
	}
	body := `{"cnaContainer": {}}`
	if err := c.Publish(ctx, id, []byte(body), false); err != nil {
		t.Fatal(err)
	}
	if f.published[id] != body {
		t.Errorf("published %q", f.published[id])
	}
	err = c.Publish(ctx, id, []byte(body), false)
	if err == nil || !strings.Contains(err.Error(), "The record already exists.") {
		t.Errorf("publish twice: %v", err)
	}
	if err := c.Publish(ctx, id, []byte(body), true); err != nil {
		t.Errorf("update: %v", err)
	}
	bad := *c
	bad.Key = "wrong-key"
	_, err = bad.Reserve(ctx, 2026)
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("wrong key: %v", err)
	}
	if err := c.Publish(ctx, "CVE-26-1/../x", nil, false); err == nil {
		t.Error("published an id that is not one")
	}
	var none *cveservices.Client
	if _, err := none.Reserve(ctx, 2026); err != cveservices.ErrNotConfigured {
		t.Errorf("nil client: %v", err)
	}
	for _, cfg := range []cveservices.Client{{BaseURL: "cveawg", Org: "o", User: "u", Key: "k"}, {BaseURL: srv.URL, User: "u", Key: "k"}, {BaseURL: srv.URL, Org: "o", User: "u"}} {
		if err := cfg.Check(); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	want := []string{"POST /api/cve-id?amount=1&cve_year=2026&short_name=example", "POST /api/cve/CVE-2026-40001/cna", "POST /api/cve/CVE-2026-40001/cna", "PUT /api/cve/CVE-2026-40001/cna", "POST /api/cve-id?amount=1&cve_year=2026&short_name=example"}
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s", strings.Join(f.calls, "\n"))
	}
}
