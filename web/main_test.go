package web_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/db"
)

// TestMain makes the database every test starts from, stops the
// browser tests' Chromium at the end, and runs more tests at once than
// go test's default (GOMAXPROCS) unless -parallel says how many: the
// tests here mostly wait (for SQLite's fsyncs and busy timeouts, the
// upload grace, loopback round trips), not compute.
func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		if err := flag.Set("test.parallel", strconv.Itoa(4*runtime.GOMAXPROCS(0))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	dir, err := os.MkdirTemp("", "secinbox-web-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := 2
	if err := makeEmptyDB(filepath.Join(dir, "empty.db")); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	stopBrowser()
	os.RemoveAll(dir)
	os.Exit(code)
}

// emptyDB is a database file that db.Open made and closed: the schema
// of every migration, no rows. newDBFile copies it.
var emptyDB []byte

func makeEmptyDB(path string) error {
	d, err := db.Open(context.Background(), path)
	if err != nil {
		return err
	}
	if err := d.Close(); err != nil {
		return err
	}
	// Closing the last connection checkpointed the WAL into the file.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("%s-wal holds %d bytes after Close", path, fi.Size())
	}
	emptyDB, err = os.ReadFile(path)
	return err
}

// newDBFile returns the path of a fresh copy of emptyDB in t's temp
// dir: db.Open finds every migration applied, instead of applying them
// for each test again.
func newDBFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secinbox.db")
	if err := os.WriteFile(path, emptyDB, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// passwordHashes holds each fixture password's hash (at bcrypt's
// least cost), made once: the hash is a value, shared by the tests'
// separate databases.
var passwordHashes sync.Map // string -> func() ([]byte, error)

// passwordHash returns password's bcrypt hash at bcrypt.MinCost (a
// copy: the caller may keep it).
func passwordHash(t *testing.T, password string) []byte {
	t.Helper()
	f, ok := passwordHashes.Load(password)
	if !ok {
		f, _ = passwordHashes.LoadOrStore(password, sync.OnceValues(func() ([]byte, error) {
			return bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		}))
	}
	hash, err := f.(func() ([]byte, error))()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(hash)
}
