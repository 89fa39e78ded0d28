package hubsrv

import (
	"container/list"
	"net/http"
	"strconv"
	"sync"
	"time"

	"adhocstation/core/hublink"
)

// RateLimits are the per-address limits on the hub's public paths, each a
// count per minute. The address is the TCP peer: the hub is the edge, so a
// client's X-Forwarded-For is never believed.
type RateLimits struct {
	// Enrol counts every enrolment try: codes are long, but a flood of
	// tries costs a state-file read each.
	Enrol int
	// RelayRefusals counts only relays refused for a bad or expired token,
	// so a PC's reconnect loop with its valid token is never throttled;
	// an address over it is refused before its token is checked.
	RelayRefusals int
	// Web counts every request to /st/: a join page, its few assets, a
	// form post and a download are under ten.
	Web int
	// StationAuth counts only wrong station credentials (the control
	// connection, a relay's accept, the team credential, a takeover); an address over
	// it is refused before its credential is checked (authlimit.go). 0
	// means DefaultStationAuthFailures.
	StationAuth int
}

// DefaultRateLimits: ten enrolments a minute is more than an admin joining
// stations by hand. An app stops at an ended session's 410, but redials a
// refused link (its station revoked) 15 times about a second apart, then
// every 15–30 s (agent/support ChannelTiming): about 20 refusals in its
// first minute, so 60 leaves room for three such PCs behind one NAT
// before the others there wait. 240 web requests a minute is a browser
// reloading every quarter second.
var DefaultRateLimits = RateLimits{Enrol: 10, RelayRefusals: 60, Web: 240, StationAuth: DefaultStationAuthFailures}

// limiterSize bounds each limiter's table: about 170 bytes an entry, so
// 8,192 addresses cost 1.4 MB per limiter however many addresses a flood
// comes from (BenchmarkLimiterFull).
const (
	limiterSize   = 8192
	limiterWindow = time.Minute
)

// addrLimiter counts events per address in one-minute windows, in a table
// of at most size entries. When full, the entry touched longest ago goes:
// an address that keeps flooding is touched by its own flood and stays,
// and its count is lost only if size other addresses come after its last
// try (never the whole table at once, so a flood cannot reset the counts
// it is limited by: docs/SECURITY.md §3.3, issue 18).
type addrLimiter struct {
	mu    sync.Mutex
	limit int
	size  int
	m     map[string]*list.Element // of *addrCount
	lru   list.List                // front: touched most recently
}

type addrCount struct {
	addr  string
	start time.Time
	n     int
}

func newAddrLimiter(limit, size int) *addrLimiter {
	return &addrLimiter{limit: limit, size: size, m: map[string]*list.Element{}}
}

// wait returns how long addr must wait before it may try again, or 0. It
// counts nothing.
func (l *addrLimiter) wait(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[addr]
	if e == nil {
		return 0
	}
	c := e.Value.(*addrCount)
	if now.Sub(c.start) >= limiterWindow || c.n < l.limit {
		return 0
	}
	return c.start.Add(limiterWindow).Sub(now)
}

// add counts one event for addr.
func (l *addrLimiter) add(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(addr, now)
}

func (l *addrLimiter) addLocked(addr string, now time.Time) *addrCount {
	e := l.m[addr]
	if e == nil {
		if l.lru.Len() >= l.size {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.m, old.Value.(*addrCount).addr)
		}
		e = l.lru.PushFront(&addrCount{addr: addr, start: now})
		l.m[addr] = e
	} else {
		l.lru.MoveToFront(e)
	}
	c := e.Value.(*addrCount)
	if now.Sub(c.start) >= limiterWindow {
		c.start, c.n = now, 0
	}
	if c.n < l.limit { // stops at the limit: the window is what matters
		c.n++
	}
	return c
}

// take counts one try for addr and returns how long it must wait if it is
// over the limit (that try refused), or 0.
func (l *addrLimiter) take(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[addr]; e != nil {
		c := e.Value.(*addrCount)
		if now.Sub(c.start) < limiterWindow && c.n >= l.limit {
			l.lru.MoveToFront(e)
			return c.start.Add(limiterWindow).Sub(now)
		}
	}
	l.addLocked(addr, now)
	return 0
}

// len is how many addresses the table holds (tests).
func (l *addrLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// addrKey is the key an address is counted under, the station's too
// (hublink.AddressKey).
func addrKey(remote string) string { return hublink.AddressKey(remote) }

// retryAfter sets the Retry-After header for a wait, in whole seconds.
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int((d+time.Second-1)/time.Second))))
}

// tooManyTries is the sentence for an address over its limit.
const tooManyTriesText = "Too many tries from your network in the last minute: wait a minute, then try again."
