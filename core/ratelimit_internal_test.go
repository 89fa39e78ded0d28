package core

import (
	"strconv"
	"testing"
	"time"
)

// TestCountHoldsBoundedWindows checks that attempts refused by the
// station-wide budget fill an address's window (so it is soon limited on
// its own) but cannot grow the limiter's memory past maxWindows.
func TestCountHoldsBoundedWindows(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	l := &limiter{addr: map[string]*window{}}
	for range addressAttempts {
		l.count("192.0.2.1", now)
	}
	if l.over("192.0.2.1", now.Add(time.Second)) != addressWindow-time.Second {
		t.Fatalf("an address refused %d times by the budget is not limited on its own", addressAttempts)
	}
	for i := range maxWindows + 500 {
		l.count("10.0.0."+strconv.Itoa(i), now)
	}
	if len(l.addr) > maxWindows {
		t.Fatalf("%d windows held; want at most %d", len(l.addr), maxWindows)
	}
}
