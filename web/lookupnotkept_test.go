package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// A lookup finds a key the store turns away (the address already holds
// 100 keys from a stronger source): the page and the API list only the
// stored keys and say how many were not kept.
func TestLookupKey_NotKept(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	key, err := pgp.GenerateKey("Mallory", "mallory@example.org", now.Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := pgp.PublicKeyBytes(key)
	fpr := pgp.Fingerprint(key)
	lookup, err := inbox.NewKeyLookup(inbox.KeyLookupConfig{
		WKDAdvancedURL: wkdServer(t, pub).URL + "/wkd/{domain}",
		WKDDirectURL:   "off",
		VKSURL:         "off",
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *web.Config) {
		c.KeyFinder = lookup
		c.Now = func() time.Time { return now }
	})
	e.addTriager()
	// 100 keys from good signatures, the strongest source: a WKD key
	// cannot push any of them out.
	var held []triage.ResearcherKey
	for i := range 100 {
		held = append(held, triage.ResearcherKey{
			Email: "mallory@example.org", Fingerprint: fmt.Sprintf("%040X", 0xAB000+i), Source: triage.KeySourceSignature,
			Public: []byte("key"), FirstSeen: now, LastSeen: now,
		})
	}
	if err := e.db.AddResearcherKeys(context.Background(), held); err != nil {
		t.Fatal(err)
	}
	reportPath := fmt.Sprintf("/reports/%d", e.xss.ID)

	triager := e.triagerClient()
	resp, _ := e.do(triager, "POST", reportPath+"/lookup-key", nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("lookup") != "notkept" || loc.Query().Get("notkept") != "1" {
		t.Fatalf("lookup: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := e.get(triager, loc.RequestURI())
	if got := byTestID(t, page, "key-notice"); len(got) != 1 || !strings.Contains(got[0], "none was kept") || !strings.Contains(got[0], "1 key(s) found were not kept") {
		t.Errorf("notice %q", got)
	}
	rows := byTestID(t, page, "researcher-key-fingerprint")
	if len(rows) != 100 {
		t.Errorf("%d key rows, want the 100 stored", len(rows))
	}
	for _, r := range rows {
		if strings.ReplaceAll(r, " ", "") == fpr {
			t.Errorf("the turned-away key %s is listed", fpr)
		}
	}
	// A count that is not a small number prints nothing more.
	_, page = e.get(triager, reportPath+"?lookup=found&notkept="+url.QueryEscape("1<script>"))
	if got := byTestID(t, page, "key-notice"); len(got) != 1 || strings.Contains(got[0], "not kept") {
		t.Errorf("notice with a bad count %q", got)
	}

	resp, body := e.do(e.client(), "POST", fmt.Sprintf("/api/v1/reports/%d/lookup-key", e.xss.ID), nil, "Authorization", "Bearer "+triagerToken)
	m := decodeJSON(t, body)
	if resp.StatusCode != http.StatusOK || m["found"] != float64(0) || m["not_kept"] != float64(1) || len(m["keys"].([]any)) != 0 {
		t.Errorf("API lookup: %d %v", resp.StatusCode, m)
	}
}
