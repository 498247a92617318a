// Package cveservices is a client of CVE Services, the CVE Program's API
// (https://cveawg.mitre.org/api, documented at
// https://cveawg.mitre.org/api-docs/): a CNA reserves CVE IDs and
// publishes the CNA container of their records. It authenticates with
// the CVE-API-ORG, CVE-API-USER and CVE-API-KEY headers; the key never
// appears in an error or a log.
package cveservices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultURL is the production CVE Services API.
const DefaultURL = "https://cveawg.mitre.org/api"

// Client talks to CVE Services as one user of one CNA.
type Client struct {
	BaseURL string // "https://cveawg.mitre.org/api", without a trailing slash
	Org     string // the CNA's short name
	User    string // the user's name (an email address)
	Key     string // the user's API key
	HTTP    *http.Client
}

// Limits of one call.
const (
	timeout     = 30 * time.Second
	maxResponse = 1 << 20
)

// ErrNotConfigured is returned by a nil client.
var ErrNotConfigured = errors.New("cveservices: not configured")

// Check validates the configuration, for startup; it names the setting
// that is wrong.
func (c *Client) Check() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("cve-api-url: an absolute http(s) URL, such as %s", DefaultURL)
	case c.Org == "":
		return errors.New("cve-api-org: the CNA's short name is required with CVE Services")
	case c.User == "":
		return errors.New("cve-api-user: the CVE Services user is required")
	case c.Key == "":
		return errors.New("cve-api-key (or cve-api-key-file): the CVE Services API key is required")
	}
	return nil
}

var cveIDRE = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)

// ValidID reports whether s is a CVE ID.
func ValidID(s string) bool { return cveIDRE.MatchString(s) }

// Reserve reserves one CVE ID of year for the CNA (POST /cve-id) and
// returns it.
func (c *Client) Reserve(ctx context.Context, year int) (string, error) {
	if c == nil {
		return "", ErrNotConfigured
	}
	q := url.Values{"amount": {"1"}, "cve_year": {strconv.Itoa(year)}, "short_name": {c.Org}}
	var out struct {
		CVEIDs []struct {
			CVEID string `json:"cve_id"`
		} `json:"cve_ids"`
	}
	if err := c.do(ctx, http.MethodPost, "/cve-id?"+q.Encode(), nil, &out); err != nil {
		return "", fmt.Errorf("cveservices: reserve: %w", err)
	}
	if len(out.CVEIDs) != 1 || !ValidID(out.CVEIDs[0].CVEID) {
		return "", errors.New("cveservices: reserve: the answer holds no CVE ID")
	}
	return out.CVEIDs[0].CVEID, nil
}

// Publish publishes the record of CVE ID id with the CNA container body
// ({"cnaContainer": {...}}, advisory.CVE): POST /cve/{id}/cna, or PUT
// to update a record already published.
func (c *Client) Publish(ctx context.Context, id string, body []byte, update bool) error {
	if c == nil {
		return ErrNotConfigured
	}
	if !ValidID(id) {
		return fmt.Errorf("cveservices: publish: %q is not a CVE ID", id)
	}
	method := http.MethodPost
	if update {
		method = http.MethodPut
	}
	if err := c.do(ctx, method, "/cve/"+id+"/cna", body, nil); err != nil {
		return fmt.Errorf("cveservices: publish %s: %w", id, err)
	}
	return nil
}

// do makes one call; an answer but 2xx is an error carrying CVE
// Services' message.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("CVE-API-ORG", c.Org)
	req.Header.Set("CVE-API-USER", c.User)
	req.Header.Set("CVE-API-KEY", c.Key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "secinbox")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // not the URL: keep errors short and free of query strings
		}
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		msg := strings.TrimSpace(e.Error + ": " + e.Message)
		if msg == ":" {
			msg = "no message"
		}
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return fmt.Errorf("CVE Services answered %s (%s)", resp.Status, msg)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("CVE Services answered malformed JSON: %w", err)
	}
	return nil
}
