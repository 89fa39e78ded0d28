package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// otherProcessWindow opens the whole window over a running station (its
// background work on, as in the real program) and a second station on the
// same database file: the command line in another process.
func otherProcessWindow(t *testing.T) (*stationWindow, *core.Station, *workWatch) {
	t.Helper()
	w, st, clock, work := uiTestWindow(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w, coretest.OpenWith(t, st.DataDir(), clock, nil), work
}

// A session prepared from the command line appears in the window's
// Computers list, and leaves it when the command line ends it.
func TestWindowListsSessionPreparedElsewhere(t *testing.T) {
	w, cli, work := otherProcessWindow(t)
	computers := w.screens[1].(*computersScreen)
	w.tabs.SelectIndex(1)

	_, prep := coretest.MustPrepare(t, cli, "Ben Tech", "ben.tech@example.com")
	work.wait(t, eventJob(core.EventPrepared))
	row := pagesTestRow(t, computers, prep.Session.ID)
	pagesTestWant(t, row, colEmail, "user@example.com")
	pagesTestWant(t, row, colState, "waiting")

	if err := cli.End(t.Context(), prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	work.wait(t, eventJob(core.EventCancelled))
	if _, ok := pagesTestRows(computers)[prep.Session.ID]; ok {
		t.Error("the session cancelled elsewhere is still listed as active")
	}
}

// The issue's case: the code panel is on screen and `adhoc-station sessions
// end` runs in a terminal. The panel says so and takes the code away.
func TestCodePanelFollowsEndElsewhere(t *testing.T) {
	w, cli, work := otherProcessWindow(t)
	ctx := t.Context()
	anna, err := cli.CreateProfile(ctx, "Anna Tech", "anna.tech@example.com")
	if err != nil {
		t.Fatal(err)
	}
	work.wait(t, eventJob(core.EventProfiles))
	if w.adhoc.profile.Selected != "Anna Tech (anna.tech@example.com)" {
		t.Errorf("the profile added elsewhere is not offered: %q", w.adhoc.profile.Selected)
	}
	// Prepare as the form does; the panel is shown on this goroutine once the
	// window has handled the event, because Fyne's test driver runs fyne.Do
	// on the calling goroutine (the form's own path is covered in adhoc_test.go).
	showPanel := func(password string) *codePanel {
		prep, err := w.st.Prepare(ctx, core.PrepareRequest{ProfileID: anna.ID, UserEmail: "user@example.com",
			Password: password, Confirm: password})
		if err != nil {
			t.Fatal(err)
		}
		work.wait(t, eventJob(core.EventPrepared))
		w.adhoc.showPanel(prep)
		return w.adhoc.panel
	}

	p := showPanel(coretest.Password)
	if err := cli.End(ctx, p.sess.ID); err != nil {
		t.Fatal(err)
	}
	work.wait(t, eventJob(core.EventCancelled))
	// Its state once, not "cancelled (cancelled by the technician)" (issue 17, item 14).
	if !strings.HasPrefix(p.status.Text, "This session was cancelled by the technician.") {
		t.Errorf("status = %q, want it to say the session was cancelled", p.status.Text)
	}
	if p.codeVisible() || p.display.text.Text != "" {
		t.Error("the code of the session ended elsewhere is still on screen")
	}
	if p.regenerate.Visible() || p.cancel.Visible() {
		t.Error("Regenerate code or Cancel session still offered for a closed session")
	}

	// The same for a paired session, whose panel then says it has ended.
	test.Tap(p.leave)
	p = showPanel(coretest.Password + "-2")
	pairPC(t, w.st, core.Prepared{Session: p.sess, Code: p.code})
	work.wait(t, eventJob(core.EventPaired))
	if err := cli.End(ctx, p.sess.ID); err != nil {
		t.Fatal(err)
	}
	work.wait(t, eventJob(core.EventEnded))
	if !strings.HasPrefix(p.status.Text, "This session was ended by the technician.") {
		t.Errorf("status = %q, want it to say the session has ended", p.status.Text)
	}
	if p.cancel.Visible() {
		t.Error("End session now still offered for a session ended elsewhere")
	}
}
