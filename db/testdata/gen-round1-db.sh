#!/usr/bin/env bash
# Makes db/testdata/round1-fts5.db: a database as secinbox round 1 left it
# (migrations 0001-0008, search in an FTS5 table), with three reports, for
# TestMigration_FTS5ToFTS4. It checks out the last round-1 commit into a
# temporary worktree and files the reports with that code, built with the
# sqlite_fts5 tag it needed then.
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=0d6577d
out="$PWD/db/testdata/round1-fts5.db"
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach "$tmp" "$rev" >/dev/null
mkdir -p "$tmp/cmd/mkround1"
cat >"$tmp/cmd/mkround1/main.go" <<'GO'
package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/triage"
)

func main() {
	ctx := context.Background()
	d, err := db.Open(ctx, os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, title := range []string{"Stored XSS in the Überblick page", "SQL injection in login", "Open redirect after logout"} {
		m := &triage.RawMessage{MailFrom: "r@example.org", ReceivedAt: at, Data: []byte("Subject: x\r\n\r\nbody\r\n")}
		if err := d.AddRawMessage(ctx, m); err != nil {
			log.Fatal(err)
		}
		r := triage.NewReport(at.Add(time.Duration(i) * time.Minute))
		r.MessageID = m.ID
		r.Title = title
		r.Body = "Steps to reproduce number " + []string{"one", "two", "three"}[i]
		if err := d.FileReport(ctx, r); err != nil {
			log.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		log.Fatal(err)
	}
}
GO
rm -f "$out" "$out-wal" "$out-shm"
(cd "$tmp" && go run -tags sqlite_fts5 ./cmd/mkround1 "$out")
rm -f "$out-wal" "$out-shm"
echo "wrote $out"
