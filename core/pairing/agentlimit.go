package pairing

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"adhocstation/core/wire"
)

// Per-agent-key limit on confirm, heartbeat, end and cleanup. The real app
// makes about two calls a minute (a heartbeat every 30 s, a confirmation
// once, at the end one end call and up to three cleanup receipts), so 30 a
// minute leaves room for restarts and retries while a key that calls
// without end costs the station at most 30 writes a minute.
const (
	agentCalls  = 30
	agentWindow = time.Minute
)

type agentCount struct {
	start time.Time
	calls int
	known bool // core accepted the key: a paired app's, kept when pruning
}

// agentLimiter counts calls per agent key, in memory only: a restart gives
// every key a fresh minute, which costs nothing worth remembering. Keys are
// held as SHA-256 digests so the map does not keep the credentials.
type agentLimiter struct {
	mu   sync.Mutex
	keys map[[sha256.Size]byte]*agentCount
}

// take counts one call with key and returns how long it must wait, or 0.
func (l *agentLimiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[[sha256.Size]byte]*agentCount{}
	}
	h := sha256.Sum256([]byte(key))
	w := l.keys[h]
	if w == nil || now.Sub(w.start) >= agentWindow {
		if w == nil && len(l.keys) >= maxLimited {
			l.prune(now)
		}
		w = &agentCount{start: now}
		l.keys[h] = w
	}
	if w.calls >= agentCalls {
		return w.start.Add(agentWindow).Sub(now)
	}
	w.calls++
	return 0
}

// known marks key as one core accepted, so a flood of made-up keys cannot
// push its count out of the map and give it a fresh minute.
func (l *agentLimiter) known(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.keys[sha256.Sum256([]byte(key))]; w != nil {
		w.known = true
	}
}

// prune drops ended windows; if a flood of made-up keys fills the map
// within one minute, it drops those (core refuses them anyway) and keeps
// the counts of the keys core accepted, which are one per paired PC.
func (l *agentLimiter) prune(now time.Time) {
	for k, w := range l.keys {
		if now.Sub(w.start) >= agentWindow {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= maxLimited {
		for k, w := range l.keys {
			if !w.known {
				delete(l.keys, k)
			}
		}
	}
}

// agentTooOften is the refusal of a call over the per-key limit; it is
// answered without asking core, so it is neither written nor audited.
func agentTooOften(wait time.Duration) *apiError {
	return &apiError{status: http.StatusTooManyRequests, body: wire.Error{Code: wire.CodeRateLimited,
		Message:           "The Support Session app is calling the station too often. It will try again in a minute.",
		RetryAfterSeconds: retrySeconds(wait)}}
}

func retrySeconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }
