package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/secinbox/secinbox/triage"
)

// TestMigration0003_ExistingReports opens a database that holds a report
// filed before migration 0003 and checks that the report gets its clocks
// and is found by search afterwards.
func TestMigration0003_ExistingReports(t *testing.T) {
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
