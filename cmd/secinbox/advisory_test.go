package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secinbox/secinbox/cveservices"
)

func TestCVEServicesConfig(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "cve-key")
	os.WriteFile(keyFile, []byte("k3y\n"), 0o600)
	if cs, err := (&Config{CVEAPIURL: cveservices.DefaultURL}).cveServices(); cs != nil || err != nil {
		t.Errorf("none set: %v %v", cs, err)
	}
	for name, tc := range map[string]struct {
		c    Config
		flag string
	}{
		"NoOrg":       {Config{CVEAPIURL: cveservices.DefaultURL, CVEAPIUser: "u", CVEAPIKey: "k"}, "cve-api-org"},
		"NoKey":       {Config{CVEAPIURL: cveservices.DefaultURL, CVEAPIUser: "u", CVEAPIOrg: "o"}, "cve-api-key"},
		"BadURL":      {Config{CVEAPIURL: "cveawg.mitre.org", CVEAPIUser: "u", CVEAPIOrg: "o", CVEAPIKey: "k"}, "cve-api-url"},
		"MissingFile": {Config{CVEAPIURL: cveservices.DefaultURL, CVEAPIUser: "u", CVEAPIOrg: "o", CVEAPIKeyFile: keyFile + ".missing"}, "CVE Services API key"},
	} {
		if _, err := tc.c.cveServices(); err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%s: %v, want an error naming %s", name, err, tc.flag)
		}
	}
	cs, err := (&Config{CVEAPIURL: cveservices.DefaultURL, CVEAPIUser: "u", CVEAPIOrg: "o", CVEAPIKeyFile: keyFile}).cveServices()
	if err != nil || cs.(*cveservices.Client).Key != "k3y" {
		t.Errorf("key file: %v %v", cs, err)
	}
}
