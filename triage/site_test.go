package triage_test

import (
	"strings"
	"testing"

	"github.com/secinbox/secinbox/triage"
)

func TestSite_Validate(t *testing.T) {
	s := triage.Site{Organisation: "  Example \u202eCorp ", ScopeIn: "- *.example.com\r\n- the apps", Languages: "English, German"}
	if err := s.Validate(); err != nil || s.Organisation != "Example Corp" || s.ScopeIn != "- *.example.com\n- the apps" {
		t.Errorf("%+v %v", s, err)
	}
	for name, bad := range map[string]triage.Site{
		"organisation": {Organisation: "a\nb"},
		"scope_out":    {ScopeOut: strings.Repeat("x", triage.MaxSiteText+1)},
		"safe_harbour": {SafeHarbour: "nul\x00"},
		"languages":    {Languages: "en\nde"},
	} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLogoType(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	if typ, err := triage.LogoType(png); err != nil || typ != "image/png" {
		t.Errorf("png: %q %v", typ, err)
	}
	for name, data := range map[string][]byte{
		"svg":   []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		"html":  []byte("<html><script>alert(1)</script>"),
		"big":   append(png, make([]byte, triage.MaxLogoBytes)...),
		"empty": nil,
	} {
		if _, err := triage.LogoType(data); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
