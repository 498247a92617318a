package db

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// benchReports is how many reports BenchmarkBoard100k seeds by default;
// BENCH_REPORTS sets another number (make bench BENCH_REPORTS=1000000).
const benchReports = 100_000

// BenchmarkBoard100k seeds BENCH_REPORTS (default 100 000) reports in
// every state (about 60 % closed, like a team's history; from 500
// researchers, a few held in quarantine) and measures, with the
// percentiles as metrics: the board's first page, a filtered board, a
// full-text search, a report page and its sender's history, and the
// quarantine view. Aim: p95 under 50 ms each.
//
//	go test -run '^$' -bench Board100k -benchtime 200x ./db
func BenchmarkBoard100k(b *testing.B) {
	ctx := context.Background()
	n := benchReports
	if v, err := strconv.Atoi(os.Getenv("BENCH_REPORTS")); err == nil && v > 0 {
		n = v
	}
	// BENCH_BOARD_DB keeps the seeded database at that path and reuses it
	// when it exists, to iterate on queries without seeding again.
	path := os.Getenv("BENCH_BOARD_DB")
	seeded := false
	if path == "" {
		dir, err := os.MkdirTemp("", "board-bench")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "secinbox.db")
	} else if _, err := os.Stat(path); err == nil {
		seeded = true
	}
	d, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	seedStart := time.Now()
	now, users, err := seedBoard(ctx, d, n, seeded)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d reports, seeded in %s", n, time.Since(seedStart).Round(time.Second))
	if os.Getenv("BENCH_BOARD_PLAN") != "" {
		explainBoard(b, d, now)
	}

	yes := true
	for _, bc := range []struct {
		name string
		run  func() (int, error)
	}{
		{"Board", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Limit: 50}, now)
			return len(rs), err
		}},
		{"BoardOpenOnly", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Statuses: openStatuses(), Limit: 50}, now)
			return len(rs), err
		}},
		{"Filtered", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Status: triage.StatusTriaging,
				Severity: []triage.Severity{triage.SeverityHigh, triage.SeverityCritical}, Limit: 50}, now)
			return len(rs), err
		}},
		{"Assignee", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Assignee: users[0], Limit: 50}, now)
			return len(rs), err
		}},
		{"Breached", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Breached: &yes, Limit: 50}, now)
			return len(rs), err
		}},
		{"Label", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Label: "prod", Limit: 50}, now)
			return len(rs), err
		}},
		// The worst case: a word in most reports.
		{"SearchCommon", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Query: "injection", Limit: 50}, now)
			return len(rs), err
		}},
		{"SearchCommonOpen", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Query: "injection", Statuses: openStatuses(), Limit: 50}, now)
			return len(rs), err
		}},
		// A word as people search for one: in about one report in five.
		{"Search", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Query: "deserialization", Limit: 50}, now)
			return len(rs), err
		}},
		{"SearchTwoTerms", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Query: "graphql webview", Limit: 50}, now)
			return len(rs), err
		}},
		{"SearchAttachment", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Query: "har", Limit: 50}, now)
			return len(rs), err
		}},
		{"ReportPage", func() (int, error) {
			_, err := d.Report(ctx, int64(1+rand.IntN(n)))
			return 1, err
		}},
		// What the report page adds: the sender's other reports.
		{"SenderHistory", func() (int, error) {
			h, err := d.SenderHistory(ctx, fmt.Sprintf("r%d@example.org", rand.IntN(500)), "", int64(1+rand.IntN(n)), 5)
			if err != nil {
				return 0, err
			}
			return h.AddressTotal, nil
		}},
		{"Quarantine", func() (int, error) {
			rs, err := d.Board(ctx, triage.ReportFilter{Quarantined: true, Limit: 50}, now)
			return len(rs), err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var lat []time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				got, err := bc.run()
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				n = got
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(float64(n), "rows")
		})
	}
}

var benchWords = strings.Fields(`the a login admin panel session cookie token csrf xss sql injection
	remote code execution path traversal upload file server header request response api endpoint
	user password reset email account takeover privilege escalation bypass authentication
	authorization redirect open ssrf internal metadata cloud bucket public leak secret key
	certificate tls weak cipher downgrade dns subdomain takeover cname dangling misconfigured
	rate limit brute force enumeration timing side channel cache poisoning deserialization
	template prototype pollution graphql introspection mobile app android ios webview deeplink
	javascript library outdated version denial service regex backtracking memory crash`)

// seedBoard files n reports with random content and random histories
// through the domain (triage.Report.Apply) and the same writes the store
// uses, in one transaction. It returns the time to look at the board at
// and the staff user ids.
func seedBoard(ctx context.Context, d *DB, n int, seeded bool) (time.Time, []int64, error) {
	rng := rand.New(rand.NewPCG(4, 2))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(2 * 365 * 24 * time.Hour)
	if seeded {
		return now, []int64{1, 2, 3, 4, 5}, nil
	}
	p := triage.DefaultSLAPolicy()
	vectors := []string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
		"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N"}
	paths := [][]triage.Status{
		{"spam"}, {"triaging", "not-applicable"}, {"triaging", "informative"}, {"triaging", "accepted", "fixed", "disclosed"},
		{"triaging", "accepted", "fixing", "fixed", "disclosed"}, {"triaging", "accepted", "fixed", "disclosed"},
		{}, {"triaging"}, {"needs-info"}, {"triaging", "accepted"}, {"triaging", "accepted", "fixing"},
	}
	// Words follow Zipf's law over the security words and then 10 000
	// made-up ones, as text does: the first words are in most reports,
	// those near the end of benchWords in about one in five.
	vocab := slices.Clone(benchWords)
	for i := range 10000 {
		vocab = append(vocab, fmt.Sprintf("w%x", i*7919))
	}
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	words := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = vocab[zipf.Uint64()]
		}
		return strings.Join(w, " ")
	}
	var users []int64
	err := d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO quarantine (kind, value, created_at, created_by) VALUES ('domain', 'junk.example', ?, 'bench')`, formatTime(start)); err != nil {
			return err
		}
		for i := range 5 {
			res, err := tx.ExecContext(ctx, `INSERT INTO users (email, role, password_hash, created_at) VALUES (?, 'triager', x'00', ?)`,
				fmt.Sprintf("staff%d@example.com", i), formatTime(start))
			if err != nil {
				return err
			}
			id, _ := res.LastInsertId()
			users = append(users, id)
		}
		return nil
	})
	seedChunk := func(ctx context.Context, tx *sql.Tx, lo, hi int) error {
		for i := lo; i < hi; i++ {
			at := start.Add(time.Duration(float64(now.Sub(start)) * float64(i) / float64(n)))
			mid, err := insertRawMessage(ctx, tx, &triage.RawMessage{MailFrom: "r@example.org", ReceivedAt: at, Data: []byte("x")})
			if err != nil {
				return err
			}
			r := triage.NewReport(at)
			r.Title, r.Body, r.MessageID = words(6), words(150), mid
			r.ResearcherEmail = fmt.Sprintf("r%d@example.org", rng.IntN(500))
			year := at.Year()
			seq, err := nextTrackingSeq(ctx, tx, year)
			if err != nil {
				return err
			}
			if r.ID, err = insertSeedReport(ctx, tx, r, seq, defaultPolicy, at); err != nil {
				return err
			}
			if rng.IntN(4) == 0 {
				a := &triage.Attachment{Name: words(1) + ".har", ContentType: "application/json", Data: []byte("{}")}
				if _, err := insertAttachment(ctx, tx, r.ID, 0, a); err != nil {
					return err
				}
			}
			if err := indexReport(ctx, tx, r.ID); err != nil {
				return err
			}
			// Recent reports are still open; older ones mostly closed.
			path := paths[rng.IntN(len(paths))]
			if now.Sub(at) < 60*24*time.Hour {
				path = paths[6+rng.IntN(len(paths)-6)]
			}
			step := at
			c := triage.Change{}
			if rng.IntN(3) > 0 {
				c.CVSSVector = &vectors[rng.IntN(len(vectors))]
			}
			if rng.IntN(2) == 0 {
				c.Assignee = &users[rng.IntN(len(users))]
			}
			if rng.IntN(5) == 0 {
				c.Labels = &[]string{"prod"}
			}
			if step = step.Add(time.Duration(rng.IntN(48*60)) * time.Minute); step.After(now) {
				step = now
			}
			if _, err := r.Apply(c, nil, users[0], step); err != nil {
				return err
			}
			if rng.IntN(2) == 0 {
				r.Responded(users[0], step)
			}
			for _, st := range path {
				step = step.Add(time.Duration(rng.IntN(72*60)) * time.Minute)
				if step.After(now) {
					break
				}
				if _, err := r.Apply(triage.Change{Status: &st}, nil, users[0], step); err != nil {
					return err
				}
			}
			// One report in a thousand is held in quarantine.
			if i%1000 == 999 {
				r.Hold(1, 0, at)
			}
			if err := saveTriage(ctx, tx, r, p, now); err != nil {
				return err
			}
		}
		return nil
	}
	// In chunks: one write transaction is bounded by opTimeout.
	const chunk = 5000
	for lo := 0; lo < n && err == nil; lo += chunk {
		err = d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			return seedChunk(ctx, tx, lo, min(lo+chunk, n))
		})
	}
	if err == nil {
		_, err = d.w.ExecContext(ctx, `ANALYZE`)
	}
	return now, users, err
}

// explainBoard logs the query plans of the board's queries.
func explainBoard(b *testing.B, d *DB, now time.Time) {
	yes := true
	for _, f := range []triage.ReportFilter{
		{}, {Status: triage.StatusTriaging, Severity: []triage.Severity{"high"}}, {Assignee: 1}, {Breached: &yes},
		{Label: "prod"}, {Query: "injection"}, {Statuses: []triage.Status{"new", "triaging", "needs-info", "accepted", "fixing", "fixed", "undecryptable"}, Query: "injection"}, {Query: "token bypass"}, {Query: "sec-2024-0001 token"}, {Query: "token", Label: "prod", Severity: []triage.Severity{"high"}},
	} {
		q, args, err := boardQuery(f)
		if err != nil {
			b.Fatal(err)
		}
		q = "EXPLAIN QUERY PLAN " + q
		rows, err := d.r.Query(q, append([]any{formatTime(now), formatTime(now), 50, 0}, args...)...)
		if err != nil {
			b.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		b.Logf("%+v:\n\t%s", f, strings.Join(plan, "\n\t"))
	}
}

func openStatuses() []triage.Status {
	var open []triage.Status
	for _, s := range triage.Statuses() {
		if !s.Closed() {
			open = append(open, s)
		}
	}
	return open
}
