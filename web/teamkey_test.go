package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/web"
)

// liveKey stands in for the server's keyring: the key it publishes can
// change between two requests, as after `secinbox key rotate`.
type liveKey struct {
	mu  sync.Mutex
	key web.PublishedKey
}

func (l *liveKey) get(context.Context) web.PublishedKey {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.key
}
func (l *liveKey) set(k web.PublishedKey) { l.mu.Lock(); defer l.mu.Unlock(); l.key = k }

// publishedKey is a stand-in key whose fingerprint is hex digit x, 40 times.
func publishedKey(x string, expires time.Time) web.PublishedKey {
	return web.PublishedKey{
		Armored:     []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + x + "\n-----END PGP PUBLIC KEY BLOCK-----\n"),
		Binary:      []byte("binary " + x),
		Fingerprint: strings.Repeat(x, 40),
		Expires:     expires,
	}
}

// TestTeamKey_Rotation: every public endpoint follows the key the keyring
// hands out, request by request: /pgp-key.asc, WKD, security.txt's
// Expires and the policy page's fingerprint.
func TestTeamKey_Rotation(t *testing.T) {
	t.Parallel()
	live := &liveKey{key: publishedKey("A", t0.AddDate(0, 2, 0))}
	e := newEnv(t, func(c *web.Config) { c.TeamKey = live.get })
	c := e.client()
	wkd := "/.well-known/openpgpkey/hu/" + pgp.WKDHash("security")

	check := func(k web.PublishedKey) {
		t.Helper()
		if _, body := e.get(c, "/pgp-key.asc"); body != string(k.Armored) {
			t.Errorf("/pgp-key.asc = %q, want %q", body, k.Armored)
		}
		if _, body := e.get(c, wkd); body != string(k.Binary) {
			t.Errorf("WKD = %q, want %q", body, k.Binary)
		}
		_, body := e.get(c, "/.well-known/security.txt")
		if f := parseSecurityTxt(t, body); len(f["Expires"]) != 1 || f["Expires"][0] != k.Expires.UTC().Format(time.RFC3339) {
			t.Errorf("security.txt Expires = %q, want the key's expiry %v", f["Expires"], k.Expires)
		}
		if _, body := e.get(c, "/policy"); !strings.Contains(body, k.Fingerprint[:4]+" "+k.Fingerprint[4:8]) {
			t.Errorf("policy page does not show fingerprint %s", k.Fingerprint)
		}
	}
	check(live.get(nil))
	rotated := publishedKey("B", t0.AddDate(0, 6, 0))
	live.set(rotated)
	check(rotated)
}

// TestSecurityTxt_KeyExpiry: Expires is never later than the published
// key's expiry, and never more than a year ahead (RFC 9116 section 2.5.5).
func TestSecurityTxt_KeyExpiry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		keyExpires time.Time
		want       time.Time
	}{
		{"NoExpiry", time.Time{}, t0.Add(365 * 24 * time.Hour)},
		{"InTwoYears", t0.AddDate(2, 0, 0), t0.Add(365 * 24 * time.Hour)},
		{"InTenDays", t0.Add(10 * 24 * time.Hour), t0.Add(10 * 24 * time.Hour)},
		// Rounded down to the second, never up past the key.
		{"SubSecond", t0.Add(time.Hour + 900*time.Millisecond), t0.Add(time.Hour)},
		// An expired key makes the file stale: readers must not use it.
		{"Expired", t0.Add(-24 * time.Hour), t0.Add(-24 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live := &liveKey{key: publishedKey("D", tc.keyExpires)}
			e := newEnv(t, func(c *web.Config) { c.TeamKey = live.get })
			_, body := e.get(e.client(), "/.well-known/security.txt")
			f := parseSecurityTxt(t, body)
			if len(f["Expires"]) != 1 {
				t.Fatalf("Expires = %q", f["Expires"])
			}
			got, err := time.Parse(time.RFC3339, f["Expires"][0])
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Expires %v, want %v", got, tc.want)
			}
			if !tc.keyExpires.IsZero() && got.After(tc.keyExpires) {
				t.Errorf("Expires %v is after the key expires (%v)", got, tc.keyExpires)
			}
			if got.After(t0.AddDate(1, 0, 0)) {
				t.Errorf("Expires %v is more than a year ahead", got)
			}
		})
	}
}

// TestKeyWarningBanner: signed-in staff see a warning on every staff page
// from 30 days before the primary key expires, and an error once it has;
// the public never sees it.
func TestKeyWarningBanner(t *testing.T) {
	t.Parallel()
	live := &liveKey{}
	e := newEnv(t, func(c *web.Config) { c.TeamKey = live.get })
	staff := e.viewerClient()
	anon := e.client()
	const banner = `data-testid="key-warning"`

	for _, tc := range []struct {
		name    string
		expires time.Time
		want    string // in the banner; "" for no banner
	}{
		{"NoExpiry", time.Time{}, ""},
		{"In31Days", t0.Add(31 * 24 * time.Hour), ""},
		{"In30Days", t0.Add(30 * 24 * time.Hour), "expires on 2026-04-09 12:00 UTC (in 30d 0h)"},
		{"In2Hours", t0.Add(2 * time.Hour), "expires on 2026-03-10 14:00 UTC (in 2h 0m)"},
		{"Expired", t0.Add(-time.Hour), "expired on 2026-03-10 11:00 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live.set(publishedKey("C", tc.expires))
			for _, path := range []string{"/board", "/reports/" + strconv.FormatInt(e.xss.ID, 10)} {
				resp, body := e.get(staff, path)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d", path, resp.StatusCode)
				}
				if tc.want == "" {
					if strings.Contains(body, banner) {
						t.Errorf("%s shows a key warning for a key valid for more than 30 days", path)
					}
					continue
				}
				if !strings.Contains(body, banner) || !strings.Contains(body, tc.want) {
					t.Errorf("%s: no banner saying %q", path, tc.want)
				}
				if !strings.Contains(body, "CCCC CCCC") || !strings.Contains(body, "secinbox key rotate") {
					t.Errorf("%s: the banner does not name the key and what to do", path)
				}
			}
			for _, path := range []string{"/", "/policy", "/hall-of-fame", "/login"} {
				if _, body := e.get(anon, path); strings.Contains(body, banner) {
					t.Errorf("the public sees the key warning on %s", path)
				}
			}
		})
	}
}
