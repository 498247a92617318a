package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// The hall of fame is public and may be fetched often (feed readers, a
// link on a busy page), while it changes only when a researcher answers
// a credit offer or a credited report changes status. So it is served
// from rendered bytes, rebuilt at most every hallCacheTTL, and at once
// after hallChanged.

// hallCacheTTL bounds how stale the cache may be when something changed
// without calling hallChanged (another process, a status change made
// where nobody calls it).
const hallCacheTTL = 30 * time.Second

// hallCacheControl lets browsers and proxies keep the hall for a minute.
const hallCacheControl = "public, max-age=60"

// hallForm is one of the hall of fame's three representations.
type hallForm int

const (
	hallHTML hallForm = iota
	hallJSONForm
	hallAtomForm
	hallForms
)

// hallDoc is one rendered representation.
type hallDoc struct {
	body        []byte
	etag        string // strong: the body's hash, quoted
	contentType string
}

// hallSnapshot is the three representations built from one read.
type hallSnapshot struct {
	gen   uint64 // hallCache.gen when the read began
	built time.Time
	docs  [hallForms]hallDoc
}

// hallCache holds the latest snapshot. Readers load it without a lock;
// a rebuild holds mu, so that a burst of requests after a change reads
// the database once.
type hallCache struct {
	gen     atomic.Uint64 // bumped by hallChanged
	snap    atomic.Pointer[hallSnapshot]
	mu      sync.Mutex
	started time.Time // the empty feed's updated time: stable per process
}

func newHallCache(now time.Time) *hallCache {
	return &hallCache{started: now.UTC().Truncate(time.Second)}
}

// hallChanged invalidates the hall of fame cache: the next request
// rebuilds it. Call it after anything that may change what the hall
// shows: a credit choice or revocation, an advisory title, a status
// change of a report with credit.
func (s *server) hallChanged() { s.hall.gen.Add(1) }

// hallSnapshot returns a fresh snapshot, rebuilding it when it is older
// than hallCacheTTL or invalidated. When the rebuild fails and an older
// snapshot exists, that one is served (and the failure logged): a stale
// hall of fame beats an error page.
func (s *server) hallSnapshot(ctx context.Context) (*hallSnapshot, error) {
	c := s.hall
	fresh := func(sn *hallSnapshot, now time.Time) bool {
		return sn != nil && sn.gen == c.gen.Load() && !now.Before(sn.built) && now.Sub(sn.built) < hallCacheTTL
	}
	if sn := c.snap.Load(); fresh(sn, s.now()) {
		return sn, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	if sn := c.snap.Load(); fresh(sn, now) {
		return sn, nil
	}
	// Read gen before the data: a change during the read leaves the new
	// snapshot already stale, so the next request rebuilds again.
	gen := c.gen.Load()
	h, err := s.store.HallOfFame(ctx)
	if err == nil {
		var sn *hallSnapshot
		if sn, err = s.buildHall(ctx, h, gen, now); err == nil {
			c.snap.Store(sn)
			return sn, nil
		}
	}
	if old := c.snap.Load(); old != nil {
		s.log.WarnContext(ctx, "hall of fame: rebuild failed, serving the previous one", "err", err)
		return old, nil
	}
	return nil, fmt.Errorf("web: hall of fame: %w", err)
}

// buildHall renders h in the three forms.
func (s *server) buildHall(ctx context.Context, h *triage.HallOfFame, gen uint64, now time.Time) (*hallSnapshot, error) {
	sn := &hallSnapshot{gen: gen, built: now}
	var buf bytes.Buffer
	if err := templates.HallOfFame(s.hallView(h)).Render(templates.WithBranding(ctx, s.branding(ctx)), &buf); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	sn.docs[hallHTML] = newHallDoc(buf.Bytes(), "text/html; charset=utf-8")

	js, err := json.MarshalIndent(hallJSONOf(h), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render json: %w", err)
	}
	sn.docs[hallJSONForm] = newHallDoc(append(js, '\n'), "application/json; charset=utf-8")

	atom, err := xml.MarshalIndent(s.hallAtom(h), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render atom: %w", err)
	}
	atom = append([]byte(xml.Header), append(atom, '\n')...)
	sn.docs[hallAtomForm] = newHallDoc(atom, "application/atom+xml; charset=utf-8")
	return sn, nil
}

func newHallDoc(body []byte, contentType string) hallDoc {
	sum := sha256.Sum256(body)
	return hallDoc{body: bytes.Clone(body), etag: `"` + hex.EncodeToString(sum[:16]) + `"`, contentType: contentType}
}

// serveHall answers r with one form of the hall of fame, or 304 Not
// Modified when the client already has it (If-None-Match).
func (s *server) serveHall(w http.ResponseWriter, r *http.Request, form hallForm) {
	sn, err := s.hallSnapshot(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := sn.docs[form]
	h := w.Header()
	h.Set("Cache-Control", hallCacheControl)
	h.Set("ETag", d.etag)
	if etagMatches(r.Header.Get("If-None-Match"), d.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", d.contentType)
	h.Set("Content-Length", strconv.Itoa(len(d.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(d.body)
	}
}

// etagMatches reports whether an If-None-Match header value matches
// etag, with the weak comparison RFC 9110 section 13.1.2 asks for.
func etagMatches(header, etag string) bool {
	if len(header) > 4096 {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// hallOfFame is the public hall of fame page.
func (s *server) hallOfFame(w http.ResponseWriter, r *http.Request) { s.serveHall(w, r, hallHTML) }

// hallOfFameJSON is the hall of fame as JSON (hallJSON).
func (s *server) hallOfFameJSON(w http.ResponseWriter, r *http.Request) {
	s.serveHall(w, r, hallJSONForm)
}

// hallOfFameAtom is the hall of fame as an Atom feed (hallAtom).
func (s *server) hallOfFameAtom(w http.ResponseWriter, r *http.Request) {
	s.serveHall(w, r, hallAtomForm)
}

// hallView is h for the page.
func (s *server) hallView(h *triage.HallOfFame) templates.HallOfFameView {
	v := templates.HallOfFameView{FeedURL: "/hall-of-fame.atom", JSONURL: "/hall-of-fame.json"}
	if !h.Updated.IsZero() {
		v.Updated = h.Updated.UTC().Format("2 January 2006")
	}
	for _, y := range h.Years {
		year := templates.HallOfFameYear{Year: strconv.Itoa(y.Year), Anchor: hallAnchor(y.Year), Anonymous: y.Anonymous}
		for _, e := range y.Entries {
			he := templates.HallOfFameEntry{Name: e.Name, URL: hallLink(e.Link), Reports: reportCount(e.Count), Advisories: e.Advisories}
			for i := range e.Advisories {
				link := ""
				if i < len(e.AdvisoryIDs) && e.AdvisoryIDs[i] != "" {
					link = "/advisories/" + e.AdvisoryIDs[i]
				}
				he.AdvisoryLinks = append(he.AdvisoryLinks, link)
			}
			year.Entries = append(year.Entries, he)
		}
		v.Years = append(v.Years, year)
	}
	return v
}

func hallAnchor(year int) string { return "y" + strconv.Itoa(year) }

// hallLink is link if it is an absolute http(s) URL without invisible
// characters, else "". The store only takes such links
// (triage.CleanCredit); this keeps it so for what an older version
// stored. A link with a bidi override is dropped, not cleaned: without
// the character it would point elsewhere.
func hallLink(link string) string {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || triage.HasInvisible(link) {
		return ""
	}
	return link
}

// hallText is a name or advisory title as the JSON and the feed show
// it: without invisible characters (the page does the same, in <bdi>).
func hallText(s string) string { return triage.StripInvisible(s) }

// hallTexts is hallText of each of ss, never nil.
func hallTexts(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = hallText(s)
	}
	return out
}

func reportCount(n int) string {
	if n == 1 {
		return "1 report"
	}
	return strconv.Itoa(n) + " reports"
}

// hallJSON is /hall-of-fame.json: the same content as the page.
type hallJSON struct {
	Updated *time.Time     `json:"updated"` // the newest credit; null when empty
	Years   []hallJSONYear `json:"years"`   // newest first
}

type hallJSONYear struct {
	Year        int             `json:"year"`
	Researchers []hallJSONEntry `json:"researchers"`
	Anonymous   int             `json:"anonymous"` // reports credited anonymously
}

type hallJSONEntry struct {
	Name       string   `json:"name"`
	Link       string   `json:"link"` // "" for none
	Reports    int      `json:"reports"`
	Advisories []string `json:"advisories"` // disclosed reports: advisory titles or tracking ids
}

func hallJSONOf(h *triage.HallOfFame) hallJSON {
	out := hallJSON{Years: []hallJSONYear{}}
	if !h.Updated.IsZero() {
		t := h.Updated.UTC()
		out.Updated = &t
	}
	for _, y := range h.Years {
		jy := hallJSONYear{Year: y.Year, Researchers: []hallJSONEntry{}, Anonymous: y.Anonymous}
		for _, e := range y.Entries {
			jy.Researchers = append(jy.Researchers, hallJSONEntry{Name: hallText(e.Name), Link: hallLink(e.Link), Reports: e.Count, Advisories: hallTexts(e.Advisories)})
		}
		out.Years = append(out.Years, jy)
	}
	return out
}

// The Atom feed (RFC 4287) has one entry per year, identified by the
// page's anchor for that year, so that a reader shows a year again when
// someone is added to it. The store gives one updated time for the
// whole hall (the newest credit), so every entry carries it: a change
// marks every year updated, which errs on the side of showing news.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name  string `xml:"name"`
	Email string `xml:"email,omitempty"`
}

type atomEntry struct {
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Content atomText `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

// hallAtom is h as an Atom feed; encoding/xml escapes every value.
func (s *server) hallAtom(h *triage.HallOfFame) atomFeed {
	page := s.publicURL + "/hall-of-fame"
	updated := s.hall.started
	if !h.Updated.IsZero() {
		updated = h.Updated.UTC()
	}
	up := updated.Format(time.RFC3339)
	f := atomFeed{
		ID:      page,
		Title:   "Hall of fame: " + s.domain,
		Updated: up,
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: page + ".atom"},
			{Rel: "alternate", Type: "text/html", Href: page},
		},
		Author: atomPerson{Name: s.domain + " security team", Email: s.contact},
	}
	for _, y := range h.Years {
		var b strings.Builder
		for _, e := range y.Entries {
			fmt.Fprintf(&b, "%s: %s", hallText(e.Name), reportCount(e.Count))
			if l := hallLink(e.Link); l != "" {
				fmt.Fprintf(&b, " (%s)", l)
			}
			b.WriteString("\n")
			for _, a := range e.Advisories {
				fmt.Fprintf(&b, "  Advisory: %s\n", hallText(a))
			}
		}
		switch {
		case y.Anonymous == 1:
			b.WriteString("And 1 report by a researcher who chose to stay anonymous.\n")
		case y.Anonymous > 1:
			fmt.Fprintf(&b, "And %d reports by researchers who chose to stay anonymous.\n", y.Anonymous)
		}
		link := page + "#" + hallAnchor(y.Year)
		f.Entries = append(f.Entries, atomEntry{
			ID:      link,
			Title:   fmt.Sprintf("Researchers credited in %d", y.Year),
			Updated: up,
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: link},
			Content: atomText{Type: "text", Text: b.String()},
		})
	}
	return f
}

// Credit with consent: the offer mail links to /credit/{token}, where the
// researcher chooses how to be named, or withdraws. The token is the
// only key: the page shows the tracking id and nothing else about the
// report, and never logs the token (see logPath).

// maxCreditForm bounds the credit form's body.
const maxCreditForm = 16 << 10

// creditLookup finds the offer r's token leads to. It answers r itself
// and returns nil when there is none: 429 past the per-address limit of
// unknown tokens, 404 for an unknown token, 410 for an expired link.
func (s *server) creditLookup(w http.ResponseWriter, r *http.Request) (*triage.Credit, string) {
	// A private link, like the status page: never indexed.
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	token := r.PathValue("token")
	now, key := s.now(), ipKey(r)
	lim := s.acct.limits.links
	if wait := lim.wait(key, now); wait > 0 {
		s.tooMany(w, r, wait)
		return nil, ""
	}
	notFound := triage.Errorf(triage.ENOTFOUND,
		"This link is not valid. Check that you copied all of it, or ask the security team for a new one.")
	var (
		c   *triage.Credit
		err error = notFound
	)
	if token != "" && len(token) <= maxTokenLen {
		c, err = s.store.CreditByTokenHash(r.Context(), triage.TokenHash(token))
	}
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		lim.take(key, now)
		s.Error(w, r, notFound)
		return nil, ""
	} else if err != nil {
		s.Error(w, r, err)
		return nil, ""
	}
	w.Header().Set("Cache-Control", "no-store")
	if !c.ExpiresAt.After(now) {
		s.render(w, r, http.StatusGone, templates.CreditExpired(templates.CreditExpiredView{Contact: s.contact}))
		return nil, ""
	}
	return c, token
}

// creditForm shows the researcher's current choice and the form.
func (s *server) creditForm(w http.ResponseWriter, r *http.Request) {
	c, token := s.creditLookup(w, r)
	if c == nil {
		return
	}
	v := creditChoiceView(c, token)
	switch r.URL.Query().Get("saved") {
	case "choice":
		v.Notice = "Your choice is saved."
	case "revoked":
		v.Notice = "Your consent is withdrawn."
	}
	s.render(w, r, http.StatusOK, templates.CreditChoice(v))
}

// creditChoose records the researcher's choice (action=choose) or
// withdraws consent (action=revoke), then shows the page again. A
// refused choice is shown on the form with 422. Cross-site posts are
// refused by the site's cross-origin protection (web.go).
func (s *server) creditChoose(w http.ResponseWriter, r *http.Request) {
	c, token := s.creditLookup(w, r)
	if c == nil {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCreditForm)
	if err := r.ParseForm(); err != nil {
		s.Error(w, r, triage.Errorf(triage.EINVALID, "The form could not be read."))
		return
	}
	now, saved := s.now(), "choice"
	var err error
	switch r.PostForm.Get("action") {
	case "revoke":
		err, saved = s.store.RevokeCredit(r.Context(), c.ReportID, now), "revoked"
	case "choose":
		name, link := r.PostForm.Get("name"), r.PostForm.Get("link")
		var choice triage.CreditChoice
		choice, err = triage.ParseCreditChoice(r.PostForm.Get("choice"))
		if err == nil {
			name, link, err = triage.CleanCredit(choice, name, link)
		}
		if triage.ErrorCode(err) == triage.EINVALID {
			v := creditChoiceView(c, token)
			v.Choice, v.Name, v.Link, v.Error = string(choice), truncate(name, 200), truncate(link, 400), triage.ErrorMessage(err)
			if choice == "" {
				v.Error = "Choose one of the four ways to be credited."
			}
			markChoice(&v)
			s.render(w, r, http.StatusUnprocessableEntity, templates.CreditChoice(v))
			return
		}
		if err == nil {
			err = s.store.ChooseCredit(r.Context(), c.ReportID, choice, name, link, now)
		}
	default:
		err = triage.Errorf(triage.EINVALID, "Unknown action.")
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.hallChanged()
	http.Redirect(w, r, "/credit/"+url.PathEscape(token)+"?saved="+saved, http.StatusSeeOther)
}

// creditOptions are the four ways to be credited, explained.
var creditOptions = []templates.CreditOption{
	{Value: string(triage.CreditName), Label: "By name",
		Help: "Your name as you enter it below, linked to your page if you give a link."},
	{Value: string(triage.CreditHandle), Label: "By handle",
		Help: "A pseudonym or online handle you enter below, linked if you like."},
	{Value: string(triage.CreditAnonymous), Label: "Anonymously",
		Help: "Your report is counted in the hall of fame, without any name."},
	{Value: string(triage.CreditNone), Label: "Not at all",
		Help: "Nothing about your report appears in the hall of fame."},
}

// creditChoiceView is the page for offer c, reached with token.
func creditChoiceView(c *triage.Credit, token string) templates.CreditChoiceView {
	v := templates.CreditChoiceView{
		TrackingID: c.TrackingID,
		Action:     "/credit/" + url.PathEscape(token),
		Choice:     string(c.Choice),
		Name:       c.DisplayName,
		Link:       c.Link,
		Revoked:    !c.RevokedAt.IsZero(),
		Expires:    c.ExpiresAt.UTC().Format("2 January 2006"),
	}
	switch c.Choice {
	case triage.CreditName:
		v.Current, v.CurrentName = "You chose to be credited by name, as", c.DisplayName
	case triage.CreditHandle:
		v.Current, v.CurrentName = "You chose to be credited by the handle", c.DisplayName
	case triage.CreditAnonymous:
		v.Current = "You chose to be credited anonymously: your report is counted, without a name."
	case triage.CreditNone:
		v.Current = "You chose not to be credited: nothing about your report is published."
	}
	if v.Current != "" && c.Link != "" && c.Choice.Named() {
		v.CurrentLink = c.Link
	}
	markChoice(&v)
	return v
}

// markChoice selects v.Choice among the options.
func markChoice(v *templates.CreditChoiceView) {
	v.Choices = make([]templates.CreditOption, len(creditOptions))
	for i, o := range creditOptions {
		o.Selected = o.Value == v.Choice
		v.Choices[i] = o
	}
}
