package db

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// hallReports is how many credited reports BenchmarkHallOfFame seeds.
const hallReports = 2000

// BenchmarkHallOfFame seeds about 2,000 reports with a credit offer,
// received over 5 years from 300 researchers in every status and with
// every choice (revoked ones too), and measures building the hall of
// fame from the database, uncached, with the percentiles as metrics.
//
//	go test -run '^$' -bench HallOfFame -benchtime 500x ./db
func BenchmarkHallOfFame(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(b.TempDir(), "secinbox.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := seedHallOfFame(ctx, d, hallReports); err != nil {
		b.Fatal(err)
	}
	var (
		lat     []time.Duration
		entries int
	)
	for b.Loop() {
		start := time.Now()
		h, err := d.HallOfFame(ctx)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		entries = 0
		for _, y := range h.Years {
			entries += len(y.Entries)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(float64(entries), "entries")
}

// seedHallOfFame files n reports with credit offers in one transaction,
// through the store's own inserts.
func seedHallOfFame(ctx context.Context, d *DB, n int) error {
	rng := rand.New(rand.NewPCG(5, 2))
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	span := 5 * 365 * 24 * time.Hour
	statuses := []triage.Status{triage.StatusAccepted, triage.StatusFixing, triage.StatusFixed,
		triage.StatusDisclosed, triage.StatusDisclosed, triage.StatusDisclosed,
		triage.StatusTriaging, triage.StatusInformative, triage.StatusSpam, triage.StatusNotApplicable}
	choices := []triage.CreditChoice{triage.CreditName, triage.CreditName, triage.CreditName, triage.CreditName,
		triage.CreditHandle, triage.CreditHandle, triage.CreditAnonymous, triage.CreditNone, triage.CreditUndecided}
	return d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i := range n {
			at := start.Add(time.Duration(float64(span) * float64(i) / float64(n)))
			who := rng.IntN(300)
			email := fmt.Sprintf("researcher%d@example.org", who)
			mid, err := insertRawMessage(ctx, tx, &triage.RawMessage{MailFrom: email, ReceivedAt: at, Data: []byte("x")})
			if err != nil {
				return err
			}
			r := triage.NewReport(at)
			r.Title, r.ResearcherEmail, r.MessageID = fmt.Sprintf("Report %d", i), email, mid
			r.Status = statuses[rng.IntN(len(statuses))]
			year := at.Year()
			seq, err := nextTrackingSeq(ctx, tx, year)
			if err != nil {
				return err
			}
			id, err := insertSeedReport(ctx, tx, r, seq, defaultPolicy, at)
			if err != nil {
				return err
			}
			choice := choices[rng.IntN(len(choices))]
			chosen, revoked := any(nil), any(nil)
			if choice != triage.CreditUndecided {
				chosen = formatTime(at.Add(time.Duration(rng.IntN(30*24)) * time.Hour))
				if rng.IntN(20) == 0 {
					revoked = chosen
				}
			}
			name, link := "", ""
			if choice.Named() {
				name, link = fmt.Sprintf("Researcher %d", who), fmt.Sprintf("https://r%d.example/", who)
			}
			title := ""
			if rng.IntN(2) == 0 {
				title = fmt.Sprintf("Advisory %d", i)
			}
			hash := triage.TokenHash(fmt.Sprint("bench", i))
			if _, err := tx.ExecContext(ctx, `INSERT INTO credits (report_id, nonce, token_hash, offered_at, expires_at,
				choice, display_name, link, chosen_at, revoked_at, advisory_title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, "nonce", hash, formatTime(at), formatTime(at.Add(triage.CreditLinkLifetime)),
				string(choice), name, link, chosen, revoked, title); err != nil {
				return err
			}
		}
		return nil
	})
}
