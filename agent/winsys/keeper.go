package winsys

import "time"

// noConsole is WTSGetActiveConsoleSessionId's answer while no session is
// attached to the console (during a switch).
const noConsole = 0xFFFFFFFF

// keeper decides, at each look (once a second), what to do with the screen
// helper: stop it when the console moved to another session or it exited,
// start one in the console session, and restart one that keeps dying at
// once only every 5, 10 … 30 s so a broken helper does not spin. No Windows
// calls, so it is tested on Linux.
type keeper struct {
	running   bool
	session   uint32 // the console session last seen (the running helper's)
	started   time.Time
	notBefore time.Time // no start before this
	quick     int       // exits within 10 s of the start, in a row
	failures  int       // starts that failed, in a row
}

// step is one look: console is the active console session, exited whether
// the running helper has ended. It says whether to stop the running helper
// and whether to start one in console (then Started or Failed follows).
func (k *keeper) step(now time.Time, console uint32, exited bool) (stop, start bool) {
	switch {
	case console != k.session:
		// The console moved (fast user switching, Remote Desktop, a sign-in
		// screen of its own): whatever ran or waited was for the old one.
		stop, k.running = k.running, false
		k.session, k.quick, k.notBefore = console, 0, time.Time{}
	case k.running && exited:
		stop, k.running = true, false
		if now.Sub(k.started) < 10*time.Second {
			k.quick++
			k.notBefore = now.Add(time.Duration(min(k.quick, 6)) * 5 * time.Second)
		} else {
			k.quick = 0
		}
	}
	start = !k.running && console != noConsole && !now.Before(k.notBefore)
	return stop, start
}

// Started records a helper started in session at now.
func (k *keeper) Started(now time.Time, session uint32) {
	k.running, k.session, k.started, k.failures = true, session, now, 0
}

// Failed records a start that failed: tried again in 5 s. It reports
// whether to log it (the first three in a row, not every 5 s forever).
func (k *keeper) Failed(now time.Time) bool {
	k.failures++
	k.notBefore = now.Add(5 * time.Second)
	return k.failures <= 3
}
