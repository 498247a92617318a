package inbox_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/mailauth"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// conv is the intake server and a Processor threading replies and
// queueing acknowledgements, over one real SQLite file: mail goes in
// over SMTP on loopback, the outbox and the conversation are read back
// from the database.
type conv struct {
	t      *testing.T
	ts     *testServer
	proc   *inbox.Processor
	team   openpgp.EntityList
	now    time.Time
	queued atomic.Int32 // outbox wakes
	seq    int
	log    lockedBuffer                     // the processor's log
	dns    *txtOnly                         // set by withDKIM
	check  atomic.Pointer[mailauth.Checker] // set by withDKIM; nil: no checks
}

// lockedBuffer is a log destination safe for the processor's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newConv(t *testing.T, opts ...func(*inbox.ProcessorConfig)) *conv {
	t.Helper()
	// A dotted domain, so that our own addresses are valid ones and are
	// refused for being ours, not for being malformed.
	ts := startServer(t, inbox.Config{Domain: convDomain, Addresses: []string{"psirt@" + convDomain}})
	team := loadTeam(t)
	c := &conv{t: t, ts: ts, team: team, now: time.Now().UTC().Truncate(time.Second)}
	cfg := inbox.ProcessorConfig{Store: ts.db, Conversation: ts.db, Keys: inbox.FixedKeys(team),
		Logger: slog.New(slog.NewTextHandler(&c.log, nil)), Domain: convDomain,
		OwnAddresses: inbox.AcceptedAddresses(convDomain, []string{"psirt@" + convDomain}),
		Outbox:       triage.WakeFunc(func() { c.queued.Add(1) }),
		// Nothing is checked until withDKIM installs a checker, as with
		// no Authenticate at all.
		Authenticate: func(ctx context.Context, raw *triage.RawMessage, from string) triage.Authentication {
			if ch := c.check.Load(); ch != nil {
				return ch.Check(ctx, raw, from)
			}
			return triage.Authentication{}
		}}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := inbox.NewProcessor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.proc = p
	return c
}

const convDomain = "secinbox.example"

// mail is a plain message from from with a fresh Message-ID, which it
// returns too; header holds further header fields ("Name: value\n").
func (c *conv) mail(from, subject, header, body string) (data, messageID string) {
	c.seq++
	messageID = fmt.Sprintf("<m%d.%d@researcher.example>", c.seq, c.now.UnixNano())
	return crlf("From: " + from + "\n" +
		"To: security@" + convDomain + "\n" +
		"Subject: " + subject + "\n" +
		"Date: " + c.now.Format(time.RFC1123Z) + "\n" +
		"Message-ID: " + messageID + "\n" +
		header +
		"\n" + body + "\n"), messageID
}

// encrypted is a PGP/MIME message to the team with a fresh Message-ID.
func (c *conv) encrypted(from, subject, header, body string) (data, messageID string) {
	c.seq++
	messageID = fmt.Sprintf("<e%d.%d@researcher.example>", c.seq, c.now.UnixNano())
	in := &intake{t: c.t, team: c.team, now: c.now}
	inner := "Content-Type: text/plain; charset=utf-8\n\n" + body + "\n"
	return in.pgpMIME(from, subject, "Message-ID: "+messageID+"\n"+header, inner, nil), messageID
}

// send mails data over SMTP with envelope sender envelope ("" for a
// bounce) and files it; it returns the raw message's id.
func (c *conv) send(envelope, data string) int64 {
	c.t.Helper()
	before := len(c.ts.filedIDs())
	if err := smtp.SendMail(c.ts.addr, nil, envelope, []string{"security@" + convDomain}, []byte(data)); err != nil {
		c.t.Fatalf("SendMail: %v", err)
	}
	ids := c.ts.filedIDs()
	if len(ids) != before+1 {
		c.t.Fatalf("%d messages committed, want %d", len(ids), before+1)
	}
	id := ids[len(ids)-1]
	if err := c.proc.File(context.Background(), id); err != nil {
		c.t.Fatalf("File: %v", err)
	}
	return id
}

// reports are every report filed so far.
func (c *conv) reports() []*triage.Report {
	c.t.Helper()
	list, err := c.ts.db.Reports(context.Background(), triage.ReportFilter{})
	if err != nil {
		c.t.Fatal(err)
	}
	return list
}

// report is the report filed from raw message id, or nil.
func (c *conv) report(id int64) *triage.Report {
	c.t.Helper()
	for _, r := range c.reports() {
		if r.MessageID == id {
			full, err := c.ts.db.Report(context.Background(), r.ID)
			if err != nil {
				c.t.Fatal(err)
			}
			return full
		}
	}
	return nil
}

// mustReport is report(id), which must exist.
func (c *conv) mustReport(id int64) *triage.Report {
	c.t.Helper()
	r := c.report(id)
	if r == nil {
		c.t.Fatalf("message %d was not filed as a report", id)
	}
	return r
}

// outbox is every outbox mail of report id.
func (c *conv) outbox(reportID int64) []*triage.OutMail {
	c.t.Helper()
	list, err := c.ts.db.Outbox(context.Background(), triage.OutboxFilter{ReportID: reportID})
	if err != nil {
		c.t.Fatal(err)
	}
	return list
}

// messages is the conversation of report id.
func (c *conv) messages(reportID int64) []*triage.Message {
	c.t.Helper()
	list, err := c.ts.db.Messages(context.Background(), reportID)
	if err != nil {
		c.t.Fatal(err)
	}
	return list
}

// TestAck_NewReport: a new report, readable or not, gets exactly one
// acknowledgement, queued to its From address and threaded under it.
func TestAck_NewReport(t *testing.T) {
	t.Parallel()
	c := newConv(t)
	data, msgID := c.mail("Researcher <r@Example.ORG>", "XSS in search", "", "Steps: open /search?q=<script>")
	r := c.mustReport(c.send("bounces+r@example.org", data))
	if r.HeaderMessageID != msgID {
		t.Errorf("report's Message-ID %q, want %q", r.HeaderMessageID, msgID)
	}
	out := c.outbox(r.ID)
	if len(out) != 1 {
		t.Fatalf("%d mails queued for the report, want 1 acknowledgement: %+v", len(out), out)
	}
	ack := out[0]
	if ack.Kind != triage.MailAck || ack.To != "r@example.org" || ack.Subject != triage.AckSubject(r.TrackingID) ||
		ack.ReportID != r.ID || ack.State != triage.DeliveryQueued {
		t.Errorf("acknowledgement %+v", ack)
	}
	if ack.InReplyTo != msgID || len(ack.References) != 1 || ack.References[0] != msgID {
		t.Errorf("acknowledgement threads under %q %q, want the report's %q", ack.InReplyTo, ack.References, msgID)
	}
	if !strings.HasPrefix(ack.HeaderMessageID, "<") || !strings.HasSuffix(ack.HeaderMessageID, "@"+convDomain+">") {
		t.Errorf("acknowledgement Message-ID %q, want one of ours", ack.HeaderMessageID)
	}
	if ack.Body != "" {
		t.Errorf("acknowledgement stored with a body %q: the sender renders it", ack.Body)
	}
	if n := c.queued.Load(); n != 1 {
		t.Errorf("OnQueued called %d times, want 1", n)
	}
	if log := c.log.String(); strings.Contains(log, "no acknowledgement") {
		t.Errorf("log says no acknowledgement:\n%s", log)
	}

	t.Run("undecryptable", func(t *testing.T) {
		r := c.mustReport(c.send("alice@researcher.example", string(fixture(t, "pgpmime-other-key.eml"))))
		if r.Status != triage.StatusUndecryptable {
			t.Fatalf("status %s, want undecryptable", r.Status)
		}
		if out := c.outbox(r.ID); len(out) != 1 || out[0].Kind != triage.MailAck || out[0].To != "alice@researcher.example" {
			t.Errorf("outbox of the undecryptable report: %+v", out)
		}
	})
}

// TestAck_NotSent: bounces, automated and list mail, our own address and
// the limits get no acknowledgement; the report is filed all the same.
func TestAck_NotSent(t *testing.T) {
	t.Parallel()
	dsn := "MIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"r1\"\n"
	dsnBody := "--r1\nContent-Type: text/plain\n\nDelivery failed.\n" +
		"--r1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
		"Final-Recipient: rfc822; someone@example.net\nAction: failed\nStatus: 5.1.1\n" +
		"--r1--"
	for _, tc := range []struct {
		name, envelope, from, header, body string
		reason                             string // in the log line
	}{
		{"null sender", "", "r@example.org", "", "a bounce", "bounce"},
		{"Auto-Submitted", "r@example.org", "r@example.org", "Auto-Submitted: auto-replied\n", "I am away", "automated"},
		{"List-Id", "r@example.org", "r@example.org", "List-Id: Security talk <talk.lists.example.org>\n", "a list post", "mailing list"},
		{"Precedence bulk", "r@example.org", "r@example.org", "Precedence: bulk\n", "newsletter", "automated"},
		{"delivery report", "r@example.org", "r@example.org", dsn, dsnBody, "automated"},
		{"our own address", "x@example.net", "Security <security@" + convDomain + ">", "", "a loop", "our own"},
		{"our alias", "x@example.net", "PSIRT@" + convDomain, "", "a loop", "our own"},
		{"MAILER-DAEMON", "x@example.net", "MAILER-DAEMON@mx.example.net", "", "undeliverable", "mailer-daemon"},
		{"no From", "x@example.net", "", "", "who am I", "no From"},
		// An internationalized address (SMTPUTF8) gets none: outgoing
		// mail does not use SMTPUTF8 (triage.ValidAddress).
		{"UTF-8 address", "rené@exämple.org", "rené@exämple.org", "", "Grüße", "invalid From"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConv(t)
			data, _ := c.mail(tc.from, "Report", tc.header, tc.body)
			if tc.from == "" {
				data = strings.Replace(data, "From: \r\n", "", 1)
			}
			r := c.mustReport(c.send(tc.envelope, data))
			if out := c.outbox(r.ID); len(out) != 0 {
				t.Errorf("%d mails queued, want none: %+v", len(out), out)
			}
			if n := c.queued.Load(); n != 0 {
				t.Errorf("outbox woken %d times, want 0", n)
			}
			if log := c.log.String(); !strings.Contains(log, "no acknowledgement") || !strings.Contains(log, tc.reason) {
				t.Errorf("log does not say why (%q):\n%s", tc.reason, log)
			}
		})
	}

	t.Run("per sender", func(t *testing.T) {
		c := newConv(t, func(cfg *inbox.ProcessorConfig) { cfg.AckPerSender = 2 })
		var acked []int
		for i := range 3 {
			data, _ := c.mail("r@example.org", fmt.Sprintf("Report %d", i), "", "body")
			r := c.mustReport(c.send("r@example.org", data))
			acked = append(acked, len(c.outbox(r.ID)))
		}
		// Another sender is not held back by the first one's limit.
		data, _ := c.mail("s@example.org", "Report", "", "body")
		r := c.mustReport(c.send("s@example.org", data))
		acked = append(acked, len(c.outbox(r.ID)))
		if !strings.Contains(c.log.String(), "per-recipient acknowledgement limit") {
			t.Errorf("log does not say why:\n%s", c.log.String())
		}
		if fmt.Sprint(acked) != "[1 1 0 1]" {
			t.Errorf("acknowledgements per report %v, want [1 1 0 1]", acked)
		}
		// Writing the address in capitals does not get around the limit.
		data, _ = c.mail("R@EXAMPLE.org", "Report", "", "body")
		if r := c.mustReport(c.send("r@example.org", data)); len(c.outbox(r.ID)) != 0 {
			t.Error("an address in capitals got around the per-recipient limit")
		}
		if n := c.queued.Load(); n != 3 {
			t.Errorf("outbox woken %d times, want 3", n)
		}
	})

	t.Run("default per sender", func(t *testing.T) {
		c := newConv(t)
		var acked []int
		for i := range inbox.DefaultAckPerSender + 1 {
			data, _ := c.mail("r@example.org", fmt.Sprintf("Report %d", i), "", "body")
			r := c.mustReport(c.send("r@example.org", data))
			acked = append(acked, len(c.outbox(r.ID)))
		}
		if fmt.Sprint(acked) != "[1 1 1 0]" {
			t.Errorf("acknowledgements per report %v, want [1 1 1 0]", acked)
		}
	})

	t.Run("global cap", func(t *testing.T) {
		c := newConv(t, func(cfg *inbox.ProcessorConfig) { cfg.AckPerHour = 2 })
		var acked []int
		for i := range 3 {
			from := fmt.Sprintf("r%d@example.org", i)
			data, _ := c.mail(from, "Report", "", "body")
			r := c.mustReport(c.send(from, data))
			acked = append(acked, len(c.outbox(r.ID)))
		}
		if !strings.Contains(c.log.String(), "hourly acknowledgement cap") {
			t.Errorf("log does not say why:\n%s", c.log.String())
		}
		if fmt.Sprint(acked) != "[1 1 0]" {
			t.Errorf("acknowledgements per report %v, want [1 1 0]", acked)
		}
	})
}

// TestThread_ReplyToAck: an encrypted reply whose In-Reply-To names the
// acknowledgement joins the report, decrypted, without a second report
// or a second acknowledgement.
func TestThread_ReplyToAck(t *testing.T) {
	t.Parallel()
	c := newConv(t)
	data, _ := c.mail("r@example.org", "SQL injection in /admin", "", "The login form is injectable.")
	r := c.mustReport(c.send("r@example.org", data))
	out := c.outbox(r.ID)
	if len(out) != 1 {
		t.Fatalf("%d mails queued, want the acknowledgement", len(out))
	}
	ackID := out[0].HeaderMessageID

	// No tracking id in the subject: only the thread fields lead to the report.
	reply, replyID := c.encrypted("r@example.org", "Re: more details",
		"In-Reply-To: "+ackID+"\nReferences: "+ackID+"\n", "The secret proof: payload 1' OR 1=1")
	raw := c.send("r@example.org", reply)

	if c.report(raw) != nil || len(c.reports()) != 1 {
		t.Fatalf("the reply opened a new report (%d reports)", len(c.reports()))
	}
	msgs := c.messages(r.ID)
	if len(msgs) != 1 {
		t.Fatalf("conversation has %d messages, want the reply: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.Direction != triage.DirectionIn || m.Via != triage.ViaMail || m.From != "r@example.org" ||
		m.RawMessageID != raw || m.HeaderMessageID != replyID {
		t.Errorf("reply stored as %+v", m)
	}
	if !m.Encrypted || !m.Decrypted || !strings.Contains(m.Body, "The secret proof: payload 1' OR 1=1") {
		t.Errorf("reply encrypted %v, decrypted %v (%s), body %q", m.Encrypted, m.Decrypted, m.DecryptError, m.Body)
	}
	if m.Subject != "Re: more details" {
		t.Errorf("reply subject %q", m.Subject)
	}
	if out := c.outbox(r.ID); len(out) != 1 {
		t.Errorf("%d mails queued after the reply, want only the first acknowledgement", len(out))
	}
	if n := c.queued.Load(); n != 1 {
		t.Errorf("OnQueued called %d times, want 1", n)
	}
	if log := c.log.String(); !strings.Contains(log, "msg=\"reply filed\"") {
		t.Errorf("no \"reply filed\" in the log:\n%s", log)
	}
	if pending, err := c.ts.db.PendingRawMessages(context.Background()); err != nil || len(pending) != 0 {
		t.Errorf("pending after filing the reply: %v, %v", pending, err)
	}
	// Filing the same message again is refused, not doubled.
	if err := c.proc.File(context.Background(), raw); triage.ErrorCode(err) != triage.ECONFLICT {
		t.Errorf("filing the reply again: %v, want ECONFLICT", err)
	}
	if msgs := c.messages(r.ID); len(msgs) != 1 {
		t.Errorf("conversation has %d messages after filing again, want 1", len(msgs))
	}
}

// TestThread_TrackingID: a reply that carries only the tracking id in its
// subject joins the report when it comes from the researcher's address
// and the sender is proven: an aligned DKIM signature, or a good OpenPGP
// signature by a key held for the researcher. Unproven, or from anyone
// else, it opens a new report that notes the claim for staff.
func TestThread_TrackingID(t *testing.T) {
	t.Parallel()
	c := newConv(t)
	dkimKey := c.withDKIM("researcher.example")
	data, _ := c.mail("alice@researcher.example", "Open redirect", "", "See /login?next=//evil.example")
	r := c.mustReport(c.send("alice@researcher.example", data))
	subject := "Re: " + triage.AckSubject(r.TrackingID)

	// From the researcher's address, but nothing proves it.
	forged, _ := c.mail("alice@researcher.example", subject, "", "Please close this, it was a mistake.")
	nr := c.report(c.send("alice@researcher.example", forged))
	if nr == nil {
		t.Fatal("an unproven reply by tracking id joined the report")
	}
	if nr.Authentication.ClaimsReplyTo != r.TrackingID || nr.Authentication.DKIM != triage.AuthNone {
		t.Errorf("unproven reply: authentication %+v, want a claim of %s and no DKIM", nr.Authentication, r.TrackingID)
	}

	reply, _ := c.mail("alice@RESEARCHER.example", subject, "", "It also works on /logout.")
	raw := c.send("alice@researcher.example", dkimKey.sign(t, reply))
	if c.report(raw) != nil {
		t.Fatal("the researcher's DKIM-signed reply by tracking id opened a new report")
	}
	if msgs := c.messages(r.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "also works on /logout") {
		t.Fatalf("conversation %+v, want the reply", msgs)
	}

	// A DKIM signature of another domain proves nothing about the From.
	otherKey := c.withDKIM("mailer.example")
	unaligned, _ := c.mail("alice@researcher.example", subject, "", "Signed by someone else.")
	if nr := c.report(c.send("alice@researcher.example", otherKey.sign(t, unaligned))); nr == nil || nr.Authentication.ClaimsReplyTo != r.TrackingID {
		t.Errorf("a reply signed by another domain: %+v, want a new report noting the claim", nr)
	}

	other, _ := c.mail("mallory@evil.example", subject, "", "Please close this report as spam.")
	raw = c.send("mallory@evil.example", other)
	nr = c.report(raw)
	if nr == nil || nr.ID == r.ID {
		t.Fatal("a stranger's mail with the tracking id did not open a new report")
	}
	if nr.Authentication.ClaimsReplyTo != r.TrackingID {
		t.Errorf("stranger's claim not noted: %+v", nr.Authentication)
	}
	if msgs := c.messages(r.ID); len(msgs) != 1 {
		t.Errorf("the stranger's mail joined the report: %+v", msgs)
	}
	if !strings.Contains(nr.Body, "close this report as spam") {
		t.Errorf("new report body %q", nr.Body)
	}

	// A tracking id only in the protected (encrypted) subject, as a web
	// form title would carry it, does not thread: no thread fields, no
	// outer subject.
	in := &intake{t: t, team: c.team, now: c.now}
	protected := in.pgpMIME("alice@researcher.example", "...", "Message-ID: <protected@researcher.example>\n",
		"Content-Type: text/plain; charset=utf-8\nSubject: "+subject+"\n\nA new finding.\n", nil)
	if pr := c.report(c.send("alice@researcher.example", protected)); pr == nil || pr.Title != subject {
		t.Errorf("a protected subject with the tracking id did not open a new report titled %q: %+v", subject, pr)
	}

	// Another local part at the same domain is someone else too.
	other, _ = c.mail("Alice@researcher.example", subject, "", "Me again, or not.")
	if c.report(c.send("alice@researcher.example", dkimKey.sign(t, other))) == nil {
		t.Error("a reply from another local part joined the report")
	}
}

// TestThread_TrackingIDSignedByHeldKey: without DKIM, a good OpenPGP
// signature by a key held for the researcher proves the sender; the
// same signature by a key the mail brings itself does not.
func TestThread_TrackingIDSignedByHeldKey(t *testing.T) {
	t.Parallel()
	c := newConv(t)
	res := loadResearcher(t)
	in := &intake{t: t, db: c.ts.db, team: c.team, now: c.now}
	data, _ := c.mail(researcherAddr, "XXE in the importer", "", "The XML importer resolves entities.")
	r := c.mustReport(c.send(researcherAddr, data))
	subject := "Re: " + triage.AckSubject(r.TrackingID)
	signed := in.pgpMIME(researcherAddr, subject, "Message-ID: <signed1@researcher.example>\n",
		"Content-Type: text/plain; charset=utf-8\n\nA second payload.\n", res[0])
	if nr := c.report(c.send(researcherAddr, signed)); nr == nil || nr.Authentication.ClaimsReplyTo != r.TrackingID {
		t.Fatalf("signed by a key not held: %+v, want a new report noting the claim", nr)
	}
	in.storeKey(res[0], researcherAddr, triage.KeySourceWKD, c.now)
	signed = in.pgpMIME(researcherAddr, subject, "Message-ID: <signed2@researcher.example>\n",
		"Content-Type: text/plain; charset=utf-8\n\nA third payload.\n", res[0])
	if nr := c.report(c.send(researcherAddr, signed)); nr != nil {
		t.Fatalf("signed by the held key: a new report %+v", nr.Authentication)
	}
	if msgs := c.messages(r.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "third payload") {
		t.Errorf("conversation %+v, want the signed reply", msgs)
	}
}

// dkimSigner signs test mail for a domain whose key the conv's resolver
// publishes.
type dkimSigner struct {
	domain string
	key    ed25519.PrivateKey
}

func (s *dkimSigner) sign(t *testing.T, msg string) string {
	t.Helper()
	var out bytes.Buffer
	if err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{Domain: s.domain, Selector: "test", Signer: s.key}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// withDKIM publishes a fresh DKIM key for domain in the conv's offline
// resolver (checking with it from now on) and returns its signer.
func (c *conv) withDKIM(domain string) *dkimSigner {
	c.t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.dns == nil {
		c.dns = &txtOnly{records: map[string][]string{}}
		c.check.Store(&mailauth.Checker{Resolver: c.dns})
	}
	c.dns.set("test._domainkey."+domain, "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	return &dkimSigner{domain: domain, key: priv}
}

// txtOnly is an offline resolver with TXT records only.
type txtOnly struct {
	mu      sync.Mutex
	records map[string][]string
}

func (r *txtOnly) set(name, v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records[name] = []string{v}
}

func (r *txtOnly) LookupTXT(_ context.Context, name string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.records[name]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *txtOnly) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *txtOnly) LookupIP(_ context.Context, _, host string) ([]net.IP, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestThread_ResumesNeedsInfo: the researcher's answer to a report
// waiting in needs-info puts it back to triaging.
func TestThread_ResumesNeedsInfo(t *testing.T) {
	t.Parallel()
	c := newConv(t)
	data, msgID := c.mail("r@example.org", "CSRF on /settings", "", "No token on the form.")
	r := c.mustReport(c.send("r@example.org", data))
	st := triage.StatusNeedsInfo
	if _, err := c.ts.db.UpdateReport(context.Background(), r.ID, triage.Change{Status: &st}, triage.Actor{}, c.now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Threaded under the researcher's own first mail, as a follow-up.
	reply, _ := c.mail("r@example.org", "Re: CSRF on /settings", "In-Reply-To: "+msgID+"\n", "Here is the PoC page.")
	raw := c.send("r@example.org", reply)
	if c.report(raw) != nil {
		t.Fatal("the answer opened a new report")
	}
	got, err := c.ts.db.Report(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != triage.StatusTriaging {
		t.Errorf("status %s after the researcher answered, want triaging", got.Status)
	}
	if msgs := c.messages(r.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "PoC page") {
		t.Errorf("conversation %+v", msgs)
	}
}

// TestThread_OutOfOfficeKeepsNeedsInfo: an automatic reply joins the
// conversation but is not the researcher's answer: the report stays
// paused in needs-info.
func TestThread_OutOfOfficeKeepsNeedsInfo(t *testing.T) {
	t.Parallel()
	c := newConv(t)
	data, msgID := c.mail("r@example.org", "CSRF on /settings", "", "No token on the form.")
	r := c.mustReport(c.send("r@example.org", data))
	st := triage.StatusNeedsInfo
	if _, err := c.ts.db.UpdateReport(context.Background(), r.ID, triage.Change{Status: &st}, triage.Actor{}, c.now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	reply, _ := c.mail("r@example.org", "Out of office", "In-Reply-To: "+msgID+"\nAuto-Submitted: auto-replied\n", "I am away until Monday.")
	raw := c.send("r@example.org", reply)
	if c.report(raw) != nil {
		t.Fatal("the automatic reply opened a new report")
	}
	got, err := c.ts.db.Report(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != triage.StatusNeedsInfo {
		t.Errorf("status %s after an out-of-office reply, want needs-info", got.Status)
	}
	if msgs := c.messages(r.ID); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "away until Monday") {
		t.Errorf("conversation %+v", msgs)
	}
}

// TestThread_ReplyKeysAndSignature: a reply is verified like a first
// message, and the researcher key it brings is stored.
func TestThread_ReplyKeysAndSignature(t *testing.T) {
	t.Parallel()
	c := newConv(t)
	data, msgID := c.mail(aliceEmail, "IDOR on /api/orders", "", "Order ids are sequential.")
	r := c.mustReport(c.send(aliceEmail, data))
	if ks := c.keys(aliceEmail); len(ks) != 0 {
		t.Fatalf("keys before the reply: %+v", ks)
	}

	alice := newKey(t, "Alice Researcher", aliceEmail, c.now.Add(-time.Hour), 0)
	keydata := base64.StdEncoding.EncodeToString(publicBytes(t, alice))
	var folded strings.Builder
	for len(keydata) > 0 {
		n := min(70, len(keydata))
		folded.WriteString("\n " + keydata[:n])
		keydata = keydata[n:]
	}
	header := "In-Reply-To: " + msgID + "\n" +
		"Autocrypt: addr=" + aliceEmail + "; prefer-encrypt=mutual; keydata=" + folded.String() + "\n"
	in := &intake{t: t, team: c.team, now: c.now}
	reply := in.pgpMIME("Alice Researcher <"+aliceEmail+">", "Re: IDOR", header,
		"Content-Type: text/plain\n\nSigned details.\n", alice)
	if c.report(c.send(aliceEmail, reply)) != nil {
		t.Fatal("the reply opened a new report")
	}
	msgs := c.messages(r.ID)
	if len(msgs) != 1 {
		t.Fatalf("conversation %+v", msgs)
	}
	m := msgs[0]
	if m.Signature.Status != triage.SignatureGood || m.Signature.Fingerprint != pgp.Fingerprint(alice) || len(m.Signatures) != 1 {
		t.Errorf("reply signature %+v (%d signatures)", m.Signature, len(m.Signatures))
	}
	if len(m.Parts) == 0 || m.Parts[0].Signature != 1 || !m.Decrypted {
		t.Errorf("reply parts %+v, decrypted %v", m.Parts, m.Decrypted)
	}
	ks := c.keys(aliceEmail)
	if len(ks) != 1 || ks[0].Fingerprint != pgp.Fingerprint(alice) || ks[0].Source != triage.KeySourceAutocrypt {
		t.Errorf("keys after the reply %+v, want alice's from Autocrypt", ks)
	}
}

func (c *conv) keys(email string) []triage.ResearcherKey {
	c.t.Helper()
	ks, err := c.ts.db.ResearcherKeys(context.Background(), email)
	if err != nil {
		c.t.Fatal(err)
	}
	return ks
}
