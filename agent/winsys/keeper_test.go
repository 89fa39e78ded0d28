package winsys

import (
	"testing"
	"time"
)

// TestKeeper: the helper is started in the console session, restarted in
// the new one when the console moves (at once, whatever came before), not
// started while no session has the console, restarted after an exit, and
// held back with a growing pause when it keeps dying at once.
func TestKeeper(t *testing.T) {
	var k keeper
	now := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	look := func(console uint32, exited, wantStop, wantStart bool) {
		t.Helper()
		stop, start := k.step(now, console, exited)
		if stop != wantStop || start != wantStart {
			t.Fatalf("at %s, console %d, exited %v: stop %v start %v; want %v %v",
				now.Format("15:04:05"), console, exited, stop, start, wantStop, wantStart)
		}
		if start {
			k.Started(now, console)
		}
		now = now.Add(time.Second)
	}
	look(noConsole, false, false, false) // nobody at the console yet
	look(1, false, false, true)
	look(1, false, false, false) // running: nothing to do
	look(2, false, true, true)   // fast user switching: moved along at once
	look(noConsole, false, true, false)
	look(3, false, false, true)

	// Three exits right after the start: paused 5, 10, 15 s.
	for _, pause := range []int{5, 10, 15} {
		look(3, true, true, false)
		for range pause - 1 {
			look(3, false, false, false)
		}
		look(3, false, false, true)
	}
	// A console change ends the pause.
	look(3, true, true, false)
	look(4, false, false, true)
	// An exit long after the start restarts at once.
	now = now.Add(time.Minute)
	look(4, true, true, true)
}

// TestKeeperStartFailed: a start that fails is tried again after 5 s, and
// only the first three in a row are worth a log line.
func TestKeeperStartFailed(t *testing.T) {
	var k keeper
	now := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	for i := 1; i <= 4; i++ {
		if _, start := k.step(now, 1, false); !start {
			t.Fatalf("try %d: not started", i)
		}
		if logIt := k.Failed(now); logIt != (i <= 3) {
			t.Fatalf("try %d: log %v", i, logIt)
		}
		if _, start := k.step(now.Add(4*time.Second), 1, false); start {
			t.Fatalf("try %d: started again within 5 s", i)
		}
		now = now.Add(5 * time.Second)
	}
	k.Started(now, 1)
	if k.failures != 0 {
		t.Fatal("a start did not reset the failures")
	}
}
