// Package db is secinbox's SQLite storage (mattn/go-sqlite3, WAL,
// synchronous=FULL). It is the only package that holds SQL. Migrations are
// embedded and applied in order at Open. DB implements the stores that
// inbox and web declare.
package db
