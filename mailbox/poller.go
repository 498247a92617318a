package mailbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"

	"github.com/secinbox/secinbox/triage"
)

// Store is what mailbox intake needs from the database. db.DB implements
// it.
type Store interface {
	// MailboxMessageSeen tells whether the message uid of mailbox, under
	// uidValidity, is already stored.
	MailboxMessageSeen(ctx context.Context, mailbox string, uidValidity, uid uint32) (bool, error)
	// AddMailboxMessage stores m and o in one transaction, or, when the
	// message is already stored (same UID, or same Message-ID and bytes),
	// nothing: then dup is true. Either way it sets m.ID, and returns nil
	// only once the commit is durable.
	AddMailboxMessage(ctx context.Context, m *triage.RawMessage, o triage.MailboxOrigin) (dup bool, err error)
}

// Config is one mailbox's poller. Zero fields take the defaults given.
type Config struct {
	Account Account
	// Password signs in with LOGIN, unless OAuth2TokenFile is set.
	Password string
	// OAuth2TokenFile holds an OAuth 2.0 access token (Gmail, Microsoft
	// 365) that the admin's tooling keeps fresh; it is read again at each
	// sign-in and sent as SASL XOAUTH2.
	OAuth2TokenFile string
	// DoneFolder receives each message once it is committed; default
	// "secinbox-filed", created when missing.
	DoneFolder string
	// MaxMessageBytes is the largest message fetched (default 25 MiB,
	// the SMTP limit); a larger one stays in the folder.
	MaxMessageBytes int64
	// PollInterval is how often the folder is read through even when
	// IDLE reports nothing (and how often without IDLE); default 2 min.
	PollInterval time.Duration
	// CommandTimeout bounds each command and the connection set-up;
	// default 1 min.
	CommandTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failure, which
	// doubles from one to the other (defaults 5 s and 10 min).
	MinBackoff, MaxBackoff time.Duration
	// TLSConfig is the base TLS configuration (tests set RootCAs).
	TLSConfig *tls.Config
	Logger    *slog.Logger
	Now       func() time.Time
	// Dial opens the TCP connection (default net.Dialer).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Poller fetches one mailbox's mail into the store.
type Poller struct {
	cfg   Config
	store Store
	wake  triage.Waker
	log   *slog.Logger

	mu     sync.Mutex
	status triage.MailboxStatus

	// Test hooks (export_test.go). afterCommit runs after each commit,
	// before the move: an error ends the session there, as a crash would.
	afterCommit func(id int64) error
	onStatus    func(triage.MailboxStatus)
}

// New returns a poller of cfg.Account that stores into store and wakes
// wake (the processor) after each message committed (wake may be nil:
// the processor's catch-up then finds it).
func New(cfg Config, store Store, wake triage.Waker) (*Poller, error) {
	if cfg.Account.Addr == "" || cfg.Account.Name == "" {
		return nil, errors.New("mailbox: no account")
	}
	if cfg.Password == "" && cfg.OAuth2TokenFile == "" {
		return nil, fmt.Errorf("mailbox %s: no password and no OAuth2 token file", cfg.Account.Name)
	}
	if cfg.DoneFolder == "" {
		cfg.DoneFolder = "secinbox-filed"
	}
	if strings.EqualFold(cfg.DoneFolder, cfg.Account.Folder) {
		return nil, fmt.Errorf("mailbox %s: the done folder must not be the folder read", cfg.Account.Name)
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 25 << 20
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Minute
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = time.Minute
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 5 * time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(10*time.Minute, cfg.MinBackoff)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{}).DialContext
	}
	p := &Poller{cfg: cfg, store: store, wake: wake, log: cfg.Logger.With("mailbox", cfg.Account.Name)}
	p.status = triage.MailboxStatus{Mailbox: cfg.Account.Name, State: triage.MailboxConnecting}
	if os.Getenv(HangAfterCommitEnv) == "1" {
		p.afterCommit = func(id int64) error {
			p.log.Warn(hangAfterCommitLog, "message", id)
			select {} // until the test's kill -9
		}
	}
	return p, nil
}

// HangAfterCommitEnv, set to 1, is a test hook of the end-to-end crash
// test (mailbox/kill_test.go), which runs the real binary: after each
// commit, before the move, the poller logs hangAfterCommitLog and stops
// there for good, so that the test can kill -9 the process at exactly
// that point. Nothing else reads it; never set it in production.
const HangAfterCommitEnv = "SECINBOX_TEST_MAILBOX_HANG_AFTER_COMMIT"

const hangAfterCommitLog = "mailbox: test hook: committed, hanging before the move"

// Name is the mailbox's name (its URL without secrets).
func (p *Poller) Name() string { return p.cfg.Account.Name }

// Status returns the poller's state now.
func (p *Poller) Status() triage.MailboxStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

func (p *Poller) update(f func(s *triage.MailboxStatus)) {
	p.mu.Lock()
	f(&p.status)
	s := p.status
	p.mu.Unlock()
	if p.onStatus != nil {
		p.onStatus(s)
	}
}

// Run keeps the mailbox drained until ctx ends: it connects, files what
// the folder holds, waits for more, and after a failure tries again
// after a backoff that grows to MaxBackoff (back to MinBackoff once a
// check succeeds).
func (p *Poller) Run(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		checked, err := p.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if checked {
			failures = 0
		}
		failures++
		wait := p.cfg.MinBackoff << min(failures-1, 20)
		if wait > p.cfg.MaxBackoff || wait <= 0 {
			wait = p.cfg.MaxBackoff
		}
		if err == nil {
			err = errors.New("the connection ended")
		}
		p.log.Warn("mailbox: "+err.Error()+"; trying again later", "retry_in", wait.String(), "failures", failures)
		p.update(func(s *triage.MailboxStatus) {
			s.State = triage.MailboxFailing
			s.LastError = err.Error()
			s.RetryAt = p.cfg.Now().Add(wait)
			s.Errors++
		})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		p.update(func(s *triage.MailboxStatus) { s.RetryAt = time.Time{} })
	}
}

// session is one connection: sign in, open the folder, then check and
// wait until something fails or ctx ends. checked tells whether a check
// went through.
func (p *Poller) session(ctx context.Context) (checked bool, err error) {
	a := p.cfg.Account
	g, err := dial(ctx, a, p.cfg.TLSConfig, p.cfg.CommandTimeout, p.cfg.MaxMessageBytes, p.cfg.Dial)
	if err != nil {
		return false, err
	}
	defer g.Close()
	stop := context.AfterFunc(ctx, func() { g.Close() })
	defer stop()

	c, err := client.New(g)
	if err != nil {
		return false, fmt.Errorf("connect to %s: %w", a.Addr, err)
	}
	c.ErrorLog = slogPrinter{p.log}
	updates := make(chan client.Update, 16)
	newMail := make(chan struct{}, 1)
	c.Updates = updates
	go func() {
		for {
			select {
			case u := <-updates:
				if _, ok := u.(*client.MailboxUpdate); ok {
					select {
					case newMail <- struct{}{}:
					default:
					}
				}
			case <-c.LoggedOut():
				return
			}
		}
	}()
	g.setHard(time.Time{})
	c.Timeout = p.cfg.CommandTimeout
	defer func() {
		if c.State() != imap.LogoutState {
			g.reset(1 << 20)
			c.Timeout = 5 * time.Second
			_ = c.Logout()
		}
	}()

	g.reset(1 << 20)
	if err := p.signIn(c, a); err != nil {
		return false, err
	}
	if err := p.ensureFolder(c, g, p.cfg.DoneFolder); err != nil {
		return false, err
	}
	g.reset(1 << 20)
	mbox, err := c.Select(a.Folder, false)
	if err != nil {
		return false, fmt.Errorf("open folder %s: %w", a.Folder, err)
	}
	if mbox.ReadOnly {
		return false, fmt.Errorf("folder %s is read-only for %s: messages could not be moved", a.Folder, a.User)
	}
	caps := map[string]bool{}
	for _, name := range []string{"IDLE", "MOVE", "UIDPLUS"} {
		g.reset(1 << 20)
		ok, err := c.Support(name)
		if err != nil {
			return false, fmt.Errorf("capabilities: %w", err)
		}
		caps[name] = ok
	}
	p.log.Info("mailbox: connected", "folder", a.Folder, "uidvalidity", mbox.UidValidity,
		"idle", caps["IDLE"], "move", caps["MOVE"], "uidplus", caps["UIDPLUS"])
	s := &mailboxSession{p: p, c: c, g: g, caps: caps, uidValidity: mbox.UidValidity, tooLarge: map[uint32]bool{}}
	for {
		if err := s.check(ctx); err != nil {
			return checked, err
		}
		checked = true
		now := p.cfg.Now()
		p.update(func(st *triage.MailboxStatus) {
			st.State, st.LastError, st.LastCheck, st.Idle, st.TooLarge = triage.MailboxOK, "", now, caps["IDLE"], len(s.tooLarge)
		})
		if err := s.wait(ctx, newMail); err != nil {
			return checked, err
		}
		if ctx.Err() != nil {
			return checked, nil
		}
	}
}

// signIn authenticates with XOAUTH2 when a token file is set, else with
// LOGIN.
func (p *Poller) signIn(c *client.Client, a Account) error {
	if p.cfg.OAuth2TokenFile != "" {
		token, err := readToken(p.cfg.OAuth2TokenFile)
		if err != nil {
			return err
		}
		if ok, err := c.SupportAuth("XOAUTH2"); err != nil {
			return fmt.Errorf("capabilities: %w", err)
		} else if !ok {
			return fmt.Errorf("sign-in as %s: the server does not offer XOAUTH2", a.User)
		}
		x := &xoauth2{user: a.User, token: token}
		if err := c.Authenticate(x); err != nil {
			if x.failure != "" {
				return fmt.Errorf("sign-in as %s with the OAuth2 token refused: %v (%s)", a.User, err, x.failure)
			}
			return fmt.Errorf("sign-in as %s with the OAuth2 token refused: %v", a.User, err)
		}
		return nil
	}
	if err := c.Login(a.User, p.cfg.Password); err != nil {
		return fmt.Errorf("sign-in as %s refused: %v", a.User, err)
	}
	return nil
}

// readToken reads an OAuth2 access token file: one line, at most 16 KiB.
func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("OAuth2 token file: %w", err)
	}
	defer f.Close()
	b := make([]byte, 16<<10+1)
	n, _ := f.Read(b)
	if n > 16<<10 {
		return "", fmt.Errorf("OAuth2 token file %s: over 16 KiB", path)
	}
	token := strings.TrimSpace(string(b[:n]))
	if token == "" {
		return "", fmt.Errorf("OAuth2 token file %s is empty", path)
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return "", fmt.Errorf("OAuth2 token file %s: not one token (white space or control characters)", path)
	}
	return token, nil
}

// ensureFolder creates the done folder when the server does not list it.
func (p *Poller) ensureFolder(c *client.Client, g *guardConn, name string) error {
	g.reset(1 << 20)
	ch := make(chan *imap.MailboxInfo, 16)
	done := make(chan error, 1)
	go func() { done <- c.List("", name, ch) }()
	found := false
	for info := range ch {
		if info.Name == name {
			found = true
		}
	}
	if err := <-done; err != nil {
		return fmt.Errorf("list folder %s: %w", name, err)
	}
	if found {
		return nil
	}
	g.reset(1 << 20)
	if err := c.Create(name); err != nil {
		return fmt.Errorf("create folder %s: %w", name, err)
	}
	p.log.Info("mailbox: done folder created", "folder", name)
	return nil
}

// mailboxSession is the state of one connection with the folder open.
type mailboxSession struct {
	p           *Poller
	c           *client.Client
	g           *guardConn
	caps        map[string]bool
	uidValidity uint32
	tooLarge    map[uint32]bool // UIDs left in the folder, warned about once
	noExpunge   bool            // warned that \Deleted messages stay (no UIDPLUS)
}

// wait returns when IDLE reports new mail, at the poll interval, or when
// ctx ends.
func (s *mailboxSession) wait(ctx context.Context, newMail <-chan struct{}) error {
	timer := time.NewTimer(s.p.cfg.PollInterval)
	defer timer.Stop()
	if !s.caps["IDLE"] {
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-newMail: // a NOOP-less server may still tell
		}
		return nil
	}
	s.g.reset(1 << 20)
	// The IDLE command lasts until we end it: its deadline covers the
	// whole wait, plus the time to answer DONE.
	s.c.Timeout = s.p.cfg.PollInterval + s.p.cfg.CommandTimeout
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.c.Idle(stop, &client.IdleOptions{LogoutTimeout: -1}) }()
	var err error
	select {
	case <-ctx.Done():
		close(stop)
		err = <-done
	case <-timer.C:
		close(stop)
		err = <-done
	case <-newMail:
		close(stop)
		err = <-done
	case err = <-done:
		close(stop)
		if err == nil {
			err = errors.New("the server ended IDLE")
		}
	}
	s.c.Timeout = s.p.cfg.CommandTimeout
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("idle: %w", err)
	}
	return nil
}

// check files every message in the folder, oldest first.
func (s *mailboxSession) check(ctx context.Context) error {
	s.g.reset(8 << 20)
	crit := imap.NewSearchCriteria()
	crit.WithoutFlags = []string{imap.DeletedFlag}
	uids, err := s.c.UidSearch(crit)
	if err != nil {
		return fmt.Errorf("search folder %s: %w", s.p.cfg.Account.Folder, err)
	}
	slices.Sort(uids)
	for _, uid := range uids {
		if ctx.Err() != nil {
			return nil
		}
		if s.tooLarge[uid] {
			continue
		}
		if err := s.one(ctx, uid); err != nil {
			return err
		}
	}
	return nil
}

// one commits message uid (unless it is stored already), wakes the
// processor, and moves the message to the done folder.
func (s *mailboxSession) one(ctx context.Context, uid uint32) error {
	p := s.p
	name := p.cfg.Account.Name
	seen, err := p.store.MailboxMessageSeen(ctx, name, s.uidValidity, uid)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if seen {
		p.log.Info("mailbox: message already stored, moving it", "uid", uid)
		return s.move(uid)
	}
	size, err := s.size(uid)
	if err != nil {
		return err
	}
	if size > p.cfg.MaxMessageBytes {
		s.tooLarge[uid] = true
		p.log.Warn("mailbox: message over the size limit left in the folder", "uid", uid,
			"size", size, "limit", p.cfg.MaxMessageBytes)
		return nil
	}
	data, internal, err := s.fetch(uid)
	if err != nil {
		return err
	}
	if int64(len(data)) > p.cfg.MaxMessageBytes {
		s.tooLarge[uid] = true
		p.log.Warn("mailbox: message over the size limit left in the folder", "uid", uid,
			"size", len(data), "limit", p.cfg.MaxMessageBytes)
		return nil
	}
	now := p.cfg.Now()
	received := internal
	if received.IsZero() || received.After(now) {
		received = now
	}
	msgID, mailFrom := headerFields(data)
	m := &triage.RawMessage{
		MailFrom:   mailFrom,
		RemoteAddr: RemoteAddr,
		ReceivedAt: received.UTC(),
		Data:       data,
	}
	if strings.Contains(p.cfg.Account.User, "@") {
		m.Recipients = []string{strings.ToLower(p.cfg.Account.User)}
	}
	o := triage.MailboxOrigin{Mailbox: name, UIDValidity: s.uidValidity, UID: uid, MessageID: msgID}
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	dup, err := p.store.AddMailboxMessage(cctx, m, o)
	cancel()
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if dup {
		p.log.Info("mailbox: message already stored (same Message-ID and bytes), moving it", "uid", uid, "message", m.ID)
	} else {
		p.log.Info("mailbox: message accepted", "uid", uid, "message", m.ID, "size", len(data))
		p.update(func(st *triage.MailboxStatus) { st.Fetched++ })
		if p.wake != nil {
			p.wake.Wake()
		}
	}
	if p.afterCommit != nil {
		if err := p.afterCommit(m.ID); err != nil {
			return err
		}
	}
	return s.move(uid)
}

// size returns the size the server gives for message uid.
func (s *mailboxSession) size(uid uint32) (int64, error) {
	s.g.reset(1 << 20)
	msgs, err := s.fetchItems(uid, []imap.FetchItem{imap.FetchUid, imap.FetchRFC822Size})
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		if m.Uid == uid {
			return int64(m.Size), nil
		}
	}
	return 0, fmt.Errorf("fetch size of message %d: no answer", uid)
}

// fetch returns message uid's bytes, unchanged (BODY.PEEK[] leaves its
// flags alone), and its INTERNALDATE.
func (s *mailboxSession) fetch(uid uint32) ([]byte, time.Time, error) {
	s.g.reset(s.p.cfg.MaxMessageBytes + 64<<10)
	section := &imap.BodySectionName{Peek: true}
	msgs, err := s.fetchItems(uid, []imap.FetchItem{imap.FetchUid, imap.FetchInternalDate, section.FetchItem()})
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, m := range msgs {
		if m.Uid != uid {
			continue
		}
		lit := m.GetBody(section)
		if lit == nil {
			break
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(lit); err != nil {
			return nil, time.Time{}, fmt.Errorf("fetch message %d: %w", uid, err)
		}
		return buf.Bytes(), m.InternalDate, nil
	}
	return nil, time.Time{}, fmt.Errorf("fetch message %d: no body in the answer", uid)
}

func (s *mailboxSession) fetchItems(uid uint32, items []imap.FetchItem) ([]*imap.Message, error) {
	set := new(imap.SeqSet)
	set.AddNum(uid)
	ch := make(chan *imap.Message, 4)
	done := make(chan error, 1)
	go func() { done <- s.c.UidFetch(set, items, ch) }()
	var out []*imap.Message
	for m := range ch {
		if len(out) < 4 { // one is asked for; a server sending more is not kept
			out = append(out, m)
		}
	}
	if err := <-done; err != nil {
		return nil, fmt.Errorf("fetch message %d: %w", uid, err)
	}
	return out, nil
}

// move takes message uid out of the folder into the done folder: MOVE
// (RFC 6851) where the server has it, else COPY, \Deleted and UID
// EXPUNGE (RFC 4315), which removes this message only. Without UIDPLUS
// the copy stays marked \Deleted in the folder (a plain EXPUNGE would
// also remove whatever else someone marked); the search skips it.
func (s *mailboxSession) move(uid uint32) error {
	s.g.reset(1 << 20)
	set := new(imap.SeqSet)
	set.AddNum(uid)
	done := s.p.cfg.DoneFolder
	if s.caps["MOVE"] {
		if err := s.c.UidMove(set, done); err != nil {
			return fmt.Errorf("move message %d to %s: %w", uid, done, err)
		}
		return nil
	}
	if err := s.c.UidCopy(set, done); err != nil {
		return fmt.Errorf("copy message %d to %s: %w", uid, done, err)
	}
	s.g.reset(1 << 20)
	if err := s.c.UidStore(set, imap.FormatFlagsOp(imap.AddFlags, true), []any{imap.DeletedFlag}, nil); err != nil {
		return fmt.Errorf("mark message %d deleted: %w", uid, err)
	}
	if !s.caps["UIDPLUS"] {
		if !s.noExpunge {
			s.noExpunge = true
			s.p.log.Warn("mailbox: the server has neither MOVE nor UIDPLUS: filed messages stay in the folder marked deleted (expunge them from a mail client)")
		}
		return nil
	}
	s.g.reset(1 << 20)
	status, err := s.c.Execute(&uidExpunge{set}, nil)
	if err == nil {
		err = status.Err()
	}
	if err != nil {
		return fmt.Errorf("expunge message %d: %w", uid, err)
	}
	return nil
}

// uidExpunge is UID EXPUNGE (RFC 4315 section 2.1).
type uidExpunge struct{ set *imap.SeqSet }

func (c *uidExpunge) Command() *imap.Command {
	return &imap.Command{Name: "UID", Arguments: []any{imap.RawString("EXPUNGE"), c.set}}
}

// RemoteAddr is the client address recorded with messages from a
// mailbox: none is known (package inbox's authentication checks read it
// so).
const RemoteAddr = "mailbox"

// headerFields returns the message's Message-ID (when well-formed, else
// "") and the envelope sender the final delivery recorded in the topmost
// Return-Path ("" for "<>", a bounce). Without a Return-Path the From
// address stands in, so that the researcher is still acknowledged.
func headerFields(data []byte) (msgID, mailFrom string) {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(data)
	}
	m, err := mail.ReadMessage(bytes.NewReader(append(data[:end:end], "\r\n\r\n"...)))
	if err != nil {
		return "", ""
	}
	id := strings.TrimSpace(m.Header.Get("Message-Id"))
	if len(id) > 250 || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") ||
		strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		id = ""
	}
	if rp, ok := m.Header["Return-Path"]; ok && len(rp) > 0 {
		v := strings.TrimSpace(rp[0])
		if v == "<>" || v == "" {
			return id, ""
		}
		if a, err := mail.ParseAddress(v); err == nil && printable(a.Address) {
			return id, a.Address
		}
		return id, ""
	}
	if list, err := m.Header.AddressList("From"); err == nil && len(list) == 1 && printable(list[0].Address) {
		return id, list[0].Address
	}
	return id, ""
}

func printable(s string) bool {
	return len(s) <= 320 && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' })
}

// slogPrinter sends go-imap's error log to slog.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.l.Warn("imap: " + fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.l.Warn("imap: " + strings.TrimSpace(fmt.Sprintln(v...))) }
