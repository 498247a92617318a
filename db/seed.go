package db

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// SeedResult is what SeedReports made.
type SeedResult struct {
	First, Last int64   // report ids
	Staff       []int64 // the triagers it created, reports are assigned among them
}

// seedWords are what synthetic titles, bodies and file names are made of.
var seedWords = strings.Fields(`the a login admin panel session cookie token csrf xss sql injection
	remote code execution path traversal upload file server header request response api endpoint
	user password reset email account takeover privilege escalation bypass authentication
	authorization redirect open ssrf internal metadata cloud bucket public leak secret key
	certificate tls weak cipher downgrade dns subdomain cname dangling misconfigured
	rate limit brute force enumeration timing side channel cache poisoning deserialization
	template prototype pollution graphql introspection mobile app android ios webview deeplink
	javascript library outdated version denial service regex backtracking memory crash`)

// SeedReports files n synthetic reports received over the two years
// before now, with histories made through the domain (triage.Report.Apply:
// CVSS, assignees, labels, replies, status moves; most old ones closed,
// recent ones open) and stored with the store's own writes, in
// transactions of a few thousand. It is for benchmarks and demos on a
// scratch database: the same seed gives the same reports.
func (db *DB) SeedReports(ctx context.Context, n int, now time.Time, seed uint64) (SeedResult, error) {
	var res SeedResult
	rng := rand.New(rand.NewPCG(seed, 42))
	now = now.UTC()
	start := now.Add(-2 * 365 * 24 * time.Hour)
	p, err := db.SLAPolicy(ctx)
	if err != nil {
		return res, fmt.Errorf("db: seed: %w", err)
	}
	vectors := []string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
		"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N"}
	closed := [][]triage.Status{
		{"spam"}, {"triaging", "not-applicable"}, {"triaging", "informative"},
		{"triaging", "accepted", "fixed", "disclosed"}, {"triaging", "accepted", "fixing", "fixed", "disclosed"},
	}
	open := [][]triage.Status{{}, {"triaging"}, {"needs-info"}, {"triaging", "accepted"}, {"triaging", "accepted", "fixing"}}
	words := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = seedWords[rng.IntN(len(seedWords))]
		}
		return strings.Join(w, " ")
	}
	err = db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
		for i := range 5 {
			r, err := tx.ExecContext(ctx, `INSERT INTO users (email, role, password_hash, created_at) VALUES (?, 'triager', x'00', ?)`,
				fmt.Sprintf("seed-staff-%d-%d@example.com", seed, i), formatTime(start))
			if err != nil {
				return err
			}
			id, err := r.LastInsertId()
			if err != nil {
				return err
			}
			res.Staff = append(res.Staff, id)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("db: seed: %w", err)
	}
	one := func(ctx context.Context, tx *sql.Tx, i int) error {
		at := start.Add(time.Duration(float64(now.Sub(start)) * float64(i) / float64(n)))
		mid, err := insertRawMessage(ctx, tx, &triage.RawMessage{MailFrom: "researcher@example.org", ReceivedAt: at, Data: []byte("seeded")})
		if err != nil {
			return err
		}
		r := triage.NewReport(at)
		r.Title, r.Body, r.MessageID = words(6), words(150), mid
		r.ResearcherEmail = fmt.Sprintf("researcher%d@example.org", rng.IntN(500))
		seq, err := nextTrackingSeq(ctx, tx, at.Year())
		if err != nil {
			return err
		}
		if r.ID, err = insertSeedReport(ctx, tx, r, seq, p, at); err != nil {
			return err
		}
		if res.First == 0 {
			res.First = r.ID
		}
		res.Last = r.ID
		if rng.IntN(4) == 0 {
			a := &triage.Attachment{Name: words(1) + ".har", ContentType: "application/json", Size: 2, Data: []byte("{}")}
			if _, err := insertAttachment(ctx, tx, r.ID, 0, a); err != nil {
				return err
			}
		}
		if err := indexReport(ctx, tx, r.ID); err != nil {
			return err
		}
		path := closed[rng.IntN(len(closed))]
		if rng.IntN(10) < 4 || now.Sub(at) < 60*24*time.Hour {
			path = open[rng.IntN(len(open))]
		}
		var c triage.Change
		if rng.IntN(3) > 0 {
			c.CVSSVector = &vectors[rng.IntN(len(vectors))]
		}
		if rng.IntN(2) == 0 {
			c.Assignee = &res.Staff[rng.IntN(len(res.Staff))]
		}
		if rng.IntN(5) == 0 {
			c.Labels = &[]string{"prod"}
		}
		step := at.Add(time.Duration(rng.IntN(48*60)) * time.Minute)
		if step.After(now) {
			step = now
		}
		if _, err := r.Apply(c, nil, res.Staff[0], step); err != nil {
			return err
		}
		if replied := at.Add(time.Duration(rng.IntN(30*60)) * time.Minute); rng.IntN(3) > 0 && !replied.After(now) {
			r.Responded(res.Staff[0], replied)
		}
		for _, st := range path {
			if step = step.Add(time.Duration(rng.IntN(72*60)) * time.Minute); step.After(now) {
				break
			}
			if _, err := r.Apply(triage.Change{Status: &st}, nil, res.Staff[0], step); err != nil {
				return err
			}
		}
		return saveTriage(ctx, tx, r, p, now)
	}
	const chunk = 5000 // one write transaction is bounded by opTimeout
	for lo := 0; lo < n; lo += chunk {
		err := db.writeAt(ctx, now, func(ctx context.Context, tx *sql.Tx) error {
			for i := lo; i < min(lo+chunk, n); i++ {
				if err := one(ctx, tx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("db: seed: %w", err)
		}
	}
	if _, err := db.w.ExecContext(ctx, `ANALYZE`); err != nil {
		return res, fmt.Errorf("db: seed: analyze: %w", err)
	}
	return res, nil
}

// insertSeedReport inserts r, received at at, as report seq of its year,
// with its triage state under p at at.
func insertSeedReport(ctx context.Context, tx *sql.Tx, r *triage.Report, seq int, p *triage.SLAPolicy, at time.Time) (int64, error) {
	c := *r
	cols, err := triageColumns(&c, p, at)
	if err != nil {
		return 0, err
	}
	return insertReport(ctx, tx, r, cols, at.Year(), seq, triage.TrackingID(at.Year(), seq), formatTime(at))
}
