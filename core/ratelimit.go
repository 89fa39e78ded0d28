package core

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"adhocstation/core/hublink"
)

// Per-address pairing limit: NIST SP 800-63B asks for attempt limits on
// secrets below 64 bits; the per-code limit alone would let one address
// try codes of many sessions.
const (
	addressAttempts = 10
	addressWindow   = time.Minute
)

type window struct {
	start    time.Time
	attempts int
	audited  bool // the first refusal in a window is audited, the rest counted only
}

// limiter answers refusals from memory so a flood costs no disk writes; the
// counted attempts are written through, so limits survive a restart.
type limiter struct {
	mu   sync.Mutex
	addr map[string]*window
}

func loadLimiter(ctx context.Context, db *sql.DB, now time.Time) (*limiter, error) {
	l := &limiter{addr: map[string]*window{}}
	rows, err := db.QueryContext(ctx, `SELECT address, window_start, attempts FROM rate_limits WHERE window_start > ?`,
		ms2(now.Add(-addressWindow)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var start sql.NullInt64
		var n int
		if err := rows.Scan(&a, &start, &n); err != nil {
			return nil, err
		}
		l.addr[a] = &window{start: fromMS(start), attempts: n}
	}
	return l, rows.Err()
}

// RateLimitAddress is the key the per-address limiter counts a remote
// address under (hublink.AddressKey, the hub's key too). The pairing
// service uses it too, so its memory of refused addresses matches core's.
func RateLimitAddress(remote string) string { return hublink.AddressKey(remote) }

// over returns how long addr must still wait if it already spent its
// attempts of this window, or 0. It counts nothing and adds no entry.
func (l *limiter) over(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.addr[addr]
	if cur == nil || now.Sub(cur.start) >= addressWindow || cur.attempts < addressAttempts {
		return 0
	}
	return cur.start.Add(addressWindow).Sub(now)
}

// maxWindows bounds the windows count opens, so a flood from rotating
// addresses cannot grow the map without end.
const maxWindows = 10000

// count adds an attempt that the station-wide budget refused to addr's
// window, so an address that keeps flooding soon gets its own 429 and is
// answered from the pairing service's memory. It opens a new window only
// while fewer than maxWindows are held.
func (l *limiter) count(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.addr[addr]
	if cur == nil || now.Sub(cur.start) >= addressWindow {
		if len(l.addr) >= maxWindows {
			return
		}
		cur = &window{start: now}
		l.addr[addr] = cur
	}
	if cur.attempts < addressAttempts {
		cur.attempts++
	}
}

// take counts one attempt for addr. When the address is over its limit it
// returns the wait and whether this refusal is the first of its window.
func (l *limiter) take(addr string, now time.Time) (w window, retry time.Duration, firstRefusal bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.addr[addr]
	if cur == nil || now.Sub(cur.start) >= addressWindow {
		cur = &window{start: now}
		l.addr[addr] = cur
		if len(l.addr) > maxWindows {
			l.prune(now)
		}
	}
	if cur.attempts >= addressAttempts {
		first := !cur.audited
		cur.audited = true
		return *cur, cur.start.Add(addressWindow).Sub(now), first
	}
	cur.attempts++
	return *cur, 0, false
}

func (l *limiter) prune(now time.Time) {
	for a, w := range l.addr {
		if now.Sub(w.start) >= addressWindow {
			delete(l.addr, a)
		}
	}
}

func saveWindow(ctx context.Context, tx *sql.Tx, addr string, w window) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO rate_limits (address, window_start, attempts) VALUES (?, ?, ?)
		ON CONFLICT (address) DO UPDATE SET window_start = excluded.window_start, attempts = excluded.attempts`,
		addr, ms2(w.start), w.attempts)
	return err
}

// pruneBatch bounds one prune's delete, so a table left large by an older
// version is emptied over a few ticks without holding the writer long.
const pruneBatch = 1000

// pruneWindows deletes up to pruneBatch per-address windows that ended
// before now and reports whether there may be more.
func (s *Station) pruneWindows(ctx context.Context, now time.Time) (more bool, err error) {
	var n int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE address IN
			(SELECT address FROM rate_limits WHERE window_start <= ? LIMIT ?)`, ms2(now.Add(-addressWindow)), pruneBatch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n >= pruneBatch, err
}
