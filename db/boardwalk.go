package db

import (
	"context"
	"database/sql"

	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// The board's ranked walk. Sorting every report a filter selects costs
// in proportion to how many there are: with a million reports, half of
// them open, the board's first page would sort half a million. The walk
// reads the reports in rank order instead, straight from indexes kept in
// that order (migration 0014: reports_open_rank, reports_open_due,
// reports_closed_rank), tier by tier (breached, due soon, open, closed),
// tests each against the filters, and stops as soon as it has the page.
// A search tests each report's indexed text in Go (ftsmatch.go), which
// costs little when the words are common — the case where asking the
// full-text index costs most.
//
// The walk's work is bounded: when the filters are so narrow that it
// would read many reports to find a page (an assignee with a handful of
// reports, a rare word), it gives up and Board sorts the few reports the
// filters select, the way it always could. Both give the same page
// (TestBoard_WalkAgreesWithSort).

// walkLimits bound a walk's work.
type walkLimits struct {
	// budget is how many index entries a walk reads at most (more for
	// deep pages).
	budget int
	// searchBudget is how many reports' texts a search's walk tests at
	// most: about 20 µs each.
	searchBudget int
	// sortMax is the size up to which a tier or a label is cheaper to
	// read whole and sort than to walk.
	sortMax int
}

// boardWalk are the bounds of Board's walks (a test passes small ones so
// that every path is taken).
var boardWalk = walkLimits{budget: 20_000, searchBudget: 2_000, sortMax: 5_000}

// openCond and closedCond select the reports of the walk's indexes:
// spelled exactly as the indexes' own WHERE, so that SQLite uses them.
func openCond() string {
	return `r.quarantine_id IS NULL AND r.status NOT IN (` + closedStatusList() + `)`
}

func closedCond() string {
	return `r.quarantine_id IS NULL AND r.status IN (` + closedStatusList() + `)`
}

// rankWithin is the order of the board within one tier (rankOrder less
// the tier).
const rankWithin = `r.severity_points DESC, r.next_due_at IS NULL, r.next_due_at, r.id DESC`

// walkFilter is the part of a board filter the walk tests itself.
type walkFilter struct {
	statuses   map[triage.Status]bool // nil: any
	severities map[triage.Severity]bool
	assignee   int64
	unassigned bool
	label      string
	phrases    []ftsPhrase
}

func (w *walkFilter) keep(status, severity string, assignee int64, hasLabel bool) bool {
	if w.statuses != nil && !w.statuses[triage.Status(status)] {
		return false
	}
	if w.severities != nil && !w.severities[triage.Severity(severity)] {
		return false
	}
	switch {
	case w.unassigned && w.assignee != 0:
		if assignee != 0 && assignee != w.assignee {
			return false
		}
	case w.unassigned:
		if assignee != 0 {
			return false
		}
	case w.assignee != 0:
		if assignee != w.assignee {
			return false
		}
	}
	return w.label == "" || hasLabel
}

// walkBoard returns the page of the board f asks for at now by the
// ranked walk within lim, and true; or false when the walk does not apply
// (the quarantine view, a tracking id, a rare label) or gave up.
func walkBoard(ctx context.Context, tx *sql.Tx, f triage.ReportFilter, now time.Time, lim walkLimits) ([]int64, bool, error) {
	if f.Quarantined {
		return nil, false, nil
	}
	var w walkFilter
	if f.Query != "" {
		terms, err := ftsTerms(f.Query)
		if err != nil {
			return nil, false, err
		}
		for _, t := range terms {
			if trackingIDRe.MatchString(t.raw) {
				return nil, false, nil
			}
		}
		if len(terms) > 0 {
			var ok bool
			if w.phrases, ok = ftsPhrases(terms); !ok {
				return nil, false, nil
			}
		}
	}
	statuses := f.Statuses
	if f.Status != "" {
		statuses = append([]triage.Status{f.Status}, statuses...)
	}
	wantOpen, wantClosed := true, true
	if len(statuses) > 0 {
		w.statuses = map[triage.Status]bool{}
		wantOpen, wantClosed = false, false
		for _, st := range statuses {
			w.statuses[st] = true
			if st.Closed() {
				wantClosed = true
			} else {
				wantOpen = true
			}
		}
	}
	if len(f.Severity) > 0 {
		w.severities = map[triage.Severity]bool{}
		for _, s := range f.Severity {
			w.severities[s] = true
		}
	}
	w.assignee, w.unassigned = f.Assignee, f.Unassigned
	if f.Label != "" {
		l, err := triage.ParseLabel(f.Label)
		if err != nil {
			return nil, false, err
		}
		w.label = l
		// A label on few reports: reading those and sorting is cheaper.
		if n, err := boundedCount(ctx, tx, `SELECT 1 FROM report_labels WHERE label = ?`, lim.sortMax, l); err != nil || n <= lim.sortMax {
			return nil, false, err
		}
	}

	nowS, soonS := formatTime(now), formatTime(now.Add(triage.DueSoon))
	breached := f.Breached == nil || *f.Breached
	notBreached := f.Breached == nil || !*f.Breached
	smallBreached := false
	if wantOpen && breached {
		n, err := boundedCount(ctx, tx, `SELECT 1 FROM reports r INDEXED BY reports_open_due WHERE `+openCond()+` AND r.next_due_at <= ?`, lim.sortMax, nowS)
		if err != nil {
			return nil, false, err
		}
		smallBreached = n <= lim.sortMax
	}
	tiers := walkTiers(wantOpen && breached, wantOpen && notBreached, wantClosed && notBreached, smallBreached, nowS, soonS)

	need := f.Offset + f.Limit
	budget := max(lim.budget, 4*need)
	cols := `SELECT r.id, r.status, r.severity, COALESCE(r.assignee_id, 0)`
	var labelArg []any
	if w.label != "" {
		cols += `, EXISTS (SELECT 1 FROM report_labels WHERE report_id = r.id AND label = ?)`
		labelArg = []any{w.label}
	} else {
		cols += `, 0`
	}
	s := &walkSearch{phrases: w.phrases, m: ftsMatcher{phrases: w.phrases}, batch: 64, budget: lim.searchBudget}
	var ids []int64
	scanned := 0
	for _, t := range tiers {
		done, gaveUp, err := func() (bool, bool, error) {
			rows, err := tx.QueryContext(ctx, cols+" "+t.q, append(slices.Clone(labelArg), t.args...)...)
			if err != nil {
				return false, false, err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					id                 int64
					status, severity   string
					assignee, hasLabel int64
				)
				if err := rows.Scan(&id, &status, &severity, &assignee, &hasLabel); err != nil {
					return false, false, err
				}
				if scanned++; scanned > budget {
					return false, true, nil
				}
				if !w.keep(status, severity, assignee, hasLabel != 0) {
					continue
				}
				if s.phrases == nil {
					if ids = append(ids, id); len(ids) >= need {
						return true, false, nil
					}
					continue
				}
				s.pending = append(s.pending, id)
				if len(s.pending) >= s.batch {
					if ids, err = s.resolve(ctx, tx, ids); err != nil {
						return false, false, err
					}
					if len(ids) >= need {
						return true, false, nil
					}
					if s.hopeless(need - len(ids)) {
						return false, true, nil
					}
				}
			}
			return false, false, rows.Err()
		}()
		if err != nil || gaveUp {
			return nil, false, err
		}
		if done {
			break
		}
		if len(s.pending) > 0 {
			if ids, err = s.resolve(ctx, tx, ids); err != nil {
				return nil, false, err
			}
			if len(ids) >= need {
				break
			}
		}
	}
	if len(ids) > need {
		ids = ids[:need]
	}
	if f.Offset >= len(ids) {
		return []int64{}, true, nil
	}
	return ids[f.Offset:], true, nil
}

// walkTier is one tier's query (after its columns) and arguments: the
// reports of the tier in the board's order.
type walkTier struct {
	q    string
	args []any
}

// walkTiers are the queries of the tiers a walk reads, in rank order:
// breached (sorted when there are few, smallBreached, else read in
// order), due soon (sorted: few), the other open reports, and closed.
func walkTiers(breached, open, closed, smallBreached bool, now, soon string) []walkTier {
	var tiers []walkTier
	if breached && smallBreached {
		tiers = append(tiers, walkTier{`FROM reports r INDEXED BY reports_open_due WHERE ` + openCond() + ` AND r.next_due_at <= ?
			ORDER BY r.severity_points DESC, r.next_due_at, r.id DESC`, []any{now}})
	} else if breached {
		tiers = append(tiers, walkTier{`FROM reports r INDEXED BY reports_open_rank WHERE ` + openCond() + ` AND r.next_due_at <= ?
			ORDER BY ` + rankWithin, []any{now}})
	}
	if open {
		tiers = append(tiers,
			walkTier{`FROM reports r INDEXED BY reports_open_due WHERE ` + openCond() + ` AND r.next_due_at > ? AND r.next_due_at <= ?
				ORDER BY r.severity_points DESC, r.next_due_at, r.id DESC`, []any{now, soon}},
			walkTier{`FROM reports r INDEXED BY reports_open_rank WHERE ` + openCond() + ` AND (r.next_due_at > ? OR r.next_due_at IS NULL)
				ORDER BY ` + rankWithin, []any{soon}})
	}
	if closed {
		tiers = append(tiers, walkTier{`FROM reports r INDEXED BY reports_closed_rank WHERE ` + closedCond() + `
			ORDER BY r.severity_points DESC, r.id DESC`, nil})
	}
	return tiers
}

// boundedCount counts the rows of q, up to limit+1.
func boundedCount(ctx context.Context, tx *sql.Tx, q string, limit int, args ...any) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+q+` LIMIT `+strconv.Itoa(limit+1)+`)`, args...).Scan(&n)
	return n, err
}

// walkSearch tests the reports a walk meets against a search, a batch at
// a time, on their indexed text.
type walkSearch struct {
	phrases []ftsPhrase
	m       ftsMatcher
	pending []int64 // met, in rank order, not yet tested
	batch   int
	tested  int
	matched int
	budget  int // how many reports it tests at most
}

// resolve tests the pending reports and appends those that match to ids,
// in rank order.
func (s *walkSearch) resolve(ctx context.Context, tx *sql.Tx, ids []int64) ([]int64, error) {
	in := make([]string, len(s.pending))
	for i, id := range s.pending {
		in[i] = strconv.FormatInt(id, 10) // ids we read ourselves
	}
	// The index's own copy of the text (FTS4's %_content table: docid
	// and c<n><column>), read by rowid: what the index matched against.
	rows, err := tx.QueryContext(ctx, `SELECT docid, c0title, c1body, c2attachments FROM reports_fts_content WHERE docid IN (`+strings.Join(in, ",")+`)`)
	if err != nil {
		return ids, err
	}
	match := make(map[int64]bool, len(s.pending))
	for rows.Next() {
		var id int64
		var title, body, atts sql.NullString
		if err := rows.Scan(&id, &title, &body, &atts); err != nil {
			rows.Close()
			return ids, err
		}
		match[id] = s.m.matches(title.String, body.String, atts.String)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ids, err
	}
	for _, id := range s.pending {
		if match[id] {
			ids = append(ids, id)
			s.matched++
		}
	}
	s.tested += len(s.pending)
	s.pending = s.pending[:0]
	s.batch = min(s.batch*4, 1024)
	return ids, nil
}

// hopeless reports whether, at the rate the search has matched so far,
// finding missing more would test more reports than its budget
// allows: the words are rare, and the full-text index is the faster way.
func (s *walkSearch) hopeless(missing int) bool {
	if s.tested >= s.budget {
		return true
	}
	if s.tested < 256 {
		return false
	}
	expect := missing * s.tested / max(s.matched, 1)
	return s.tested+expect > s.budget
}
