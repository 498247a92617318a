package db_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

func TestSite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := mustOpen(t)
	admin := mustCreateUser(t, d, "root@example.com", triage.RoleAdmin)
	if s, err := d.Site(ctx); err != nil || *s != (triage.Site{}) {
		t.Fatalf("default %+v %v", s, err)
	}
	_, _, err := d.Logo(ctx)
	wantCode(t, err, triage.ENOTFOUND)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRlogo")
	s := &triage.Site{Organisation: "Example Corp", ScopeIn: "- *.example.com"}
	if err := d.SetSite(ctx, s, png, actor(admin), t0); err != nil {
		t.Fatal(err)
	}
	got, _ := d.Site(ctx)
	if got.Organisation != "Example Corp" || got.LogoType != "image/png" || len(got.LogoSHA256) != 64 {
		t.Errorf("stored %+v", got)
	}
	if data, typ, err := d.Logo(ctx); err != nil || typ != "image/png" || !bytes.Equal(data, png) {
		t.Errorf("logo %q %v", typ, err)
	}
	// Texts alone keep the logo; an empty one removes it.
	if err := d.SetSite(ctx, &triage.Site{Organisation: "Example"}, nil, actor(admin), t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Site(ctx); got.LogoSHA256 == "" {
		t.Error("saving the texts dropped the logo")
	}
	if err := d.SetSite(ctx, &triage.Site{Organisation: "Example"}, []byte{}, actor(admin), t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Site(ctx); got.LogoType != "" {
		t.Error("logo not removed")
	}
	wantCode(t, d.SetSite(ctx, &triage.Site{}, []byte("<svg><script>alert(1)</script></svg>"), actor(admin), t0), triage.EINVALID)
	wantCode(t, d.SetSite(ctx, &triage.Site{Organisation: "a\nb"}, nil, actor(admin), t0), triage.EINVALID)
}
