package ui

import (
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// pagesTestRows returns the session rows on screen, top to bottom.
func pagesTestRows(s *computersScreen) map[int64]*sessionRow {
	rows := map[int64]*sessionRow{}
	walk(s.list, func(o fyne.CanvasObject) {
		if r, ok := o.(*sessionRow); ok {
			rows[r.sess.ID] = r
		}
	})
	return rows
}

// pagesTestCells is what a row shows, column by column.
func pagesTestCells(r *sessionRow) []string {
	var out []string
	for _, c := range r.cells {
		out = append(out, c.Text)
	}
	return out
}

func pagesTestRow(t *testing.T, s *computersScreen, id int64) []string {
	t.Helper()
	r, ok := pagesTestRows(s)[id]
	if !ok {
		t.Fatalf("session %d is not on screen", id)
	}
	return pagesTestCells(r)
}

func pagesTestComputers(t testing.TB) (*core.Station, *coretest.Clock, *computersScreen, *core.Subscription) {
	t.Helper()
	st, clock := coretest.Open(t)
	w := testWindow(t)
	sub := st.Subscribe()
	t.Cleanup(sub.Close)
	s := newComputersScreen(st, w)
	w.SetContent(s.content())
	return st, clock, s, sub
}

func pagesTestWant(t *testing.T, got []string, col int, want string) {
	t.Helper()
	if got[col] != want {
		t.Fatalf("column %q = %q, want %q (row %q)", sessionColumns[col].title, got[col], want, got)
	}
}

// A session's row follows it from prepared to expired by core's events
// alone: waiting, online, offline, online again, the countdown, expired.
func TestComputersFollowsSessionLifecycle(t *testing.T) {
	st, clock, s, sub := pagesTestComputers(t)
	if !s.empty.Visible() || s.empty.Text != "No ad hoc support sessions yet — prepare one on the Ad Hoc Support tab." {
		t.Fatalf("empty state: visible %v, %q", s.empty.Visible(), s.empty.Text)
	}

	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	row := pagesTestRow(t, s, prep.Session.ID)
	pagesTestWant(t, row, colComputer, "not paired yet")
	pagesTestWant(t, row, colState, "waiting")
	pagesTestWant(t, row, colEmail, "user@example.com")
	pagesTestWant(t, row, colTechnician, "Tom")
	pagesTestWant(t, row, colTimeLeft, "1 h 00 min")
	if s.empty.Visible() {
		t.Fatal("empty state still shown with a session listed")
	}
	// Waiting for its user is not active yet.
	if s.summary.Text != "0 active sessions, 1 waiting for the user" {
		t.Errorf("summary with one unpaired session: %q", s.summary.Text)
	}

	paired := pairPC(t, st, prep)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	if s.summary.Text != "1 active session" {
		t.Errorf("summary with one paired session: %q", s.summary.Text)
	}
	row = pagesTestRow(t, s, prep.Session.ID)
	pagesTestWant(t, row, colComputer, "DESKTOP-7QK2")
	pagesTestWant(t, row, colOS, "Windows 11 Pro")
	pagesTestWant(t, row, colUser, "anna")
	pagesTestWant(t, row, colState, "online")
	pagesTestWant(t, row, colTimeLeft, "24 h 00 min")

	// The PC falls silent: core marks it offline on its next tick.
	clock.Advance(2 * time.Minute)
	if err := st.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventComputerOffline)
	pagesTestWant(t, pagesTestRow(t, s, prep.Session.ID), colState, "offline")
	if _, err := st.Heartbeat(t.Context(), paired.AgentKey); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventComputerOnline)
	pagesTestWant(t, pagesTestRow(t, s, prep.Session.ID), colState, "online")

	// The countdown moves with the clock, without any event.
	clock.Advance(23*time.Hour + 30*time.Minute)
	s.onTick(clock.Now())
	pagesTestWant(t, pagesTestRow(t, s, prep.Session.ID), colTimeLeft, "28 min 00 s")

	clock.Advance(29 * time.Minute)
	if err := st.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventExpired)
	if _, shown := pagesTestRows(s)[prep.Session.ID]; shown {
		t.Fatal("the expired session is still listed under Open")
	}
	if !s.empty.Visible() || s.empty.Text != "No open ad hoc support sessions — prepare one on the Ad Hoc Support tab, or choose All to see finished ones." {
		t.Fatalf("empty Open list: visible %v, %q", s.empty.Visible(), s.empty.Text)
	}

	s.filter.SetSelected(filterAll)
	row = pagesTestRow(t, s, prep.Session.ID)
	pagesTestWant(t, row, colState, "expired")
	pagesTestWant(t, row, colTimeLeft, "—")
	if s.summary.Text != "1 session: 0 active sessions" {
		t.Fatalf("summary %q", s.summary.Text)
	}
}

// End session now asks first; "Keep it" changes nothing, confirming ends
// the session in core and the row leaves the Active list.
func TestComputersEndSessionNow(t *testing.T) {
	st, _, s, sub := pagesTestComputers(t)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	pairPC(t, st, prep)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)

	if !s.connect.Disabled() {
		t.Fatal("Connect is enabled before remote sessions exist")
	}
	if !s.end.Disabled() {
		t.Fatal("End session now is enabled with nothing selected")
	}
	s.list.Select(0)
	if s.end.Disabled() {
		t.Fatal("End session now is disabled for the selected active session")
	}

	test.Tap(s.end)
	top := s.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no confirmation dialog")
	}
	test.Tap(findButton(t, top, "Keep it"))
	if got, _ := st.Session(t.Context(), prep.Session.ID); got.State != core.StateActive {
		t.Fatalf("state after Keep it = %s", got.State)
	}

	test.Tap(s.end)
	test.Tap(findButton(t, s.win.Canvas().Overlays().Top(), "End session"))
	deliverUntil(t, sub, s.onEvent, core.EventEnded)
	if got, _ := st.Session(t.Context(), prep.Session.ID); got.State != core.StateEnded {
		t.Fatalf("state after End session = %s", got.State)
	}
	if len(pagesTestRows(s)) != 0 || !s.end.Disabled() {
		t.Fatalf("after ending: %d rows, End enabled %v", len(pagesTestRows(s)), !s.end.Disabled())
	}
	s.filter.SetSelected(filterAll)
	pagesTestWant(t, pagesTestRow(t, s, prep.Session.ID), colState, "ended")
}

// An event about one session redraws that row only, without a list-wide
// refresh (which would call UpdateItem for every visible row); a session
// that leaves the list refreshes it because rows moved.
func TestComputersRefreshesOnlyTheChangedRow(t *testing.T) {
	st, _, s, sub := pagesTestComputers(t)
	var preps []core.Prepared
	for _, name := range []string{"Ann", "Bob", "Cid"} {
		_, prep := coretest.MustPrepare(t, st, name, name+"@example.com")
		preps = append(preps, prep)
		deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	}
	updated := map[int]int{}
	update := s.list.UpdateItem
	s.list.UpdateItem = func(i widget.ListItemID, o fyne.CanvasObject) {
		updated[i]++
		update(i, o)
	}
	pairPC(t, st, preps[1]) // Bob's: the middle row
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	if len(updated) != 0 {
		t.Fatalf("list-wide refresh for one paired session: rows %v updated", updated)
	}
	pagesTestWant(t, pagesTestRow(t, s, preps[1].Session.ID), colState, "online")

	clear(updated)
	if err := st.End(t.Context(), preps[0].Session.ID); err != nil { // Ann's prepared one: cancelled
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventCancelled)
	if len(s.rows) != 2 || len(updated) < 2 {
		t.Fatalf("after a row left: %d rows, redrawn %v", len(s.rows), updated)
	}
}

// When the feed says events were missed, the page reloads everything.
func TestComputersReloadsWhenLagged(t *testing.T) {
	st, _, s, _ := pagesTestComputers(t)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	if len(pagesTestRows(s)) != 0 {
		t.Fatal("a row appeared without an event")
	}
	s.onEvent(core.Event{Kind: core.EventLagged})
	pagesTestWant(t, pagesTestRow(t, s, prep.Session.ID), colState, "waiting")
}

// pagesTestFixture prepares the Computers page's deterministic fixture on
// the stopped clock: Ann's session waits, Bob's PC is online, Cid's ended.
func pagesTestFixture(t *testing.T, st *core.Station) {
	t.Helper()
	ctx := t.Context()
	for i, f := range []struct {
		tech, user string
		pc         *core.ComputerFacts
		end        bool
	}{
		{"Cid Moreau", "jonas.berg@example.com", &core.ComputerFacts{Hostname: "LAPTOP-3FJ8", OSName: "Windows 10 Pro",
			OSVersion: "10.0.19045", Arch: "amd64", WindowsUser: "jonas", MachineID: "m-2"}, true},
		{"Bob Lindqvist", "anna.svensson@example.com", &coretest.WindowsPC, false},
		{"Ann Keller", "maria.rossi@example.com", nil, false},
	} {
		p, err := st.CreateProfile(ctx, f.tech, fmt.Sprintf("tech%d@example.com", i))
		if err != nil {
			t.Fatal(err)
		}
		pw := coretest.PasswordFor(p.ID)
		prep, err := st.Prepare(ctx, core.PrepareRequest{ProfileID: p.ID, UserEmail: f.user, Password: pw, Confirm: pw})
		if err != nil {
			t.Fatal(err)
		}
		if f.pc != nil {
			if _, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code,
				RemoteAddr: fmt.Sprintf("192.0.2.%d:5000", 10+i), Facts: *f.pc}); err != nil {
				t.Fatal(err)
			}
		}
		if f.end {
			if err := st.End(ctx, prep.Session.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestComputersGolden(t *testing.T) {
	st, _, s, _ := pagesTestComputers(t)
	test.AssertRendersToMarkup(t, "computers_empty.xml", s.win.Canvas())

	pagesTestFixture(t, st)
	s.onEvent(core.Event{Kind: core.EventLagged})
	test.AssertRendersToMarkup(t, "computers_active.xml", s.win.Canvas())
	s.filter.SetSelected(filterAll)
	test.AssertRendersToMarkup(t, "computers_all.xml", s.win.Canvas())
	test.AssertRendersToImage(t, "computers_all.png", s.win.Canvas())
}

// A session ended elsewhere while the dialog was open: the refusal is said
// in plain words and the row catches up.
func TestComputersEndSessionAlreadyEnded(t *testing.T) {
	st, _, s, _ := pagesTestComputers(t)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	pairPC(t, st, prep)
	s.onEvent(core.Event{Kind: core.EventLagged})
	s.list.Select(0)
	test.Tap(s.end)
	if err := st.End(t.Context(), prep.Session.ID); err != nil { // another window, or the CLI
		t.Fatal(err)
	}
	test.Tap(findButton(t, s.win.Canvas().Overlays().Top(), "End session"))
	if !s.status.Visible() || s.status.Text != core.ErrSessionClosed.Error() {
		t.Fatalf("status: visible %v, %q", s.status.Visible(), s.status.Text)
	}
	if len(s.rows) != 0 {
		t.Fatalf("the ended session is still listed under Active: %d rows", len(s.rows))
	}
}

// The row follows the PC's live channel: offline when it closes, online
// when the service reconnects, by core's events alone.
func TestComputersFollowsLiveChannel(t *testing.T) {
	st, clock, s, sub := pagesTestComputers(t)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	paired := pairPC(t, st, prep)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	_, release, err := st.OpenChannel(t.Context(), paired.AgentKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	release()
	deliverUntil(t, sub, s.onEvent, core.EventComputerOffline)
	pagesTestWant(t, pagesTestRow(t, s, prep.Session.ID), colState, "offline")
	clock.Advance(10 * time.Minute) // long past the heartbeat's 90 s: the channel decides
	if _, release, err = st.OpenChannel(t.Context(), paired.AgentKey, nil); err != nil {
		t.Fatal(err)
	}
	defer release()
	deliverUntil(t, sub, s.onEvent, core.EventComputerOnline)
	pagesTestWant(t, pagesTestRow(t, s, prep.Session.ID), colState, "online")
	if err := st.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	if sess, err := st.Session(t.Context(), prep.Session.ID); err != nil || !sess.Computer.Online {
		t.Fatalf("after a tick with the channel up: %v, %v; want still online", sess.Computer, err)
	}
}

// TestComputersColumnsFitAt800: at the narrowest window the usual values
// ("Windows 11 Pro", "waiting", the countdown) and the titles are not cut.
func TestComputersColumnsFitAt800(t *testing.T) {
	st, _, s, sub := pagesTestComputers(t)
	_, waiting := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	_, prep := coretest.MustPrepare(t, st, "Tina", "tina@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	pairPC(t, st, prep)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	s.win.Resize(fyne.NewSize(800, 600))
	cut := func(l *widget.Label) bool {
		need := fyne.MeasureText(l.Text, theme.TextSize(), l.TextStyle).Width + 2*theme.InnerPadding()
		return need > l.Size().Width+0.5
	}
	for _, id := range []int64{waiting.Session.ID, prep.Session.ID} {
		r := pagesTestRows(s)[id]
		for col, l := range r.cells {
			if col != colEmail && cut(l) {
				t.Errorf("session %d: %q is cut in a %.0f-wide column", id, l.Text, l.Size().Width)
			}
		}
	}
	for _, l := range findAll[*widget.Label](s.content()) {
		if l.TextStyle.Bold && l.Truncation == fyne.TextTruncateEllipsis && cut(l) {
			t.Errorf("the column title %q is cut in a %.0f-wide column", l.Text, l.Size().Width)
		}
	}
}
