//go:build linux

package ui

import (
	"image"
	"image/color"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/pipe"
	agentscreen "adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/agent/x11desk"
	"adhocstation/agent/x11desk/x11test"
	"adhocstation/core/coretest"
	"adhocstation/core/remote"
)

// screenRig is a remote window connected to a PC whose desktop is an Xvfb
// display with the test program on it: the real station, pairing service
// and agent App (with its hub and a tray helper on a Unix socket) over the
// live channel on loopback.
type screenRig struct {
	x     *x11test.Xvfb
	prog  *x11test.Program
	tray  *agenttest.Tray
	r     *remoteWindow
	tab   *screenTab
	watch *workWatch
}

func newScreenRig(t testing.TB, w, h int) *screenRig {
	t.Helper()
	return newScreenRigVia(t, w, h, pathDirect)
}

// newScreenRigVia is newScreenRig with the PC reaching the station on path
// (pathHub: only through a real relay hub).
func newScreenRigVia(t testing.TB, w, h int, path remotePath) *screenRig {
	t.Helper()
	x, prog := agenttest.Display(t, w, h)

	// The service's hub and the user's tray helper on the pipe.
	service := agenttest.ServePipe(t, func(net.Conn) (pipe.Caller, error) { return pipe.Caller{User: "anna", Console: true}, nil })
	hub := service.Hub
	tray := agenttest.NewTray(nil)
	service.JoinTray(tray)

	_, _, r, watch := remoteTestOpenVia(t, path, func(a *support.App) {
		a.UI = hub
		a.OpenDesktop = func() (agentscreen.Desktop, error) { return x11desk.Open(x.Display) }
	})
	t.Cleanup(r.win.Close)
	r.screen.clipEvery = 0 // the test looks at the clipboard itself
	return &screenRig{x: x, prog: prog, tray: tray, r: r, tab: r.screen, watch: watch}
}

// showTab selects the Screen tab, so the view has a size.
func (g *screenRig) showTab() {
	for _, ti := range g.r.tabs.Items {
		if ti.Text == "Screen" {
			g.r.tabs.Select(ti)
		}
	}
}

// act does what the technician does while the stream's results may be
// applied: Fyne's test driver applies them on the stream's goroutine, so
// the test takes their turn (on the real driver both are on one goroutine).
func (g *screenRig) act(f func()) {
	g.tab.work.mu.Lock()
	defer g.tab.work.mu.Unlock()
	f()
}

// start taps Start viewing and waits for the first frame on screen.
func (g *screenRig) start(t testing.TB) {
	t.Helper()
	// The tap takes the results' turn: a view that just ended may still be
	// applying its last results on its own goroutine under the test driver.
	g.watch.during(t, jobScreenStart, func() { g.act(func() { test.Tap(g.tab.start) }) })
	if g.tab.screen == nil {
		t.Fatalf("viewing did not start: %q", g.tab.status.Text)
	}
	g.until(t, "the first frame", func(img *image.RGBA) bool { return img != nil })
}

// until waits for frames until ok holds for the view's image.
func (g *screenRig) until(t testing.TB, what string, ok func(*image.RGBA) bool) {
	t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for !ok(g.tab.view.snapshot()) {
		if time.Now().After(deadline) {
			t.Fatalf("the Screen view never showed %s", what)
		}
		g.watch.wait(t, jobScreenFrame)
	}
}

// viewPoint is where image pixel (x, y) is in the view.
func (g *screenRig) viewPoint(x, y int) fyne.Position {
	off, k := g.tab.view.placement(g.tab.view.Size())
	return fyne.NewPos(off.X+(float32(x)+0.5)*k, off.Y+(float32(y)+0.5)*k)
}

// The whole remote screen under Xvfb: the test program's pattern arrives
// in the technician's Screen view; with Control on, a click and typed text
// from the view's own event methods reach the program at the right place;
// the clipboard goes both ways; Ctrl+Alt+Del explains X11's refusal; Stop
// viewing in the user's tray ends the view with the sentence that says so.
func TestScreenViewEndToEnd(t *testing.T) {
	g := newScreenRig(t, 800, 600)
	area := image.Rect(64, 64, 576, 448)
	pat := x11test.Pattern(area)
	if err := g.prog.Draw(pat); err != nil {
		t.Fatal(err)
	}
	g.r.win.Resize(fyne.NewSize(1000, 680))
	g.showTab()
	g.start(t)
	if got := coretest.Receive(t, g.tray.Views, "the tray to say who is viewing"); got != "Tom viewing: true" {
		t.Fatalf("the tray was told %q", got)
	}
	// Flat bars (above the gradient's tile row) are sent losslessly; the
	// whole pattern within JPEG's tolerance.
	var worst int
	var mean float64
	g.until(t, "the pattern", func(img *image.RGBA) bool {
		if img == nil || img.Rect != image.Rect(0, 0, 800, 600) {
			return false
		}
		if w, _ := agenttest.ChannelDiff(img, pat, image.Rect(64, 64, 576, 192)); w != 0 {
			return false
		}
		worst, mean = agenttest.ChannelDiff(img, pat, area)
		return mean <= 4 && worst <= 64
	})
	t.Logf("pattern in the view: largest channel difference %d, mean %.2f", worst, mean)
	if !slices.Contains(g.tab.monitor.Options, g.tab.monitor.Selected) || len(g.tab.monitor.Options) < 2 {
		t.Errorf("monitor choice %q of %q, want All monitors and the display's", g.tab.monitor.Selected, g.tab.monitor.Options)
	}
	if g.tab.control.Disabled() || !g.tab.start.Disabled() || g.tab.stop.Disabled() {
		t.Error("while viewing, Control and Stop should be enabled and Start not")
	}

	// Input from the view's event methods, through the fitted scale.
	v := g.tab.view
	at := g.viewPoint(321, 234)
	g.act(func() {
		v.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at}, Button: desktop.MouseButtonPrimary})
		v.MouseUp(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at}, Button: desktop.MouseButtonPrimary})
		test.Tap(g.tab.control)
		if !g.tab.control.Checked || g.tab.sas.Disabled() {
			t.Error("Control did not switch on")
		}
		v.MouseIn(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: g.viewPoint(300, 200)}})
		v.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at}, Button: desktop.MouseButtonPrimary})
		v.MouseUp(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at}, Button: desktop.MouseButtonPrimary})
		test.Type(v, "typed in the view")
		v.KeyDown(&fyne.KeyEvent{Name: fyne.KeyReturn})
		v.KeyUp(&fyne.KeyEvent{Name: fyne.KeyReturn})
	})
	err := g.prog.WaitFor(coretest.WaitLimit, func(clicks []x11test.Click, text string) bool {
		return len(clicks) > 0 && text == "typed in the view\n"
	})
	if err != nil {
		t.Fatal(err)
	}
	if clicks := g.prog.Clicks(); !slices.Equal(clicks, []x11test.Click{{X: 321, Y: 234, Button: 1}}) {
		t.Fatalf("the program got clicks %v, want one at 321,234 (the one before Control must not arrive)", clicks)
	}

	// A change on the PC arrives.
	red := color.RGBA{220, 20, 20, 255}
	if err := g.prog.Fill(image.Rect(600, 500, 700, 550), red); err != nil {
		t.Fatal(err)
	}
	g.until(t, "the red rectangle", func(img *image.RGBA) bool { return img.RGBAAt(650, 525) == red })

	// The clipboard both ways while Control is on.
	clip := fyne.CurrentApp().Clipboard()
	g.act(func() {
		clip.SetContent("from the technician")
		g.tab.syncClipboard()
	})
	other, err := x11desk.Open(g.x.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	deadline := time.Now().Add(coretest.WaitLimit)
	for text, _ := other.Clipboard(); text != "from the technician"; text, _ = other.Clipboard() {
		if time.Now().After(deadline) {
			t.Fatalf("the PC's clipboard is %q, want the technician's", text)
		}
		time.Sleep(20 * time.Millisecond) // polling another X client's selection
	}
	if err := other.SetClipboard("copied on the PC"); err != nil {
		t.Fatal(err)
	}
	g.watch.wait(t, jobScreenClip)
	if got := clip.Content(); got != "copied on the PC" {
		t.Errorf("the station's clipboard is %q, want the PC's", got)
	}

	g.act(func() { test.Tap(g.tab.sas) })
	if !g.tab.status.Visible() || !strings.Contains(g.tab.status.Text, x11desk.SASRefusal) {
		t.Errorf("Ctrl+Alt+Del says %q, want X11's refusal", g.tab.status.Text)
	}

	// Refresh: nothing changed on the PC (and the agent sends changes
	// only), yet a frame comes: the whole picture again.
	for len(g.watch.applied) > 0 {
		<-g.watch.applied // results from before the tap
	}
	g.watch.during(t, jobScreenFrame, func() { g.act(func() { test.Tap(g.tab.refresh) }) })

	// The user stops the viewing from the tray.
	g.tray.StopViewing()
	g.watch.wait(t, jobScreenStopped)
	if !g.tab.status.Visible() || g.tab.status.Text != remote.ErrScreenStoppedByUser.Message {
		t.Errorf("after the user's stop the view says %q (visible %v)", g.tab.status.Text, g.tab.status.Visible())
	}
	if g.tab.screen != nil || g.tab.start.Disabled() || !g.tab.stop.Disabled() || g.tab.control.Checked {
		t.Error("after the user's stop the tab still views: Start should be enabled, Stop disabled, Control off")
	}
	if got := coretest.Receive(t, g.tray.Views, "the tray to say the viewing stopped"); got != "Tom viewing: false" {
		t.Errorf("the tray was told %q", got)
	}

	// Viewing again, then Stop from the station's side.
	g.start(t)
	coretest.Receive(t, g.tray.Views, "the tray to say who is viewing again")
	g.act(func() { test.Tap(g.tab.stop) })
	if got := coretest.Receive(t, g.tray.Views, "the tray to say the viewing stopped"); got != "Tom viewing: false" {
		t.Errorf("after Stop the tray was told %q", got)
	}
	if g.tab.status.Visible() {
		t.Errorf("the technician's own Stop shows %q", g.tab.status.Text)
	}
	g.act(func() { screenTestStopped(t, g, red, true) })

	// Closing the remote session closes its screen stream too.
	g.start(t)
	g.act(func() { screenTestStopped(t, g, red, false) })
	coretest.Receive(t, g.tray.Views, "the tray to say who is viewing again")
	g.r.rs.Close()
	if got := coretest.Receive(t, g.tray.Views, "the tray to say the viewing stopped"); got != "Tom viewing: false" {
		t.Errorf("after the remote session closed the tray was told %q", got)
	}
	g.watch.wait(t, jobScreenStopped)
	if g.tab.status.Text != remote.ErrRemoteGone.Message {
		t.Errorf("after the remote session closed the view says %q", g.tab.status.Text)
	}
}

// screenTestStopped checks that the view looks stopped (want) or live: the
// red rectangle at image pixel 650,525 is dimmed and "Viewing stopped" is in
// sight, or it shows at full strength with no note.
func screenTestStopped(t *testing.T, g *screenRig, red color.RGBA, want bool) {
	t.Helper()
	c := g.r.win.Canvas()
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(g.tab.view).Add(g.viewPoint(650, 525))
	px := c.Capture().At(int(at.X*c.Scale()), int(at.Y*c.Scale()))
	r, _, _, _ := px.RGBA()
	dimmed := r>>8 < uint32(red.R)*3/4
	note := g.tab.stopped.Visible() && g.tab.stoppedNote.Text == viewingStopped && fitTestOnScreen(c, g.tab.stoppedNote)
	if dimmed != want || note != want {
		t.Errorf("the view shows %v where the PC's red is (dimmed %v) and the note in sight %v; want stopped %v", px, dimmed, note, want)
	}
}
