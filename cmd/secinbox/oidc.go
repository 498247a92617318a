package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/secinbox/secinbox/triage"
	"github.com/secinbox/secinbox/web"
)

// Single sign-on settings (-oidc-*): checked by checkOIDC at start, turned
// into the web package's configuration by oidc.

// checkOIDC refuses single sign-on settings that cannot work, naming the
// flag. Without -oidc-issuer single sign-on is off, and the settings only
// it uses must be unset.
func (c *Config) checkOIDC() error {
	if c.OIDCIssuer == "" {
		for flag, v := range map[string]string{"-oidc-client-id": c.OIDCClientID, "-oidc-client-secret": c.OIDCClientSecret,
			"-oidc-client-secret-file": c.OIDCClientSecretFile, "-oidc-role-map": c.OIDCRoleMap} {
			if v != "" {
				return fmt.Errorf("%s is set but -oidc-issuer is not: set it to turn single sign-on on", flag)
			}
		}
		return nil
	}
	u, err := url.Parse(c.OIDCIssuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		!(u.Scheme == "https" || u.Scheme == "http" && loopbackHost(u.Hostname())) {
		return fmt.Errorf("-oidc-issuer must be the provider's https issuer URL, like https://login.example.com/realms/staff, not %q", c.OIDCIssuer)
	}
	if c.OIDCClientID == "" {
		return errors.New("-oidc-issuer needs -oidc-client-id")
	}
	if c.OIDCClientSecret == "" && c.OIDCClientSecretFile == "" {
		return errors.New("-oidc-issuer needs -oidc-client-secret or -oidc-client-secret-file")
	}
	if strings.TrimSpace(c.OIDCRolesClaim) == "" {
		return errors.New("-oidc-roles-claim must name the ID token claim holding the groups or roles, like groups")
	}
	if !slices.Contains(c.oidcScopes(), "openid") {
		return fmt.Errorf("-oidc-scopes must include openid, got %q", c.OIDCScopes)
	}
	_, err = parseRoleMap(c.OIDCRoleMap)
	return err
}

// loopbackHost reports whether host is this machine: an issuer there may
// be plain http (a provider for development).
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// oidcScopes splits -oidc-scopes at spaces and commas.
func (c *Config) oidcScopes() []string {
	return strings.FieldsFunc(c.OIDCScopes, func(r rune) bool { return r == ' ' || r == ',' })
}

// parseRoleMap parses -oidc-role-map: comma-separated group=role pairs
// (a group's name may hold '=': the role is after the last one).
func parseRoleMap(s string) (map[string]triage.Role, error) {
	m := map[string]triage.Role{}
	for pair := range strings.SplitSeq(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		i := strings.LastIndexByte(pair, '=')
		if i <= 0 {
			return nil, fmt.Errorf("-oidc-role-map: %q is not group=role", pair)
		}
		group := strings.TrimSpace(pair[:i])
		role, err := triage.ParseRole(strings.ToLower(strings.TrimSpace(pair[i+1:])))
		if err != nil {
			return nil, fmt.Errorf("-oidc-role-map: %q: %s", pair, triage.ErrorMessage(err))
		}
		if _, dup := m[group]; dup {
			return nil, fmt.Errorf("-oidc-role-map: %q is mapped twice", group)
		}
		m[group] = role
	}
	if len(m) == 0 {
		return nil, errors.New(`-oidc-issuer needs -oidc-role-map, like "secinbox-admins=admin,security=triager,staff=viewer": without it nobody would be granted a role`)
	}
	return m, nil
}

// oidc returns the single sign-on configuration, nil when -oidc-issuer
// is unset; it reads the client secret's file. The settings were checked
// by checkOIDC.
func (c *Config) oidc() (*web.OIDCConfig, error) {
	if c.OIDCIssuer == "" {
		return nil, nil
	}
	roles, err := parseRoleMap(c.OIDCRoleMap)
	if err != nil {
		return nil, err
	}
	secret := c.OIDCClientSecret
	if secret == "" {
		b, err := readSecretFile("OpenID Connect client secret", c.OIDCClientSecretFile)
		if err != nil {
			return nil, err
		}
		secret = string(b)
	}
	return &web.OIDCConfig{
		Issuer:       c.OIDCIssuer, // exactly: it is compared with what the provider says
		ClientID:     c.OIDCClientID,
		ClientSecret: secret,
		Scopes:       c.oidcScopes(),
		RolesClaim:   strings.TrimSpace(c.OIDCRolesClaim),
		RoleMap:      roles,
	}, nil
}
