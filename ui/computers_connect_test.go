package ui

import (
	"fmt"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// The sentence beside Connect shows only while Connect is disabled, and
// says why: nothing selected, the session not (or no longer) active, the
// PC offline.
func TestComputersConnectHint(t *testing.T) {
	st, clock, s, sub := pagesTestComputers(t)
	want := func(step, why string) {
		t.Helper()
		switch {
		case why == "" && (s.connect.Disabled() || s.connectWhy.Visible()):
			t.Fatalf("%s: Connect disabled %v, hint shown %v (%q); want Connect enabled and no hint",
				step, s.connect.Disabled(), s.connectWhy.Visible(), s.connectWhy.Text)
		case why != "" && (!s.connect.Disabled() || !s.connectWhy.Visible() || s.connectWhy.Text != why):
			t.Fatalf("%s: Connect disabled %v, hint shown %v (%q); want Connect disabled and %q",
				step, s.connect.Disabled(), s.connectWhy.Visible(), s.connectWhy.Text, why)
		}
	}
	want("nothing listed", connectNoRow)

	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	want("a session listed, none selected", connectNoRow)
	s.list.Select(0)
	want("a prepared session", connectPrepared)

	paired := pairPC(t, st, prep)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	want("an online active session", "")

	clock.Advance(2 * time.Minute)
	if err := st.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventComputerOffline)
	want("its PC offline", connectOffline)
	if _, err := st.Heartbeat(t.Context(), paired.AgentKey); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventComputerOnline)
	want("online again", "")

	s.list.UnselectAll()
	want("unselected", connectNoRow)
	s.list.Select(0)
	if err := s.endSession(prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	s.filter.SetSelected(filterAll)
	if i, ok := s.find(prep.Session.ID); ok {
		s.list.Select(i)
	}
	want("an ended session", fmt.Sprintf(connectClosed, core.StateEnded))
}
