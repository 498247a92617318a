package triage

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Note is an internal note on a report: for staff only, never sent to
// the researcher nor shown on any public page.
type Note struct {
	ID          int64
	ReportID    int64
	AuthorID    int64
	AuthorEmail string // filled in by the store for display
	At          time.Time
	Body        string // plain text; never rendered as HTML
}

// MaxNoteBytes bounds a note.
const MaxNoteBytes = 64 << 10

// NewNote returns a note by author on report at now, or EINVALID for an
// empty, over-long or non-UTF-8 body. Line endings become LF; NUL is
// refused.
func NewNote(report, author int64, body string, now time.Time) (*Note, error) {
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
	switch {
	case strings.TrimSpace(body) == "":
		return nil, Errorf(EINVALID, "empty note")
	case len(body) > MaxNoteBytes:
		return nil, Errorf(EINVALID, "note longer than %d KiB", MaxNoteBytes>>10)
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		return nil, Errorf(EINVALID, "note is not valid UTF-8 text")
	}
	return &Note{ReportID: report, AuthorID: author, At: now.UTC(), Body: body}, nil
}
