//go:build !unix

package main

import "os"

// lockSnapshot does nothing where flock is missing.
func lockSnapshot(*os.File) error { return nil }

// snapshotStale never calls a scratch copy stale where flock is missing:
// it cannot tell one in use from one left behind.
func snapshotStale(string) (bool, error) { return false, nil }
