package ui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/remote"
)

// End session now in the remote session window asks first: "Keep it"
// leaves the session active, "End session" ends it and closes the window.
func TestRemoteEndSession(t *testing.T) {
	st, s, r, _ := remoteTestOpen(t)
	id := r.rs.SessionID
	test.Tap(r.endBtn)
	dlg := r.win.Canvas().Overlays().Top()
	if dlg == nil {
		t.Fatal("End session now did not ask first")
	}
	test.Tap(findButton(t, dlg, "Keep it"))
	if sess, err := st.Session(t.Context(), id); err != nil || sess.State != core.StateActive {
		t.Fatalf("after Keep it the session is %v (%v); want still active", sess.State, err)
	}
	test.Tap(r.endBtn)
	test.Tap(findButton(t, r.win.Canvas().Overlays().Top(), "End session"))
	if sess, err := st.Session(t.Context(), id); err != nil || sess.State == core.StateActive {
		t.Fatalf("after End session the session is %v (%v); want ended", sess.State, err)
	}
	if len(s.remotes) != 0 {
		t.Error("the remote window stayed open after its session ended")
	}
	if want := "ended by Tom from the remote window"; !labelShown(s.status) || !strings.Contains(s.status.Text, want) ||
		s.status.Importance == widget.DangerImportance {
		t.Errorf("the Computers page says %q (shown %v, importance %v); want a plain note that the session was %s",
			s.status.Text, s.status.Visible(), s.status.Importance, want)
	}
}

// A tap on a row selects it; a double tap on a row of an online active PC
// asks for the password as Connect does; on a session not paired yet it
// only selects the row.
func TestComputersDoubleTapConnects(t *testing.T) {
	st, _, s, sub := pagesTestComputers(t)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	rows := findAll[*sessionRow](s.win.Content())
	if len(rows) == 0 {
		t.Fatal("no session row on screen")
	}
	var row *sessionRow
	for _, r := range rows {
		if r.sess.ID == prep.Session.ID {
			row = r
		}
	}
	if row == nil {
		t.Fatal("the prepared session's row is not on screen")
	}
	// The desktop driver gives a click to the row (it is DoubleTappable),
	// not to the list item under it: the row selects itself.
	test.Tap(row)
	if s.selected != prep.Session.ID || s.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("a tap on a row: selected %d, dialog %v; want the row selected and no dialog", s.selected, s.win.Canvas().Overlays().Top())
	}
	s.list.UnselectAll()
	test.DoubleTap(row)
	if s.selected != prep.Session.ID || s.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("double tap on a prepared session: selected %d, dialog %v; want selected and no dialog", s.selected, s.win.Canvas().Overlays().Top())
	}
	remoteTestConnected(t, st, prep)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	s.list.UnselectAll()
	test.DoubleTap(row)
	dlg := s.win.Canvas().Overlays().Top()
	if dlg == nil || s.selected != prep.Session.ID {
		t.Fatal("a double tap on an online active PC did not ask for the password")
	}
	findButton(t, dlg, "Connect")
}

// Closing the remote window closes its connection and unlists it, 50
// times over; while a session's window is open, Connect (or a double tap
// on its row) brings that window forward instead of opening a second one
// on top of it, whose close would look ignored.
func TestRemoteWindowCloses(t *testing.T) {
	_, s, r, watch := remoteTestOpen(t)
	for i := range 50 {
		test.Tap(s.connect)
		if len(s.remotes) != 1 || s.win.Canvas().Overlays().Top() != nil {
			t.Fatalf("round %d: Connect with the window open: %d windows, dialog %v; want the one window and no dialog",
				i, len(s.remotes), s.win.Canvas().Overlays().Top())
		}
		rs := r.rs
		r.win.Close()
		if len(s.remotes) != 0 {
			t.Fatalf("round %d: the closed window is still listed", i)
		}
		if _, err := rs.System(t.Context()); !errors.Is(err, remote.ErrRemoteGone) {
			t.Fatalf("round %d: after the close the connection answers (%v); want it closed", i, err)
		}
		remoteTestConnect(t, s, watch, coretest.Password)
		watch.wait(t, jobSystem)
		if len(s.remotes) != 1 {
			t.Fatalf("round %d: %d windows after connecting again", i, len(s.remotes))
		}
		r = s.remotes[0]
	}
	r.win.Close()
}
