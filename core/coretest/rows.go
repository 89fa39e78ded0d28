package coretest

import (
	"database/sql"
	"path/filepath"
	"testing"

	"adhocstation/core"
)

// db opens the station's real SQLite file on a connection of its own, so
// a test sees what is on disk rather than what the station reports.
func db(tb testing.TB, st *core.Station) *sql.DB {
	tb.Helper()
	d, err := sql.Open("sqlite3", "file:"+filepath.Join(st.DataDir(), core.DatabaseFile)+"?_busy_timeout=5000")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// Rows counts the rows of table in the station's database file.
func Rows(tb testing.TB, st *core.Station, table string) int {
	tb.Helper()
	var n int
	if err := db(tb, st).QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

// Exec runs one statement on the station's database file, as another
// program (or an older version of the station) would.
func Exec(tb testing.TB, st *core.Station, query string, args ...any) {
	tb.Helper()
	if _, err := db(tb, st).Exec(query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}
