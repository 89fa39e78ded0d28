package core_test

import (
	"context"
	"fmt"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// runWindow runs st's background work, as the window's process does, until
// the test ends.
func runWindow(t *testing.T, st *core.Station) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// published reads the window's events until two profiles added elsewhere
// after the change under test have been published, and returns the event
// of kind about session id (0: any) that came before them. The watcher
// publishes in looks, each reading the sessions before the profiles and
// settings, one look after another: the look that publishes the first
// profile read a state that has the change, so by the time a second
// profile (added once the first was published) is published, a later
// look has published the change too. A change the watcher skipped thus
// fails here at once, without waiting for an event that never comes.
func (o *otherProcess) published(kind core.EventKind, id int64) core.Event {
	t, cli, sub := o.t, o.cli, o.sub
	t.Helper()
	var got core.Event
	found := false
	var seen []core.EventKind
	for range 2 {
		o.markers++
		if _, err := cli.CreateProfile(t.Context(), fmt.Sprintf("Marker %d", o.markers), fmt.Sprintf("marker%d@example.com", o.markers)); err != nil {
			t.Fatal(err)
		}
		for {
			e := coretest.Receive(t, sub.C, "the event of a profile added elsewhere")
			seen = append(seen, e.Kind)
			if !found && e.Kind == kind && (id == 0 || e.SessionID == id) {
				got, found = e, true
				continue
			}
			if e.Kind == core.EventProfiles {
				break
			}
		}
	}
	if !found {
		t.Fatalf("no %s event (session %d) before the events of two later changes (%v): the watcher skipped the change", kind, id, seen)
	}
	return got
}

// otherProcess is a window's event feed and the command line's station.
type otherProcess struct {
	t       *testing.T
	cli     *core.Station
	sub     *core.Subscription
	markers int // the profiles published added
}

// A running station publishes the changes another process (the command
// line) commits to the same database, as it publishes its own.
func TestStationPublishesOtherProcessChanges(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	window := coretest.OpenWith(t, dir, clock, nil)
	sub := window.Subscribe()
	defer sub.Close()
	runWindow(t, window)
	cli := coretest.OpenWith(t, dir, clock, nil)
	o := &otherProcess{t: t, cli: cli, sub: sub}

	p, prep := coretest.MustPrepare(t, cli, "Ana", "ana@example.com")
	// The profile and its session may land in one look of the watcher,
	// which publishes sessions first: either order is right.
	for seen := map[core.EventKind]bool{}; !seen[core.EventProfiles] || !seen[core.EventPrepared]; {
		e := coretest.Receive(t, sub.C, "the profile's and the session's events")
		if e.Kind == core.EventProfiles || e.Kind == core.EventPrepared && e.SessionID == prep.Session.ID {
			seen[e.Kind] = true
		}
	}
	if err := cli.End(ctx, prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	e := o.published(core.EventCancelled, prep.Session.ID)
	if e.Detail != "cancelled by the technician" {
		t.Errorf("cancel event detail %q", e.Detail)
	}

	pw := coretest.PasswordFor(p.ID)
	again, err := cli.Prepare(ctx, core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com", Password: pw, Confirm: pw})
	if err != nil {
		t.Fatal(err)
	}
	o.published(core.EventPrepared, again.Session.ID)
	if _, err := cli.RegenerateCode(ctx, again.Session.ID); err != nil {
		t.Fatal(err)
	}
	o.published(core.EventCodeRegenerated, again.Session.ID)
	// The window's own pairing service pairs it; then the command line ends it.
	code, err := window.RegenerateCode(ctx, again.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := window.Pair(ctx, core.PairRequest{Token: again.Session.Token, Code: code, RemoteAddr: "192.0.2.1:1",
		Facts: coretest.WindowsPC}); err != nil {
		t.Fatal(err)
	}
	if err := cli.End(ctx, again.Session.ID); err != nil {
		t.Fatal(err)
	}
	o.published(core.EventEnded, again.Session.ID)

	set, err := cli.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set.Seats = 7
	if err := cli.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	o.published(core.EventSettings, 0)
}

// The station's own changes are published once, by the code that made
// them, not a second time by the watcher.
func TestOwnChangesPublishedOnce(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	window := coretest.OpenWith(t, dir, clock, nil)
	cli := coretest.OpenWith(t, dir, clock, nil)
	sub := window.Subscribe()
	defer sub.Close()
	runWindow(t, window)

	_, own := coretest.MustPrepare(t, window, "Ana", "ana@example.com")
	if _, err := window.RegenerateCode(ctx, own.Session.ID); err != nil {
		t.Fatal(err)
	}
	if err := window.Cancel(ctx, own.Session.ID); err != nil {
		t.Fatal(err)
	}
	// A change from elsewhere after them: once the watcher has published
	// it, it has looked at every change before it too.
	_, other := coretest.MustPrepare(t, cli, "Ben", "ben@example.com")
	counts := map[core.EventKind]int{}
	for {
		e := coretest.Receive(t, sub.C, "the other process's prepared event")
		if e.SessionID == own.Session.ID {
			counts[e.Kind]++
		}
		if e.Kind == core.EventPrepared && e.SessionID == other.Session.ID {
			break
		}
	}
	for _, k := range []core.EventKind{core.EventPrepared, core.EventCodeRegenerated, core.EventCancelled} {
		if counts[k] != 1 {
			t.Errorf("%d %s events for the station's own session, want 1 (all: %v)", counts[k], k, counts)
		}
	}
}

// What another process commits after the station opened but before its
// background work started is published too: the window has read the
// database at Open, so a change in that gap must not be taken as the
// starting point and lost.
func TestChangeBeforeRunPublished(t *testing.T) {
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	window := coretest.OpenWith(t, dir, clock, nil)
	sub := window.Subscribe()
	defer sub.Close()
	cli := coretest.OpenWith(t, dir, clock, nil)
	_, prep := coretest.MustPrepare(t, cli, "Ana", "ana@example.com")
	runWindow(t, window)
	// One look finds both; sessions are published before profiles.
	coretest.WaitEvent(t, sub, core.EventPrepared, prep.Session.ID)
	coretest.WaitEvent(t, sub, core.EventProfiles, 0)
}
