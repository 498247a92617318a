package mtasts_test

import (
	"testing"

	"github.com/secinbox/secinbox/mtasts"
)

func TestPolicy_Text(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    mtasts.Policy
		want string
	}{
		{"Enforce", mtasts.Policy{Mode: mtasts.Enforce, MX: []string{"MX.example.com."}},
			"version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 604800\r\n"},
		{"Testing", mtasts.Policy{Mode: mtasts.Testing, MX: []string{"mx.example.com"}, MaxAge: 86400},
			"version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\nmax_age: 86400\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.p.Text()); got != tc.want {
				t.Errorf("Text() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPolicy_ID: the id is 1 to 32 letters and digits, the same for the
// same policy, and another one when anything in the policy changes.
func TestPolicy_ID(t *testing.T) {
	base := mtasts.Policy{Mode: mtasts.Testing, MX: []string{"mx.example.com"}}
	id := base.ID()
	if len(id) < 1 || len(id) > 32 {
		t.Fatalf("id %q: length %d", id, len(id))
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			t.Fatalf("id %q has %q", id, c)
		}
	}
	if again := (mtasts.Policy{Mode: mtasts.Testing, MX: []string{"mx.example.com"}}).ID(); again != id {
		t.Errorf("same policy, id %q then %q", id, again)
	}
	for _, other := range []mtasts.Policy{
		{Mode: mtasts.Enforce, MX: []string{"mx.example.com"}},
		{Mode: mtasts.Testing, MX: []string{"mx2.example.com"}},
		{Mode: mtasts.Testing, MX: []string{"mx.example.com"}, MaxAge: 86400},
	} {
		if other.ID() == id {
			t.Errorf("policy %+v has the same id as %+v", other, base)
		}
	}
	if txt := base.TXT(); txt != "v=STSv1; id="+id {
		t.Errorf("TXT() = %q", txt)
	}
}
