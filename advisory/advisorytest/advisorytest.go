// Package advisorytest validates advisory documents against the official
// JSON schemas, committed under testdata (README.md there names their
// sources and versions), with github.com/santhosh-tekuri/jsonschema/v6.
// Only tests import it: the schemas and the validator stay out of the
// secinbox binary.
package advisorytest

import (
	"bytes"
	"embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/*.json
var schemas embed.FS

// The schemas, by the URL documents and other schemas name them by.
var resources = []struct{ url, file string }{
	{"https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "csaf_json_schema.json"},
	{"https://docs.oasis-open.org/csaf/csaf/v2.0/provider_json_schema.json", "provider_json_schema.json"},
	{"https://www.first.org/cvss/cvss-v2.0.json", "cvss-v2.0.json"},
	{"https://www.first.org/cvss/cvss-v3.0.json", "cvss-v3.0.json"},
	{"https://www.first.org/cvss/cvss-v3.1.json", "cvss-v3.1.json"},
	{"https://raw.githubusercontent.com/ossf/osv-schema/main/validation/schema.json", "osv_schema.json"},
	{"https://secinbox.invalid/cve-services/5.1_published_cna_container.json", "cve_5.1_published_cna_container.json"},
}

// Schema URLs to validate against.
const (
	CSAF     = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	Provider = "https://docs.oasis-open.org/csaf/csaf/v2.0/provider_json_schema.json"
	OSV      = "https://raw.githubusercontent.com/ossf/osv-schema/main/validation/schema.json"
	// CVECNA is the body of CVE Services' POST /cve/{id}/cna,
	// {"cnaContainer": ...}, as CVE Services itself validates it.
	CVECNA = "https://secinbox.invalid/cve-services/5.1_published_cna_container.json"
)

var (
	once     sync.Once
	compiled map[string]*jsonschema.Schema
	loadErr  error
)

// noNetwork refuses every URL not added as a resource: validation never
// fetches anything.
type noNetwork struct{}

func (noNetwork) Load(url string) (any, error) {
	return nil, fmt.Errorf("advisorytest: %s is not a committed schema", url)
}

func load() {
	c := jsonschema.NewCompiler()
	c.UseLoader(noNetwork{})
	c.AssertFormat()
	for _, r := range resources {
		b, err := schemas.ReadFile("testdata/" + r.file)
		if err != nil {
			loadErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			loadErr = fmt.Errorf("%s: %w", r.file, err)
			return
		}
		if err := c.AddResource(r.url, doc); err != nil {
			loadErr = fmt.Errorf("%s: %w", r.file, err)
			return
		}
	}
	compiled = map[string]*jsonschema.Schema{}
	for _, u := range []string{CSAF, Provider, OSV, CVECNA} {
		s, err := c.Compile(u)
		if err != nil {
			loadErr = fmt.Errorf("compiling %s: %w", u, err)
			return
		}
		compiled[u] = s
	}
}

// Validate checks doc (JSON) against the schema at url (CSAF, Provider,
// OSV, CVECNA) and returns every violation, or nil.
func Validate(url string, doc []byte) error {
	once.Do(load)
	if loadErr != nil {
		return loadErr
	}
	s := compiled[url]
	if s == nil {
		return fmt.Errorf("advisorytest: no schema %s", url)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}
