package core

import (
	"context"
	"database/sql"
	"testing"
)

// watchBench opens a station over 10,000 sessions (100 of them open), its
// watcher, and a second station on the same file playing the command line.
func watchBench(b *testing.B) (st, other *Station, w *watcher) {
	b.Helper()
	ctx := context.Background()
	st = benchStation(b)
	seedSessions(b, st, 10000)
	other, err := Open(Config{DataDir: st.DataDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { other.Close() })
	if w, err = st.newWatcher(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.conn.Close() })
	return st, other, w
}

// BenchmarkWatchIdle is one look when nothing changed: what a running
// station pays every watchInterval.
func BenchmarkWatchIdle(b *testing.B) {
	st, _, w := watchBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := st.watchOnce(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWatchOtherProcessEnd is one look that finds a session ended by
// another process and publishes EventEnded to a subscriber (the end itself,
// in the other process, is outside the timer).
func BenchmarkWatchOtherProcessEnd(b *testing.B) {
	st, other, w := watchBench(b)
	ctx := context.Background()
	sub := st.Subscribe()
	defer sub.Close()
	var open []int64
	rows, err := st.rdb.Query(`SELECT id FROM sessions WHERE state = 'active'`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		open = append(open, id)
	}
	rows.Close()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		id := open[0]
		open = append(open[1:], id)
		// Reopen it from the side (no event), then end it from the other process.
		if err := st.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE sessions SET state = 'active', closed_at = NULL WHERE id = ?`, id)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		if err := st.watchOnce(ctx, w); err != nil {
			b.Fatal(err)
		}
		if err := other.End(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := st.watchOnce(ctx, w); err != nil {
			b.Fatal(err)
		}
		if e := <-sub.C; e.Kind != EventEnded || e.SessionID != id {
			b.Fatalf("got %+v, want ended for %d", e, id)
		}
	}
}

// BenchmarkWriteClaim is what claiming its change-feed rows adds to each
// of the station's write transactions: two reads of the feed's newest seq
// inside the write transaction (a write itself, fsync'd, takes milliseconds).
func BenchmarkWriteClaim(b *testing.B) {
	st, _, _ := watchBench(b)
	ctx := context.Background()
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	b.ReportAllocs()
	for b.Loop() {
		for range 2 {
			if _, err := lastChange(ctx, tx); err != nil {
				b.Fatal(err)
			}
		}
	}
}
