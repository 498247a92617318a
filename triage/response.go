package triage

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Response is a canned response: a named reply text an admin keeps, with
// variables filled in for the report it answers ({{tracking_id}},
// {{researcher}}, {{title}}, {{due}}, {{policy_url}}). DefaultFor, when
// set, makes it the reply suggested when a report moves to that status.
// A reply made from it is a reply like any other: encrypted when a key
// is known, always signed.
type Response struct {
	ID         int64
	Name       string
	Body       string
	DefaultFor Status // "": none
	UpdatedAt  time.Time
	UpdatedBy  int64
}

// MaxResponseName bounds a response's name, in runes; MaxResponses how
// many an admin may keep.
const (
	MaxResponseName = 80
	MaxResponses    = 200
)

// ResponseVariables are the variables a response may use, in the order
// the forms list them.
var ResponseVariables = []string{"tracking_id", "researcher", "title", "due", "policy_url"}

// ResponseVars are the values of the variables for one report.
type ResponseVars struct {
	TrackingID string // SEC-2026-0001
	Researcher string // their name, else their address
	Title      string // the report's title
	Due        string // when the first response is due, as the acknowledgement says it
	PolicyURL  string // the public policy page
}

// Validate checks r: a name of one line, 1 to MaxResponseName runes; a
// body as CleanMessageBody wants it (which it also normalizes), using
// only the known variables; DefaultFor empty or a status a report can
// move to. EINVALID says what is wrong.
func (r *Response) Validate() error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || utf8.RuneCountInString(r.Name) > MaxResponseName || strings.ContainsFunc(r.Name, func(c rune) bool { return c < 0x20 || c == 0x7f }) || !utf8.ValidString(r.Name) {
		return Errorf(EINVALID, "name: one line of 1 to %d characters", MaxResponseName)
	}
	body, err := CleanMessageBody(r.Body)
	if err != nil {
		return err
	}
	r.Body = body
	for rest := body; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			break
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return Errorf(EINVALID, "a variable is not closed with }} (known: {{%s}})", strings.Join(ResponseVariables, "}}, {{"))
		}
		name := strings.TrimSpace(rest[:j])
		if !slices.Contains(ResponseVariables, name) {
			return Errorf(EINVALID, "unknown variable {{%s}} (known: {{%s}})", cut(name, 30), strings.Join(ResponseVariables, "}}, {{"))
		}
		rest = rest[j+2:]
	}
	if r.DefaultFor != "" {
		if !r.DefaultFor.Valid() {
			return Errorf(EINVALID, "unknown status %q", cut(string(r.DefaultFor), 20))
		}
		if r.DefaultFor == StatusNew || r.DefaultFor == StatusUndecryptable {
			return Errorf(EINVALID, "a report is never moved to %s: no default reply for it", r.DefaultFor)
		}
	}
	return nil
}

// Render is r's body with the variables filled in from v, in one pass:
// a value that itself reads like a variable stays as it is. Line endings
// become LF.
func (r *Response) Render(v ResponseVars) string {
	vals := map[string]string{
		"tracking_id": v.TrackingID, "researcher": v.Researcher, "title": v.Title, "due": v.Due, "policy_url": v.PolicyURL,
	}
	body := strings.ReplaceAll(strings.ReplaceAll(r.Body, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	for {
		i := strings.Index(body, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(body[i+2:], "}}")
		if j < 0 {
			break
		}
		val, ok := vals[strings.TrimSpace(body[i+2:i+2+j])]
		if !ok {
			// Not a variable ("{{{{x"): keep the braces, look further on.
			b.WriteString(body[:i+2])
			body = body[i+2:]
			continue
		}
		b.WriteString(body[:i])
		b.WriteString(val)
		body = body[i+2+j+2:]
	}
	b.WriteString(body)
	return b.String()
}
