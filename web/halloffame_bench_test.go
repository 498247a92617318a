package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// BenchmarkHallOfFame seeds BENCH_HALL_REPORTS (default 20 000) reports
// into a database on disk, offers credit for BENCH_HALL_CREDITS (default
// 2 000) of them with answers (name, handle, anonymous, none, some
// revoked), and measures over HTTP BENCH_REQUESTS (default 500)
// sequential requests for each form of the hall of fame, served from its
// cache. It prints p50 and p95 latency, and the time of one rebuild
// after an invalidation. Aim: p95 under 10 ms.
//
//	make bench, or: go test -run '^$' -bench HallOfFame -benchtime 1x ./web
func BenchmarkHallOfFame(b *testing.B) {
	n, credits, reqs := benchEnv("BENCH_HALL_REPORTS", 20_000), benchEnv("BENCH_HALL_CREDITS", 2_000), benchEnv("BENCH_REQUESTS", 500)
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(b.TempDir(), "secinbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	now := time.Now()
	seeded, err := d.SeedReports(ctx, n, now, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	choices := []triage.CreditChoice{triage.CreditName, triage.CreditName, triage.CreditHandle, triage.CreditAnonymous, triage.CreditNone}
	for i := range credits {
		id := seeded.First + rng.Int64N(seeded.Last-seeded.First+1)
		c := &triage.Credit{ReportID: id, OfferedAt: now, AdvisoryTitle: "Advisory " + strconv.Itoa(i)}
		mail := &triage.OutMail{To: fmt.Sprintf("r%d@example.org", i%700), HeaderMessageID: fmt.Sprintf("<bench-credit-%d@localhost>", i)}
		token := fmt.Sprintf("bench-token-%d", i)
		if err := d.OfferCredit(ctx, c, "nonce-"+token, triage.TokenHash(token), mail, triage.Actor{}); err != nil {
			b.Fatal(err)
		}
		ch := choices[rng.IntN(len(choices))]
		if err := d.ChooseCredit(ctx, id, ch, fmt.Sprintf("Researcher %d", i%700), "https://example.org/r"+strconv.Itoa(i%700), now); err != nil {
			b.Fatal(err)
		}
		if rng.IntN(20) == 0 {
			if err := d.RevokeCredit(ctx, id, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	hof, err := d.HallOfFame(ctx)
	if err != nil {
		b.Fatal(err)
	}
	listed := 0
	for _, y := range hof.Years {
		listed += len(y.Entries)
	}

	h, err := web.New(web.Config{Store: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Domain: "localhost", PublicURL: "http://localhost"})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	get := func(path string) (time.Duration, error) {
		start := time.Now()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		return time.Since(start), err
	}
	for b.Loop() {
		fmt.Printf("hall of fame: %d reports, %d credits offered, %d researcher-years listed; %d requests each, sequential, over HTTP:\n",
			n, credits, listed, reqs)
		for _, path := range []string{"/hall-of-fame", "/hall-of-fame.json", "/hall-of-fame.atom"} {
			lat := make([]time.Duration, 0, reqs)
			for range reqs {
				dur, err := get(path)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, dur)
			}
			slices.Sort(lat)
			p50, p95 := triage.Percentile(lat, 0.50), triage.Percentile(lat, 0.95)
			fmt.Printf("  %-20s p50 %7.2f ms   p95 %7.2f ms\n", path, benchMS(p50), benchMS(p95))
			b.ReportMetric(benchMS(p95), "p95-ms-"+path[1:])
		}
		// One build, as after a researcher's choice (a new site starts
		// with an empty cache): the cost the cache saves other requests.
		cold, err := web.New(web.Config{Store: d, Domain: "localhost", PublicURL: "http://localhost"})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		rec := httptest.NewRecorder()
		cold.ServeHTTP(rec, httptest.NewRequest("GET", "/hall-of-fame", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("cold GET: status %d", rec.Code)
		}
		fmt.Printf("  one rebuild (database read, three renderings): %.2f ms\n", benchMS(time.Since(start)))
	}
}

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
