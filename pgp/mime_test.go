package pgp

import (
	"strings"
	"testing"
)

func TestSplitMultipart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       []string
	}{
		{"Simple", "--b\r\nA\r\n--b\r\nB\r\n--b--\r\n", []string{"A", "B"}},
		{"Preamble", "junk\r\n--b\r\nA\r\n--b--\r\nepilogue", []string{"A"}},
		{"LF", "--b\nA\n--b\nB\n--b--\n", []string{"A", "B"}},
		{"Padding", "--b  \r\nA\r\n--b--\t\r\n", []string{"A"}},
		{"LongerBoundaryIsNotDelimiter", "--b\r\nA\r\n--bx\r\nstill A\r\n--b--", []string{"A\r\n--bx\r\nstill A"}},
		{"Unterminated", "--b\r\nA\r\n--b\r\nB", []string{"A", "B"}},
		{"Empty", "--b\r\n--b--", []string{""}},
		{"None", "no delimiters", nil},
		{"KeepsInnerBlankLines", "--b\r\nh: v\r\n\r\nbody\r\n\r\n--b--", []string{"h: v\r\n\r\nbody\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range splitMultipart([]byte(tt.body), "b", 100) {
				got = append(got, string(p))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if n := len(splitMultipart([]byte("--b\r\nA\r\n--b\r\nB\r\n--b\r\nC\r\n--b--"), "b", 2)); n != 2 {
		t.Errorf("max 2: got %d parts", n)
	}
}

func TestDecodeTransfer(t *testing.T) {
	t.Parallel()
	tests := []struct{ enc, in, want string }{
		{"quoted-printable", "caf=C3=A9 =3D ok", "café = ok"},
		{"quoted-printable", "soft=\r\nbreak", "softbreak"},
		{"quoted-printable", "soft= \nbreak=", "softbreak"},
		{"Quoted-Printable", "bad =ZZ escape", "bad =ZZ escape"},
		{"base64", "aGVs\r\nbG8=", "hello"},
		{"base64", "aGVsbG8", "hello"},
		{"base64", " a G V s bG8 = !*", "hello"},
		{"7bit", "as is=41", "as is=41"},
		{"x-uuencode", "unknown", "unknown"},
	}
	for _, tt := range tests {
		if got := string(decodeTransfer(tt.enc, []byte(tt.in))); got != tt.want {
			t.Errorf("decodeTransfer(%q, %q) = %q, want %q", tt.enc, tt.in, got, tt.want)
		}
	}
}
