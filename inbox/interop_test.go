package inbox_test

import (
	"context"
	"io"
	"log/slog"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// interopFixture reads a message of the OpenPGP interop matrix
// (pgp/testdata/interop): INTEROP_DIR when `make interop` made a fresh
// set with the tools, else the committed one.
func interopFixture(t *testing.T, rel string) []byte {
	t.Helper()
	dir := os.Getenv("INTEROP_DIR")
	if dir == "" {
		dir = filepath.Join("..", "pgp", "testdata", "interop", "fixtures")
	}
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInterop_SMTPEnvelopeOnly sends matrix messages whose headers do not
// name this server's address (gpg-bcc: the team only in Bcc, To a vendor;
// the several-recipients ones: To another domain's security@) over real
// SMTP with RCPT TO security@localhost: the envelope decides, and each is
// filed and decrypted with the team keys.
func TestInterop_SMTPEnvelopeOnly(t *testing.T) {
	t.Parallel()
	var keys openpgp.EntityList
	for _, team := range []string{"team-gpg-ed25519", "team-ojs-v6", "team-go-v6"} {
		el, err := pgp.ReadSecretKeys(interopFixture(t, "keys/"+team+".sec.asc"), []byte("team-passphrase"))
		if err != nil {
			t.Fatalf("%s: %v", team, err)
		}
		keys = append(keys, el...)
	}
	ts := startServer(t, inbox.Config{})
	p, err := inbox.NewProcessor(inbox.ProcessorConfig{Store: ts.db, Conversation: ts.db, Keys: inbox.FixedKeys(keys),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"gpg-bcc", "ojs-several-recipients", "go-several-recipients"} {
		t.Run(name, func(t *testing.T) {
			raw := interopFixture(t, name+".eml")
			if strings.Contains(strings.SplitN(string(raw), "\r\n\r\n", 2)[0], "security@localhost") {
				t.Fatal("the fixture's header names security@localhost: it tests nothing")
			}
			before := len(ts.filedIDs())
			// net/smtp does the dot-stuffing; RCPT is the only place the team appears.
			if err := smtp.SendMail(ts.addr, nil, "researcher@example.org", []string{"security@localhost"}, raw); err != nil {
				t.Fatalf("SendMail: %v", err)
			}
			ids := ts.filedIDs()
			if len(ids) != before+1 {
				t.Fatalf("%d messages committed after the 250, want %d", len(ids), before+1)
			}
			ctx := context.Background()
			id := ids[len(ids)-1]
			if err := p.File(ctx, id); err != nil {
				t.Fatalf("File: %v", err)
			}
			reports, err := ts.db.Reports(ctx, triage.ReportFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var r *triage.Report
			for _, x := range reports {
				if x.MessageID == id {
					r = x
				}
			}
			if r == nil {
				t.Fatalf("no report filed from message %d", id)
			}
			full, err := ts.db.Report(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if full.Status != triage.StatusNew || !full.Encrypted || !full.Decrypted {
				t.Errorf("status %s, encrypted %v, decrypted %v (%s); want new, decrypted", full.Status, full.Encrypted, full.Decrypted, full.DecryptError)
			}
			if want := "Interop fixture " + name; !strings.Contains(full.Body, want) {
				t.Errorf("body %q lacks %q", full.Body, want)
			}
			if want := "Interop " + name; full.Title != want {
				t.Errorf("title %q, want %q", full.Title, want)
			}
		})
	}
}

// filedIDs are the raw messages committed so far, in order. The server
// wakes intake after each commit, before its 250, so after SendMail
// returns they are here; in a new database they are numbered from 1.
func (ts *testServer) filedIDs() []int64 {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ids := make([]int64, ts.wakes)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	return ids
}
