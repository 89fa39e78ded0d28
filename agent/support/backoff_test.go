package support

import (
	"testing"
	"time"
)

// TestBackoffSchedule: the first fastTries failed tries wait a jittered
// MinBackoff (so a short outage ends with the PC back within ~1 s), then
// the wait doubles, never past MaxBackoff.
func TestBackoffSchedule(t *testing.T) {
	tm := ChannelTiming{}.withDefaults()
	within := func(n int, lo, hi time.Duration) {
		t.Helper()
		for range 50 {
			if d := tm.backoff(n); d < lo || d > hi {
				t.Fatalf("wait after try %d: %v; want %v to %v", n, d, lo, hi)
			}
		}
	}
	within(-1, 500*time.Millisecond, time.Second)
	within(0, 500*time.Millisecond, time.Second)
	within(fastTries-1, 500*time.Millisecond, time.Second)
	within(fastTries, time.Second, 2*time.Second)
	within(fastTries+1, 2*time.Second, 4*time.Second)
	within(fastTries+100, 15*time.Second, 30*time.Second)
}
