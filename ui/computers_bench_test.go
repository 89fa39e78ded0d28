package ui

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"adhocstation/core"
)

// pagesBenchSeed writes n sessions straight into a station's SQLite file
// (preparing them through core would hash n passwords with argon2id): one
// open session for each of n/100 profiles, the rest ended, a third paired.
func pagesBenchSeed(b testing.TB, dir string, n int) {
	b.Helper()
	st, err := core.Open(core.Config{DataDir: dir}) // creates the schema
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, core.DatabaseFile)+"?_busy_timeout=5000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	ms := time.Now().UnixMilli()
	day := (24 * time.Hour).Milliseconds()
	exec := func(q string, args ...any) sql.Result {
		res, err := tx.Exec(q, args...)
		if err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		return res
	}
	profiles := n / 100
	for i := range profiles {
		exec(`INSERT INTO profiles (name, email, created_at) VALUES (?, ?, ?)`,
			fmt.Sprintf("Technician %d", i), fmt.Sprintf("tech%d@example.com", i), ms)
	}
	for i := range n {
		state := "ended"
		if i >= n-profiles { // the newest: one open session per profile
			state = "active"
		}
		res := exec(`INSERT INTO sessions (profile_id, user_email, state, token_mac, code_attempts_left, password_hash,
			created_at, invite_expires_at, activated_at, expires_at) VALUES (?, ?, ?, ?, 5, 'x', ?, ?, ?, ?)`,
			1+i%profiles, fmt.Sprintf("user%d@example.com", i), state, fmt.Sprintf("token-%d", i), ms, ms+day/24, ms, ms+day)
		id, _ := res.LastInsertId()
		exec(`INSERT INTO outbox (session_id, mail_from, rcpt, subject, message, state, next_attempt_at, created_at)
			VALUES (?, 'a@example.com', 'u@example.com', 's', x'00', 'sent', 0, ?)`, id, ms)
		if i%3 == 0 || state == "active" {
			exec(`INSERT INTO computers (session_id, hostname, os_name, os_version, arch, windows_user, machine_id, online, last_seen)
				VALUES (?, ?, 'Windows 11 Pro', '10.0.22631', 'amd64', 'anna', 'm', 1, ?)`, id, fmt.Sprintf("DESKTOP-%04d", i), ms)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListRefresh10000 is the cost of refreshing the Computers list
// with 10,000 sessions listed (filter All) in a window of the station's
// size: a full reload (start-up, filter change, lagged feed; with All and
// with Active, which lists the 100 open sessions), a list-wide
// redraw, one changed row as a core event brings it, and, for comparison,
// the same row through widget.List.RefreshItem.
func BenchmarkListRefresh10000(b *testing.B) {
	dir := b.TempDir()
	pagesBenchSeed(b, dir, 10000)
	st, err := core.Open(core.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	w := testWindow(b)
	s := newComputersScreen(st, w)
	w.SetContent(s.content())
	s.filter.SetSelected(filterAll)
	if len(s.rows) != 10000 {
		b.Fatalf("listed %d sessions", len(s.rows))
	}
	row := 3
	id := s.rows[row].ID
	b.Run("Reload", func(b *testing.B) {
		for b.Loop() {
			s.reload()
		}
	})
	b.Run("ReloadActive", func(b *testing.B) {
		s.filter.SetSelected(filterActive)
		defer s.filter.SetSelected(filterAll)
		for b.Loop() {
			s.reload()
		}
	})
	b.Run("ListRefresh", func(b *testing.B) {
		for b.Loop() {
			s.list.Refresh()
		}
	})
	b.Run("OneRowEvent", func(b *testing.B) {
		for b.Loop() {
			s.onEvent(core.Event{Kind: core.EventComputerOnline, SessionID: id})
		}
	})
	b.Run("RefreshItemForComparison", func(b *testing.B) {
		for b.Loop() {
			s.list.RefreshItem(row)
		}
	})
}
