package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secinbox/secinbox/pgp"
	"github.com/secinbox/secinbox/templates"
	"github.com/secinbox/secinbox/triage"
)

// The web submission form (/report) and the researcher's status page
// (/status/{token}), issue 5. With JavaScript the browser encrypts the
// report to the team key (static/submit.js, OpenPGP.js) and sends only
// the ciphertext, the contact address, the honeypot and the form token;
// without, the plain fields arrive and are encrypted here before
// anything is stored. Either way the stored raw message is an RFC 3156
// encrypted mail that intake decrypts and files like any other.

// Limits of the form. The encrypted post is the larger: 10 MiB of files
// grow by a third as base64 in the MIME entity and by a third again as
// armor, about 19 MiB with the text.
const (
	maxSubmitBytes     = 20 << 20 // a whole POST /report
	maxSubmitFiles     = 5
	maxSubmitFileBytes = 10 << 20 // all attachments together
	maxSubmitParts     = 32       // form fields and files in one post
	maxSubmitLongField = 64 << 10 // description, steps
	maxSubmitAsset     = 500
	// The form token: a form posted sooner than formMinAge after it was
	// served is a robot's; one older than formMaxAge has expired.
	formMinAge = 3 * time.Second
	formMaxAge = 24 * time.Hour
	// maxLinkToken bounds a status token in a URL (LinkToken's are 43).
	maxLinkToken = 64
	// maxStatusReplyBytes bounds the reply form's body: the text, URL
	// encoded (at most 3 bytes a byte), and a little more.
	maxStatusReplyBytes = 3*triage.MaxMessageBytes + 1024
	// statusRefresh is how often the pending status page reloads.
	statusRefresh = "5"
)

// Per-IP limits of the researcher's pages (token buckets, ratelimit.go).
var (
	limitSubmit      = limit{burst: 5, every: 12 * time.Minute} // 5 an hour
	limitStatusView  = limit{burst: 30, every: 2 * time.Second}
	limitStatusReply = limit{burst: 10, every: 6 * time.Minute}
)

// Slots of the form posts being read: each may hold tens of MiB (files,
// MIME entity, ciphertext) in memory, so only so many are read at once;
// and few per client, so that a few slow clients cannot hold the form
// for everyone (uploadSlots).
const (
	maxUploads          = 16
	maxUploadsPerClient = 2
)

// A form post must arrive at minUploadRate bytes a second on average
// after its first uploadGrace, or it is cut off with 408 (paceReader): a
// trickling body holds its slot, and its memory, for no one's benefit.
const (
	minUploadRate = 1 << 10
	uploadGrace   = 5 * time.Second
)

// submitLimiters are the per-IP limiters of the form and status pages,
// and the slots of the posts being read.
type submitLimiters struct {
	submit, view, reply *limiter
	uploads             *uploadSlots
}

func newSubmitLimiters() *submitLimiters {
	return &submitLimiters{
		submit:  newLimiter(limitSubmit, limiterCapacity),
		view:    newLimiter(limitStatusView, limiterCapacity),
		reply:   newLimiter(limitStatusReply, limiterCapacity),
		uploads: newUploadSlots(maxUploads, maxUploadsPerClient),
	}
}

// Form field names, shared with submit.js.
const (
	fieldTitle       = "title"
	fieldDescription = "description"
	fieldAsset       = "asset"
	fieldSteps       = "steps"
	fieldFiles       = "attachments"
	fieldEmail       = "email"
	fieldCredit      = "credit"
	fieldCreditName  = "credit_name"
	fieldHoneypot    = "website"
	fieldFormToken   = "form_token"
	fieldCiphertext  = "ciphertext"
)

// submitFieldLimits bound each field in bytes; fields not named here are
// read and dropped.
var submitFieldLimits = map[string]int{
	fieldTitle:       4 * triage.MaxSubjectLength,
	fieldDescription: maxSubmitLongField,
	fieldAsset:       maxSubmitAsset,
	fieldSteps:       maxSubmitLongField,
	fieldEmail:       254,
	fieldCredit:      16,
	fieldCreditName:  4 * triage.MaxDisplayName,
	fieldHoneypot:    1024,
	fieldFormToken:   128,
	fieldCiphertext:  maxSubmitBytes,
}

// fieldNames are the fields for people, in error messages.
var fieldNames = map[string]string{
	fieldTitle: "title", fieldDescription: "description", fieldAsset: "affected asset",
	fieldSteps: "steps to reproduce", fieldEmail: "email address", fieldCredit: "credit choice",
	fieldCreditName: "name to credit", fieldHoneypot: "last field", fieldFormToken: "form token",
	fieldCiphertext: "encrypted report",
}

// creditChoices are the form's credit choices, the default first.
var creditChoices = []templates.Option{
	{Value: string(triage.CreditNone), Label: "Do not credit me"},
	{Value: string(triage.CreditName), Label: "By my name"},
	{Value: string(triage.CreditHandle), Label: "By a handle (pseudonym)"},
	{Value: string(triage.CreditAnonymous), Label: "Anonymously (counted, not named)"},
}

// submission is one post of the form, read and bounded.
type submission struct {
	fields map[string]string
	// ciphertext is what the browser encrypted, up to 20 MiB: kept as
	// read, never copied into a string.
	ciphertext []byte
	files      []pgp.File
	size       int // bytes of files
}

func (sub *submission) get(name string) string { return sub.fields[name] }

// encrypted reports whether the browser encrypted the report.
func (sub *submission) encrypted() bool { return len(sub.ciphertext) > 0 }

// formError is a refusal of the form: shown on the form again, with
// what was typed.
type formError struct{ msg string }

func (e *formError) Error() string { return "web: form refused: " + e.msg }

func refuse(format string, args ...any) error { return &formError{fmt.Sprintf(format, args...)} }

// submitForm serves the form with a fresh form token.
func (s *server) submitForm(w http.ResponseWriter, r *http.Request) {
	v := s.submitFormView(r, nil)
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if v.Unavailable != "" {
		status = http.StatusServiceUnavailable
	}
	s.render(w, r, status, templates.SubmitForm(v))
}

// submitFormView is the form, with sub's values when it was refused.
func (s *server) submitFormView(r *http.Request, sub *submission) templates.SubmitFormView {
	v := templates.SubmitFormView{
		Contact:       s.contact,
		MaxFiles:      strconv.Itoa(maxSubmitFiles),
		MaxFilesSize:  limitSize(maxSubmitFileBytes),
		MaxFilesBytes: strconv.Itoa(maxSubmitFileBytes),
	}
	if reason := s.submitUnavailable(r); reason != "" {
		v.Unavailable = reason
		return v
	}
	v.FormToken = s.formToken(s.now())
	credit := string(triage.CreditNone)
	if sub != nil {
		v.Title, v.Description, v.Asset = sub.get(fieldTitle), sub.get(fieldDescription), sub.get(fieldAsset)
		v.Steps, v.Email, v.CreditName = sub.get(fieldSteps), sub.get(fieldEmail), sub.get(fieldCreditName)
		if c := sub.get(fieldCredit); c != "" {
			credit = c
		}
	}
	for _, o := range creditChoices {
		o.Selected = o.Value == credit
		v.Credits = append(v.Credits, o)
	}
	return v
}

// submitUnavailable says why the form cannot take reports now: without a
// link key there is no status link to give, without a team key nothing
// to encrypt to. "" when it can.
func (s *server) submitUnavailable(r *http.Request) string {
	if len(s.linkKey) == 0 {
		return "The web form is not set up on this site."
	}
	key := s.teamKey(r.Context())
	if len(key.Armored) == 0 {
		return "The web form is not available: no team key is published."
	}
	if !key.Expires.IsZero() && !s.now().Before(key.Expires) {
		return "The web form is not available: the team key has expired."
	}
	return ""
}

// formToken is the form's anti-bot token at now: the time, and an HMAC
// of it under the link key.
func (s *server) formToken(now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + s.formMAC(ts)
}

func (s *server) formMAC(ts string) string {
	m := hmac.New(sha256.New, s.linkKey)
	m.Write([]byte("secinbox form token\x00" + ts))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkFormToken refuses a token that is forged, expired, or used sooner
// than a person fills in a form.
func (s *server) checkFormToken(token string, now time.Time) error {
	ts, mac, ok := strings.Cut(token, ".")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || !hmac.Equal([]byte(mac), []byte(s.formMAC(ts))) {
		return refuse("The form could not be checked. Reload the page and submit again.")
	}
	age := now.Sub(time.Unix(sec, 0))
	switch {
	case age > formMaxAge:
		return refuse("This form has expired (after 24 hours). Reload the page and submit again.")
	case age < formMinAge:
		return refuse("That was faster than a person fills in a form. Wait a few seconds and submit again.")
	}
	return nil
}

// submit takes a report from the form: encrypted in the browser, or
// encrypted here before it is stored.
func (s *server) submit(w http.ResponseWriter, r *http.Request) {
	now, ip := s.now(), ipKey(r)
	if wait := s.submitLimits.submit.wait(ip, now); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}
	if reason := s.submitUnavailable(r); reason != "" {
		s.render(w, r, http.StatusServiceUnavailable, templates.SubmitForm(s.submitFormView(r, nil)))
		return
	}
	if !s.submitLimits.uploads.acquire(ip) {
		s.tooMany(w, r, 10*time.Second)
		return
	}
	defer s.submitLimits.uploads.release(ip)
	pace := newPaceReader(w, r, time.Now())
	r.Body = http.MaxBytesReader(w, pace, maxSubmitBytes)
	sub, err := readSubmission(r)
	pace.finish()
	if pace.cut {
		err = errSlowUpload
	}
	if err != nil {
		s.refuseSubmission(w, r, sub, err)
		return
	}
	// A robot filled the hidden field: it sees what a person would, and
	// nothing is stored.
	if sub.get(fieldHoneypot) != "" {
		s.submitLimits.submit.take(ip, now)
		s.log.InfoContext(r.Context(), "web form: honeypot filled, nothing stored", "client", ip)
		fake := triage.LinkToken([]byte(triage.NewNonce()), triage.LinkStatus, 0, triage.NewNonce())
		s.render(w, r, http.StatusOK, templates.SubmitDone(templates.SubmitDoneView{StatusURL: s.publicURL + "/status/" + fake}))
		return
	}
	if err := s.checkFormToken(sub.get(fieldFormToken), now); err != nil {
		s.refuseSubmission(w, r, sub, err)
		return
	}
	contact, err := triage.ValidAddress(strings.TrimSpace(sub.get(fieldEmail)))
	switch {
	case err != nil && strings.ContainsFunc(sub.get(fieldEmail), func(c rune) bool { return c >= utf8.RuneSelf }):
		s.refuseSubmission(w, r, sub, refuse("Enter an email address in plain ASCII letters (like you@example.org): we cannot answer internationalized addresses yet."))
		return
	case err != nil:
		s.refuseSubmission(w, r, sub, refuse("Enter the email address we should answer (one address, like you@example.org)."))
		return
	}
	var armored []byte
	if sub.encrypted() {
		armored, err = checkArmoredMessage(sub.ciphertext)
	} else {
		armored, err = s.encryptSubmission(r, sub, contact)
	}
	if err != nil {
		s.refuseSubmission(w, r, sub, err)
		return
	}
	if wait := s.submitLimits.submit.take(ip, now); wait > 0 {
		s.tooMany(w, r, wait)
		return
	}
	statusURL, err := s.storeSubmission(r, contact, armored, sub.encrypted(), now)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	s.render(w, r, http.StatusOK, templates.SubmitDone(templates.SubmitDoneView{StatusURL: statusURL}))
}

// storeSubmission wraps armored as an encrypted mail from contact,
// stores it with its status link, asks intake to file it, and returns
// the status link.
func (s *server) storeSubmission(r *http.Request, contact string, armored []byte, inBrowser bool, now time.Time) (string, error) {
	data, err := pgp.EncryptedMail(contact, s.contact, triage.NewMessageID(s.domain), now, armored)
	if err != nil {
		return "", fmt.Errorf("web: web form: wrap the ciphertext: %w", err)
	}
	raw := &triage.RawMessage{
		MailFrom:   contact,
		Recipients: []string{s.contact},
		RemoteAddr: clientIP(r),
		ReceivedAt: now,
		Data:       data,
	}
	nonce := triage.NewNonce()
	hash := func(id int64) []byte {
		return triage.TokenHash(triage.LinkToken(s.linkKey, triage.LinkStatus, id, nonce))
	}
	// AddWebSubmission audits the submission in its transaction.
	if err := s.store.AddWebSubmission(r.Context(), raw, nonce, hash); err != nil {
		return "", fmt.Errorf("web: web form: store: %w", err)
	}
	if s.intake != nil {
		s.intake.Wake()
	}
	s.log.InfoContext(r.Context(), "web form: report stored", "raw_message", raw.ID, "encrypted_in_browser", inBrowser)
	return s.publicURL + "/status/" + triage.LinkToken(s.linkKey, triage.LinkStatus, raw.ID, nonce), nil
}

// refuseSubmission answers a refused post: a form error on the form
// again (the browser's script shows just the message), anything else as
// an error page.
func (s *server) refuseSubmission(w http.ResponseWriter, r *http.Request, sub *submission, err error) {
	var tooBig *http.MaxBytesError
	var fe *formError
	switch {
	case errors.As(err, &tooBig):
		s.Error(w, r, err)
	case errors.As(err, &fe):
		v := s.submitFormView(r, sub)
		v.Error = fe.msg
		s.render(w, r, http.StatusBadRequest, templates.SubmitForm(v))
	default:
		s.Error(w, r, err)
	}
}

// readSubmission reads the form post: multipart (the form has a file
// field; the script sends FormData) read part by part into memory, so
// nothing of a report ever lands in a temporary file, with every field
// and the files bounded. It returns what it read so far with an error.
func readSubmission(r *http.Request) (*submission, error) {
	sub := &submission{fields: make(map[string]string)}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return sub, triage.Errorf(triage.EINVALID, "the form must be sent as multipart/form-data")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return sub, triage.Errorf(triage.EINVALID, "malformed form")
	}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sub, bodyError(err)
		}
		if n >= maxSubmitParts {
			return sub, refuse("The form has too many fields or files.")
		}
		name := part.FormName()
		if name == fieldFiles && part.FileName() != "" {
			if len(sub.files) == maxSubmitFiles {
				return sub, refuse("Attach at most %d files.", maxSubmitFiles)
			}
			data, err := io.ReadAll(io.LimitReader(part, int64(maxSubmitFileBytes-sub.size)+1))
			if err != nil {
				return sub, bodyError(err)
			}
			sub.size += len(data)
			if sub.size > maxSubmitFileBytes {
				return sub, refuse("The attachments are larger than %s in all.", limitSize(maxSubmitFileBytes))
			}
			ct := part.Header.Get("Content-Type")
			if _, _, err := mime.ParseMediaType(ct); err != nil || len(ct) > 128 {
				ct = "application/octet-stream"
			}
			sub.files = append(sub.files, pgp.File{Name: triage.CleanFilename(part.FileName()), ContentType: ct, Data: data})
			continue
		}
		max, ok := submitFieldLimits[name]
		if !ok {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return sub, bodyError(err)
			}
			continue
		}
		size := int64(0)
		if name == fieldCiphertext {
			// Nearly the whole post: read it into a buffer of the size
			// the request announces rather than growing one.
			size = r.ContentLength
		}
		data, err := readField(part, max, size)
		if err != nil {
			return sub, bodyError(err)
		}
		if len(data) > max {
			return sub, refuse("The %s is longer than %s.", fieldNames[name], limitSize(max))
		}
		if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
			return sub, refuse("The %s is not valid text.", fieldNames[name])
		}
		if name == fieldCiphertext {
			sub.ciphertext = data
			continue
		}
		sub.fields[name] = string(data)
	}
	return sub, nil
}

// readField reads at most max+1 bytes of part, into a buffer first sized
// for size bytes (capped at max) when size is positive.
func readField(part io.Reader, max int, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(min(size, int64(max))) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(part, int64(max)+1))
	return buf.Bytes(), err
}

// bodyError is a failure reading the request body: too large, or
// malformed.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return triage.Errorf(triage.EINVALID, "malformed form")
}

// checkArmoredMessage returns b without surrounding white space if it
// is one ASCII-armored OpenPGP message and nothing else. Whether it
// decrypts is intake's business.
func checkArmoredMessage(b []byte) ([]byte, error) {
	t := bytes.TrimSpace(b)
	if !bytes.HasPrefix(t, []byte("-----BEGIN PGP MESSAGE-----")) || !bytes.HasSuffix(t, []byte("-----END PGP MESSAGE-----")) ||
		bytes.Count(t, []byte("-----BEGIN ")) != 1 {
		return nil, refuse("The encrypted report is not an OpenPGP message.")
	}
	for _, c := range t {
		if c >= 0x7f || c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return nil, refuse("The encrypted report is not an OpenPGP message.")
		}
	}
	return t, nil
}

// encryptSubmission checks the plain fields sent without JavaScript,
// lays them out as the script does, and encrypts them to the published
// team key: the plaintext is never stored.
func (s *server) encryptSubmission(r *http.Request, sub *submission, contact string) ([]byte, error) {
	title := strings.TrimSpace(sub.get(fieldTitle))
	if title == "" {
		return nil, refuse("Give the report a title.")
	}
	if triage.ValidSubject(title) != nil {
		return nil, refuse("The title must be one line of at most %d characters.", triage.MaxSubjectLength)
	}
	desc, err := triage.CleanMessageBody(sub.get(fieldDescription))
	if err != nil {
		return nil, refuse("Describe the vulnerability and its impact.")
	}
	if strings.ContainsFunc(desc+sub.get(fieldSteps), textControl) {
		return nil, refuse("The description or the steps hold control characters; remove them.")
	}
	asset := strings.TrimSpace(sub.get(fieldAsset))
	if strings.ContainsFunc(asset, lineControl) {
		return nil, refuse("The affected asset must be one line.")
	}
	steps := ""
	if strings.TrimSpace(sub.get(fieldSteps)) != "" {
		if steps, err = triage.CleanMessageBody(sub.get(fieldSteps)); err != nil {
			return nil, refuse("The steps to reproduce are not valid text.")
		}
	}
	choice, err := triage.ParseCreditChoice(sub.get(fieldCredit))
	if err != nil {
		return nil, refuse("Choose how to be credited.")
	}
	if choice.Named() && triage.HasInvisible(sub.get(fieldCreditName)) {
		return nil, refuse("The name to credit holds invisible or text-direction characters (such as U+202E or U+200B) that could make it display as something else: remove them.")
	}
	name, _, err := triage.CleanCredit(choice, sub.get(fieldCreditName), "")
	if err != nil {
		return nil, refuse("Give the name or handle to credit (at most %d characters), or choose another way to be credited.", triage.MaxDisplayName)
	}
	text := reportText(title, asset, contact, creditText(choice, name), desc, steps)
	entity, err := pgp.MIMEEntity(title, text, sub.files)
	if err != nil {
		return nil, fmt.Errorf("web: web form: build the MIME entity: %w", err)
	}
	keys, err := pgp.ReadPublicKeys(s.teamKey(r.Context()).Armored)
	if err != nil {
		return nil, fmt.Errorf("web: web form: read the team key: %w", err)
	}
	armored, err := pgp.Encrypt(entity, keys, nil, s.now())
	if err != nil {
		return nil, fmt.Errorf("web: web form: encrypt: %w", err)
	}
	return armored, nil
}

// creditText is the credit preference as the report states it.
func creditText(c triage.CreditChoice, name string) string {
	switch c {
	case triage.CreditName:
		return "by name: " + name
	case triage.CreditHandle:
		return "by handle: " + name
	case triage.CreditAnonymous:
		return "anonymously"
	}
	return "none"
}

// reportText lays out the form's fields as the report's text. submit.js
// lays them out the same way (reportText there).
func reportText(title, asset, contact, credit, description, steps string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Title: %s\n", title)
	fmt.Fprintf(&b, "Affected asset: %s\n", asset)
	fmt.Fprintf(&b, "Contact: %s\n", contact)
	fmt.Fprintf(&b, "Credit: %s\n", credit)
	fmt.Fprintf(&b, "\nDescription:\n%s\n", strings.TrimRight(description, "\n"))
	if steps != "" {
		fmt.Fprintf(&b, "\nSteps to reproduce:\n%s\n", strings.TrimRight(steps, "\n"))
	}
	return b.String()
}

// statusWords are the workflow's statuses as the researcher reads them.
var statusWords = map[triage.Status]string{
	triage.StatusNew:           "Received: waiting for the security team",
	triage.StatusUndecryptable: "Received, but we could not decrypt it: please send it again",
	triage.StatusTriaging:      "Being assessed by the security team",
	triage.StatusNeedsInfo:     "We need more information from you: please reply below",
	triage.StatusAccepted:      "Confirmed as a vulnerability",
	triage.StatusFixing:        "Confirmed: a fix is being made",
	triage.StatusFixed:         "Fixed",
	triage.StatusDisclosed:     "Fixed and disclosed",
	triage.StatusDuplicate:     "Closed: someone reported it before you",
	triage.StatusNotApplicable: "Closed: not applicable",
	triage.StatusInformative:   "Closed: informative, no fix needed",
	triage.StatusSpam:          "Closed",
}

// statusToken returns the {token} of r's path if it looks like a link
// token; a malformed one is ENOTFOUND like an unknown one.
func statusToken(r *http.Request) (string, error) {
	tok := r.PathValue("token")
	if tok == "" || len(tok) > maxLinkToken || strings.ContainsFunc(tok, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')
	}) {
		return "", triage.Errorf(triage.ENOTFOUND, "There is no report behind this link.")
	}
	return tok, nil
}

// statusLink resolves r's status token to the raw message and report
// (0 while not filed), after the per-IP limit lim.
func (s *server) statusLink(w http.ResponseWriter, r *http.Request, lim *limiter) (token string, rawID, reportID int64, ok bool) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	if wait := lim.take(ipKey(r), s.now()); wait > 0 {
		s.tooMany(w, r, wait)
		return "", 0, 0, false
	}
	token, err := statusToken(r)
	if err == nil {
		rawID, reportID, err = s.store.StatusLink(r.Context(), triage.TokenHash(token))
	}
	if triage.ErrorCode(err) == triage.ENOTFOUND {
		err = triage.Errorf(triage.ENOTFOUND, "There is no report behind this link.")
	}
	if err != nil {
		s.Error(w, r, err)
		return "", 0, 0, false
	}
	return token, rawID, reportID, true
}

// statusPage shows a web submission's status, first-response promise
// and conversation to whoever holds its link.
func (s *server) statusPage(w http.ResponseWriter, r *http.Request) {
	token, _, reportID, ok := s.statusLink(w, r, s.submitLimits.view)
	if !ok {
		return
	}
	v, err := s.statusView(r, token, reportID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if r.URL.Query().Get("sent") == "1" {
		v.Notice = "Your reply was sent to the security team."
	}
	if !v.Filed {
		w.Header().Set("Refresh", statusRefresh)
	}
	s.render(w, r, http.StatusOK, templates.StatusPage(v))
}

// statusView builds the status page of report reportID (0: not filed yet).
func (s *server) statusView(r *http.Request, token string, reportID int64) (templates.StatusView, error) {
	base := "/status/" + token
	v := templates.StatusView{ReplyURL: base + "/reply"}
	if reportID == 0 {
		return v, nil
	}
	ctx := r.Context()
	rep, err := s.store.Report(ctx, reportID)
	if err != nil {
		return v, err
	}
	p, err := s.store.SLAPolicy(ctx)
	if err != nil {
		return v, err
	}
	msgs, err := s.store.Messages(ctx, reportID)
	if err != nil {
		return v, err
	}
	now, zone := s.now(), p.Calendar.Zone()
	at := func(t time.Time) string { return t.In(zone).Format(clockDisplay) }
	v.Filed, v.CanReply = true, true
	v.TrackingID, v.StatusKey = rep.TrackingID, string(rep.Status)
	v.Status = statusWords[rep.Status]
	if v.Status == "" {
		v.Status = string(rep.Status)
	}
	v.Received = at(rep.ReceivedAt)
	v.FirstResponse = statusClock(rep.Clocks(p, now).FirstResponse, !rep.Timeline.RespondedAt.IsZero(), at)
	if v.Disclosure, err = s.statusDisclosure(ctx, rep, now); err != nil {
		return v, err
	}
	first := rep.Body
	if rep.Encrypted && !rep.Decrypted {
		first = "(We could not decrypt this message.)"
	}
	v.Messages = append(v.Messages, templates.StatusMessageView{From: "You", At: at(rep.ReceivedAt), Via: "web form", Body: first})
	for _, m := range msgs {
		mv := templates.StatusMessageView{Team: m.Direction == triage.DirectionOut, From: "You", At: at(m.At), Body: m.Body}
		if mv.Team {
			mv.From = "Security team"
		}
		switch {
		case m.Via == triage.ViaWeb && !mv.Team:
			mv.Via = "status page"
		case m.Via == triage.ViaWeb:
			mv.Via = "web"
		default:
			mv.Via = "email"
		}
		if m.Direction == triage.DirectionIn && m.Encrypted && !m.Decrypted {
			mv.Body = "(We could not decrypt this message.)"
		}
		v.Messages = append(v.Messages, mv)
	}
	return v, nil
}

// statusClock words the first-response clock c for the researcher;
// answered is whether the team replied (the clock also stops when a
// report is closed without a reply).
func statusClock(c *triage.Clock, answered bool, at func(time.Time) string) templates.StatusClockView {
	if c == nil || c.DueAt.IsZero() {
		return templates.StatusClockView{State: "none", Text: "We will answer as soon as we can."}
	}
	v := templates.StatusClockView{DueAt: at(c.DueAt)}
	switch {
	case !answered && (c.State == triage.ClockMet || !c.StoppedAt.IsZero()):
		v.State = "closed"
		v.Text = "This report is closed."
	case c.State == triage.ClockMet:
		v.State, v.Answered = "answered", at(c.MetAt)
		v.Text = "Answered " + v.Answered + " (promised by " + v.DueAt + ")."
	case !c.StoppedAt.IsZero():
		v.State, v.Answered = "answered", at(c.StoppedAt)
		v.Text = "Answered " + v.Answered + ", later than the " + v.DueAt + " we promised."
	case c.State == triage.ClockBreached:
		v.State = "overdue"
		v.Text = "Due " + v.DueAt + ": we are late, sorry. A person will answer soon."
	case c.State == triage.ClockPaused:
		v.State = "paused"
		v.Text = "Waiting for your reply (we asked for more information)."
	default:
		v.State = "waiting"
		v.Text = "A person will answer by " + v.DueAt + "."
	}
	return v
}

// statusReply takes the researcher's reply from the status page into
// the report's conversation, then shows the page again.
func (s *server) statusReply(w http.ResponseWriter, r *http.Request) {
	token, _, reportID, ok := s.statusLink(w, r, s.submitLimits.reply)
	if !ok {
		return
	}
	if reportID == 0 {
		s.Error(w, r, triage.Errorf(triage.ECONFLICT, "Your report is still being filed: reply in a minute."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxStatusReplyBytes)
	if err := r.ParseForm(); err != nil {
		s.Error(w, r, bodyError(err))
		return
	}
	text := r.PostForm.Get("body")
	body, err := triage.CleanMessageBody(text)
	if err != nil {
		v, verr := s.statusView(r, token, reportID)
		if verr != nil {
			s.Error(w, r, verr)
			return
		}
		v.Error, v.Reply = triage.ErrorMessage(err), text
		s.render(w, r, http.StatusBadRequest, templates.StatusPage(v))
		return
	}
	rep, err := s.store.Report(r.Context(), reportID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	m := &triage.Message{
		ReportID:  reportID,
		Direction: triage.DirectionIn,
		Via:       triage.ViaWeb,
		At:        s.now(),
		From:      rep.ResearcherEmail,
		Subject:   triage.ReplySubject(rep.TrackingID),
		Body:      body,
		Signature: triage.Signature{Status: triage.SignatureNone},
	}
	if err := s.store.AddWebReply(r.Context(), m, actorOf(r)); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/status/"+token+"?sent=1", http.StatusSeeOther)
}

// lineControl is a character not allowed in a one-line field (the
// title becomes a header field): control characters, C1 controls and
// Unicode line breaks.
func lineControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
}

// textControl is a control character not at home in plain text (line
// breaks and tabs are).
func textControl(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f
}

// limitSize words a limit: "10 MiB", "64 KiB", "500 bytes".
func limitSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}
