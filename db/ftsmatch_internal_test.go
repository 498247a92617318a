package db

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestFTSMatch_AgreesWithSQLite: on random text mixing scripts, cases,
// diacritics (precomposed and combining), digits, punctuation and
// characters outside the BMP, and random searches over the same
// alphabet, the Go matcher finds exactly the documents FTS4 finds.
func TestFTSMatch_AgreesWithSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "fts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Half the documents in plain ASCII (the matcher's shortcut), half
	// mixing scripts.
	ascii := []rune("aAbBeEiIoOuUxyz0123456789 .,-_'\"/:;!?@#")
	mixed := []rune("aAbBeEéÉèÊëiIoOöÖøØuUüÜñÑçÇßǅǄǆÅåÆæŁłĳĲ" + "ΣσςΑαΏώ" + "ДдЁё" + "日本語" + "０１２ＡＢａｂ" +
		"0123456789" + "\u0301\u0308\u0327" + "𐐀𐐨😀" + " .,-_'\"/:;!?@#()[]{}<>*+=")
	alphabet := mixed
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(max int) string {
		var b strings.Builder
		for range 1 + rng.IntN(max) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	const docs = 400
	texts := make([][3]string, docs+1)
	err = d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE VIRTUAL TABLE probe USING fts4(title, body, attachments, tokenize=unicode61 "remove_diacritics=2")`); err != nil {
			return err
		}
		for i := 1; i <= docs; i++ {
			alphabet = mixed
			if i%2 == 0 {
				alphabet = ascii
			}
			var cols [3]string
			for c := range cols {
				var ws []string
				for range rng.IntN(12) {
					ws = append(ws, word(6))
				}
				cols[c] = strings.Join(ws, " ")
			}
			texts[i] = cols
			if _, err := tx.ExecContext(ctx, `INSERT INTO probe (docid, title, body, attachments) VALUES (?, ?, ?, ?)`, i, cols[0], cols[1], cols[2]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for q := 0; q < 600; q++ {
		var raw []string
		alphabet = mixed
		if q%2 == 0 {
			alphabet = ascii
		}
		for range 1 + rng.IntN(2) {
			raw = append(raw, word(4))
		}
		terms, err := ftsTerms(strings.Join(raw, " "))
		if err != nil || len(terms) == 0 {
			continue
		}
		phrases, ok := ftsPhrases(terms)
		if !ok {
			continue
		}
		want := map[int]bool{}
		rows, err := d.r.QueryContext(ctx, `SELECT docid FROM probe WHERE probe MATCH ?`, matchAll(terms))
		if err != nil {
			t.Fatalf("%q: %v", matchAll(terms), err)
		}
		for rows.Next() {
			var id int
			rows.Scan(&id)
			want[id] = true
		}
		rows.Close()
		for i := 1; i <= docs; i++ {
			if got := ftsMatches(phrases, texts[i][0], texts[i][1], texts[i][2]); got != want[i] {
				t.Errorf("search %s on document %d %q: Go says %v, FTS4 %v (Go tokens %q)", matchAll(terms), i, texts[i], got, want[i], ftsTokens(strings.Join(texts[i][:], " | ")))
			}
		}
		checked += len(want)
	}
	if checked < 200 {
		t.Fatalf("only %d matches compared: the searches hardly match anything", checked)
	}
}
