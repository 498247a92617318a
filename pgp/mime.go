package pgp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
)

// splitHeader splits an entity at the first empty line into its header
// block and its body (RFC 5322 section 2.1, RFC 2045 section 3). Both
// CRLF and bare LF line endings are accepted. Without an empty line the
// whole entity is header. The results alias b.
func splitHeader(b []byte) (hdr, body []byte) {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return b, nil
		}
		line := b[i : i+j+1]
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			return b[:i], b[i+j+1:]
		}
		i += j + 1
	}
	return b, nil
}

// readHeader parses a header block of at most max bytes. On a malformed
// field it returns the fields before it along with the error.
func readHeader(hdr []byte, max int) (message.Header, error) {
	if len(hdr) > max {
		return message.Header{}, fmt.Errorf("pgp: header block of %d bytes exceeds %d: %w", len(hdr), max, ErrMalformed)
	}
	// Never append to hdr: it aliases the body that follows it.
	r := bufio.NewReader(io.MultiReader(bytes.NewReader(hdr), strings.NewReader("\r\n")))
	h, err := textproto.ReadHeader(r)
	if err != nil {
		return message.Header{Header: h}, fmt.Errorf("pgp: reading header: %w: %w", ErrMalformed, err)
	}
	return message.Header{Header: h}, nil
}

// contentType returns the lower-case media type and parameters of h,
// text/plain when absent or unparseable (RFC 2045 section 5.2).
func contentType(h message.Header) (string, map[string]string) {
	t, params, _ := h.ContentType()
	if !strings.Contains(t, "/") {
		return "text/plain", map[string]string{}
	}
	if params == nil {
		params = map[string]string{}
	}
	return strings.ToLower(t), params
}

// splitMultipart returns the body parts of a multipart body (RFC 2046
// section 5.1.1), at most max of them. A delimiter is a line that is
// "--" boundary, optionally followed by white space (transport padding);
// the close delimiter adds "--". The line break before a delimiter
// belongs to the delimiter, not to the part. The preamble and epilogue
// are dropped. A missing close delimiter ends the last part at the end of
// the body. The parts alias body.
func splitMultipart(body []byte, boundary string, max int) [][]byte {
	if boundary == "" || max <= 0 {
		return nil
	}
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // start of the current part; -1 in the preamble
	for i := 0; i < len(body); {
		next := len(body)
		if j := bytes.IndexByte(body[i:], '\n'); j >= 0 {
			next = i + j + 1
		}
		line := body[i:next]
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r\n")
			closing := bytes.Equal(rest, []byte("--"))
			if len(rest) == 0 || closing {
				if start >= 0 {
					end := i
					if end > start && body[end-1] == '\n' {
						end--
						if end > start && body[end-1] == '\r' {
							end--
						}
					}
					parts = append(parts, body[start:end])
					if len(parts) >= max {
						return parts
					}
				}
				if closing {
					return parts
				}
				start = next
			}
		}
		i = next
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts
}

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 section
// 6). Both decoders are lenient and never fail; identity and unknown
// encodings return b unchanged.
func decodeTransfer(encoding string, b []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQP(b)
	}
	return b
}

// decodeBase64 decodes base64 (RFC 2045 section 6.8), ignoring every byte
// outside the alphabet (line breaks, white space, padding, garbage).
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeQP decodes quoted-printable (RFC 2045 section 6.7): "=XX" is a
// byte, "=" before a line break is a soft line break, and a malformed
// "=" is kept literally (as rule 6.7 note 1 suggests).
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		// Soft line break: "=", optional white space, line break or end.
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		switch {
		case j == len(b):
			i = j - 1
		case b[j] == '\n':
			i = j
		case b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n':
			i = j + 1
		default:
			out = append(out, '=')
		}
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// toUTF8 converts text in the named charset (RFC 2046 section 4.1.2) to
// valid UTF-8. An unknown charset, or bytes invalid in it, never fail:
// the bytes are taken as UTF-8 and invalid sequences replaced.
func toUTF8(label string, b []byte) string {
	label = strings.ToLower(strings.TrimSpace(label))
	switch label {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
	default:
		if r, err := charset.Reader(label, bytes.NewReader(b)); err == nil {
			if d, err := io.ReadAll(r); err == nil {
				b = d
			}
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

var wordDecoder = mime.WordDecoder{CharsetReader: charset.Reader}

// headerText returns the unfolded value of field k with RFC 2047 encoded
// words decoded, control characters removed and white space trimmed.
func headerText(h message.Header, k string) string {
	v := h.Get(k)
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return cleanLine(v)
}

// cleanLine makes s one line of valid UTF-8 without control characters.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\r' || r == '\n':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// filename returns the decoded file name of a part: the Content-Disposition
// filename parameter (RFC 2183, with RFC 2231 extended values), else the
// Content-Type name parameter; encoded words (RFC 2047), which mailers
// use in violation of RFC 2047 section 5, are decoded too.
func filename(h message.Header) string {
	_, params, _ := h.ContentDisposition()
	name := params["filename"]
	if name == "" {
		_, params, _ := h.ContentType()
		name = params["name"]
	}
	if d, err := wordDecoder.DecodeHeader(name); err == nil {
		name = d
	}
	return name
}

// canonicalCRLF converts bare LF line endings to CRLF, the canonical form
// signed data is in (RFC 3156 section 5).
func canonicalCRLF(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/32)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}
