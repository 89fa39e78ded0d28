package coretest

import (
	"testing"
	"time"

	"adhocstation/core"
)

// WaitLimit is how long a test waits for something that should happen at
// once (an event, a reply, a background result) before it fails saying what
// it expected. It is not a speed limit: it is long enough for a loaded
// machine running -race, and short enough that a broken rule fails the test
// instead of hanging it until go test's 10-minute -timeout.
const WaitLimit = 10 * time.Second

// Receive returns the next value from ch. The test fails, naming what it
// waited for, if ch is closed or nothing arrives within WaitLimit.
func Receive[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			tb.Fatalf("waiting for %s: the channel closed", what)
		}
		return v
	case <-time.After(WaitLimit):
		tb.Fatalf("waited %v for %s: it never came", WaitLimit, what)
	}
	var zero T
	return zero
}

// Await waits until ch is closed or yields a value, failing the test,
// naming what it waited for, after WaitLimit.
func Await[T any](tb testing.TB, ch <-chan T, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(WaitLimit):
		tb.Fatalf("waited %v for %s: it never came", WaitLimit, what)
	}
}

// WaitEvent returns the next event of kind on sub about the session id (0:
// any session). The test fails if the feed closes first or no such event
// arrives within WaitLimit.
func WaitEvent(tb testing.TB, sub *core.Subscription, kind core.EventKind, id int64) core.Event {
	tb.Helper()
	deadline := time.After(WaitLimit)
	for {
		select {
		case e, ok := <-sub.C:
			if !ok {
				tb.Fatalf("the event feed closed before a %s event", kind)
			}
			if e.Kind == kind && (id == 0 || e.SessionID == id) {
				return e
			}
		case <-deadline:
			tb.Fatalf("waited %v for a %s event (session %d): it never came", WaitLimit, kind, id)
		}
	}
}
