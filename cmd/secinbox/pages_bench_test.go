package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// BenchmarkPages100k seeds BENCH_REPORTS (default 100 000) reports into a
// database on disk (db.SeedReports: two years of history, most old
// reports closed) and measures, over HTTP against the real handler with
// a signed-in session, BENCH_REQUESTS (default 200) requests each of:
// the board's first page, a filtered board, a full-text search of the
// open reports (what the board's search box sends) and of all reports,
// and a report page. It prints p50 and p95 latency. Aim: p95 under 50 ms
// each.
//
//	make bench, or: go test -run '^$' -bench Pages100k -benchtime 1x ./cmd/secinbox
func BenchmarkPages100k(b *testing.B) {
	n, reqs := envInt("BENCH_REPORTS", 100_000), envInt("BENCH_REQUESTS", 200)
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(b.TempDir(), "secinbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	now := time.Now()
	start := time.Now()
	seeded, err := d.SeedReports(ctx, n, now, 1)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("seeded %d reports in %s\n", n, time.Since(start).Round(time.Millisecond))

	// A triager with a session, made in the database as sign-in would.
	u := &triage.User{Email: "bench@example.com", Role: triage.RoleTriager, PasswordHash: []byte{0}, CreatedAt: now}
	if err := d.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	cookie := "bench-session-0123456789abcdef0123456789"
	sum := sha256.Sum256([]byte(cookie))
	if err := d.CreateSession(ctx, &triage.Session{TokenHash: sum[:], UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour), LastSeenAt: now}); err != nil {
		b.Fatal(err)
	}
	h, err := web.New(web.Config{Store: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Domain: "localhost", PublicURL: "http://localhost"})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()

	rng := rand.New(rand.NewPCG(7, 7))
	get := func(path string) error {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Cookie", "secinbox_session="+cookie)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if os.Getenv("BENCH_DEBUG") != "" {
			fmt.Printf("%s: %d bytes, %d rows\n", path, len(body), strings.Count(string(body), `data-testid="board-row"`))
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		return nil
	}
	pages := []struct {
		name string
		path func() string
	}{
		{"board", func() string { return "/board" }},
		{"filtered board", func() string { return "/board?status=triaging&severity=critical" }},
		{"search", func() string { return "/board?q=injection" }}, // the search box: open reports
		{"search, all", func() string { return "/board?status=all&q=injection" }},
		{"report page", func() string { return fmt.Sprintf("/reports/%d", seeded.First+rng.Int64N(seeded.Last-seeded.First+1)) }},
	}
	for b.Loop() {
		fmt.Printf("%d reports, %d requests each, sequential, over HTTP with a session:\n", n, reqs)
		for _, pg := range pages {
			lat := make([]time.Duration, 0, reqs)
			for range reqs {
				t := time.Now()
				if err := get(pg.path()); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			p50, p95 := triage.Percentile(lat, 0.50), triage.Percentile(lat, 0.95)
			fmt.Printf("  %-15s p50 %7.2f ms   p95 %7.2f ms\n", pg.name, ms(p50), ms(p95))
			b.ReportMetric(ms(p95), "p95-ms-"+strings.ReplaceAll(strings.ReplaceAll(pg.name, ",", ""), " ", "-"))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
