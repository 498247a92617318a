package db

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestMigration0003_ExistingReports opens a database that holds a report
// filed before migration 0003 and checks that the report gets its clocks
// and is found by search afterwards.
func TestMigration0003_ExistingReports(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite3", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 3, 10, 11, 10, 0, 123456789, time.UTC)
	stmts := []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
		ms[0].sql, ms[1].sql,
		`INSERT INTO schema_migrations VALUES (1, 'x'), (2, 'x')`,
		`INSERT INTO raw_messages (mail_from, recipients, remote_addr, received_at, size, sha256, data) VALUES ('', '[]', '', '', 0, '', x'')`,
		`INSERT INTO reports (tracking_id, year, seq, title, researcher_email, researcher_name, received_at, first_response_due,
			status, encrypted, decrypted, decrypt_error, sig_status, sig_fingerprint, sig_keyid, body, message_id, created_at)
			VALUES ('SEC-2026-0001', 2026, 1, 'Old report', '', '', '` + formatTime(received) + `', '` + formatTime(received.Add(24*time.Hour)) + `',
			'new', 0, 0, '', 'none', '', '', 'stored before the upgrade', 1, '')`,
		`INSERT INTO attachments (report_id, name, content_type, size, sha256, data) VALUES (1, 'exploit.html', 'text/html', 0, '', x'')`,
	}
	for _, s := range stmts {
		if _, err := old.Exec(s); err != nil {
			t.Fatalf("%.60s: %v", s, err)
		}
	}
	old.Close()

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.Report(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Severity != triage.SeverityUnscored || len(r.Labels) != 0 || r.Assignee != 0 {
		t.Errorf("defaults: %+v", r)
	}
	var fr, tri, next string
	if err := d.r.QueryRow(`SELECT fr_due_at, triage_due_at, next_due_at FROM reports WHERE id = 1`).Scan(&fr, &tri, &next); err != nil {
		t.Fatal(err)
	}
	sla := r.Clocks(triage.DefaultSLAPolicy(), received)
	// The SQL backfill keeps milliseconds only.
	if fr != formatTime(sla.FirstResponse.DueAt) || tri != "2026-03-13T11:10:00.123000000Z" || next != fr {
		t.Errorf("backfilled clocks: fr %s triage %s next %s", fr, tri, next)
	}
	for _, q := range []string{"upgrade", "exploit", "old report"} {
		rs, err := d.Board(ctx, triage.ReportFilter{Query: q}, received)
		if err != nil || len(rs) != 1 {
			t.Errorf("search %q: %d, %v", q, len(rs), err)
		}
	}
	// An attachment added later is indexed too (trigger).
	if _, err := d.w.Exec(`INSERT INTO attachments (report_id, name, content_type, size, sha256, data) VALUES (1, 'trace.har', 'application/json', 0, '', x'')`); err != nil {
		t.Fatal(err)
	}
	if rs, err := d.Board(ctx, triage.ReportFilter{Query: "trace upgrade exploit"}, received); err != nil || len(rs) != 1 {
		t.Errorf("later attachment: %d, %v", len(rs), err)
	}
	if _, err := d.w.Exec(`DELETE FROM attachments WHERE name = 'trace.har'`); err != nil {
		t.Fatal(err)
	}
	if rs, err := d.Board(ctx, triage.ReportFilter{Query: "trace"}, received); err != nil || len(rs) != 0 {
		t.Errorf("deleted attachment still found: %d, %v", len(rs), err)
	}
}

// TestMigration0006_RatedAt opens a database at schema 5 and checks that
// rated_at is backfilled from the report history, or from
// severity_set_at where the history does not hold the first assessment,
// and that the stored clocks of a report whose remediation start moved
// are recomputed (the board orders by them).
func TestMigration0006_RatedAt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite3", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 10, 11, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	q := func(t time.Time) string { return "'" + formatTime(t) + "'" }
	stmts := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`}
	for _, m := range ms[:5] {
		stmts = append(stmts, m.sql)
	}
	stmts = append(stmts, `INSERT INTO schema_migrations VALUES (1, 'x'), (2, 'x'), (3, 'x'), (4, 'x'), (5, 'x')`)
	type ev struct {
		from, to string
		at       time.Time
	}
	reports := []struct {
		status, severity string
		setAt, accepted  time.Time
		events           []ev
	}{
		1: {"accepted", "critical", h(1), h(2), []ev{{"", "none", h(1)}, {"none", "critical", h(500)}}}, // the bug
		2: {"accepted", "high", h(3), h(4), nil},                                                        // seeded: no history
		3: {"triaging", "none", h(3), time.Time{}, nil},                                                 // never rated
		4: {"triaging", "none", h(1), time.Time{}, []ev{{"", "low", h(1)}, {"low", "none", h(5)}}},      // rated once
		5: {"accepted", "high", h(2), h(2), []ev{{"none", "high", h(9)}}},                               // history from none on
	}
	for id := 1; id < len(reports); id++ {
		r := reports[id]
		accepted, stale := "NULL", "NULL"
		if !r.accepted.IsZero() {
			// The remediation due time as computed from severity_set_at.
			accepted, stale = q(r.accepted), q(r.accepted.Add(7*24*time.Hour))
		}
		stmts = append(stmts, `INSERT INTO raw_messages (mail_from, recipients, remote_addr, received_at, size, sha256, data) VALUES ('', '[]', '', '', 0, '', x'')`)
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO reports (tracking_id, year, seq, title, researcher_email, researcher_name, received_at, first_response_due,
			status, encrypted, decrypted, decrypt_error, sig_status, sig_fingerprint, sig_keyid, body, message_id, created_at,
			severity, severity_set_at, responded_at, accepted_at, remediation_due_at, next_due_at)
			VALUES ('SEC-2026-%04d', 2026, %d, 'Old report', '', '', %s, %s, '%s', 0, 0, '', 'none', '', '', 'body', %d, '',
			'%s', %s, %s, %s, %s, %s)`, id, id, q(t0), q(h(24)), r.status, id, r.severity, q(r.setAt), q(t0), accepted, stale, stale))
		for _, e := range r.events {
			stmts = append(stmts, fmt.Sprintf(`INSERT INTO report_events (report_id, at, kind, from_value, to_value)
				VALUES (%d, %s, 'severity', '%s', '%s')`, id, q(e.at), e.from, e.to))
		}
	}
	for _, s := range stmts {
		if _, err := old.Exec(s); err != nil {
			t.Fatalf("%.60s: %v", s, err)
		}
	}
	old.Close()

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := map[int64]time.Time{1: h(500), 2: h(3), 3: {}, 4: h(1), 5: h(9)}
	for id, w := range want {
		r, err := d.Report(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Timeline.RatedAt.Equal(w) {
			t.Errorf("report %d: rated_at %v, want %v", id, r.Timeline.RatedAt, w)
		}
	}
	// Report 1's remediation clock now starts at the raise to critical:
	// the stored due times follow, and the board sees it running.
	var rem, next string
	if err := d.r.QueryRow(`SELECT remediation_due_at, next_due_at FROM reports WHERE id = 1`).Scan(&rem, &next); err != nil {
		t.Fatal(err)
	}
	if due := formatTime(h(500 + 7*24)); rem != due || next != due {
		t.Errorf("stored clocks: remediation %s next %s, want %s", rem, next, due)
	}
}

// TestMigration_SettledBackfill: reports whose clocks stopped before the
// verdicts were kept get them under the policy in force when the
// migration runs, so a later policy change does not judge them again.
func TestMigration_SettledBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite3", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 10, 11, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	q := func(t time.Time) string { return "'" + formatTime(t) + "'" }
	stmts := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`}
	for _, m := range ms[:10] {
		stmts = append(stmts, m.sql, fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, 'x')`, m.version))
	}
	stmts = append(stmts,
		`INSERT INTO raw_messages (mail_from, recipients, remote_addr, received_at, size, sha256, data) VALUES ('', '[]', '', '', 0, '', x'')`,
		fmt.Sprintf(`INSERT INTO reports (tracking_id, year, seq, title, researcher_email, researcher_name, received_at, first_response_due,
			status, encrypted, decrypted, decrypt_error, sig_status, sig_fingerprint, sig_keyid, body, message_id, created_at, responded_at, triage_due_at, next_due_at)
			VALUES ('SEC-2026-0001', 2026, 1, 'Answered in 20 h', '', '', %s, %s, 'triaging', 0, 0, '', 'none', '', '', 'body', 1, '', %s, %s, %s)`,
			q(t0), q(h(24)), q(h(20)), q(h(72)), q(h(72))))
	for _, s := range stmts {
		if _, err := old.Exec(s); err != nil {
			t.Fatalf("%.60s: %v", s, err)
		}
	}
	old.Close()

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p8 := triage.DefaultSLAPolicy()
	p8.FirstResponse = 8 * time.Hour
	if _, err := d.SetSLAPolicy(ctx, p8, triage.Actor{}, h(30)); err != nil {
		t.Fatal(err)
	}
	p, _ := d.SLAPolicy(ctx)
	r, err := d.Report(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Clocks(p, h(30)).FirstResponse; c.State != triage.ClockMet || !c.DueAt.Equal(h(24)) {
		t.Errorf("answered in 20 h under 24 h, then the policy became 8 h: %s due %v", c.State, c.DueAt)
	}
}
