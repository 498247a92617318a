package mailbox

import (
	"net"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, mode, name, tls, folder, user string
		err                                string
	}{
		{raw: "imaps://security@example.com@imap.gmail.com/INBOX", name: "imaps://security@example.com@imap.gmail.com:993/INBOX", tls: TLSImplicit, folder: "INBOX", user: "security@example.com"},
		{raw: "imap://sec%40example.com@Mail.Example.com", name: "imap://sec@example.com@mail.example.com:143/INBOX", tls: TLSStartTLS, folder: "INBOX", user: "sec@example.com"},
		{raw: "imap://sec@127.0.0.1:1143/Security%20Reports", mode: TLSNone, name: "imap://sec@127.0.0.1:1143/Security Reports", tls: TLSNone, folder: "Security Reports", user: "sec"},
		{raw: "imap://sec@mail.example.com", mode: TLSNone, err: "loopback"},
		{raw: "imaps://sec@localhost", mode: TLSNone, err: "needs an imap:// URL"},
		{raw: "imaps://sec@localhost", mode: TLSStartTLS, err: "does not go with"},
		{raw: "imaps://sec:hunter2@localhost", err: "own setting"},
		{raw: "https://sec@localhost", err: "scheme"},
		{raw: "imaps://imap.example.com", err: "no user"},
		{raw: "imaps://sec@imap.example.com/INBOX?x=1", err: "query"},
	} {
		a, err := ParseURL(tc.raw, tc.mode)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %s: error %v, want one saying %q", tc.raw, tc.mode, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if a.Name != tc.name || a.TLS != tc.tls || a.Folder != tc.folder || a.User != tc.user {
			t.Errorf("%s: %+v", tc.raw, a)
		}
	}
}

// TestGuardConn_Literal: a literal announced over the limit is refused
// before the client reads it; one within passes, and a "{n}" inside a
// literal's data is not taken for an announcement.
func TestGuardConn_Literal(t *testing.T) {
	t.Parallel()
	read := func(server string, max int64) error {
		a, b := net.Pipe()
		go func() { b.Write([]byte(server)); b.Close() }()
		g := newGuardConn(a, max)
		buf := make([]byte, 7) // small reads: announcements split across them
		for {
			_, err := g.Read(buf)
			if err != nil {
				if err.Error() == "EOF" {
					return nil
				}
				return err
			}
		}
	}
	if err := read("* 1 FETCH (BODY[] {10}\r\n0123456789)\r\n", 10); err != nil {
		t.Errorf("literal at the limit: %v", err)
	}
	if err := read("* 1 FETCH (BODY[] {11}\r\n01234567890)\r\n", 10); err == nil || !strings.Contains(err.Error(), "literal of 11 bytes") {
		t.Errorf("literal over the limit: %v", err)
	}
	if err := read("* 1 FETCH (BODY[] {4294967295+}\r\n", 1<<20); err == nil {
		t.Error("a 4 GiB LITERAL+ announcement passed")
	}
	if err := read("* 1 FETCH (BODY[] {8}\r\n{99999}\n)\r\n", 10); err != nil {
		t.Errorf("an announcement inside literal data was taken for one: %v", err)
	}
	if err := read("* OK {99999} is just text\r\n", 10); err != nil {
		t.Errorf("braces in text: %v", err)
	}
	g := newGuardConn(nil, 10)
	g.reset(0)
	if _, err := g.Read(make([]byte, 1)); err != errBudget {
		t.Errorf("read over the budget: %v", err)
	}
}
