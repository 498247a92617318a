package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestVersion runs the binary a plain `go build` made (TestMain builds it
// with no build tag, as `go install` does).
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"version", "-version", "--version"} {
		out, err := exec.Command(binary, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", arg, err, out)
		}
		if !regexp.MustCompile(`^secinbox \S+( revision [0-9a-f]{40}(\+modified)?( \(\S+\))?)? go1\.\d+`).Match(out) {
			t.Errorf("%s printed %q", arg, out)
		}
	}
}

// TestMain_NoCommand: `secinbox` alone prints the usage, not an error
// about an unknown command "".
func TestMain_NoCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), nil, strings.NewReader(""), &stdout, &stderr)
	if code != 2 || strings.Contains(stderr.String(), "unknown command") || !strings.HasPrefix(stderr.String(), "usage: secinbox <command>") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
