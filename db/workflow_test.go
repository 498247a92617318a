package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

func ptr[T any](v T) *T { return &v }

func actor(u *triage.User) triage.Actor {
	return triage.Actor{UserID: u.ID, Email: u.Email, RemoteAddr: "192.0.2.7", UserAgent: "test"}
}

func TestUpdateReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	viewer := mustCreateUser(t, d, "vic@example.com", triage.RoleViewer)
	r := file(t, d, t0, "SQL injection in /admin")
	now := t0.Add(time.Hour)

	got, err := d.UpdateReport(ctx, r.ID, triage.Change{
		Status:     ptr(triage.StatusTriaging),
		Assignee:   ptr(alice.ID),
		Labels:     ptr([]string{"web", "Auth"}),
		CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
	}, actor(alice), now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != triage.StatusTriaging || got.Assignee != alice.ID || got.AssigneeEmail != "alice@example.com" ||
		strings.Join(got.Labels, ",") != "auth,web" || got.CVSS.Score != 9.8 || got.CVSS.Version != "3.1" ||
		got.Severity != triage.SeverityCritical || !got.Timeline.SeveritySetAt.Equal(now) {
		t.Errorf("stored report: %+v", got)
	}
	if got.Body != r.Body || got.Title != r.Title {
		t.Error("content changed")
	}

	t.Run("Events", func(t *testing.T) {
		evs, err := d.ReportEvents(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, string(e.Kind))
			if e.ActorID != alice.ID || e.ActorEmail != "alice@example.com" || !e.At.Equal(now) {
				t.Errorf("event %+v", e)
			}
		}
		if strings.Join(kinds, " ") != "cvss severity assignee labels status" {
			t.Errorf("events %v", kinds)
		}
		if _, err := d.ReportEvents(ctx, 999); err == nil {
			t.Error("events of a missing report")
		}
	})

	t.Run("Audit", func(t *testing.T) {
		var action, detail, addr string
		err := rawSQL(t, path).QueryRow(`SELECT action, detail, remote_addr FROM audit_log
			WHERE action = 'report.status' AND target = ?`, fmt.Sprintf("report:%d", r.ID)).Scan(&action, &detail, &addr)
		if err != nil {
			t.Fatal(err)
		}
		if detail != `{"from":"new","to":"triaging"}` || addr != "192.0.2.7" {
			t.Errorf("audit %s %s %s", action, detail, addr)
		}
	})

	t.Run("IllegalMove", func(t *testing.T) {
		before := countRows(t, rawSQL(t, path), "report_events")
		_, err := d.UpdateReport(ctx, r.ID, triage.Change{Labels: ptr([]string{"x"}), Status: ptr(triage.StatusDisclosed)}, actor(alice), now)
		wantCode(t, err, triage.ECONFLICT)
		if !strings.Contains(triage.ErrorMessage(err), "cannot move "+r.TrackingID+" from triaging to disclosed") {
			t.Errorf("message %q", triage.ErrorMessage(err))
		}
		again, _ := d.Report(ctx, r.ID)
		if strings.Join(again.Labels, ",") != "auth,web" || countRows(t, rawSQL(t, path), "report_events") != before {
			t.Error("a refused change was partly stored")
		}
	})

	t.Run("Assignee", func(t *testing.T) {
		_, err := d.UpdateReport(ctx, r.ID, triage.Change{Assignee: ptr(viewer.ID)}, actor(alice), now)
		wantCode(t, err, triage.EINVALID)
		_, err = d.UpdateReport(ctx, r.ID, triage.Change{Assignee: ptr(int64(999))}, actor(alice), now)
		wantCode(t, err, triage.ENOTFOUND)
		got, err := d.UpdateReport(ctx, r.ID, triage.Change{Assignee: ptr(int64(0))}, actor(alice), now)
		if err != nil || got.Assignee != 0 || got.AssigneeEmail != "" {
			t.Errorf("unassign: %v %+v", err, got)
		}
	})

	t.Run("InvalidVector", func(t *testing.T) {
		_, err := d.UpdateReport(ctx, r.ID, triage.Change{CVSSVector: ptr("CVSS:3.1/AV:N")}, actor(alice), now)
		wantCode(t, err, triage.EINVALID)
	})

	t.Run("Missing", func(t *testing.T) {
		_, err := d.UpdateReport(ctx, 999, triage.Change{Status: ptr(triage.StatusTriaging)}, actor(alice), now)
		wantCode(t, err, triage.ENOTFOUND)
	})
}

func TestUpdateReport_Duplicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleAdmin)
	orig := file(t, d, t0, "XSS in search")
	dup := file(t, d, t0.Add(time.Hour), "XSS in search, again")

	got, err := d.UpdateReport(ctx, dup.ID, triage.Change{DuplicateOf: ptr(orig.ID)}, actor(alice), t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != triage.StatusDuplicate || got.DuplicateOf != orig.ID {
		t.Errorf("duplicate: %s of %d", got.Status, got.DuplicateOf)
	}
	o, err := d.Report(ctx, orig.ID)
	if err != nil || !slices.Equal(o.Duplicates, []int64{dup.ID}) {
		t.Errorf("original lists %v, %v", o.Duplicates, err)
	}
	evs, _ := d.ReportEvents(ctx, orig.ID)
	if len(evs) != 1 || evs[0].Kind != triage.EventDuplicate || evs[0].To != dup.TrackingID {
		t.Errorf("original's history %+v", evs)
	}
	_, err = d.UpdateReport(ctx, orig.ID, triage.Change{DuplicateOf: ptr(int64(999))}, actor(alice), t0.Add(2*time.Hour))
	wantCode(t, err, triage.ENOTFOUND)
	_, err = d.UpdateReport(ctx, orig.ID, triage.Change{DuplicateOf: ptr(dup.ID)}, actor(alice), t0.Add(2*time.Hour))
	wantCode(t, err, triage.EINVALID) // dup is itself a duplicate

	// Reopening unlinks both ways.
	if _, err := d.UpdateReport(ctx, dup.ID, triage.Change{Status: ptr(triage.StatusTriaging)}, actor(alice), t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if o, _ := d.Report(ctx, orig.ID); len(o.Duplicates) != 0 {
		t.Errorf("still listed: %v", o.Duplicates)
	}
}

func TestClocksStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r := file(t, d, t0, "clock")
	if !r.FirstResponseDue.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("first response due %v", r.FirstResponseDue)
	}
	breached := true
	board := func(now time.Time) []int64 {
		rs, err := d.Board(ctx, triage.ReportFilter{Breached: &breached}, now)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	if got := board(t0.Add(24 * time.Hour)); !slices.Equal(got, []int64{r.ID}) {
		t.Errorf("breached at due: %v", got)
	}
	// Paused: nothing counts down, nothing is breached.
	if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusNeedsInfo)}, actor(alice), t0.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := board(t0.Add(100 * time.Hour)); len(got) != 0 {
		t.Errorf("paused report breached: %v", got)
	}
	// Resumed after 10 h: due 10 h later than before.
	if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(triage.StatusTriaging)}, actor(alice), t0.Add(20*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := board(t0.Add(34*time.Hour - time.Second)); len(got) != 0 {
		t.Errorf("breached before due: %v", got)
	}
	if got := board(t0.Add(34 * time.Hour)); !slices.Equal(got, []int64{r.ID}) {
		t.Errorf("not breached at due: %v", got)
	}
	// A reply, late, stops the first-response clock; triage (72 h + 10 h) still runs.
	if err := d.RecordResponse(ctx, r.ID, actor(alice), t0.Add(40*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := board(t0.Add(81 * time.Hour)); len(got) != 0 {
		t.Errorf("breached after the reply: %v", got)
	}
	if got := board(t0.Add(82 * time.Hour)); !slices.Equal(got, []int64{r.ID}) {
		t.Errorf("triage clock not breached: %v", got)
	}
	got, _ := d.Report(ctx, r.ID)
	s := got.Clocks(triage.DefaultSLAPolicy(), t0.Add(82*time.Hour))
	if s.FirstResponse.State != triage.ClockBreached || s.FirstResponse.StoppedAt.IsZero() || s.Triage.State != triage.ClockBreached {
		t.Errorf("clocks %+v %+v", s.FirstResponse, s.Triage)
	}
	if err := d.RecordResponse(ctx, 999, actor(alice), t0); err == nil {
		t.Error("response to a missing report")
	}
}

func TestSLAPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	admin := mustCreateUser(t, d, "root@example.com", triage.RoleAdmin)
	p, err := d.SLAPolicy(ctx)
	if err != nil || p.FirstResponse != 24*time.Hour || p.Calendar != nil {
		t.Fatalf("default: %+v %v", p, err)
	}
	// Friday 2026-03-13 16:00 Berlin (15:00Z).
	open := file(t, d, time.Date(2026, 3, 13, 15, 0, 0, 0, time.UTC), "open")
	closed := file(t, d, time.Date(2026, 3, 13, 15, 0, 0, 0, time.UTC), "closed")
	if _, err := d.UpdateReport(ctx, closed.ID, triage.Change{Status: ptr(triage.StatusSpam)}, actor(admin), t0); err != nil {
		t.Fatal(err)
	}

	office, err := triage.ParseSLAPolicy([]byte(`{"first_response_hours": 8, "triage_hours": 72,
		"remediation_hours": {"critical": 168, "high": 720, "medium": 2160, "low": 4320},
		"business_hours": {"time_zone": "Europe/Berlin", "days": ["mon","tue","wed","thu","fri"], "start": "09:00", "end": "17:00"}}`))
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.SetSLAPolicy(ctx, office, actor(admin), t0)
	if err != nil || n != 1 {
		t.Fatalf("set: %d %v", n, err)
	}
	p, err = d.SLAPolicy(ctx)
	if err != nil || p.FirstResponse != 8*time.Hour || p.Calendar == nil || p.Calendar.Location.String() != "Europe/Berlin" {
		t.Fatalf("stored: %+v %v", p, err)
	}
	// Fri 16:00–17:00, then Mon 09:00–16:00 CET.
	r, _ := d.Report(ctx, open.ID)
	if want := time.Date(2026, 3, 16, 15, 0, 0, 0, time.UTC); !r.FirstResponseDue.Equal(want) {
		t.Errorf("recomputed due %v, want %v", r.FirstResponseDue, want)
	}
	var detail string
	if err := rawSQL(t, path).QueryRow(`SELECT detail FROM audit_log WHERE action = 'settings.change'`).Scan(&detail); err != nil ||
		!strings.Contains(detail, `"time_zone":"Europe/Berlin"`) {
		t.Errorf("audit: %q %v", detail, err)
	}
	// New reports are filed under the new policy.
	late := file(t, d, time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC), "Saturday")
	if want := time.Date(2026, 3, 16, 16, 0, 0, 0, time.UTC); !late.FirstResponseDue.Equal(want) {
		t.Errorf("filed on Saturday: due %v, want %v", late.FirstResponseDue, want)
	}

	bad := *office
	bad.FirstResponse = 0
	_, err = d.SetSLAPolicy(ctx, &bad, actor(admin), t0)
	wantCode(t, err, triage.EINVALID)

	// The clocks follow the policy as stored (whole minutes), not the
	// caller's copy of it.
	odd := triage.DefaultSLAPolicy()
	odd.FirstResponse = 90 * time.Second
	if _, err := d.SetSLAPolicy(ctx, odd, actor(admin), t0); err != nil {
		t.Fatal(err)
	}
	if p, _ = d.SLAPolicy(ctx); p.FirstResponse != 2*time.Minute {
		t.Fatalf("stored first response window %v", p.FirstResponse)
	}
	r, _ = d.Report(ctx, open.ID)
	if want := open.ReceivedAt.Add(p.FirstResponse); !r.FirstResponseDue.Equal(want) {
		t.Errorf("recomputed due %v, want %v under the stored policy", r.FirstResponseDue, want)
	}
}

func TestNotes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r := file(t, d, t0, "note me")
	n, err := triage.NewNote(r.ID, alice.ID, "Looks real; the researcher is <b>right</b>.", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddNote(ctx, n, actor(alice)); err != nil || n.ID == 0 {
		t.Fatalf("%v %d", err, n.ID)
	}
	notes, err := d.Notes(ctx, r.ID)
	if err != nil || len(notes) != 1 || notes[0].Body != n.Body || notes[0].AuthorEmail != "alice@example.com" || !notes[0].At.Equal(t0) {
		t.Errorf("notes %+v %v", notes, err)
	}
	var detail string
	rawSQL(t, path).QueryRow(`SELECT detail FROM audit_log WHERE action = 'report.note'`).Scan(&detail)
	if strings.Contains(detail, "researcher") || detail == "" {
		t.Errorf("audit detail %q", detail)
	}
	n2, _ := triage.NewNote(999, alice.ID, "x", t0)
	wantCode(t, d.AddNote(ctx, n2, actor(alice)), triage.ENOTFOUND)
	if _, err := d.Notes(ctx, 999); triage.ErrorCode(err) != triage.ENOTFOUND {
		t.Errorf("notes of a missing report: %v", err)
	}
}

func TestBoard_Filters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	bob := mustCreateUser(t, d, "bob@example.com", triage.RoleTriager)
	mk := func(title, body string, atts []string, c triage.Change) *triage.Report {
		r := triage.NewReport(t0)
		r.MessageID = addMessage(t, d, t0)
		r.Title, r.Body = title, body
		for _, a := range atts {
			r.Attachments = append(r.Attachments, triage.Attachment{Name: a, ContentType: "text/plain", Data: []byte("x")})
		}
		if err := d.FileReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, err := d.UpdateReport(ctx, r.ID, c, actor(alice), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	sqli := mk("SQL injection in /admin", "The login form concatenates input.", []string{"poc.py"},
		triage.Change{Status: ptr(triage.StatusAccepted), Assignee: ptr(alice.ID), Labels: ptr([]string{"web"}),
			CVSSVector: ptr("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")})
	xss := mk("Reflected XSS", "Search echoes <script>alert(1)</script> unescaped; Überraschung.", nil,
		triage.Change{Status: ptr(triage.StatusTriaging), Assignee: ptr(bob.ID), Labels: ptr([]string{"web", "low-hanging"}),
			Severity: ptr(triage.SeverityMedium)})
	spam := mk("Buy now", "cheap watches", []string{"offer.pdf"}, triage.Change{Status: ptr(triage.StatusSpam)})
	fresh := mk("TLS config", "weak ciphers on mail.example.com", []string{"sslscan-output.txt"}, triage.Change{})

	ids := func(rs []*triage.Report) []int64 {
		out := []int64{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	yes, no := true, false
	now := t0.Add(time.Hour)
	for name, tc := range map[string]struct {
		f    triage.ReportFilter
		want []*triage.Report
	}{
		// xss and fresh tie on points (medium, and unscored counting as
		// medium) and next due: the newer comes first.
		"All":              {triage.ReportFilter{}, []*triage.Report{sqli, fresh, xss, spam}},
		"Status":           {triage.ReportFilter{Status: triage.StatusSpam}, []*triage.Report{spam}},
		"Statuses":         {triage.ReportFilter{Statuses: []triage.Status{"new", "triaging"}}, []*triage.Report{fresh, xss}},
		"Severity":         {triage.ReportFilter{Severity: []triage.Severity{"critical", "medium"}}, []*triage.Report{sqli, xss}},
		"Unscored":         {triage.ReportFilter{Severity: []triage.Severity{triage.SeverityUnscored}}, []*triage.Report{fresh, spam}},
		"Assignee":         {triage.ReportFilter{Assignee: bob.ID}, []*triage.Report{xss}},
		"Unassigned":       {triage.ReportFilter{Unassigned: true}, []*triage.Report{fresh, spam}},
		"Label":            {triage.ReportFilter{Label: "WEB"}, []*triage.Report{sqli, xss}},
		"LabelNone":        {triage.ReportFilter{Label: "nope"}, nil},
		"NotBreached":      {triage.ReportFilter{Breached: &no}, []*triage.Report{sqli, fresh, xss, spam}},
		"Breached":         {triage.ReportFilter{Breached: &yes}, nil},
		"QueryTitle":       {triage.ReportFilter{Query: "injection"}, []*triage.Report{sqli}},
		"QueryPrefix":      {triage.ReportFilter{Query: "inject"}, []*triage.Report{sqli}},
		"QueryBody":        {triage.ReportFilter{Query: "concatenates"}, []*triage.Report{sqli}},
		"QueryAttachment":  {triage.ReportFilter{Query: "sslscan"}, []*triage.Report{fresh}},
		"QueryFileName":    {triage.ReportFilter{Query: "poc.py"}, []*triage.Report{sqli}},
		"QueryAcrossParts": {triage.ReportFilter{Query: "login poc"}, []*triage.Report{sqli}},
		"QueryAnd":         {triage.ReportFilter{Query: "xss injection"}, nil},
		"QueryDiacritics":  {triage.ReportFilter{Query: "uberraschung"}, []*triage.Report{xss}},
		"QueryCase":        {triage.ReportFilter{Query: "TLS"}, []*triage.Report{fresh}},
		"QueryTrackingID":  {triage.ReportFilter{Query: strings.ToLower(xss.TrackingID)}, []*triage.Report{xss}},
		"QueryHTML":        {triage.ReportFilter{Query: "<script>"}, []*triage.Report{xss}},
		"QueryPunctuation": {triage.ReportFilter{Query: "sql - injection !"}, []*triage.Report{sqli}},
		"QueryNoWord":      {triage.ReportFilter{Query: "-- !"}, []*triage.Report{sqli, fresh, xss, spam}},
		"Combined":         {triage.ReportFilter{Label: "web", Severity: []triage.Severity{"medium"}, Query: "search"}, []*triage.Report{xss}},
		"Paged":            {triage.ReportFilter{Limit: 2, Offset: 1}, []*triage.Report{fresh, xss}},
	} {
		t.Run(name, func(t *testing.T) {
			rs, err := d.Board(ctx, tc.f, now)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ids(rs), ids(tc.want); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	t.Run("Fields", func(t *testing.T) {
		rs, _ := d.Board(ctx, triage.ReportFilter{Assignee: alice.ID}, now)
		r := rs[0]
		if r.AssigneeEmail != "alice@example.com" || r.CVSS.Score != 9.8 || strings.Join(r.Labels, ",") != "web" || r.Body != "" {
			t.Errorf("%+v", r)
		}
	})
	// Query syntax never reaches the full-text index as syntax.
	for _, q := range []string{`"`, `a"b`, `NEAR(a b)`, `title:admin`, `*`, `-x`, `AND`, `a OR b`, `^x`, `{title}: x`, `'`, `)`, `\`} {
		t.Run("Hostile "+q, func(t *testing.T) {
			if _, err := d.Board(ctx, triage.ReportFilter{Query: q}, now); err != nil {
				t.Errorf("%q: %v", q, err)
			}
		})
	}
	for name, f := range map[string]triage.ReportFilter{
		"BadStatus":   {Status: "closed"},
		"BadSeverity": {Severity: []triage.Severity{"severe"}},
		"BadLabel":    {Label: "a,b"},
		"LongQuery":   {Query: strings.Repeat("x", 300)},
		"ManyTerms":   {Query: strings.Repeat("x ", 11)},
		"BadUTF8":     {Query: "\xff"},
		"Offset":      {Offset: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := d.Board(ctx, f, now)
			wantCode(t, err, triage.EINVALID)
		})
	}
}

// TestBoard_MatchesRank seeds reports in every state and checks that the
// order Board computes in SQL is the one triage.Rank defines, at several
// times.
func TestBoard_MatchesRank(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	rng := rand.New(rand.NewPCG(1, 2))
	vectors := []string{"", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"}
	paths := [][]triage.Status{
		nil,
		{"triaging"},
		{"needs-info"},
		{"triaging", "accepted"},
		{"accepted", "fixing"},
		{"accepted", "fixed"},
		{"spam"},
		{"triaging", "not-applicable"},
		{"accepted", "fixed", "disclosed"},
		{"needs-info", "triaging"},
	}
	// Every change happens before the first board time, end: clocks are
	// only meaningful from the last change on.
	end := t0.Add(700 * time.Hour)
	clamp := func(t time.Time) time.Time {
		if t.After(end) {
			return end
		}
		return t
	}
	for i := 0; i < 200; i++ {
		at := t0.Add(time.Duration(rng.IntN(700*60)) * time.Minute)
		r := triage.NewReport(at)
		r.MessageID = addMessage(t, d, at)
		r.Title = fmt.Sprint("report ", i)
		if err := d.FileReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		step := at
		if v := vectors[rng.IntN(len(vectors))]; v != "" {
			step = clamp(step.Add(time.Duration(rng.IntN(50)) * time.Hour))
			if _, err := d.UpdateReport(ctx, r.ID, triage.Change{CVSSVector: &v}, actor(alice), step); err != nil {
				t.Fatal(err)
			}
		}
		if rng.IntN(3) == 0 {
			step = clamp(step.Add(time.Duration(rng.IntN(20)) * time.Hour))
			if err := d.RecordResponse(ctx, r.ID, actor(alice), step); err != nil {
				t.Fatal(err)
			}
		}
		for _, st := range paths[rng.IntN(len(paths))] {
			step = clamp(step.Add(time.Duration(rng.IntN(30)) * time.Hour))
			if _, err := d.UpdateReport(ctx, r.ID, triage.Change{Status: ptr(st)}, actor(alice), step); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := triage.DefaultSLAPolicy()
	for _, now := range []time.Time{end, end.Add(time.Hour + 30*time.Minute), end.Add(20 * time.Hour), end.Add(2000 * time.Hour)} {
		got, err := d.Board(ctx, triage.ReportFilter{Limit: 1000}, now)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(got)
		slices.SortFunc(want, func(a, b *triage.Report) int {
			if c := a.Risk(p, now).Compare(b.Risk(p, now)); c != 0 {
				return c
			}
			return int(b.ID - a.ID)
		})
		tiers := map[int]int{}
		for i := range got {
			tiers[got[i].Risk(p, now).Tier]++
			if got[i].ID != want[i].ID {
				t.Fatalf("at %v, position %d: %s (%+v), want %s (%+v)", now, i,
					got[i].TrackingID, got[i].Risk(p, now), want[i].TrackingID, want[i].Risk(p, now))
			}
		}
		t.Logf("at %v: tiers %v", now, tiers)
	}
}

func TestMigration0003_FTSBackfillAndTriggers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	r := file(t, d, t0, "Original title")
	s := rawSQL(t, path)
	if _, err := s.Exec(`UPDATE reports SET title = 'Renamed heading' WHERE id = ?`, r.ID); err != nil {
		t.Fatal(err)
	}
	for q, n := range map[string]int{"original": 0, "renamed": 1} {
		rs, err := d.Board(ctx, triage.ReportFilter{Query: q}, t0)
		if err != nil || len(rs) != n {
			t.Errorf("%s: %d results, %v", q, len(rs), err)
		}
	}
	var labels string
	s.QueryRow(`SELECT labels FROM reports WHERE id = ?`, r.ID).Scan(&labels)
	var l []string
	if json.Unmarshal([]byte(labels), &l) != nil {
		t.Errorf("labels %q", labels)
	}
	_ = db.MaxQueryBytes
}

// TestUpdateReport_RatedAt: the first rated severity is stored and read
// back (Report, Board, FirstResponses), and a report rated none, accepted,
// and raised to critical later has its remediation clock, and the stored
// due time the board orders by, counting from the raise.
func TestUpdateReport_RatedAt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, path := mustOpen(t)
	alice := mustCreateUser(t, d, "alice@example.com", triage.RoleTriager)
	r := file(t, d, t0, "Open redirect")
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	steps := []struct {
		at int
		c  triage.Change
	}{
		{1, triage.Change{Severity: ptr(triage.SeverityNone), Status: ptr(triage.StatusTriaging)}},
		{2, triage.Change{Status: ptr(triage.StatusAccepted)}},
		{500, triage.Change{Severity: ptr(triage.SeverityCritical)}},
		{600, triage.Change{Severity: ptr(triage.SeverityHigh)}}, // keeps the start
	}
	for _, s := range steps {
		if _, err := d.UpdateReport(ctx, r.ID, s.c, actor(alice), h(s.at)); err != nil {
			t.Fatalf("at %dh: %v", s.at, err)
		}
	}
	got, err := d.Report(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Timeline.RatedAt.Equal(h(500)) || !got.Timeline.SeveritySetAt.Equal(h(1)) || !got.Timeline.AcceptedAt.Equal(h(2)) {
		t.Errorf("timeline %+v", got.Timeline)
	}
	due := h(500 + 30*24)
	if c := got.Clocks(triage.DefaultSLAPolicy(), h(601)).Remediation; c == nil || c.State != triage.ClockRunning || !c.Start.Equal(h(500)) || !c.DueAt.Equal(due) {
		t.Errorf("remediation clock %+v, want running from %v", c, h(500))
	}
	var rem string
	if err := rawSQL(t, path).QueryRow(`SELECT remediation_due_at FROM reports WHERE id = ?`, r.ID).Scan(&rem); err != nil {
		t.Fatal(err)
	}
	if want := due.UTC().Format("2006-01-02T15:04:05.000000000Z"); rem != want {
		t.Errorf("stored remediation due %s, want %s", rem, want)
	}
	board, err := d.Board(ctx, triage.ReportFilter{}, h(601))
	if err != nil || len(board) != 1 || !board[0].Timeline.RatedAt.Equal(h(500)) {
		t.Errorf("board: %v", err)
	}
	frs, err := d.FirstResponses(ctx, t0)
	if err != nil || len(frs) != 1 || !frs[0].Timeline.RatedAt.Equal(h(500)) {
		t.Errorf("first responses: %v", err)
	}
}

// TestMigration_FTS5ToFTS4 opens a database as round 1 left it, with its
// search in an FTS5 table (made by testdata/gen-round1-db.sh), in a binary
// built without FTS5, as `go install` builds it: the migration replaces
// the table, every report is found again, and new ones are indexed.
func TestMigration_FTS5ToFTS4(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := os.ReadFile(filepath.Join("testdata", "round1-fts5.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "secinbox.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	d := mustOpenPath(t, path)
	var ddl string
	if err := rawSQL(t, path).QueryRow(`SELECT sql FROM sqlite_schema WHERE name = 'reports_fts'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ddl, "fts4") {
		t.Errorf("search table %q, want FTS4", ddl)
	}
	file(t, d, t0, "Überblick leaks tokens")
	for q, n := range map[string]int{"uberblick": 2, "ÜBERBL": 2, "steps": 3, "login": 1, "tokens": 1, "SEC-2026-0002 login": 1, "nothing": 0} {
		rs, err := d.Board(ctx, triage.ReportFilter{Query: q}, t0)
		if err != nil || len(rs) != n {
			t.Errorf("%q: %d results, want %d (%v)", q, len(rs), n, err)
		}
	}
	var check string
	if err := rawSQL(t, path).QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q %v", check, err)
	}
}

// TestSetSLAPolicy_KeepsStoppedVerdicts: a policy change moves the
// clocks that run or are paused, never the verdict of one that stopped.
func TestSetSLAPolicy_KeepsStoppedVerdicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	admin := mustCreateUser(t, d, "root@example.com", triage.RoleAdmin)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }

	answered := file(t, d, t0, "answered in 20 h")
	if err := d.RecordResponse(ctx, answered.ID, actor(admin), h(20)); err != nil {
		t.Fatal(err)
	}
	closed := file(t, d, t0, "closed as spam without a reply")
	if _, err := d.UpdateReport(ctx, closed.ID, triage.Change{Status: ptr(triage.StatusSpam)}, actor(admin), h(2)); err != nil {
		t.Fatal(err)
	}
	running := file(t, d, t0, "nobody answered yet")

	p8 := triage.DefaultSLAPolicy()
	p8.FirstResponse = 8 * time.Hour
	if _, err := d.SetSLAPolicy(ctx, p8, actor(admin), h(21)); err != nil {
		t.Fatal(err)
	}
	p, err := d.SLAPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := h(30)
	for _, tc := range []struct {
		r     *triage.Report
		state triage.ClockState
		due   time.Time
	}{
		{answered, triage.ClockMet, h(24)},
		{closed, triage.ClockClosed, h(24)},
		{running, triage.ClockBreached, h(8)},
	} {
		r, err := d.Report(ctx, tc.r.ID)
		if err != nil {
			t.Fatal(err)
		}
		c := r.Clocks(p, now).FirstResponse
		if c.State != tc.state || !c.DueAt.Equal(tc.due) {
			t.Errorf("%s: %s due %v, want %s due %v", r.Title, c.State, c.DueAt, tc.state, tc.due)
		}
	}
	// The metrics read the same verdicts.
	rs, err := d.FirstResponses(ctx, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	m := triage.ComputeTeamMetrics(rs, nil, p, now).Windows[0]
	if m.Met != 1 || m.Closed != 1 || m.Breached != 1 || m.Responded != 1 {
		t.Errorf("metrics %+v: want 1 met (answered), 1 closed, 1 breached", m)
	}
}
