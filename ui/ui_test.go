package ui

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// uiTestWindow opens the whole window over a real station; events arrive
// through the window's own subscription, and the returned watch learns when
// every screen has handled one.
func uiTestWindow(t *testing.T, opts Options) (*stationWindow, *core.Station, *coretest.Clock, *workWatch) {
	t.Helper()
	a := test.NewTempApp(t)
	st, clock := coretest.Open(t)
	w := newStationWindow(a, st, opts, 0)
	w.notifier.loc = time.UTC
	w.adhoc.loc = time.UTC
	work := watchWork(&w.work)
	t.Cleanup(func() {
		select {
		case <-w.stop: // the test closed it
		default:
			w.win.Close()
		}
	})
	return w, st, clock, work
}

func TestWindowTabs(t *testing.T) {
	w, _, _, _ := uiTestWindow(t, Options{})
	var names []string
	for _, item := range w.tabs.Items {
		names = append(names, item.Text)
	}
	want := []string{"Ad Hoc Support", "Computers", "Activity", "Settings"}
	if len(names) != len(want) {
		t.Fatalf("tabs = %v", names)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("tabs = %v, want %v", names, want)
		}
	}
	if w.tabs.Selected().Text != "Ad Hoc Support" {
		t.Errorf("opens on %q", w.tabs.Selected().Text)
	}
	if w.win.FullScreen() {
		t.Error("full screen outside kiosk mode")
	}
}

// TestWindowDeliversEvents drives the station from outside the window (as
// the CLI or the pairing service would) and sees every screen follow.
func TestWindowDeliversEvents(t *testing.T) {
	w, st, clock, work := uiTestWindow(t, Options{})
	if _, err := st.CreateProfile(t.Context(), "Anna Tech", "anna.tech@example.com"); err != nil {
		t.Fatal(err)
	}
	work.wait(t, eventJob(core.EventProfiles))
	if w.adhoc.profile.Selected != "Anna Tech (anna.tech@example.com)" {
		t.Errorf("new profile not offered: %q", w.adhoc.profile.Selected)
	}
	_, prep := coretest.MustPrepare(t, st, "Bob Tech", "bob.tech@example.com")
	work.wait(t, eventJob(core.EventPrepared))
	if got := w.adhoc.seats.Text; got != "4 of 5 seats free" {
		t.Errorf("seats = %q", got)
	}
	test.AssertNotificationSent(t, fyne.NewNotification("PC paired", "DESKTOP-7QK2 (user anna) is paired for "+
		"user@example.com. You can connect to it until Wed 09:00."), func() {
		if _, err := st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code,
			RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC}); err != nil {
			t.Fatal(err)
		}
		work.wait(t, eventJob(core.EventPaired))
	})
	clock.Advance(23*time.Hour + 50*time.Minute)
	test.AssertNotificationSent(t, fyne.NewNotification("Session ends in 15 minutes", "DESKTOP-7QK2 (user anna) for "+
		"user@example.com: the session ends at Wed 09:00. Finish your work or prepare a new session."), func() {
		if err := st.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		work.wait(t, eventJob(core.EventExpiringSoon))
	})
	clock.Advance(10 * time.Minute)
	test.AssertNotificationSent(t, fyne.NewNotification("Session expired", "DESKTOP-7QK2 (user anna) for "+
		"user@example.com: the 24 hours are over. The PC removes the hidden account and the app."), func() {
		if err := st.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		work.wait(t, eventJob(core.EventExpired))
	})
	if got := w.adhoc.seats.Text; got != "5 of 5 seats free" {
		t.Errorf("seats after expiry = %q", got)
	}
}

func TestWindowCloseStopsListening(t *testing.T) {
	w, _, _, _ := uiTestWindow(t, Options{})
	w.onCloseRequest() // nothing to lose: closes at once
	select {
	case <-w.stop:
	default:
		t.Fatal("the window did not close")
	}
	select {
	case _, open := <-w.sub.C:
		if open {
			t.Error("the subscription still delivers after the window closed")
		}
	case <-time.After(coretest.WaitLimit):
		t.Error("the subscription is still open after the window closed")
	}
}

func TestWindowCloseAsksWhileCodeShown(t *testing.T) {
	w, st, _, work := uiTestWindow(t, Options{})
	_, prep := coretest.MustPrepare(t, st, "Anna Tech", "anna.tech@example.com")
	work.wait(t, eventJob(core.EventPrepared))
	w.adhoc.showPanel(prep)
	w.onCloseRequest()
	top := w.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("closing with a code on screen did not ask")
	}
	test.Tap(findButton(t, top, "Stay"))
	select {
	case <-w.stop:
		t.Fatal("Stay closed the window")
	default:
	}
	w.onCloseRequest()
	test.Tap(findButton(t, w.win.Canvas().Overlays().Top(), "Close"))
	select {
	case <-w.stop:
	default:
		t.Fatal("Close did not close the window")
	}
}

// uiTestTicks records the window's ticks without touching any widget.
type uiTestTicks chan time.Time

func (c uiTestTicks) content() fyne.CanvasObject { return nil }
func (c uiTestTicks) onEvent(core.Event)         {}
func (c uiTestTicks) onTick(now time.Time) {
	select {
	case c <- now:
	default:
	}
}

func TestWindowTickerUsesStationClockAndStops(t *testing.T) {
	w, _, clock, _ := uiTestWindow(t, Options{})
	ticks := make(uiTestTicks, 1)
	w.screens = append(w.screens, ticks)
	stopped := make(chan struct{})
	go func() { w.runTicker(time.Millisecond); close(stopped) }()
	if got := coretest.Receive(t, (<-chan time.Time)(ticks), "the window's first tick"); !got.Equal(clock.Now()) {
		t.Errorf("tick at %v, want the station's clock %v", got, clock.Now())
	}
	w.win.Close()
	coretest.Await(t, stopped, "runTicker to return after the window closed")
}

// TestWindowPairingReachesCodePanel follows a pairing from core through
// the window's own subscription to the code panel's status line.
func TestWindowPairingReachesCodePanel(t *testing.T) {
	w, st, _, work := uiTestWindow(t, Options{})
	_, prep := coretest.MustPrepare(t, st, "Anna Tech", "anna.tech@example.com")
	work.wait(t, eventJob(core.EventPrepared))
	w.adhoc.showPanel(prep)
	if _, err := st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC}); err != nil {
		t.Fatal(err)
	}
	work.wait(t, eventJob(core.EventPaired))
	want := "Paired with DESKTOP-7QK2 (Windows 11 Pro, user anna) — active until Wed 09:00"
	if got := w.adhoc.panel.status.Text; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
}

// A problem the station hit at start (the pairing service's port is taken)
// stays above every page; without one, the pages fill the window.
func TestWindowShowsStartupProblem(t *testing.T) {
	refusal := core.Errorf("pairing_listen", "The pairing service cannot listen on :8443 (address already in use).")
	problem := "PCs cannot pair. " + refusal.Error()
	w, _, _, _ := uiTestWindow(t, Options{PairingError: fmt.Errorf("start: %w", refusal)})
	found := false
	for _, o := range test.LaidOutObjects(w.win.Content()) {
		if l, ok := o.(*widget.Label); ok && l.Text == problem {
			found = true
		}
	}
	if !found {
		t.Errorf("the problem %q is not on screen", problem)
	}
	plain, _, _, _ := uiTestWindow(t, Options{})
	if plain.win.Content() != fyne.CanvasObject(plain.tabs) {
		t.Error("without a problem the tabs should be the whole content")
	}
}

// Settings shows the pairing certificate's fingerprint and follows a change
// (an organisation certificate saved) on the next tick.
func TestWindowShowsPairingFingerprint(t *testing.T) {
	var fp atomic.Value
	fp.Store("AB:CD:EF")
	w, _, _, _ := uiTestWindow(t, Options{PairingFingerprint: func() string { return fp.Load().(string) }})
	settings := w.screens[3].(*settingsScreen)
	if settings.fpValue == nil || settings.fpValue.Text != "AB:CD:EF" {
		t.Fatalf("fingerprint label = %v", settings.fpValue)
	}
	fp.Store("12:34:56")
	settings.onTick(time.Time{})
	if settings.fpValue.Text != "12:34:56" {
		t.Errorf("after a certificate change the label says %q", settings.fpValue.Text)
	}
	plain, _, _, _ := uiTestWindow(t, Options{})
	if plain.screens[3].(*settingsScreen).fpValue != nil {
		t.Error("a window without a pairing service shows a fingerprint")
	}
}

// TestWindowFitsWorkArea: the window opens at its usual size where the
// screen allows it and no larger than the work area where it does not. The
// real window under Xvfb is checked by .ci/window-size.sh.
func TestWindowFitsWorkArea(t *testing.T) {
	cases := []struct {
		screenW, screenH int
		want             fyne.Size
	}{
		{1024, 600, fyne.NewSize(1024, 600-titleBarAllowance)},
		{1366, 768, fyne.NewSize(1100, 660)},
		{1280, 720 - 40, fyne.NewSize(1100, 680-titleBarAllowance)}, // a 40-pixel task bar
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d", c.screenW, c.screenH), func(t *testing.T) {
			w, _, _, _ := uiTestWindow(t, Options{})
			FitToWorkArea(w.win, func() (int, int) { return c.screenW, c.screenH })
			if got := w.win.Canvas().Size(); got != c.want {
				t.Errorf("on a %dx%d work area the window is %v, want %v", c.screenW, c.screenH, got, c.want)
			}
		})
	}
	t.Run("Kiosk", func(t *testing.T) {
		w, _, _, _ := uiTestWindow(t, Options{Kiosk: true})
		FitToWorkArea(w.win, func() (int, int) { return 1024, 600 })
		if !w.win.FullScreen() {
			t.Error("the kiosk window left full screen")
		}
	})
}
