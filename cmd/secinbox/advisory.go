package main

import (
	"github.com/secinbox/secinbox/cveservices"
	"github.com/secinbox/secinbox/web"
)

// cveServices builds the CVE Services client from -cve-api-user,
// -cve-api-org and the key (-cve-api-key or -cve-api-key-file): all of
// them, or none (nil: CVE IDs are recorded by hand).
func (c *Config) cveServices() (web.CVEServices, error) {
	key := c.CVEAPIKey
	if key == "" && c.CVEAPIKeyFile != "" {
		b, err := readSecretFile("CVE Services API key", c.CVEAPIKeyFile)
		if err != nil {
			return nil, err
		}
		key = string(b)
	}
	if c.CVEAPIUser == "" && c.CVEAPIOrg == "" && key == "" {
		return nil, nil
	}
	cl := &cveservices.Client{BaseURL: c.CVEAPIURL, User: c.CVEAPIUser, Org: c.CVEAPIOrg, Key: key}
	if err := cl.Check(); err != nil {
		return nil, err
	}
	return cl, nil
}
