//go:build linux

package pipe_test

import (
	"encoding/json"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"adhocstation/agent/pipe"
	"adhocstation/agent/support"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// activityFrames reads a tray's frames and keeps its list as a tray does.
type activityFrames struct {
	list    support.ActivityList
	frames  int // activity frames read
	status  int // status frames read
	updates chan support.ActivityList
}

func readActivity(c net.Conn) *activityFrames {
	a := &activityFrames{updates: make(chan support.ActivityList, 1<<16)}
	go func() {
		defer close(a.updates)
		dec := json.NewDecoder(c)
		for {
			var f struct {
				Activity *support.ActivityUpdate `json:"activity"`
				Status   *support.Status         `json:"status"`
			}
			if dec.Decode(&f) != nil {
				return
			}
			if f.Status != nil {
				a.status++
			}
			if f.Activity != nil {
				a.frames++
				a.list.Apply(*f.Activity)
				l := a.list
				l.Entries = append(l.Entries[:0:0], l.Entries...)
				a.updates <- l
			}
		}
	}()
	return a
}

// until reads updates until the list's newest entry is numbered seq.
func (a *activityFrames) until(t *testing.T, seq uint64) support.ActivityList {
	t.Helper()
	deadline := time.After(coretest.WaitLimit)
	for {
		select {
		case l, ok := <-a.updates:
			if !ok {
				t.Fatalf("the tray was closed before entry %d", seq)
			}
			if n := len(l.Entries); n > 0 && l.Entries[n-1].Seq == seq {
				return l
			}
		case <-deadline:
			t.Fatalf("entry %d never reached the tray", seq)
		}
	}
}

// listUpTo is the service's list after action n: the newest
// wire.MaxActivityEntries.
func listUpTo(n int) wire.Activity {
	var l wire.Activity
	for i := max(1, n-wire.MaxActivityEntries+1); i <= n; i++ {
		l.Entries = append(l.Entries, wire.ActivityEntry{Seq: uint64(i), Kind: wire.ActivityList, Text: fmt.Sprintf("action %d", i)})
	}
	l.Earlier = max(0, n-wire.MaxActivityEntries)
	return l
}

// TestHubActivityBurst: 5,000 actions in a burst while a tray is not
// reading. ShowActivity only keeps the newest list and kicks, so the
// burst neither waits on the tray nor fills its bounded queue (which
// would close it, as TestHubStalledTrays shows for messages); once the
// tray reads, it has the newest list, in order, in far fewer frames than
// actions, and it is still served.
func TestHubActivityBurst(t *testing.T) {
	hub, sock := hubOn(t, annaAtConsole())
	c := rawTray(t, hub, sock)
	const n = 5000
	done := make(chan struct{}, 1)
	go func() {
		for i := 1; i <= n; i++ {
			hub.ShowActivity(listUpTo(i))
		}
		done <- struct{}{}
	}()
	coretest.Receive(t, done, "5,000 ShowActivity calls to return while the tray does not read")
	tray := readActivity(c)
	l := tray.until(t, n)
	if len(l.Entries) != wire.MaxActivityEntries || l.Earlier != n-wire.MaxActivityEntries || l.Entries[0].Seq != n-wire.MaxActivityEntries+1 {
		t.Fatalf("the tray has %d entries from %d, %d earlier", len(l.Entries), l.Entries[0].Seq, l.Earlier)
	}
	for i := 1; i < len(l.Entries); i++ {
		if l.Entries[i].Seq != l.Entries[i-1].Seq+1 {
			t.Fatalf("the tray's list skips from %d to %d", l.Entries[i-1].Seq, l.Entries[i].Seq)
		}
	}
	t.Logf("5,000 actions reached the tray in %d activity frames", tray.frames)
	// Frames are written while the socket's buffer takes them, then the
	// writer waits and the kicks merge: far fewer frames than actions.
	if tray.frames > n/5 {
		t.Errorf("%d frames for a burst of %d the tray did not read: about one per action", tray.frames, n)
	}
	// The tray was not closed: a later action and a status still come.
	hub.ShowActivity(listUpTo(n + 1))
	tray.until(t, n+1)
}

// annaAtConsole names every caller as the console's user.
func annaAtConsole() func(net.Conn) (pipe.Caller, error) {
	return func(net.Conn) (pipe.Caller, error) {
		return pipe.Caller{User: `PC\anna`, Session: 1, Console: true}, nil
	}
}

// TestHubActivityConsoleOnly: as the chat, the list goes to the console
// session's trays only; a tray whose session becomes the console gets
// the whole list at the next status (no new action needed).
func TestHubActivityConsoleOnly(t *testing.T) {
	var console atomic.Uint32
	console.Store(1)
	callers := make(chan pipe.Caller, 2)
	callers <- pipe.Caller{User: `PC\anna`, Session: 1, Console: true}
	callers <- pipe.Caller{User: `PC\bob`, Session: 2}
	hub, sock := hubOn(t, func(net.Conn) (pipe.Caller, error) { return <-callers, nil })
	// Bob's writer asks whether bob is at the console when it has a list
	// to send him: the test learns each answer.
	asked := make(chan bool, 64)
	hub.AtConsole = func(who pipe.Caller) bool {
		at := who.Session == console.Load()
		if who.Session == 2 {
			asked <- at
		}
		return at
	}
	anna := readActivity(rawTray(t, hub, sock))
	bob := readActivity(rawTray(t, hub, sock))
	// Bob's join kicked his writer with an empty list: it may ask or not.
	hub.ShowActivity(listUpTo(3))
	anna.until(t, 3)
	for coretest.Receive(t, asked, "bob's writer to ask whether bob is at the console") {
		t.Fatal("bob is said to be at the console")
	}
	console.Store(2) // a user switch: bob's session is the console now
	hub.ShowStatus(support.Status{State: support.TrayWaiting})
	l := bob.until(t, 3)
	if len(l.Entries) != 3 {
		t.Fatalf("bob, now at the console, has %d entries; want the 3", len(l.Entries))
	}
	if bob.frames != 1 {
		t.Fatalf("bob read %d activity frames; want only the one sent once his session was the console's", bob.frames)
	}
}
