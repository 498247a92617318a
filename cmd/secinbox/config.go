package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/secinbox/secinbox/certs"
	"github.com/secinbox/secinbox/cveservices"
	"github.com/secinbox/secinbox/inbox"
)

// Config is every setting of secinbox. Each is a flag whose default comes
// from an environment variable, so `secinbox serve` runs with none.
type Config struct {
	Data              string
	SMTPAddr          string
	HTTPAddr          string
	Domain            string
	PublicURL         string
	Addresses         string
	KeyPassphrase     string
	KeyPassphraseFile string
	KeyLifetime       time.Duration
	TLSCert           string
	TLSKey            string
	MaxMessageBytes   int64
	SMTPMaxConns      int64
	SMTPMaxConnsPerIP int64
	LogFormat         string
	LogLevel          string
	WKDAdvancedURL    string
	WKDDirectURL      string
	VKSURL            string
	WebhookURL        string
	WebhookSecret     string
	WebhookSecretFile string

	// Outbound mail and the conversation with researchers (issue 5).
	Relay             string
	RelayUser         string
	RelayPassword     string
	RelayPasswordFile string
	RelayTLS          string
	Maildir           string
	NotifyEmail       string
	AckPerSender      int64
	AckPerHour        int64
	SecurityTxtHiring string
	SecurityTxtCSAF   string
	// AdvisoryPublisher names the publisher of advisories, and CVEAPI*
	// reach CVE Services (advisory.go).
	AdvisoryPublisher string
	CVEAPIURL         string
	CVEAPIUser        string
	CVEAPIOrg         string
	CVEAPIKey         string
	CVEAPIKeyFile     string

	// Operations (issue 13).
	TrustedProxies string

	// Backups and replication (issue 13).
	BackupRecipient     string
	ReplicaURL          string
	ReplicaS3Endpoint   string
	ReplicaSyncInterval time.Duration

	// TLS of its own and the mail domain's DNS (issue 12, tls.go, dns.go).
	SMTPHostname     string
	ACME             string
	ACMEEmail        string
	ACMEDirectory    string
	HTTPRedirectAddr string

	// Mailbox intake over IMAP (issue 12).
	IMAPURL             string
	IMAPPassword        string
	IMAPPasswordFile    string
	IMAPOAuth2TokenFile string
	IMAPTLS             string
	IMAPDoneFolder      string
	IMAPPollInterval    time.Duration

	// Single sign-on with OpenID Connect (issue 13; oidc.go).
	OIDCIssuer           string
	OIDCClientID         string
	OIDCClientSecret     string
	OIDCClientSecretFile string
	OIDCScopes           string
	OIDCRolesClaim       string
	OIDCRoleMap          string
}

// setting is one flag: its name, the environment variable its default
// comes from, the built-in default, and the variable it sets.
type setting struct {
	flag, env, def, usage string
	value                 flag.Value
}

func (c *Config) settings() []setting {
	return []setting{
		{"data", "SECINBOX_DATA", "./data", "`directory` for the database and other state", (*stringValue)(&c.Data)},
		{"smtp-addr", "SECINBOX_SMTP_ADDR", ":2525", "SMTP listen `address`", (*stringValue)(&c.SMTPAddr)},
		{"http-addr", "SECINBOX_HTTP_ADDR", ":8080", "HTTP listen `address`", (*stringValue)(&c.HTTPAddr)},
		{"domain", "SECINBOX_DOMAIN", "localhost", "mail `domain`: mail to security@DOMAIN is accepted", (*stringValue)(&c.Domain)},
		{"public-url", "SECINBOX_PUBLIC_URL", "", "public base `URL` of the web UI; empty: http://DOMAIN:PORT", (*stringValue)(&c.PublicURL)},
		{"addresses", "SECINBOX_ADDRESSES", "", "further accepted `addresses` (aliases), comma-separated", (*stringValue)(&c.Addresses)},
		{"key-passphrase", "SECINBOX_KEY_PASSPHRASE", "", "`passphrase` protecting the team's secret keys (prefer the variable or the file)", (*secret)(&c.KeyPassphrase)},
		{"key-passphrase-file", "SECINBOX_KEY_PASSPHRASE_FILE", "", "`file` holding the key passphrase", (*stringValue)(&c.KeyPassphraseFile)},
		{"key-lifetime", "SECINBOX_KEY_LIFETIME", "17520h", "how long a generated team key is valid (`duration`; 0: no expiry)", (*durationValue)(&c.KeyLifetime)},
		{"tls-cert", "SECINBOX_TLS_CERT", "", "PEM certificate `file`: enables STARTTLS and HTTPS", (*stringValue)(&c.TLSCert)},
		{"tls-key", "SECINBOX_TLS_KEY", "", "PEM private key `file` for -tls-cert", (*stringValue)(&c.TLSKey)},
		{"max-message-bytes", "SECINBOX_MAX_MESSAGE_BYTES", "26214400", "largest message accepted over SMTP, in `bytes`", (*int64Value)(&c.MaxMessageBytes)},
		{"smtp-max-conns", "SECINBOX_SMTP_MAX_CONNS", "100", "`number` of concurrent SMTP connections in total", (*int64Value)(&c.SMTPMaxConns)},
		{"smtp-max-conns-per-ip", "SECINBOX_SMTP_MAX_CONNS_PER_IP", "10", "`number` of concurrent SMTP connections from one client IP", (*int64Value)(&c.SMTPMaxConnsPerIP)},
		{"log-format", "SECINBOX_LOG_FORMAT", "text", "log `format`: text or json", choice(&c.LogFormat, "text", "json")},
		{"log-level", "SECINBOX_LOG_LEVEL", "info", "log `level`: debug, info, warn, error", choice(&c.LogLevel, "debug", "info", "warn", "error")},
		{"wkd-advanced-url", "SECINBOX_WKD_ADVANCED_URL", inbox.DefaultWKDAdvancedURL, "Web Key Directory advanced-method `template` for researcher key lookups ({domain}: their domain; off: not used)", (*stringValue)(&c.WKDAdvancedURL)},
		{"wkd-direct-url", "SECINBOX_WKD_DIRECT_URL", inbox.DefaultWKDDirectURL, "Web Key Directory direct-method `template` for researcher key lookups ({domain}: their domain; off: not used)", (*stringValue)(&c.WKDDirectURL)},
		{"vks-url", "SECINBOX_VKS_URL", inbox.DefaultVKSURL, "verifying keyserver base `URL` (VKS API) for researcher key lookups (off: not used)", (*stringValue)(&c.VKSURL)},
		{"webhook-url", "SECINBOX_WEBHOOK_URL", "", "`URL` that receives SLA notifications (due within 2 h, breached) as signed JSON POSTs", (*stringValue)(&c.WebhookURL)},
		{"webhook-secret", "SECINBOX_WEBHOOK_SECRET", "", "`secret` signing the webhook's requests (HMAC-SHA256; prefer the variable or the file)", (*secret)(&c.WebhookSecret)},
		{"webhook-secret-file", "SECINBOX_WEBHOOK_SECRET_FILE", "", "`file` holding the webhook secret", (*stringValue)(&c.WebhookSecretFile)},
		{"relay", "SECINBOX_RELAY", "", "mail relay `host:port` for outgoing mail (acknowledgements, replies, credit offers, notifications); empty: mail stays in the outbox", (*stringValue)(&c.Relay)},
		{"relay-user", "SECINBOX_RELAY_USER", "", "`user name` for the relay's AUTH PLAIN/LOGIN; empty: no AUTH", (*stringValue)(&c.RelayUser)},
		{"relay-password", "SECINBOX_RELAY_PASSWORD", "", "relay `password` (prefer the variable or the file)", (*secret)(&c.RelayPassword)},
		{"relay-password-file", "SECINBOX_RELAY_PASSWORD_FILE", "", "`file` holding the relay password", (*stringValue)(&c.RelayPasswordFile)},
		{"relay-tls", "SECINBOX_RELAY_TLS", "starttls", "TLS to the relay (`mode`): starttls (required), tls (implicit, port 465), or none (loopback relays only)", choice(&c.RelayTLS, "starttls", "tls", "none")},
		{"maildir", "SECINBOX_MAILDIR", "", "with no relay, write outgoing mail to this maildir `directory` (for local testing)", (*stringValue)(&c.Maildir)},
		{"notify-email", "SECINBOX_NOTIFY_EMAIL", "", "team `addresses` (comma-separated) that receive SLA notifications by mail", (*stringValue)(&c.NotifyEmail)},
		{"ack-per-sender", "SECINBOX_ACK_PER_SENDER", "3", "most automatic acknowledgements to one address per hour (`number`)", (*int64Value)(&c.AckPerSender)},
		{"ack-per-hour", "SECINBOX_ACK_PER_HOUR", "100", "most automatic acknowledgements in total per hour (`number`)", (*int64Value)(&c.AckPerHour)},
		{"securitytxt-hiring", "SECINBOX_SECURITYTXT_HIRING", "", "https `URL` of security jobs, published as security.txt's Hiring", (*stringValue)(&c.SecurityTxtHiring)},
		{"securitytxt-csaf", "SECINBOX_SECURITYTXT_CSAF", "", "https `URL` of the CSAF provider-metadata.json, published as security.txt's CSAF (default: secinbox's own, when the public URL is https)", (*stringValue)(&c.SecurityTxtCSAF)},
		{"advisory-publisher", "SECINBOX_ADVISORY_PUBLISHER", "", "the organization `name` published advisories give as publisher and vendor (default: the domain)", (*stringValue)(&c.AdvisoryPublisher)},
		{"cve-api-url", "SECINBOX_CVE_API_URL", cveservices.DefaultURL, "CVE Services API base `URL`", (*stringValue)(&c.CVEAPIURL)},
		{"cve-api-user", "SECINBOX_CVE_API_USER", "", "CVE Services `user`: with -cve-api-org and the key, triagers reserve CVE IDs and publish their records", (*stringValue)(&c.CVEAPIUser)},
		{"cve-api-org", "SECINBOX_CVE_API_ORG", "", "the CNA's CVE Services short `name`", (*stringValue)(&c.CVEAPIOrg)},
		{"cve-api-key", "SECINBOX_CVE_API_KEY", "", "CVE Services API `key` (prefer the variable or the file)", (*secret)(&c.CVEAPIKey)},
		{"cve-api-key-file", "SECINBOX_CVE_API_KEY_FILE", "", "`file` holding the CVE Services API key", (*stringValue)(&c.CVEAPIKeyFile)},
		{"trusted-proxies", "SECINBOX_TRUSTED_PROXIES", "", "reverse proxies in front of the web UI (comma-separated `CIDRs` or addresses): only from these is the client address taken from Forwarded/X-Forwarded-For and the scheme from X-Forwarded-Proto", (*stringValue)(&c.TrustedProxies)},
		{"backup-recipient", "SECINBOX_BACKUP_RECIPIENT", "", "age `recipients` (age1..., comma-separated) that 'secinbox backup' encrypts to when -to is not given; empty: the key passphrase", (*stringValue)(&c.BackupRecipient)},
		{"replica-url", "SECINBOX_REPLICA_URL", "", "replica `URL` (file:///path or s3://bucket/path) that serve streams the database to (Litestream) and 'secinbox restore -from-replica' reads; empty: no replication", (*stringValue)(&c.ReplicaURL)},
		{"replica-s3-endpoint", "SECINBOX_REPLICA_S3_ENDPOINT", "", "`URL` of the S3-compatible store (MinIO, R2, B2...) of an s3:// replica, addressed path-style; empty: AWS (an endpoint= in the replica URL wins). Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; region: AWS_REGION", (*stringValue)(&c.ReplicaS3Endpoint)},
		{"replica-sync-interval", "SECINBOX_REPLICA_SYNC_INTERVAL", "1s", "longest the replica lags behind the database (`duration`, 100ms to 1h)", (*durationValue)(&c.ReplicaSyncInterval)},
		{"smtp-hostname", "SECINBOX_SMTP_HOSTNAME", "", "the SMTP server's `host name`: the MX host, in its greeting, its certificate and the MTA-STS policy; empty: -domain", (*stringValue)(&c.SMTPHostname)},
		{"acme", "SECINBOX_ACME", "off", "on: obtain and renew TLS certificates for the public URL's host, the MX host, mta-sts.DOMAIN and openpgpkey.DOMAIN from an ACME CA, kept in DATA/acme (accepts the CA's terms of service)", choice(&c.ACME, "off", "on")},
		{"acme-email", "SECINBOX_ACME_EMAIL", "", "contact `address` given to the ACME CA", (*stringValue)(&c.ACMEEmail)},
		{"acme-directory", "SECINBOX_ACME_DIRECTORY", certs.LetsEncrypt, "the ACME CA's directory `URL`", (*stringValue)(&c.ACMEDirectory)},
		{"http-redirect-addr", "SECINBOX_HTTP_REDIRECT_ADDR", "", "plain HTTP listen `address` that redirects to HTTPS and answers ACME HTTP-01 challenges; empty: :80 with -acme on, none otherwise; off: none", (*stringValue)(&c.HTTPRedirectAddr)},
		{"imap-url", "SECINBOX_IMAP_URL", "", "mailboxes to fetch reports from (comma-separated `URLs`): imaps://user@host:993/INBOX (TLS) or imap://user@host:143/INBOX (STARTTLS required); empty: SMTP intake only", (*stringValue)(&c.IMAPURL)},
		{"imap-password", "SECINBOX_IMAP_PASSWORD", "", "mailbox `password`, for every mailbox that has no password file or token file (prefer the variable or the file)", (*secret)(&c.IMAPPassword)},
		{"imap-password-file", "SECINBOX_IMAP_PASSWORD_FILE", "", "`files` holding mailbox passwords: one for every mailbox, or one per -imap-url in the same order (comma-separated; an empty item: none)", (*stringValue)(&c.IMAPPasswordFile)},
		{"imap-oauth2-token-file", "SECINBOX_IMAP_OAUTH2_TOKEN_FILE", "", "`files` holding OAuth2 access tokens (Gmail, Microsoft 365), sent as XOAUTH2 and read again at each sign-in: one for every mailbox, or one per -imap-url (comma-separated; an empty item: password)", (*stringValue)(&c.IMAPOAuth2TokenFile)},
		{"imap-tls", "SECINBOX_IMAP_TLS", "auto", "TLS to the mailboxes (`mode`): auto (from the URL: imaps implicit, imap starttls), implicit, starttls, or none (imap:// on loopback only)", choice(&c.IMAPTLS, "auto", "implicit", "starttls", "none")},
		{"imap-done-folder", "SECINBOX_IMAP_DONE_FOLDER", "secinbox-filed", "`folder` each mailbox message is moved to once stored (created when missing)", (*stringValue)(&c.IMAPDoneFolder)},
		{"imap-poll-interval", "SECINBOX_IMAP_POLL_INTERVAL", "2m", "how often each mailbox is read through besides IDLE's notices (`duration`, 10s to 1h)", (*durationValue)(&c.IMAPPollInterval)},
		{"oidc-issuer", "SECINBOX_OIDC_ISSUER", "", "issuer `URL` of an OpenID Connect provider: turns on single sign-on (password sign-in is then for admins only)", (*stringValue)(&c.OIDCIssuer)},
		{"oidc-client-id", "SECINBOX_OIDC_CLIENT_ID", "", "client `id` of this site at the OpenID Connect provider", (*stringValue)(&c.OIDCClientID)},
		{"oidc-client-secret", "SECINBOX_OIDC_CLIENT_SECRET", "", "client `secret` at the OpenID Connect provider (prefer the variable or the file)", (*secret)(&c.OIDCClientSecret)},
		{"oidc-client-secret-file", "SECINBOX_OIDC_CLIENT_SECRET_FILE", "", "`file` holding the OpenID Connect client secret", (*stringValue)(&c.OIDCClientSecretFile)},
		{"oidc-scopes", "SECINBOX_OIDC_SCOPES", "openid email", "`scopes` asked of the OpenID Connect provider, space-separated (must include openid)", (*stringValue)(&c.OIDCScopes)},
		{"oidc-roles-claim", "SECINBOX_OIDC_ROLES_CLAIM", "groups", "ID token `claim` holding the user's groups or roles (a dotted path reaches into objects: realm_access.roles)", (*stringValue)(&c.OIDCRolesClaim)},
		{"oidc-role-map", "SECINBOX_OIDC_ROLE_MAP", "", "`group=role` pairs, comma-separated, mapping values of the roles claim to admin, triager or viewer; the highest wins", (*stringValue)(&c.OIDCRoleMap)},
	}
}

// register adds every setting to fs as a flag whose default is taken from
// the environment. It fails when an environment value does not parse.
func (c *Config) register(fs *flag.FlagSet) error {
	var errs []error
	for _, s := range c.settings() {
		fs.Var(s.value, s.flag, s.usage+" [$"+s.env+"]")
		v, ok := os.LookupEnv(s.env)
		if !ok {
			v = s.def
		}
		if err := fs.Set(s.flag, v); err != nil {
			errs = append(errs, fmt.Errorf("$%s: %w", s.env, err))
		}
		if _, isSecret := s.value.(*secret); !isSecret {
			fs.Lookup(s.flag).DefValue = v
		}
	}
	return errors.Join(errs...)
}

type stringValue string

// choiceValue is a setting that takes one of a few words.
type choiceValue struct {
	p     *string
	words []string
}

func choice(p *string, words ...string) *choiceValue { return &choiceValue{p: p, words: words} }

func (c *choiceValue) String() string {
	if c == nil || c.p == nil {
		return ""
	}
	return *c.p
}

func (c *choiceValue) Set(v string) error {
	for _, w := range c.words {
		if strings.EqualFold(v, w) {
			*c.p = w
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", v, strings.Join(c.words, ", "))
}

func (s *stringValue) String() string     { return string(*s) }
func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }

type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }
func (d *durationValue) Set(v string) error {
	x, err := time.ParseDuration(v)
	*d = durationValue(x)
	return err
}

type int64Value int64

func (n *int64Value) String() string { return strconv.FormatInt(int64(*n), 10) }
func (n *int64Value) Set(v string) error {
	x, err := strconv.ParseInt(v, 10, 64)
	*n = int64Value(x)
	return err
}

// check refuses settings that parse but cannot work together, naming the
// flag (each flag's variable is in `secinbox serve -h`).
func (c *Config) check() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("set both -tls-cert and -tls-key, or neither")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("-public-url must be an absolute http(s) URL like https://security.example.com, not %q", c.PublicURL)
		}
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	if err := c.checkTLS(); err != nil {
		return err
	}
	if err := c.checkOIDC(); err != nil {
		return err
	}
	return c.checkAckLimits()
}

// trustedProxies parses -trusted-proxies: CIDRs, or single addresses.
func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range splitList(c.TrustedProxies) {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			ip, ipErr := netip.ParseAddr(v)
			if ipErr != nil {
				return nil, fmt.Errorf("-trusted-proxies: %q is neither a CIDR (10.0.0.0/8) nor an address", v)
			}
			p = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (c *Config) aliases() []string { return splitList(c.Addresses) }

// publicURL is the configured public URL, or one derived from the domain
// and the HTTP port.
func (c *Config) publicURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	scheme := "http"
	if c.TLSCert != "" || c.acme() {
		scheme = "https"
	}
	port := c.HTTPAddr[strings.LastIndex(c.HTTPAddr, ":")+1:]
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") || port == "" {
		return scheme + "://" + c.Domain
	}
	return scheme + "://" + c.Domain + ":" + port
}

// secret is a string flag that never shows its value, not even as the
// default in -help output.
type secret string

func (s *secret) String() string     { return "" } // never shown
func (s *secret) Set(v string) error { *s = secret(v); return nil }
