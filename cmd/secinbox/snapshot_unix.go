//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// lockSnapshot takes an exclusive flock on a backup's scratch copy for as
// long as f stays open (SQLite's own locks are fcntl locks, unaffected).
func lockSnapshot(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// snapshotStale reports whether no backup holds the scratch copy name.
func snapshotStale(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
