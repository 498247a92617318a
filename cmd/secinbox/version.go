package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version describes the binary: the module version `go install` stamped
// (or "(devel)" for a build from a checkout), the VCS revision and time
// `go build` stamped in a checkout, and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "secinbox (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+modified"
			}
		}
	}
	out := "secinbox " + v
	if rev != "" {
		out += " revision " + rev + dirty
		if at != "" {
			out += " (" + at + ")"
		}
	}
	return out + " " + bi.GoVersion
}

func cmdVersion(_ context.Context, e *env) error {
	if len(e.args) > 0 {
		fmt.Fprintln(e.stderr, "usage: secinbox version")
		return errUsage
	}
	_, err := fmt.Fprintln(e.stdout, version())
	return err
}
