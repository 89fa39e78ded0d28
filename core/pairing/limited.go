package pairing

import (
	"sync"
	"time"
)

// limitedSet remembers the addresses core has just refused with
// rate_limited and until when, so a flood from them is answered before
// its body is read or core is asked. Core stays the authority: an address
// only enters after core refused it (and audited that), and its window
// cannot shrink before the time core named, so the answers are the same.
type limitedSet struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// maxLimited bounds the memory a flood from many addresses can take; past
// it, expired entries are dropped, and if that is not enough the set starts
// over (core still refuses those addresses, at a slightly higher cost).
const maxLimited = 10000

// retryAfter is how long addr must still wait, or 0.
func (l *limitedSet) retryAfter(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.until[addr]
	if !ok {
		return 0
	}
	if !now.Before(u) {
		delete(l.until, addr)
		return 0
	}
	return u.Sub(now)
}

func (l *limitedSet) add(addr string, until time.Time, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.until == nil {
		l.until = map[string]time.Time{}
	}
	if len(l.until) >= maxLimited {
		for a, u := range l.until {
			if !now.Before(u) {
				delete(l.until, a)
			}
		}
		if len(l.until) >= maxLimited {
			clear(l.until)
		}
	}
	l.until[addr] = until
}
