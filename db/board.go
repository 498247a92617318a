package db

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/secinbox/secinbox/triage"
)

// Limits on a search query.
const (
	MaxQueryBytes = 256
	MaxQueryTerms = 10
)

// rankOrder is triage.Rank in SQL over the columns of reports r: ?1 is
// now, ?2 is now + triage.DueSoon. TestBoard_MatchesRank holds the two
// together.
func rankOrder() string {
	return `CASE WHEN r.status IN (` + closedStatusList() + `) THEN 0
		WHEN r.next_due_at <= ?1 THEN 3
		WHEN r.next_due_at <= ?2 THEN 2
		ELSE 1 END DESC,
		r.severity_points DESC, r.next_due_at IS NULL, r.next_due_at, r.id DESC`
}

// Board lists reports in the board's order at now (triage.Rank: breached
// first, then due within 2 h, then severity, then least time left; then
// newest), without bodies, narrowed by f. f.Limit defaults to
// DefaultReportLimit and is capped at MaxReportLimit. Breached means a
// clock that still counts down is past due, which is also Rank's top
// tier. An unknown status or severity, a bad label or query, or a
// negative offset is EINVALID.
func (db *DB) Board(ctx context.Context, f triage.ReportFilter, now time.Time) ([]*triage.Report, error) {
	if f.Offset < 0 {
		return nil, fmt.Errorf("db: board: %w", triage.Errorf(triage.EINVALID, "negative offset"))
	}
	if f.Limit <= 0 {
		f.Limit = DefaultReportLimit
	} else if f.Limit > MaxReportLimit {
		f.Limit = MaxReportLimit
	}
	q, args, err := boardQuery(f)
	if err != nil {
		return nil, fmt.Errorf("db: board: %w", err)
	}
	var reports []*triage.Report
	err = db.read(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The ranked walk when it applies and finds the page within its
		// budget; else every report the filters select, sorted.
		ids, ok, err := walkBoard(ctx, tx, f, now, boardWalk)
		if err != nil {
			return err
		}
		if !ok {
			if ids, err = queryIDs(ctx, tx, q, append([]any{formatTime(now), formatTime(now.Add(triage.DueSoon)), f.Limit, f.Offset}, args...)...); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		reports, err = findReportsByID(ctx, tx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: board: %w", err)
	}
	return reports, nil
}

// queryIDs runs q and returns its one integer column, in row order.
func queryIDs(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// findReportsByID loads reports, without bodies, in the order of ids.
func findReportsByID(ctx context.Context, tx *sql.Tx, ids []int64) ([]*triage.Report, error) {
	in := make([]string, len(ids))
	for i, id := range ids {
		in[i] = strconv.FormatInt(id, 10) // integers we read ourselves
	}
	found, err := queryReports(ctx, tx, `SELECT `+reportColumns+`, `+workflowColumns+` FROM reports WHERE id IN (`+strings.Join(in, ",")+`)`)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*triage.Report, len(found))
	for _, r := range found {
		byID[r.ID] = r
	}
	out := make([]*triage.Report, 0, len(ids))
	for _, id := range ids {
		if r := byID[id]; r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// boardQuery builds the query for the ids of one page of the board. Its
// parameters ?1 to ?4 are now, now + DueSoon, limit and offset; the
// filter's own are numbered from ?5 on and returned.
//
// Ordering every report must not read report rows: they hold the body.
// So the query only ever touches indexes: without a search or label it
// scans reports_board (which covers the order and the other filters);
// with one, the matching ids drive and each is looked up in reports_rank,
// an index keyed by id that covers the same columns. Driving from the
// matches rather than testing every report for membership in them keeps
// a common search word (tens of thousands of matches) cheap.
func boardQuery(f triage.ReportFilter) (string, []any, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("?%d", len(args)+4)
	}
	var label string
	if f.Label != "" {
		l, err := triage.ParseLabel(f.Label)
		if err != nil {
			return "", nil, err
		}
		label = arg(l)
	}
	var ids []string // tracking ids typed in the query
	var words []ftsTerm
	if f.Query != "" {
		terms, err := ftsTerms(f.Query)
		if err != nil {
			return "", nil, err
		}
		for _, t := range terms {
			if trackingIDRe.MatchString(t.raw) {
				ids = append(ids, arg(strings.ToUpper(t.raw)))
			} else {
				words = append(words, t)
			}
		}
	}

	from := `reports r INDEXED BY reports_board`
	// Held reports are in the quarantine view only. The board's indexes
	// leave them out (partial indexes on this very condition).
	held := "r.quarantine_id IS NULL"
	if f.Quarantined {
		held = "r.quarantine_id IS NOT NULL"
		from = `reports r`
	}
	where = append(where, held)
	switch {
	case len(ids) > 0:
		// A tracking id names one report; any other words must match it too.
		from = `reports r`
		for _, id := range ids {
			where = append(where, "r.tracking_id = "+id)
		}
		if len(words) > 0 {
			where = append(where, "r.id IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH "+arg(matchAll(words))+")")
		}
	case len(words) > 0:
		// CROSS JOIN keeps the matches driving.
		from = `reports_fts CROSS JOIN reports r INDEXED BY reports_rank ON r.id = reports_fts.rowid`
		if f.Quarantined {
			from = `reports_fts CROSS JOIN reports r ON r.id = reports_fts.rowid`
		}
		where = append(where, "reports_fts MATCH "+arg(matchAll(words)))
	case f.Assignee != 0 && !f.Unassigned && label == "" && !f.Quarantined:
		// One person's reports, in their own range of an index.
		from = `reports r INDEXED BY reports_assignee_board`
	case label != "":
		from = `report_labels l CROSS JOIN reports r INDEXED BY reports_rank ON r.id = l.report_id`
		if f.Quarantined {
			from = `report_labels l CROSS JOIN reports r ON r.id = l.report_id`
		}
		where = append(where, "l.label = "+label)
		label = ""
	}
	if label != "" {
		where = append(where, "EXISTS (SELECT 1 FROM report_labels WHERE report_id = r.id AND label = "+label+")")
	}
	// When matches drive, each is looked up by id alone: a filter the
	// lookup could use as a key (status IN (7 values)) would make it 7
	// lookups. The unary + keeps SQLite from doing so.
	col := func(name string) string { return "r." + name }
	if len(ids) == 0 && strings.Contains(from, "CROSS JOIN") {
		col = func(name string) string { return "+r." + name }
	}

	statuses := f.Statuses
	if f.Status != "" {
		statuses = append([]triage.Status{f.Status}, statuses...)
	}
	if len(statuses) > 0 {
		var in []string
		for _, s := range statuses {
			if !s.Valid() {
				return "", nil, triage.Errorf(triage.EINVALID, "unknown status %q", s)
			}
			in = append(in, arg(string(s)))
		}
		where = append(where, col("status")+" IN ("+strings.Join(in, ", ")+")")
	}
	if len(f.Severity) > 0 {
		var in []string
		for _, s := range f.Severity {
			if !s.Valid() {
				return "", nil, triage.Errorf(triage.EINVALID, "unknown severity %q", s)
			}
			in = append(in, arg(string(s)))
		}
		where = append(where, col("severity")+" IN ("+strings.Join(in, ", ")+")")
	}
	switch {
	case f.Unassigned && f.Assignee != 0:
		where = append(where, "("+col("assignee_id")+" IS NULL OR "+col("assignee_id")+" = "+arg(f.Assignee)+")")
	case f.Unassigned:
		where = append(where, col("assignee_id")+" IS NULL")
	case f.Assignee != 0:
		where = append(where, col("assignee_id")+" = "+arg(f.Assignee))
	}
	if f.Breached != nil {
		// Written so that the true case is a range on next_due_at.
		cond := col("next_due_at") + " <= ?1 AND " + col("status") + " NOT IN (" + closedStatusList() + ")"
		if !*f.Breached {
			cond = "(" + col("next_due_at") + " IS NULL OR " + col("next_due_at") + " > ?1 OR " + col("status") + " IN (" + closedStatusList() + "))"
		}
		where = append(where, cond)
	}

	q := `SELECT r.id FROM ` + from
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	return q + ` ORDER BY ` + rankOrder() + ` LIMIT ?3 OFFSET ?4`, args, nil
}

// matchAll is the full-text query matching reports that contain every word,
// each anywhere in the title, the body or the attachment names.
func matchAll(words []ftsTerm) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = w.fts
	}
	return strings.Join(q, " AND ")
}

// isTokenRune reports whether the unicode61 tokenizer (its default
// categories L*, N* and Co) keeps r in a word rather than splitting on it.
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

var trackingIDRe = regexp.MustCompile(`(?i)^SEC-\d{4}-\d{4,}$`)

type ftsTerm struct {
	raw    string // as typed
	fts    string // a full-text (FTS4) query for it
	words  string // the phrase's text, without quotes or star
	prefix bool   // the last word matches as a prefix
}

// ftsTerms splits a search query into terms that must all match, each
// somewhere in the title, body or an attachment name. Each term becomes
// an FTS4 phrase of its words, every character the tokenizer splits on
// made a space (so no query syntax reaches FTS4: quotes, operators,
// stars, column filters are all separators), with a prefix match on the
// last word from 3 characters on. A term that looks like a tracking id
// matches that id instead. A term with no letter or digit ("-", "!") is
// left out: the tokenizer finds no word in it, and it would make the
// whole query match nothing.
func ftsTerms(q string) ([]ftsTerm, error) {
	if len(q) > MaxQueryBytes {
		return nil, triage.Errorf(triage.EINVALID, "search query longer than %d bytes", MaxQueryBytes)
	}
	if !utf8.ValidString(q) {
		return nil, triage.Errorf(triage.EINVALID, "search query is not valid UTF-8")
	}
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, q)
	fields := strings.Fields(q)
	if len(fields) > MaxQueryTerms {
		return nil, triage.Errorf(triage.EINVALID, "at most %d search terms", MaxQueryTerms)
	}
	var terms []ftsTerm
	for _, f := range fields {
		if !strings.ContainsFunc(f, isTokenRune) {
			continue
		}
		words := strings.Map(func(r rune) rune {
			if isTokenRune(r) {
				return r
			}
			return ' '
		}, f)
		phrase := strings.Join(strings.Fields(words), " ")
		s := `"` + phrase
		prefix := utf8.RuneCountInString(f) >= 3
		if prefix {
			s += "*"
		}
		terms = append(terms, ftsTerm{raw: f, fts: s + `"`, words: phrase, prefix: prefix})
	}
	return terms, nil
}
