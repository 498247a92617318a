package db_test

import (
	"github.com/secinbox/secinbox/db"
	"github.com/secinbox/secinbox/inbox"
	"github.com/secinbox/secinbox/web"
)

// DB implements the stores its users declare. These live in a test file so
// that package db itself never imports inbox or web.
var (
	_ inbox.Store = (*db.DB)(nil)
	_ web.Store   = (*db.DB)(nil)
)
