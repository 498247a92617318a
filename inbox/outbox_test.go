package inbox_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/triage"
)

// relay is a local go-smtp server standing in as the submission relay:
// STARTTLS with a self-signed certificate (unless noTLS), AUTH PLAIN
// required before MAIL, and answers scripted per command.
type relay struct {
	t    *testing.T
	addr string
	pool *x509.CertPool // trusts the relay's certificate

	mu       sync.Mutex
	received []relayMail
	auths    []string // user names that tried AUTH
	mails    int      // MAIL commands seen
	// rcptErrs and dataErrs answer the next RCPT or DATA commands, in
	// order (nil: accept); then everything is accepted.
	rcptErrs []error
	dataErrs []error
	// onData, when set, runs once a mail is taken (before the answer).
	onData func()
}

type relayMail struct {
	from, to string
	tls      bool
	user     string
	data     []byte
}

const (
	relayUser     = "secinbox@example.com"
	relayPassword = "relay password 12345"
)

// startRelay starts a relay on loopback. mode is "starttls", "tls"
// (implicit), "none" (no TLS offered at all) or "plain-auth" (no TLS, but
// AUTH offered in the clear).
func startRelay(t *testing.T, mode string) *relay {
	t.Helper()
	cert, pool := selfSigned(t)
	r := &relay{t: t, pool: pool}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &relaySession{r: r, conn: c}, nil
	}))
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = 20*time.Second, 20*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "starttls":
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	case "tls":
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	case "plain-auth":
		srv.AllowInsecureAuth = true
	}
	r.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return r
}

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func (r *relay) got() []relayMail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayMail(nil), r.received...)
}

func (r *relay) counts() (auths, mails int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.auths), r.mails
}

// errHangUp, scripted as an answer to RCPT, makes the relay answer 421
// and close the connection, as a relay shutting down does.
var errHangUp = errors.New("relay hangs up")

func (r *relay) script(rcpt, data []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rcptErrs, r.dataErrs = rcpt, data
}

type relaySession struct {
	r        *relay
	conn     *smtp.Conn
	user     string
	from, to string
}

func (s *relaySession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *relaySession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.r.mu.Lock()
		s.r.auths = append(s.r.auths, username)
		s.r.mu.Unlock()
		if username != relayUser || password != relayPassword {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	s.r.mu.Lock()
	s.r.mails++
	s.r.mu.Unlock()
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if len(s.r.rcptErrs) > 0 {
		err := s.r.rcptErrs[0]
		s.r.rcptErrs = s.r.rcptErrs[1:]
		if err == errHangUp {
			panic(err) // go-smtp answers 421 and closes the connection
		}
		if err != nil {
			return err
		}
	}
	s.to = to
	return nil
}

func (s *relaySession) Data(rd io.Reader) error {
	data, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if len(s.r.dataErrs) > 0 {
		err := s.r.dataErrs[0]
		s.r.dataErrs = s.r.dataErrs[1:]
		if err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.r.received = append(s.r.received, relayMail{from: s.from, to: s.to, tls: isTLS, user: s.user, data: data})
	if s.r.onData != nil {
		s.r.onData()
	}
	return nil
}

// TestSender_ShutdownDuringSend: a mail the relay took while the server
// was shutting down is recorded as sent, so it does not go out twice.
func TestSender_ShutdownDuringSend(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	r := startRelay(t, "starttls")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.onData = cancel
	s := e.viaRelay(r)
	if _, err := s.Tick(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if got := e.mail(ack.ID); got.State != triage.DeliverySent {
		t.Errorf("mail taken during shutdown is %s (attempts %d, %q), want sent", got.State, got.Attempts, got.LastError)
	}
}

func (s *relaySession) Reset()        { s.from, s.to = "", "" }
func (s *relaySession) Logout() error { return nil }

// outboxEnv is a real database with a filed report, the team's key and
// the researcher's.
type outboxEnv struct {
	t          *testing.T
	db         *db.DB
	team       *openpgp.Entity // unlocked secret key
	researcher *openpgp.Entity // unlocked secret key
	clock      *notifyClock
	received   time.Time
	path       string // the database file
}

const (
	researcherAddr = "rae@researcher.example"
	teamAddr       = "security@example.com"
	publicURL      = "https://security.example.com"
)

var linkKey = []byte("link key for the outbox tests, 32b")

func newOutboxEnv(t *testing.T) *outboxEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secinbox.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	team, res := loadTeam(t), loadResearcher(t)
	received := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	d.Close()
	if d, err = db.OpenWith(ctx, path, db.Options{Now: func() time.Time { return received }}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &outboxEnv{t: t, db: d, team: team[0], researcher: res[0], clock: &notifyClock{t: received}, received: received, path: path}
}

// storeResearcherKey stores the researcher's public key as found in WKD.
func (e *outboxEnv) storeResearcherKey() {
	e.t.Helper()
	in := &intake{t: e.t, db: e.db}
	in.storeKey(e.researcher, researcherAddr, triage.KeySourceWKD, e.received)
}

// fileReport files an encrypted report from the researcher and queues
// its acknowledgement, as intake does.
func (e *outboxEnv) fileReport(encrypted, decrypted bool) (*triage.Report, *triage.OutMail) {
	e.t.Helper()
	ctx := context.Background()
	raw := &triage.RawMessage{MailFrom: researcherAddr, Recipients: []string{teamAddr}, ReceivedAt: e.received,
		Data: []byte("Message-ID: <first@researcher.example>\r\nSubject: x\r\n\r\nx\r\n")}
	if err := e.db.AddRawMessage(ctx, raw); err != nil {
		e.t.Fatal(err)
	}
	r := triage.NewReport(e.received)
	r.MessageID, r.Title, r.ResearcherEmail = raw.ID, "SQL injection in /admin", researcherAddr
	r.Body = "The /admin login is open to SQL injection: ' OR 1=1 --"
	r.Encrypted, r.Decrypted = encrypted, decrypted
	r.HeaderMessageID = "<first@researcher.example>"
	ack := &triage.OutMail{Kind: triage.MailAck, To: researcherAddr, HeaderMessageID: triage.NewMessageID("example.com"),
		InReplyTo: r.HeaderMessageID, References: []string{r.HeaderMessageID}, CreatedAt: e.received}
	if err := e.db.FileReportAck(ctx, r, ack); err != nil {
		e.t.Fatal(err)
	}
	return r, ack
}

// sender builds the sender of cfg, with the environment's store (unless
// cfg has one), domain, team address, links, signer and clock.
func (e *outboxEnv) sender(cfg inbox.SenderConfig) *inbox.Sender {
	e.t.Helper()
	if cfg.Store == nil {
		cfg.Store = e.db
	}
	cfg.Domain, cfg.TeamAddress, cfg.PublicURL, cfg.LinkKey = "example.com", teamAddr, publicURL, linkKey
	cfg.Signer = &entitySigner{e: e.team}
	cfg.Now = e.clock.Now
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := inbox.NewSender(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// viaRelayConfig is the configuration of a sender through r.
func viaRelayConfig(r *relay) inbox.SenderConfig {
	return inbox.SenderConfig{Relay: r.addr, RelayUser: relayUser, RelayPassword: relayPassword, RootCAs: r.pool}
}

func (e *outboxEnv) viaRelay(r *relay) *inbox.Sender {
	return e.sender(viaRelayConfig(r))
}

func (e *outboxEnv) tick(s *inbox.Sender, wantSent int) {
	e.t.Helper()
	n, err := s.Tick(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	if n != wantSent {
		e.t.Fatalf("at %v: sent %d, want %d", e.clock.Now(), n, wantSent)
	}
}

// mail returns outbox mail id as stored.
func (e *outboxEnv) mail(id int64) *triage.OutMail {
	e.t.Helper()
	all, err := e.db.Outbox(context.Background(), triage.OutboxFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range all {
		if m.ID == id {
			return m
		}
	}
	e.t.Fatalf("mail %d not in the outbox", id)
	return nil
}

// read parses a mail as the researcher's mail client would: decrypted
// with the researcher's secret key, verified with the team's public key.
func (e *outboxEnv) read(data []byte) *pgp.Message {
	e.t.Helper()
	pub, err := pgp.PublicKeyBytes(e.team)
	if err != nil {
		e.t.Fatal(err)
	}
	teamPub, err := pgp.ReadPublicKeys(pub)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := pgp.ParseMessage(data, pgp.Keys(openpgp.EntityList{e.researcher}, teamPub), pgp.DefaultLimits(), e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// TestSender_RelayEncryptedAck: the acknowledgement goes through a relay
// that requires STARTTLS and AUTH, encrypted to the researcher's key and
// signed by the team's, and says what the researcher needs, never the
// report's content.
func TestSender_RelayEncryptedAck(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	e.storeResearcherKey()
	r, ack := e.fileReport(true, true)
	rl := startRelay(t, "starttls")
	s := e.viaRelay(rl)
	e.clock.Set(e.received.Add(2 * time.Second))
	e.tick(s, 1)

	got := rl.got()
	if len(got) != 1 {
		t.Fatalf("relay received %d mails", len(got))
	}
	g := got[0]
	if g.from != teamAddr || g.to != researcherAddr || !g.tls || g.user != relayUser {
		t.Errorf("envelope %s -> %s, tls %v, user %q", g.from, g.to, g.tls, g.user)
	}
	hdr, err := mail.ReadMessage(bytes.NewReader(g.data))
	if err != nil {
		t.Fatal(err)
	}
	if ct := hdr.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/encrypted") {
		t.Errorf("Content-Type %q, want multipart/encrypted", ct)
	}
	if hdr.Header.Get("Subject") != triage.AckSubject(r.TrackingID) || hdr.Header.Get("Auto-Submitted") != "auto-replied" ||
		hdr.Header.Get("Message-Id") != ack.HeaderMessageID || hdr.Header.Get("In-Reply-To") != "<first@researcher.example>" {
		t.Errorf("header %v", hdr.Header)
	}
	if !strings.Contains(hdr.Header.Get("Autocrypt"), "addr="+teamAddr) {
		t.Errorf("no Autocrypt header for the team: %q", hdr.Header.Get("Autocrypt"))
	}
	if bytes.Contains(g.data, []byte(r.TrackingID+" ")) && bytes.Contains(g.data, []byte("24 hours")) {
		t.Error("the text travels in the clear")
	}

	m := e.read(g.data)
	if !m.Encrypted || !m.Decrypted {
		t.Fatalf("not decrypted with the researcher's key: %v", m.DecryptError)
	}
	if m.Signature.Status != triage.SignatureGood || m.Signature.Fingerprint != pgp.Fingerprint(e.team) {
		t.Errorf("signature %+v, want good by the team key", m.Signature)
	}
	for _, want := range []string{r.TrackingID, "24 hours", publicURL + "/policy", "decrypt", "22 November 2026 at 08:00 UTC"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("acknowledgement lacks %q:\n%s", want, m.Text)
		}
	}
	for _, never := range []string{"SQL injection", "OR 1=1", "/status/"} {
		if strings.Contains(m.Text, never) {
			t.Errorf("acknowledgement carries %q:\n%s", never, m.Text)
		}
	}

	stored := e.mail(ack.ID)
	if stored.State != triage.DeliverySent || !stored.Encrypted || stored.Via != "relay "+rl.addr || stored.Attempts != 1 ||
		!stored.SentAt.Equal(e.clock.Now()) {
		t.Errorf("outbox row %+v", stored)
	}
	e.tick(s, 0) // sent once
}

// TestSender_RetryAndFail: a 4xx answer is retried after its backoff; a
// 5xx fails the mail with the relay's text for staff, and the next mail
// still goes out on the same connection.
func TestSender_RetryAndFail(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(false, false)
	rl := startRelay(t, "starttls")
	s := e.viaRelay(rl)

	rl.script(nil, []error{&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later, disk full"}})
	e.tick(s, 0)
	m := e.mail(ack.ID)
	if m.State != triage.DeliveryQueued || m.Attempts != 1 || !strings.Contains(m.LastError, "try again later, disk full") ||
		!m.NextAttempt.Equal(e.received.Add(triage.MailBackoff(1))) {
		t.Fatalf("after a 451: %+v", m)
	}
	e.clock.Set(e.received.Add(triage.MailBackoff(1) - time.Second))
	e.tick(s, 0) // not before its backoff
	if len(rl.got()) != 0 {
		t.Fatal("retried before the backoff")
	}
	e.clock.Set(e.received.Add(triage.MailBackoff(1)))
	e.tick(s, 1)
	if m := e.mail(ack.ID); m.State != triage.DeliverySent || m.Attempts != 2 || m.LastError != "" || m.Encrypted {
		t.Errorf("after the retry: %+v", m)
	}
	// Sent signed only: no key is known for the researcher.
	got := rl.got()
	hdr, err := mail.ReadMessage(bytes.NewReader(got[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if ct := hdr.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/signed") {
		t.Errorf("Content-Type %q, want multipart/signed", ct)
	}
	msg := e.read(got[0].data)
	if msg.Signature.Status != triage.SignatureGood || !strings.Contains(msg.Text, "unencrypted") || !strings.Contains(msg.Text, publicURL+"/pgp-key.asc") {
		t.Errorf("signed-only acknowledgement: %+v\n%s", msg.Signature, msg.Text)
	}

	// A 5xx to RCPT: failed for good; the next mail goes through.
	ctx := context.Background()
	queue := func(to string) *triage.OutMail {
		m := &triage.OutMail{Kind: triage.MailReply, ReportID: ack.ReportID, TrackingID: ack.TrackingID, To: to,
			Subject: triage.ReplySubject(ack.TrackingID), Body: "Thanks, we are looking into it.",
			HeaderMessageID: triage.NewMessageID("example.com"), CreatedAt: e.clock.Now()}
		if err := e.db.QueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	bad, good := queue("nobody@researcher.example"), queue(researcherAddr)
	rl.script([]error{&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}}, nil)
	e.tick(s, 1)
	if m := e.mail(bad.ID); m.State != triage.DeliveryFailed || m.Attempts != 1 || !strings.Contains(m.LastError, "550") ||
		!strings.Contains(m.LastError, "no such user here") {
		t.Errorf("after a 550: %+v", m)
	}
	if m := e.mail(good.ID); m.State != triage.DeliverySent {
		t.Errorf("the mail after a 550: %+v", m)
	}
	got = rl.got()
	if last := got[len(got)-1]; last.to != researcherAddr {
		t.Errorf("last mail to %s", last.to)
	}
	text := e.read(got[len(got)-1].data).Text
	if !strings.Contains(text, "Thanks, we are looking into it.") || !strings.Contains(text, "Report "+ack.TrackingID) {
		t.Errorf("reply text:\n%s", text)
	}
}

// TestSender_Relay421: a 421 ends the session (RFC 5321 section 3.8):
// the mail it answered is retried after its backoff, and the next mail is
// left for the next tick rather than charged an attempt on the closed
// connection.
func TestSender_Relay421(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	ctx := context.Background()
	reply := &triage.OutMail{Kind: triage.MailReply, ReportID: ack.ReportID, TrackingID: ack.TrackingID, To: researcherAddr,
		Subject: triage.ReplySubject(ack.TrackingID), Body: "Thanks.", HeaderMessageID: triage.NewMessageID("example.com"),
		CreatedAt: e.received}
	if err := e.db.QueueMail(ctx, reply); err != nil {
		t.Fatal(err)
	}
	rl := startRelay(t, "starttls")
	s := e.viaRelay(rl)
	rl.script([]error{errHangUp}, nil)
	e.tick(s, 0)
	if m := e.mail(ack.ID); m.State != triage.DeliveryQueued || m.Attempts != 1 || !strings.Contains(m.LastError, "421") {
		t.Errorf("the mail answered 421: %+v", m)
	}
	if m := e.mail(reply.ID); m.State != triage.DeliveryQueued || m.Attempts != 0 || m.LastError != "" {
		t.Errorf("the next mail was charged for the closed connection: %+v", m)
	}
	e.tick(s, 1)
	if m := e.mail(reply.ID); m.State != triage.DeliverySent {
		t.Errorf("the next mail at the next tick: %+v", m)
	}
}

// TestSender_RelayWithoutSTARTTLS: nothing is sent, not even AUTH, to a
// relay that does not offer STARTTLS; the mail stays queued with the
// reason for staff to see.
func TestSender_RelayWithoutSTARTTLS(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	rl := startRelay(t, "none")
	s := e.viaRelay(rl)
	e.tick(s, 0)
	if auths, mails := rl.counts(); auths != 0 || mails != 0 {
		t.Errorf("relay without STARTTLS saw %d AUTH and %d MAIL", auths, mails)
	}
	m := e.mail(ack.ID)
	if m.State != triage.DeliveryQueued || m.Attempts != 1 || !strings.Contains(m.LastError, "STARTTLS") {
		t.Errorf("outbox row %+v", m)
	}
	if strings.Contains(m.LastError, relayPassword) {
		t.Error("the error names the password")
	}

	// Bad credentials: temporary (someone fixes the configuration), and
	// the password appears nowhere.
	rl = startRelay(t, "starttls")
	s = e.sender(inbox.SenderConfig{Relay: rl.addr, RelayUser: relayUser, RelayPassword: "wrong password", RootCAs: rl.pool})
	e.clock.Set(e.received.Add(time.Hour))
	e.tick(s, 0)
	m = e.mail(ack.ID)
	if m.State != triage.DeliveryQueued || m.Attempts != 2 || !strings.Contains(m.LastError, "AUTH") || strings.Contains(m.LastError, "wrong password") {
		t.Errorf("after a refused AUTH: %+v", m)
	}
	if _, mails := rl.counts(); mails != 0 {
		t.Error("MAIL sent after AUTH failed")
	}

	// A certificate the sender does not trust: not sent.
	s = e.sender(inbox.SenderConfig{Relay: rl.addr, RelayUser: relayUser, RelayPassword: relayPassword})
	e.clock.Set(e.received.Add(2 * time.Hour))
	e.tick(s, 0)
	if m := e.mail(ack.ID); m.State != triage.DeliveryQueued || m.Attempts != 3 || !strings.Contains(m.LastError, "certificate") {
		t.Errorf("with an untrusted certificate: %+v", m)
	}
	if auths, _ := rl.counts(); auths != 1 {
		t.Errorf("%d AUTH attempts, want only the one with the wrong password", auths)
	}
}

// TestSender_UnknownTLSMode: a TLS mode the sender does not know (one
// NewSender would refuse, set behind its back) sends nothing, not even AUTH, rather than
// falling back to a connection without TLS.
func TestSender_UnknownTLSMode(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	rl := startRelay(t, "plain-auth")
	s := e.viaRelay(rl)
	inbox.SetRelayTLS(s, "ssl")
	e.tick(s, 0)
	if auths, mails := rl.counts(); auths != 0 || mails != 0 {
		t.Errorf("relay saw %d AUTH and %d MAIL in the clear", auths, mails)
	}
	if m := e.mail(ack.ID); m.State != triage.DeliveryQueued || !strings.Contains(m.LastError, "TLS") {
		t.Errorf("outbox row %+v", m)
	}
}

// TestSender_ImplicitTLS: RelayTLS "tls" speaks TLS from the first byte
// (port 465).
func TestSender_ImplicitTLS(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	e.fileReport(true, true)
	rl := startRelay(t, "tls")
	s := e.sender(inbox.SenderConfig{Relay: rl.addr, RelayTLS: inbox.RelayImplicitTLS, RelayUser: relayUser, RelayPassword: relayPassword, RootCAs: rl.pool})
	e.tick(s, 1)
	if got := rl.got(); len(got) != 1 || !got[0].tls {
		t.Fatalf("relay received %+v", got)
	}
}

// TestNewSender: NewSender refuses a configuration that could not
// send, or would send in the clear; without relay or maildir it builds a
// sender that does not run.
func TestNewSender(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	base := func(cfg inbox.SenderConfig) inbox.SenderConfig {
		cfg.Store, cfg.TeamAddress = e.db, teamAddr
		cfg.Signer = &entitySigner{e: e.team}
		return cfg
	}
	for _, tt := range []struct {
		cfg  inbox.SenderConfig
		want string
	}{
		{base(inbox.SenderConfig{}), ""},
		{base(inbox.SenderConfig{Relay: "smtp.example.com:587"}), ""},
		{base(inbox.SenderConfig{Relay: "smtp.example.com:465", RelayTLS: "TLS"}), ""},
		{base(inbox.SenderConfig{Relay: "127.0.0.1:25", RelayTLS: "none"}), ""},
		{base(inbox.SenderConfig{Relay: "localhost:25", RelayTLS: "none", RelayUser: "u", RelayPassword: "p"}), ""},
		{base(inbox.SenderConfig{Relay: "smtp.example.com:25", RelayTLS: "none"}), "loopback"},
		{base(inbox.SenderConfig{Relay: "smtp.example.com"}), "host:port"},
		{base(inbox.SenderConfig{Relay: ":587"}), "host:port"},
		{base(inbox.SenderConfig{Relay: "smtp.example.com:587", RelayTLS: "ssl"}), "relay TLS"},
		{base(inbox.SenderConfig{Relay: "smtp.example.com:587", RelayUser: "u"}), "user and password"},
		{base(inbox.SenderConfig{Relay: "smtp.example.com:587", RelayPassword: "p"}), "user and password"},
		{inbox.SenderConfig{Store: e.db, TeamAddress: "security@example.com\r\nBcc: x@y.z", Signer: &entitySigner{e: e.team}}, "team address"},
		{inbox.SenderConfig{Store: e.db, TeamAddress: teamAddr}, "no signing key"},
		{inbox.SenderConfig{TeamAddress: teamAddr, Signer: &entitySigner{e: e.team}}, "no store"},
	} {
		s, err := inbox.NewSender(tt.cfg)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%q %q: %v, want %q", tt.cfg.Relay, tt.cfg.RelayTLS, err, tt.want)
		}
		if (err == nil) != (s != nil) {
			t.Errorf("%q: sender %v with error %v", tt.cfg.Relay, s, err)
		}
	}
	// With neither relay nor maildir the sender does not run.
	s, err := inbox.NewSender(base(inbox.SenderConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Enabled() || s.Describe() != "" {
		t.Error("a sender without relay or maildir is enabled")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	<-done // returns at once
}

// TestSender_Maildir: with no relay, mail is written into the maildir,
// readable by GnuPG.
func TestSender_Maildir(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	e.storeResearcherKey()
	r, ack := e.fileReport(true, false)
	dir := filepath.Join(t.TempDir(), "maildir")
	s := e.sender(inbox.SenderConfig{Maildir: dir})
	if s.Describe() != "maildir "+dir {
		t.Errorf("Describe %q", s.Describe())
	}
	e.tick(s, 1)
	if m := e.mail(ack.ID); m.State != triage.DeliverySent || m.Via != "maildir" || !m.Encrypted {
		t.Errorf("outbox row %+v", m)
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Errorf("left in tmp/: %v", tmp)
	}
	files, err := os.ReadDir(filepath.Join(dir, "new"))
	if err != nil || len(files) != 1 {
		t.Fatalf("new/: %v, %v", files, err)
	}
	path := filepath.Join(dir, "new", files[0].Name())
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := e.read(data)
	if !m.Decrypted || m.Signature.Status != triage.SignatureGood || !strings.Contains(m.Text, "could not decrypt") ||
		!strings.Contains(m.Text, publicURL+"/pgp-key.asc") || !strings.Contains(m.Text, r.TrackingID) {
		t.Errorf("maildir mail: %+v\n%s", m.Signature, m.Text)
	}
	gpgDecrypt(t, e, data, r.TrackingID)
}

// gpgDecrypt decrypts data as the researcher with GnuPG and checks the
// team's signature; skipped without gpg.
func gpgDecrypt(t *testing.T, e *outboxEnv, data []byte, want string) {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg not installed")
	}
	home := t.TempDir()
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run() })
	teamPub, err := pgp.ArmorPublicKey(e.team)
	if err != nil {
		t.Fatal(err)
	}
	teamFile := filepath.Join(home, "team.asc")
	if err := os.WriteFile(teamFile, teamPub, 0o600); err != nil {
		t.Fatal(err)
	}
	gpg := func(stdin []byte, args ...string) (string, string, error) {
		cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback",
			"--passphrase", "researcher-passphrase", "--trust-model", "always"}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
	if _, stderr, err := gpg(nil, "--import", filepath.Join("testdata", "researcher.sec.asc"), teamFile); err != nil {
		t.Fatalf("gpg --import: %v\n%s", err, stderr)
	}
	out, stderr, err := gpg(data, "--status-fd", "2", "--decrypt")
	if err != nil {
		t.Fatalf("gpg --decrypt: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "[GNUPG:] GOODSIG") || !strings.Contains(stderr, "[GNUPG:] DECRYPTION_OKAY") {
		t.Errorf("gpg did not verify a good signature:\n%s", stderr)
	}
	if !strings.Contains(out, want) {
		t.Errorf("gpg's plaintext lacks %q:\n%s", want, out)
	}
}

// TestSender_KickAndRun: Run sends a mail queued while it runs within
// seconds of a Kick, not at its next tick an hour later.
func TestSender_KickAndRun(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	rl := startRelay(t, "starttls")
	cfg := viaRelayConfig(rl)
	cfg.Interval = time.Hour
	s := e.sender(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	e.fileReport(true, true)
	s.Wake()
	s.Wake() // never blocks
	deadline := time.Now().Add(20 * time.Second)
	for len(rl.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the kicked mail was not sent")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTeamMail: an SLA notification becomes outbox mail to each team
// address, once even when queued again after a crash, and carries nothing
// of the report.
func TestTeamMail(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	ctx := context.Background()
	r, _ := e.fileReport(true, true)
	tm, err := inbox.NewTeamMail(inbox.TeamMailConfig{Store: e.db, To: []string{"oncall@example.com", " lead@example.com"}, Domain: "example.com", Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.received.Add(22 * time.Hour))
	rec := &recordingMailer{TeamMailer: tm}
	n, err := inbox.NewNotifier(inbox.NotifierConfig{Store: e.db, Mailer: rec, PublicURL: publicURL, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	mails, err := e.db.Outbox(ctx, triage.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var notes []*triage.OutMail
	for _, m := range mails {
		if m.Kind == triage.MailNotification {
			notes = append(notes, m)
		}
	}
	if len(notes) != 2 || notes[0].To == notes[1].To {
		t.Fatalf("%d notification mails, want one per team address", len(notes))
	}
	for _, m := range notes {
		if m.NotificationID == 0 {
			t.Errorf("the mail to %s does not name its notification", m.To)
		}
	}
	// Queued again (a crash before the notification was marked sent):
	// nothing more.
	if left, err := e.db.PendingNotifications(ctx, triage.ChannelEmail, e.clock.Now(), 10); err != nil || len(left) != 0 {
		t.Fatalf("notification still pending after it was queued: %v, %v", left, err)
	}
	if len(rec.got) != 1 {
		t.Fatalf("%d notifications mailed", len(rec.got))
	}
	pending := rec.got[0]
	if err := tm.NotifyTeam(ctx, pending, publicURL+"/reports/1"); err != nil {
		t.Fatalf("queued again: %v", err)
	}
	if again, _ := e.db.Outbox(ctx, triage.OutboxFilter{}); len(again) != len(mails) {
		t.Errorf("%d mails after queueing again, want %d", len(again), len(mails))
	}
	dir := t.TempDir()
	s := e.sender(inbox.SenderConfig{Maildir: dir})
	e.tick(s, 3) // the acknowledgement and the two notifications
	for _, m := range notes {
		got := e.mail(m.ID)
		if got.State != triage.DeliverySent || got.Encrypted {
			t.Errorf("notification mail %+v", got)
		}
		if !strings.Contains(got.Subject, r.TrackingID) || !strings.Contains(got.Body, publicURL+"/reports/1") ||
			!strings.Contains(got.Body, "first-response") || !strings.Contains(got.Body, "22 November 2026 at 08:00 UTC") {
			t.Errorf("notification %q:\n%s", got.Subject, got.Body)
		}
		if strings.Contains(got.Body, "SQL") || strings.Contains(got.Subject, "SQL") {
			t.Errorf("notification carries report content:\n%s", got.Body)
		}
	}
	if err := tm.NotifyTeam(ctx, pending, "x"); err != nil {
		t.Fatal(err)
	}
}

// TestNewTeamMail: every team address must be one the outbox can mail,
// checked when the TeamMail is built, not at each notification.
func TestNewTeamMail(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	for name, tt := range map[string]struct {
		cfg  inbox.TeamMailConfig
		want string // "": accepted
	}{
		"OK":             {inbox.TeamMailConfig{Store: e.db, To: []string{"oncall@example.com", " lead@example.com "}, Domain: "example.com"}, ""},
		"InvalidAddress": {inbox.TeamMailConfig{Store: e.db, To: []string{"oncall@example.com", "not an address"}, Domain: "example.com"}, "not an address"},
		"HeaderInjection": {inbox.TeamMailConfig{Store: e.db, To: []string{"oncall@example.com\r\nBcc: x@y.z"}, Domain: "example.com"},
			"oncall@example.com"},
		"NoAddress": {inbox.TeamMailConfig{Store: e.db, Domain: "example.com"}, "no team address"},
		"NoDomain":  {inbox.TeamMailConfig{Store: e.db, To: []string{"oncall@example.com"}}, "no domain"},
		"NoStore":   {inbox.TeamMailConfig{To: []string{"oncall@example.com"}, Domain: "example.com"}, "no store"},
	} {
		tm, err := inbox.NewTeamMail(tt.cfg)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
		if (err == nil) != (tm != nil) {
			t.Errorf("%s: team mail %v with error %v", name, tm, err)
		}
		if name == "InvalidAddress" && triage.ErrorCode(err) != triage.EINVALID {
			t.Errorf("%s: %v, want an EINVALID error", name, err)
		}
	}
}

// recordingMailer keeps the notifications it passes on.
type recordingMailer struct {
	inbox.TeamMailer
	got []*triage.Notification
}

func (m *recordingMailer) NotifyTeam(ctx context.Context, n *triage.Notification, url string) error {
	m.got = append(m.got, n)
	return m.TeamMailer.NotifyTeam(ctx, n, url)
}

// failingMarks is the real database whose MarkMail fails while failing
// is set: the disk filled up, or the database stayed locked past its busy
// timeout, between handing a mail to the relay and recording it.
type failingMarks struct {
	*db.DB
	mu      sync.Mutex
	failing bool
	tries   int // MarkMail calls
}

func (f *failingMarks) setFailing(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = v
}

func (f *failingMarks) marks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

func (f *failingMarks) MarkMail(ctx context.Context, id int64, a triage.MailAttempt, now time.Time) error {
	f.mu.Lock()
	f.tries++
	failing := f.failing
	f.mu.Unlock()
	if failing {
		return errors.New("database or disk is full")
	}
	return f.DB.MarkMail(ctx, id, a, now)
}

// queueReply queues a staff reply on the report of ack.
func (e *outboxEnv) queueReply(ack *triage.OutMail, body string) *triage.OutMail {
	e.t.Helper()
	m := &triage.OutMail{Kind: triage.MailReply, ReportID: ack.ReportID, TrackingID: ack.TrackingID, To: researcherAddr,
		Subject: triage.ReplySubject(ack.TrackingID), Body: body, HeaderMessageID: triage.NewMessageID("example.com"),
		CreatedAt: e.received}
	if err := e.db.QueueMail(context.Background(), m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// TestSender_UnrecordedSendNotRepeated: a mail the relay took but whose
// send cannot be recorded is never sent again: only the record is
// retried, with backoff, and no other mail goes out meanwhile; once the
// store works again the record lands (sent, one attempt, the time the
// relay took it) and the other mail follows.
func TestSender_UnrecordedSendNotRepeated(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	reply := e.queueReply(ack, "A second mail, waiting behind the first.")
	rl := startRelay(t, "starttls")
	store := &failingMarks{DB: e.db, failing: true}
	cfg := viaRelayConfig(rl)
	cfg.Store = store
	s := e.sender(cfg)

	sentAt := e.clock.Now()
	if _, err := s.Tick(context.Background()); err == nil {
		t.Error("Tick hid that the send could not be recorded")
	}
	if got := rl.got(); len(got) != 1 {
		t.Fatalf("relay received %d mails, want the first one", len(got))
	}
	// An hour of ticks, a minute apart, while recording keeps failing.
	for i := 1; i <= 60; i++ {
		e.clock.Set(sentAt.Add(time.Duration(i) * time.Minute))
		s.Tick(context.Background())
	}
	if got := rl.got(); len(got) != 1 {
		t.Fatalf("relay received %d mails while the send could not be recorded, want 1", len(got))
	}
	if n := store.marks(); n < 3 || n > 40 {
		t.Errorf("the record was tried %d times in an hour, want it retried with backoff", n)
	}

	store.setFailing(false)
	e.clock.Set(sentAt.Add(2 * time.Hour))
	e.tick(s, 1) // the reply; the ack is recorded, not sent again
	if m := e.mail(ack.ID); m.State != triage.DeliverySent || m.Attempts != 1 || !m.SentAt.Equal(sentAt) || m.LastError != "" {
		t.Errorf("the acknowledgement once recording works: %+v", m)
	}
	if m := e.mail(reply.ID); m.State != triage.DeliverySent || m.Attempts != 1 {
		t.Errorf("the mail behind it: %+v", m)
	}
	got := rl.got()
	if len(got) != 2 || bytes.Equal(got[0].data, got[1].data) {
		t.Fatalf("relay received %d mails, want the acknowledgement and the reply once each", len(got))
	}
	e.tick(s, 0)
}

// TestSender_RestartWithUnrecordedSend: the try is claimed in the store
// before the relay is contacted, so a process that stops holding an
// unrecorded send (its memory lost) does not send the mail again at the
// next start; the outbox says why it waits, and it is sent again (at
// least once: the relay may or may not have it) only after the claim's
// hold.
func TestSender_RestartWithUnrecordedSend(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	rl := startRelay(t, "starttls")
	cfg := viaRelayConfig(rl)
	cfg.Store = &failingMarks{DB: e.db, failing: true}
	s := e.sender(cfg)
	s.Tick(context.Background())
	if len(rl.got()) != 1 {
		t.Fatal("the relay did not get the mail")
	}

	restarted := e.viaRelay(rl) // the plain store, nothing in memory
	for _, after := range []time.Duration{0, time.Minute, 30 * time.Minute} {
		e.clock.Set(e.received.Add(after))
		e.tick(restarted, 0)
	}
	if n := len(rl.got()); n != 1 {
		t.Fatalf("relay received %d mails after the restart, want 1", n)
	}
	m := e.mail(ack.ID)
	if m.State != triage.DeliveryQueued || !strings.Contains(m.LastError, "not recorded") {
		t.Errorf("the unrecorded send as stored: %+v", m)
	}
	e.clock.Set(m.NextAttempt)
	e.tick(restarted, 1)
	if m := e.mail(ack.ID); m.State != triage.DeliverySent {
		t.Errorf("after the hold: %+v", m)
	}
}

// TestSender_StoreLocked: with the database locked past its busy timeout
// (another process holding a write transaction), the try cannot be
// claimed, so nothing goes to the relay; the sender backs off, and sends
// the mail once when the lock is gone.
func TestSender_StoreLocked(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	rl := startRelay(t, "starttls")
	s := e.viaRelay(rl)

	ctx := context.Background()
	other, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tick(ctx); err == nil {
		t.Error("Tick hid that the store is locked")
	}
	e.tick(s, 0) // backing off: the store is not even asked
	if n := len(rl.got()); n != 0 {
		t.Fatalf("relay received %d mails while the store could not record them", n)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.received.Add(10 * time.Minute))
	e.tick(s, 1)
	if m := e.mail(ack.ID); m.State != triage.DeliverySent || m.Attempts != 1 {
		t.Errorf("once the lock is gone: %+v", m)
	}
}

// hungRelay is a raw SMTP server on loopback (no TLS, no AUTH) that
// takes every command, but never answers the final dot of a mail while
// hang is set, nor greets while silent is set: a relay that is stuck.
type hungRelay struct {
	t    *testing.T
	addr string

	mu       sync.Mutex
	hang     bool
	silent   bool
	data     int // mails received up to their final dot
	accepted int // of which answered 250
	conns    []net.Conn
}

func startHungRelay(t *testing.T) *hungRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &hungRelay{t: t, addr: ln.Addr().String()}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); r.serve(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
		wg.Wait()
	})
	return r
}

func (r *hungRelay) set(hang, silent bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hang, r.silent = hang, silent
}

func (r *hungRelay) counts() (data, accepted int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data, r.accepted
}

func (r *hungRelay) serve(c net.Conn) {
	defer c.Close()
	r.mu.Lock()
	silent := r.silent
	r.mu.Unlock()
	if silent {
		io.Copy(io.Discard, c) // until the client gives up
		return
	}
	br := bufio.NewReader(c)
	say := func(line string) bool {
		_, err := io.WriteString(c, line+"\r\n")
		return err == nil
	}
	if !say("220 hung.test ESMTP") {
		return
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 hung.test")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go ahead")
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			r.mu.Lock()
			r.data++
			hang := r.hang
			if !hang {
				r.accepted++
			}
			r.mu.Unlock()
			if hang {
				io.Copy(io.Discard, br) // never answers; until the client gives up
				return
			}
			say("250 2.0.0 queued")
		default: // MAIL, RCPT, RSET, NOOP
			say("250 ok")
		}
	}
}

// tickWithin runs s.Tick and fails the test if it has not returned
// within a generous safety net: no relay may hold the sender that long.
func tickWithin(t *testing.T, s *inbox.Sender) (int, error) {
	t.Helper()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.Tick(context.Background())
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return r.n, r.err
	case <-time.After(30 * time.Second):
		t.Fatal("a tick is held up by a relay that does not answer")
		return 0, nil
	}
}

// TestSender_RelayNeverAnswersFinalDot: a relay that takes a mail but
// never answers its final dot costs that mail its deadline, no more: the
// tick ends, the mail counts as a failed try (the relay never said 250,
// so never took responsibility for it) and is retried after its backoff,
// and the other mails go out once the relay answers again.
func TestSender_RelayNeverAnswersFinalDot(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	reply := e.queueReply(ack, "A second mail, waiting behind the first.")
	hr := startHungRelay(t)
	hr.set(true, false)
	s := e.sender(shortDeadlines(inbox.SenderConfig{Relay: hr.addr, RelayTLS: inbox.RelayNoTLS}))

	if n, err := tickWithin(t, s); n != 0 || err != nil {
		t.Fatalf("tick with a hung relay: sent %d, %v", n, err)
	}
	m := e.mail(ack.ID)
	if m.State != triage.DeliveryQueued || m.Attempts != 1 || !strings.Contains(m.LastError, "final dot") ||
		!m.NextAttempt.Equal(e.received.Add(triage.MailBackoff(1))) {
		t.Errorf("the mail whose final dot got no answer: %+v", m)
	}
	if m := e.mail(reply.ID); m.State != triage.DeliveryQueued || m.Attempts != 0 {
		t.Errorf("the next mail was tried on the stuck connection: %+v", m)
	}

	hr.set(false, false) // the relay is back
	if n, err := tickWithin(t, s); n != 1 || err != nil {
		t.Fatalf("next tick: sent %d, %v; want the other mail", n, err)
	}
	if m := e.mail(reply.ID); m.State != triage.DeliverySent {
		t.Errorf("the other mail: %+v", m)
	}
	// The unanswered mail is tried again after its backoff: the relay
	// may now have it twice (README, outgoing mail).
	e.clock.Set(e.received.Add(triage.MailBackoff(1)))
	if n, err := tickWithin(t, s); n != 1 || err != nil {
		t.Fatalf("after the backoff: sent %d, %v", n, err)
	}
	if data, accepted := hr.counts(); data != 3 || accepted != 2 {
		t.Errorf("relay saw %d mails and accepted %d, want 3 and 2", data, accepted)
	}
}

// TestSender_RelayNeverGreets: a relay that accepts the connection but
// never greets costs the tick its connect deadline, no more.
func TestSender_RelayNeverGreets(t *testing.T) {
	t.Parallel()
	e := newOutboxEnv(t)
	_, ack := e.fileReport(true, true)
	hr := startHungRelay(t)
	hr.set(false, true)
	s := e.sender(shortDeadlines(inbox.SenderConfig{Relay: hr.addr, RelayTLS: inbox.RelayNoTLS}))
	if n, err := tickWithin(t, s); n != 0 || err != nil {
		t.Fatalf("tick with a silent relay: sent %d, %v", n, err)
	}
	if m := e.mail(ack.ID); m.State != triage.DeliveryQueued || m.Attempts != 1 || !strings.Contains(m.LastError, "relay") {
		t.Errorf("the mail: %+v", m)
	}
	// With STARTTLS (the default) too.
	s = e.sender(shortDeadlines(inbox.SenderConfig{Relay: hr.addr}))
	e.clock.Set(e.received.Add(triage.MailBackoff(1)))
	if n, err := tickWithin(t, s); n != 0 || err != nil {
		t.Fatalf("tick with a silent STARTTLS relay: sent %d, %v", n, err)
	}
	if m := e.mail(ack.ID); m.State != triage.DeliveryQueued || m.Attempts != 2 {
		t.Errorf("the mail: %+v", m)
	}
}

// shortDeadlines gives cfg relay deadlines short enough for tests, long
// enough for a loopback relay that answers.
func shortDeadlines(cfg inbox.SenderConfig) inbox.SenderConfig {
	cfg.RelayConnectTimeout, cfg.RelayCommandTimeout, cfg.RelayMailTimeout = 2*time.Second, 2*time.Second, 2*time.Second
	return cfg
}

// entitySigner signs with one unlocked key, as teamkey.Ring does with the
// primary key: under a lock, the key being shared.
type entitySigner struct {
	mu sync.Mutex
	e  *openpgp.Entity
}

func (s *entitySigner) ComposeMail(m pgp.OutgoingMail, recipients openpgp.EntityList, now time.Time) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pgp.ComposeMail(m, s.e, recipients, now)
}
