package mailbox

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// TLS modes of a mailbox connection.
const (
	TLSImplicit = "implicit" // TLS from the first byte (imaps, port 993)
	TLSStartTLS = "starttls" // plain connection upgraded by STARTTLS, which is required (imap, port 143)
	TLSNone     = "none"     // no TLS at all: loopback servers only
)

// Account is one mailbox to fetch from: a server, a user and a folder.
type Account struct {
	// Name identifies the mailbox in logs, the status and the database:
	// its URL without secrets, scheme://user@host:port/folder.
	Name   string
	Addr   string // host:port
	Host   string // for the TLS certificate check
	User   string
	Folder string // "INBOX" unless the URL names another
	TLS    string // TLSImplicit, TLSStartTLS or TLSNone
}

// ParseURL reads a mailbox URL: imaps://user@host[:993][/folder] (TLS
// from the start) or imap://user@host[:143][/folder] (STARTTLS). The
// user may be an address (sec%40example.com or sec@example.com); the
// folder defaults to INBOX. mode is the TLS setting: "" takes the
// scheme's; TLSNone is allowed with imap:// on a loopback host only. A
// password in the URL is refused: it belongs in its own setting.
func ParseURL(raw, mode string) (Account, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return Account{}, fmt.Errorf("mailbox URL %q: %v", raw, err)
	}
	var a Account
	var port string
	switch strings.ToLower(u.Scheme) {
	case "imaps":
		a.TLS, port = TLSImplicit, "993"
	case "imap":
		a.TLS, port = TLSStartTLS, "143"
	default:
		return Account{}, fmt.Errorf("mailbox URL %q: the scheme must be imaps:// (TLS) or imap:// (STARTTLS)", redact(raw))
	}
	if u.User == nil || u.User.Username() == "" {
		return Account{}, fmt.Errorf("mailbox URL %q: no user name (imaps://user@host/INBOX)", redact(raw))
	}
	if _, has := u.User.Password(); has {
		return Account{}, fmt.Errorf("mailbox URL %q: put the password in its own setting, not in the URL", redact(raw))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return Account{}, fmt.Errorf("mailbox URL %q: no query or fragment allowed", raw)
	}
	a.User = u.User.Username()
	a.Host = strings.ToLower(u.Hostname())
	if a.Host == "" {
		return Account{}, fmt.Errorf("mailbox URL %q: no host", raw)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	a.Addr = net.JoinHostPort(a.Host, port)
	a.Folder = strings.TrimPrefix(u.Path, "/")
	if a.Folder == "" {
		a.Folder = "INBOX"
	}
	if strings.ContainsAny(a.Folder, "\r\n\x00") || strings.ContainsAny(a.User, "\r\n\x00") {
		return Account{}, fmt.Errorf("mailbox URL %q: control characters", raw)
	}
	switch mode {
	case "", a.TLS:
	case TLSNone:
		if a.TLS != TLSStartTLS {
			return Account{}, fmt.Errorf("mailbox URL %q: TLS mode none needs an imap:// URL", raw)
		}
		if !loopback(a.Host) {
			return Account{}, fmt.Errorf("mailbox URL %q: TLS mode none is for a server on this machine (loopback) only", raw)
		}
		a.TLS = TLSNone
	case TLSImplicit, TLSStartTLS:
		return Account{}, fmt.Errorf("mailbox URL %q: TLS mode %s does not go with the %s:// scheme (imaps:// is implicit, imap:// is starttls)", raw, mode, u.Scheme)
	default:
		return Account{}, fmt.Errorf("TLS mode %q is not one of implicit, starttls, none", mode)
	}
	scheme := "imaps"
	if a.TLS != TLSImplicit {
		scheme = "imap"
	}
	a.Name = scheme + "://" + a.User + "@" + a.Addr + "/" + a.Folder
	return a, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact drops a password from a URL for an error message.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	return raw
}
