package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/secinbox/secinbox/triage"
)

// relay is a local SMTP server standing in for the team's mail relay: it
// requires AUTH PLAIN and keeps what it is given.
type relay struct {
	addr string
	mu   sync.Mutex
	msgs []relayed
	got  chan struct{}
}

type relayed struct {
	from string
	to   []string
	data []byte
}

func startRelay(t *testing.T, user, pass string) *relay {
	t.Helper()
	r := &relay{got: make(chan struct{}, 100)}
	srv := gosmtp.NewServer(relayBackend{r: r, user: user, pass: pass})
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true // loopback, for the test: production relays need STARTTLS
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

// wait returns the n-th message the relay received (1-based), waiting
// up to timeout for it.
func (r *relay) wait(t *testing.T, n int, timeout time.Duration) relayed {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		if len(r.msgs) >= n {
			m := r.msgs[n-1]
			r.mu.Unlock()
			return m
		}
		r.mu.Unlock()
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("the relay received %d messages in %v, want %d", len(r.msgs), timeout, n)
		}
	}
}

type relayBackend struct {
	r          *relay
	user, pass string
}

func (b relayBackend) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &relaySession{b: b}, nil
}

type relaySession struct {
	b      relayBackend
	authed bool
	cur    relayed
}

func (s *relaySession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *relaySession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.b.user || password != s.b.pass {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *relaySession) Mail(from string, _ *gosmtp.MailOptions) error {
	if !s.authed {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.cur = relayed{from: from}
	return nil
}

func (s *relaySession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.b.r.mu.Lock()
	s.b.r.msgs = append(s.b.r.msgs, s.cur)
	s.b.r.mu.Unlock()
	s.b.r.got <- struct{}{}
	return nil
}

func (s *relaySession) Reset()        { s.cur = relayed{} }
func (s *relaySession) Logout() error { return nil }

// header returns a header field of a relayed message.
func (m relayed) header(t *testing.T, name string) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.data))
	if err != nil {
		t.Fatalf("relayed message does not parse: %v\n%s", err, m.data)
	}
	return msg.Header.Get(name)
}

// apiDo sends a JSON request with a bearer token and decodes the answer.
func (p *proc) apiDo(t *testing.T, token, method, path string, body, v any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url(path), rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// getPage GETs a public page and returns its body.
func getPage(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postForm posts a form to a public page and returns the final page.
func postForm(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// armoredBlock returns the first armored OpenPGP message in a mail.
func armoredBlock(t *testing.T, data []byte) string {
	t.Helper()
	s := string(data)
	i := strings.Index(s, "-----BEGIN PGP MESSAGE-----")
	j := strings.Index(s, "-----END PGP MESSAGE-----")
	if i < 0 || j < i {
		t.Fatalf("no armored OpenPGP message in the mail:\n%s", data)
	}
	return s[i:j+len("-----END PGP MESSAGE-----")] + "\n"
}

// researcherMail is a PGP/MIME mail as a researcher's client sends it.
func researcherMail(from, subject, messageID, inReplyTo, armored string) []byte {
	h := "From: " + from + "\nTo: security@localhost\nSubject: " + subject + "\nMessage-ID: " + messageID + "\n"
	if inReplyTo != "" {
		h += "In-Reply-To: " + inReplyTo + "\nReferences: " + inReplyTo + "\n"
	}
	return []byte(crlf(h + "MIME-Version: 1.0\n" +
		"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\n" +
		"\n--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n" +
		"--b1\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n" +
		armored + "\n--b1--\n"))
}

// TestResearcherJourney is issue 5's promise, tried as a researcher
// would: a report encrypted and signed with GnuPG gets an encrypted,
// signed acknowledgement through the relay within seconds; staff and
// researcher exchange replies that thread into the one report; the
// researcher accepts credit through the mailed link and finds the chosen
// name on the hall of fame — and nothing about the report is public
// before it is disclosed.
func TestResearcherJourney(t *testing.T) {
	t.Parallel()
	g := newGnuPG(t)
	rl := startRelay(t, "secinbox", "relay password")
	data := t.TempDir()
	p := startProc(t, data, "SECINBOX_RELAY="+rl.addr, "SECINBOX_RELAY_TLS=none",
		"SECINBOX_RELAY_USER=secinbox", "SECINBOX_RELAY_PASSWORD=relay password")

	// The researcher: a GnuPG key as GnuPG makes it by default (made once
	// by testdata/gen-keys.sh), and the team's key from the site.
	g.run("", "--import", "testdata/researcher.sec.asc")
	adaKey := g.run("", "--armor", "--export", "ada@example.org")
	_, teamKey := getPage(t, p.url("/pgp-key.asc"))
	g.run(teamKey, "--import")
	teamFpr := g.fprs("--list-keys", "security@localhost")[0]
	secret := "The login form at /admin/login is vulnerable to SQL injection in the user field."
	title := "SQLi in admin login"
	encrypt := func(text string) string {
		inner := crlf("Content-Type: multipart/mixed; boundary=\"in\"\n\n" +
			"--in\nContent-Type: text/plain; charset=utf-8\n\n" + text + "\n" +
			"--in\nContent-Type: application/pgp-keys; name=\"ada.asc\"\n" +
			"Content-Disposition: attachment; filename=\"ada.asc\"\n\n" + adaKey + "\n--in--\n")
		return g.run(inner, "--armor", "--sign", "--local-user", "ada@example.org",
			"--encrypt", "--recipient", "security@localhost")
	}
	// decrypt decrypts a relayed mail as Ada, and checks the team signed it.
	decrypt := func(m relayed) string {
		t.Helper()
		if len(m.to) != 1 || m.to[0] != "ada@example.org" {
			t.Errorf("relayed to %v", m.to)
		}
		if ct := m.header(t, "Content-Type"); !strings.HasPrefix(ct, "multipart/encrypted") {
			t.Errorf("Content-Type %q: not encrypted", ct)
		}
		if ac := m.header(t, "Autocrypt"); !strings.Contains(ac, "addr=security@localhost") {
			t.Errorf("Autocrypt header %q", ac)
		}
		out := g.run(armoredBlock(t, m.data), "--status-fd", "1", "--decrypt")
		for _, want := range []string{"DECRYPTION_OKAY", "GOODSIG", "VALIDSIG " + teamFpr} {
			if !strings.Contains(out, want) {
				t.Errorf("gpg --decrypt of the mail lacks %s:\n%s", want, out)
			}
		}
		return out
	}

	start := time.Now()
	if err := smtp.SendMail(p.smtpAddr, nil, "ada@example.org", []string{"security@localhost"},
		researcherMail("Ada Lovelace <ada@example.org>", title, "<report-1@example.org>", "", encrypt(secret))); err != nil {
		t.Fatal(err)
	}

	// 1. The acknowledgement: encrypted to Ada, signed by the team, in seconds.
	ack := rl.wait(t, 1, 20*time.Second)
	t.Logf("acknowledgement relayed %v after the report was sent", time.Since(start).Round(time.Millisecond))
	tracking := fmt.Sprintf("SEC-%d-0001", time.Now().UTC().Year())
	if got := ack.header(t, "Subject"); got != "["+tracking+"] Report received" {
		t.Errorf("acknowledgement subject %q", got)
	}
	if strings.Contains(string(ack.data), "SQL injection") || strings.Contains(string(ack.data), title) {
		t.Error("the acknowledgement carries the report in the clear")
	}
	if got := ack.header(t, "In-Reply-To"); got != "<report-1@example.org>" {
		t.Errorf("acknowledgement In-Reply-To %q", got)
	}
	text := decrypt(ack)
	for _, want := range []string{tracking, "24 hours", "/policy"} {
		if !strings.Contains(text, want) {
			t.Errorf("acknowledgement text lacks %q:\n%s", want, text)
		}
	}

	// 2. Staff reply from the API; it goes out encrypted and threaded, and
	// stops the first-response clock.
	addStaff(t, data, "lead@example.com", triage.RoleTriager)
	token := strings.TrimSpace(cli(t, data, "", "token", "create", "--user", "lead@example.com"))
	reports := p.waitReports(token, 1)
	id := reports[0].ID
	question := "Thank you, Ada. Which version did you test?"
	if code := p.apiDo(t, token, "POST", fmt.Sprintf("/api/v1/reports/%d/replies", id), map[string]string{"body": question}, nil); code != 201 {
		t.Fatalf("POST replies: %d", code)
	}
	reply := rl.wait(t, 2, 20*time.Second)
	if got := reply.header(t, "Subject"); !strings.Contains(got, "["+tracking+"]") {
		t.Errorf("reply subject %q", got)
	}
	if got := reply.header(t, "References"); !strings.Contains(got, "<report-1@example.org>") {
		t.Errorf("reply References %q", got)
	}
	if text := decrypt(reply); !strings.Contains(text, question) {
		t.Errorf("decrypted reply lacks the question:\n%s", text)
	}
	replyID := reply.header(t, "Message-ID")

	// 3. Ada answers, encrypted and signed, to the reply: it joins the report.
	answer := "Version 2.3.1 on Debian."
	if err := smtp.SendMail(p.smtpAddr, nil, "ada@example.org", []string{"security@localhost"},
		researcherMail("Ada Lovelace <ada@example.org>", "Re: ["+tracking+"] Your security report",
			"<answer-1@example.org>", replyID, encrypt(answer))); err != nil {
		t.Fatal(err)
	}
	type message struct {
		Direction string `json:"direction"`
		Body      string `json:"body"`
		Encrypted bool   `json:"encrypted"`
		Signature struct {
			Status string `json:"status"`
		} `json:"signature"`
		Delivery *struct {
			State string `json:"state"`
		} `json:"delivery"`
	}
	var full struct {
		Status string    `json:"status"`
		Msgs   []message `json:"messages"`
		SLA    struct {
			FirstResponse struct {
				State string `json:"state"`
			} `json:"first_response"`
		} `json:"sla"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		p.apiDo(t, token, "GET", fmt.Sprintf("/api/v1/reports/%d", id), nil, &full)
		if len(full.Msgs) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(full.Msgs) != 3 {
		t.Fatalf("the report has %d messages, want 3 (report, reply, answer): %+v", len(full.Msgs), full.Msgs)
	}
	dirs := full.Msgs[0].Direction + "," + full.Msgs[1].Direction + "," + full.Msgs[2].Direction
	if dirs != "in,out,in" {
		t.Errorf("message directions %s", dirs)
	}
	if m := full.Msgs[1]; !strings.Contains(m.Body, question) || m.Delivery == nil || m.Delivery.State != "sent" || !m.Encrypted {
		t.Errorf("staff reply in the timeline: %+v", m)
	}
	if m := full.Msgs[2]; !strings.Contains(m.Body, answer) || !m.Encrypted || m.Signature.Status != "good" {
		t.Errorf("Ada's answer in the timeline: %+v", m)
	}
	if full.SLA.FirstResponse.State != "met" {
		t.Errorf("first-response clock %q after the reply, want met", full.SLA.FirstResponse.State)
	}
	if n := len(p.waitReports(token, 1)); n != 1 {
		t.Errorf("%d reports, want the answer in the first one", n)
	}

	// 4. Credit: offered by staff, chosen by Ada through the mailed link.
	advisory := "SQL injection in the admin login (CVE-2026-0001)"
	if code := p.apiDo(t, token, "POST", fmt.Sprintf("/api/v1/reports/%d/credit-offer", id),
		map[string]string{"advisory_title": advisory, "message": "We would like to credit you."}, nil); code != 201 {
		t.Fatalf("POST credit-offer: %d", code)
	}
	offer := decrypt(rl.wait(t, 3, 20*time.Second))
	link := regexp.MustCompile(`/credit/[A-Za-z0-9_-]{20,}`).FindString(offer)
	if link == "" {
		t.Fatalf("no credit link in the offer:\n%s", offer)
	}
	code, page := getPage(t, p.url(link))
	if code != 200 || !strings.Contains(page, tracking) {
		t.Fatalf("credit page: %d\n%s", code, page)
	}
	public := func(what, body string) {
		t.Helper()
		for _, never := range []string{title, "user field", "admin/login", answer, question, "ada@example.org"} {
			if strings.Contains(body, never) {
				t.Errorf("%s shows %q", what, never)
			}
		}
	}
	public("the credit page", page)
	if code, _ := postForm(t, p.url(link), url.Values{"action": {"choose"}, "choice": {"name"},
		"name": {"Ada Lovelace"}, "link": {"https://ada.example.org"}}); code != 200 {
		t.Fatalf("choosing credit: %d", code)
	}

	// 5. The hall of fame: nothing while the report is new; Ada's name once
	// it is accepted; the advisory title only once it is disclosed.
	names := func() []string {
		t.Helper()
		_, body := getPage(t, p.url("/hall-of-fame.json"))
		public("/hall-of-fame.json", body)
		var h struct {
			Years []struct {
				Researchers []struct {
					Name       string   `json:"name"`
					Reports    int      `json:"reports"`
					Advisories []string `json:"advisories"`
				} `json:"researchers"`
			} `json:"years"`
		}
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			t.Fatalf("hall of fame JSON: %v\n%s", err, body)
		}
		var out []string
		for _, y := range h.Years {
			for _, r := range y.Researchers {
				out = append(out, fmt.Sprintf("%s (%d) %s", r.Name, r.Reports, strings.Join(r.Advisories, "; ")))
			}
		}
		return out
	}
	if got := names(); len(got) != 0 {
		t.Errorf("hall of fame lists %q before the report is accepted", got)
	}
	patch := func(status string) {
		t.Helper()
		if code := p.apiDo(t, token, "PATCH", fmt.Sprintf("/api/v1/reports/%d", id), map[string]string{"status": status}, nil); code != 200 {
			t.Fatalf("PATCH status %s: %d", status, code)
		}
	}
	patch("triaging")
	patch("accepted")
	if got := strings.Join(names(), "|"); got != "Ada Lovelace (1) " {
		t.Errorf("hall of fame after acceptance: %q, want exactly Ada Lovelace with 1 report", got)
	}
	for _, path := range []string{"/hall-of-fame", "/hall-of-fame.atom", "/.well-known/security.txt", "/policy", "/"} {
		_, body := getPage(t, p.url(path))
		public(path, body)
		if path == "/hall-of-fame" && !strings.Contains(body, "Ada Lovelace") {
			t.Errorf("/hall-of-fame does not show Ada Lovelace")
		}
		if strings.Contains(body, advisory) {
			t.Errorf("%s shows the advisory title before disclosure", path)
		}
	}
	patch("fixing")
	patch("fixed")
	patch("disclosed")
	if got := strings.Join(names(), "|"); got != "Ada Lovelace (1) "+advisory {
		t.Errorf("hall of fame after disclosure: %q", got)
	}
}
