package ui

import (
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"adhocstation/core/coretest"
)

// The other tests look at a window right after closing it; the hidden
// interval matters only to the real driver's pointer events, so they
// close at once, and TestCloseHiddenFirst checks the interval itself.
func TestMain(m *testing.M) {
	closeSettle = 0
	os.Exit(m.Run())
}

// TestCloseHiddenFirst: the window is hidden at once and closed after the
// interval, and Quit hides every window before the app quits.
func TestCloseHiddenFirst(t *testing.T) {
	a := test.NewTempApp(t)
	w := &hideRecorder{Window: a.NewWindow("remote")}
	w.Show()
	closed := make(chan struct{}, 1)
	w.SetOnClosed(func() { closed <- struct{}{} })
	closeAfter(w, 20*time.Millisecond)
	if !w.hidden {
		t.Fatal("the window was not hidden before its close; want it hidden at once")
	}
	select {
	case <-closed:
		t.Fatal("the window closed at once; want it closed after the interval")
	default:
	}
	coretest.Receive(t, closed, "the hidden window to close")

	b := &hideRecorder{Window: a.NewWindow("station")}
	quitAfter(&hidingApp{App: a, windows: []fyne.Window{b}}, 20*time.Millisecond)
	if !b.hidden {
		t.Fatal("Quit did not hide the window first")
	}
}

// hideRecorder notes Hide, which the test driver's window ignores.
type hideRecorder struct {
	fyne.Window
	hidden bool
}

func (w *hideRecorder) Hide() { w.hidden = true; w.Window.Hide() }

// hidingApp lists the given windows as the driver's.
type hidingApp struct {
	fyne.App
	windows []fyne.Window
}

func (a *hidingApp) Driver() fyne.Driver { return hidingDriver{a.App.Driver(), a.windows} }

type hidingDriver struct {
	fyne.Driver
	windows []fyne.Window
}

func (d hidingDriver) AllWindows() []fyne.Window { return d.windows }

// TestNoScreenWorkAfterShutdown: once the station window shut down, a late
// result or tick is dropped rather than run (on the real driver it would
// run after GLFW ended, and panic); another app's work still runs.
func TestNoScreenWorkAfterShutdown(t *testing.T) {
	w, _, _, _ := uiTestWindow(t, Options{})
	ran := 0
	w.work.apply("before", func() { ran++ })
	if ran != 1 {
		t.Fatalf("work before the shutdown ran %d times, want once", ran)
	}
	w.win.Close() // its OnClosed shuts the window down
	w.work.apply("after", func() { ran++ })
	w.tick(time.Now()) // a tick already under way is harmless on the test driver
	doUI(func() { ran++ })
	if ran != 1 {
		t.Fatalf("work after the shutdown ran (%d runs in all)", ran)
	}
	// The next test's app is not affected.
	test.NewTempApp(t)
	doUI(func() { ran++ })
	if ran != 2 {
		t.Fatal("another app's work was dropped too")
	}
}
