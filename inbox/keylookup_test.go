package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// newKey generates a researcher key "name <email>" valid from now for
// lifetime (0: never expires).
func newKey(t *testing.T, name, email string, created time.Time, lifetime time.Duration) *openpgp.Entity {
	t.Helper()
	e, err := pgp.GenerateKey(name, email, created, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func publicBytes(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	b, err := pgp.PublicKeyBytes(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func armoredPublic(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	b, err := pgp.ArmorPublicKey(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyServer is a local WKD + VKS server. Paths map to answers; every
// request is recorded.
type keyServer struct {
	*httptest.Server
	mu       sync.Mutex
	answers  map[string][]byte // path (without query) -> body; missing: 404
	requests []string          // path?query
}

func newKeyServer(t *testing.T) *keyServer {
	ks := &keyServer{answers: map[string][]byte{}}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.mu.Lock()
		ks.requests = append(ks.requests, r.URL.RequestURI())
		body, ok := ks.answers[r.URL.EscapedPath()]
		ks.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) set(path string, body []byte) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.answers[path] = body
}

func (ks *keyServer) requested() []string {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return append([]string(nil), ks.requests...)
}

// lookupFor returns a KeyLookup whose three methods all ask ks: WKD under
// /adv/{domain} (advanced) and /direct/{domain} (direct), VKS at /vks.
func lookupFor(t *testing.T, ks *keyServer, now time.Time) *inbox.KeyLookup {
	t.Helper()
	l, err := inbox.NewKeyLookup(inbox.KeyLookupConfig{
		WKDAdvancedURL: ks.URL + "/adv/{domain}/.well-known/openpgpkey/{domain}",
		WKDDirectURL:   ks.URL + "/direct/{domain}/.well-known/openpgpkey",
		VKSURL:         ks.URL + "/vks",
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:            func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

const aliceAddr = "Alice.R@Researcher.Example"

// The WKD hash of "Alice.R": only ASCII upper case is lowered.
var (
	aliceHash     = pgp.WKDHash("Alice.R")
	advancedPath  = "/adv/researcher.example/.well-known/openpgpkey/researcher.example/hu/" + aliceHash
	directPath    = "/direct/researcher.example/.well-known/openpgpkey/hu/" + aliceHash
	vksPath       = "/vks/vks/v1/by-email/Alice.R%40researcher.example"
	lookupNow     = time.Now().Truncate(time.Second)
	keyCreatedAgo = lookupNow.Add(-time.Hour)
)

func TestKeyLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alice := newKey(t, "Alice R", "alice.r@researcher.example", keyCreatedAgo, 0)
	fpr := pgp.Fingerprint(alice)

	t.Run("WKDAdvanced", func(t *testing.T) {
		ks := newKeyServer(t)
		ks.set(advancedPath, publicBytes(t, alice))
		keys, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 {
			t.Fatalf("%d keys: %+v", len(keys), keys)
		}
		k := keys[0]
		if k.Source != triage.KeySourceWKD || k.Fingerprint != fpr || k.Email != "alice.r@researcher.example" ||
			k.UserID != "Alice R <alice.r@researcher.example>" || !k.LastSeen.Equal(lookupNow) || !k.ExpiresAt.IsZero() {
			t.Errorf("key %+v", k)
		}
		if len(k.KeyIDs) != 2 || k.KeyIDs[0] != fpr[24:] {
			t.Errorf("key ids %v (fingerprint %s)", k.KeyIDs, fpr)
		}
		if el, err := pgp.ReadPublicKeys(k.Public); err != nil || pgp.Fingerprint(el[0]) != fpr || el[0].PrivateKey != nil {
			t.Errorf("stored key material: %v", err)
		}
		reqs := ks.requested()
		// The local part is sent as typed (l=), hashed lower-cased.
		if len(reqs) == 0 || reqs[0] != advancedPath+"?l=Alice.R" {
			t.Errorf("requests %v", reqs)
		}
		for _, r := range reqs {
			if strings.HasPrefix(r, "/direct/") {
				t.Errorf("direct method asked although the advanced one answered: %v", reqs)
			}
		}
	})

	t.Run("WKDDirectFallback", func(t *testing.T) {
		ks := newKeyServer(t)
		ks.set(directPath, publicBytes(t, alice))
		keys, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr)
		if err != nil || len(keys) != 1 || keys[0].Source != triage.KeySourceWKD || keys[0].Fingerprint != fpr {
			t.Fatalf("keys %+v, %v", keys, err)
		}
		reqs := ks.requested()
		if len(reqs) < 2 || !strings.HasPrefix(reqs[0], "/adv/") || reqs[1] != directPath+"?l=Alice.R" {
			t.Errorf("requests %v, want advanced then direct", reqs)
		}
	})

	t.Run("VKS", func(t *testing.T) {
		ks := newKeyServer(t)
		ks.set(vksPath, armoredPublic(t, alice)) // keys.openpgp.org answers armored
		keys, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr)
		if err != nil || len(keys) != 1 || keys[0].Source != triage.KeySourceVKS || keys[0].Fingerprint != fpr {
			t.Fatalf("keys %+v, %v", keys, err)
		}
	})

	t.Run("Both", func(t *testing.T) {
		ks := newKeyServer(t)
		ks.set(advancedPath, publicBytes(t, alice))
		ks.set(vksPath, armoredPublic(t, alice))
		keys, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr)
		if err != nil || len(keys) != 2 || keys[0].Source != triage.KeySourceWKD || keys[1].Source != triage.KeySourceVKS {
			t.Fatalf("keys %+v, %v", keys, err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		ks := newKeyServer(t)
		keys, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr)
		if err != nil || len(keys) != 0 {
			t.Fatalf("keys %+v, %v; want none and no error", keys, err)
		}
		if n := len(ks.requested()); n != 3 {
			t.Errorf("%d requests, want advanced, direct and VKS", n)
		}
	})

	// Hostile answers: nothing of them is kept.
	mallory := newKey(t, "Mallory", "mallory@elsewhere.example", keyCreatedAgo, 0)
	expired := newKey(t, "Alice R", "alice.r@researcher.example", lookupNow.Add(-48*time.Hour), 24*time.Hour)
	locked, err := pgp.LockKey(alice, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	var many []byte
	for range 6 {
		many = append(many, publicBytes(t, newKey(t, "Alice R", "alice.r@researcher.example", keyCreatedAgo, 0))...)
	}
	huge := append(publicBytes(t, alice), bytes.Repeat([]byte{0}, 300<<10)...)
	for _, tc := range []struct {
		name    string
		body    []byte
		wantErr error // nil: no error, just no key
	}{
		{"WrongUserID", publicBytes(t, mallory), nil},
		{"Expired", publicBytes(t, expired), nil},
		{"SecretKey", locked, inbox.ErrSecretKey},
		{"TooManyKeys", many, inbox.ErrLookupRefused},
		{"Oversized", huge, inbox.ErrLookupRefused},
		{"Garbage", []byte("<html>not a key</html>"), pgp.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := newKeyServer(t)
			ks.set(advancedPath, tc.body)
			ks.set(directPath, tc.body)
			ks.set(vksPath, tc.body)
			keys, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr)
			if len(keys) != 0 {
				t.Fatalf("kept %d keys: %+v", len(keys), keys)
			}
			if tc.wantErr == nil && err != nil {
				t.Errorf("err %v, want none", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err %v, want %v", err, tc.wantErr)
			}
		})
	}

	t.Run("GoodKeyBesideHostileOne", func(t *testing.T) {
		ks := newKeyServer(t)
		ks.set(advancedPath, append(publicBytes(t, mallory), publicBytes(t, alice)...))
		keys, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr)
		if err != nil || len(keys) != 1 || keys[0].Fingerprint != fpr {
			t.Fatalf("keys %+v, %v", keys, err)
		}
	})

	t.Run("ServerError", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}))
		defer srv.Close()
		ks := &keyServer{Server: srv}
		if _, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr); err == nil {
			t.Error("no error when every method failed")
		}
	})

	t.Run("Redirects", func(t *testing.T) {
		var hops atomic.Int32
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hops.Add(1)
			http.Redirect(w, r, srv.URL+"/again"+r.URL.Path, http.StatusFound)
		}))
		defer srv.Close()
		ks := &keyServer{Server: srv}
		_, err := lookupFor(t, ks, lookupNow).FindKeys(ctx, aliceAddr)
		if !errors.Is(err, inbox.ErrLookupRefused) {
			t.Errorf("endless redirects: %v", err)
		}
		if n := hops.Load(); n > 3*5 {
			t.Errorf("%d requests for three lookups", n)
		}
	})

	t.Run("RedirectToPlainHTTPElsewhere", func(t *testing.T) {
		// A configured http host is trusted; a redirect to another plain
		// http host is not.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://keys.invalid.example/key", http.StatusFound)
		}))
		defer srv.Close()
		_, err := lookupFor(t, &keyServer{Server: srv}, lookupNow).FindKeys(ctx, aliceAddr)
		if !errors.Is(err, inbox.ErrLookupRefused) {
			t.Errorf("redirect to http elsewhere: %v", err)
		}
	})

	t.Run("BadAddresses", func(t *testing.T) {
		ks := newKeyServer(t)
		l := lookupFor(t, ks, lookupNow)
		for _, addr := range []string{"", "nobody", "a@localhost", "a@127.0.0.1", "a@[::1]", "a@exa_mple.org",
			"a@example.org/../x", "a@-x.example", "a@" + strings.Repeat("x", 64) + ".org", "\r\n@example.org"} {
			if _, err := l.FindKeys(ctx, addr); !errors.Is(err, inbox.ErrLookupRefused) {
				t.Errorf("%q: %v, want ErrLookupRefused", addr, err)
			}
		}
		if n := len(ks.requested()); n != 0 {
			t.Errorf("%d requests for refused addresses", n)
		}
	})
}

func TestNewKeyLookup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  inbox.KeyLookupConfig
		ok   bool
	}{
		{"Defaults", inbox.KeyLookupConfig{}, true},
		{"Off", inbox.KeyLookupConfig{WKDAdvancedURL: "off", WKDDirectURL: "off", VKSURL: "off"}, true},
		{"HTTPFixedHost", inbox.KeyLookupConfig{WKDDirectURL: "http://127.0.0.1:8080/wkd/{domain}"}, true},
		{"HTTPHostFromAddress", inbox.KeyLookupConfig{WKDDirectURL: "http://{domain}/.well-known/openpgpkey"}, false},
		{"NotAURL", inbox.KeyLookupConfig{VKSURL: "keys.openpgp.org"}, false},
		{"FTP", inbox.KeyLookupConfig{VKSURL: "ftp://keys.example"}, false},
		{"DomainInVKS", inbox.KeyLookupConfig{VKSURL: "https://{domain}"}, false},
		{"Query", inbox.KeyLookupConfig{VKSURL: "https://keys.example/?x=1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inbox.NewKeyLookup(tc.cfg)
			if (err == nil) != tc.ok {
				t.Errorf("err %v, want ok %v", err, tc.ok)
			}
		})
	}
	// With every method off nothing is asked and nothing found.
	l, _ := inbox.NewKeyLookup(inbox.KeyLookupConfig{WKDAdvancedURL: "off", WKDDirectURL: "off", VKSURL: "off"})
	if keys, err := l.FindKeys(context.Background(), "a@example.org"); err != nil || len(keys) != 0 {
		t.Errorf("%v %v", keys, err)
	}
}
