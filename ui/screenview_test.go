package ui

import (
	"image"
	"image/color"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"adhocstation/core/wire"
)

// screenViewTest is a view in a test window of size, showing an image of
// w×h pixels, recording what it sends.
func screenViewTest(t *testing.T, size fyne.Size, w, h int) (*screenView, *[]wire.InputEvent) {
	t.Helper()
	test.NewTempApp(t)
	var sent []wire.InputEvent
	v := newScreenView(func(ev wire.InputEvent) { sent = append(sent, ev) })
	v.scroll = container.NewScroll(v)
	win := test.NewWindow(v.scroll)
	win.SetPadded(false)
	win.Resize(size)
	t.Cleanup(win.Close)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(w-1, h-1, color.RGBA{R: 255, A: 255})
	if !v.receive(img, []image.Rectangle{img.Rect}) {
		t.Fatal("the first frame queued no present")
	}
	if v.receive(img, nil) {
		t.Fatal("a second frame before the present queued another present")
	}
	v.present()
	if got := v.snapshot(); got == nil || got.RGBAAt(w-1, h-1) != (color.RGBA{R: 255, A: 255}) {
		t.Fatal("the view does not show the frame it received")
	}
	return v, &sent
}

func mouse(x, y float32, b desktop.MouseButton) *desktop.MouseEvent {
	return &desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(x, y)}, Button: b}
}

func expectSent(t *testing.T, sent *[]wire.InputEvent, what string, want ...wire.InputEvent) {
	t.Helper()
	if !reflect.DeepEqual(*sent, want) && (len(*sent) != 0 || len(want) != 0) {
		t.Errorf("%s sent\n%+v\nwant\n%+v", what, *sent, want)
	}
	*sent = nil
}

// Mouse events map from the view to the captured image: scaled and
// centred when fitting the window, one to one (scrolled) at 1:1; nothing
// is sent while Control is off, and the wheel scrolls the view then.
func TestScreenViewMapsPointer(t *testing.T) {
	v, sent := screenViewTest(t, fyne.NewSize(400, 300), 800, 400)
	v.MouseDown(mouse(100, 150, desktop.MouseButtonPrimary))
	v.MouseMoved(mouse(100, 150, 0))
	expectSent(t, sent, "Control off")

	v.setControl(true)
	// Fit: 800×400 in 400×300 is scaled by 0.5, 50 units from the top.
	v.MouseMoved(mouse(100, 150, 0))
	v.MouseDown(mouse(100, 150, desktop.MouseButtonPrimary))
	v.MouseUp(mouse(100, 150, desktop.MouseButtonPrimary))
	v.MouseDown(mouse(100, 150, desktop.MouseButtonPrimary))
	v.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(110, 160)}, Dragged: fyne.NewDelta(10, 10)})
	v.MouseUp(mouse(500, 160, desktop.MouseButtonPrimary))    // released right of the view
	v.MouseDown(mouse(399, 10, desktop.MouseButtonSecondary)) // above the image: clamped to its edge
	expectSent(t, sent, "fit",
		wire.InputEvent{Kind: wire.InputMove, X: 200, Y: 200},
		wire.InputEvent{Kind: wire.InputButton, X: 200, Y: 200, Button: 1, Down: true},
		wire.InputEvent{Kind: wire.InputButton, X: 200, Y: 200, Button: 1},
		wire.InputEvent{Kind: wire.InputButton, X: 200, Y: 200, Button: 1, Down: true},
		wire.InputEvent{Kind: wire.InputMove, X: 220, Y: 220},
		wire.InputEvent{Kind: wire.InputButton, X: 799, Y: 220, Button: 1},
		wire.InputEvent{Kind: wire.InputButton, X: 798, Y: 0, Button: 3, Down: true})

	v.setFit(false)
	if min := v.MinSize(); min != fyne.NewSize(800, 400) {
		t.Fatalf("at 1:1 the view asks for %v, want the image's 800×400", min)
	}
	v.MouseDown(mouse(100, 150, desktop.MouseButtonTertiary))
	v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.NewDelta(0, -10)})
	expectSent(t, sent, "1:1",
		wire.InputEvent{Kind: wire.InputButton, X: 100, Y: 150, Button: 2, Down: true},
		wire.InputEvent{Kind: wire.InputWheel, DY: -120})

	v.setControl(false)
	v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.NewDelta(-300, 0)})
	if v.scroll.Offset.X != 300 {
		t.Errorf("with Control off the wheel scrolled the 1:1 view to %v, want x 300", v.scroll.Offset)
	}
	expectSent(t, sent, "the wheel with Control off")
}

// Text goes as text; keys that are not text, and letters with Ctrl, go as
// presses and releases; a shortcut Fyne took for itself (Ctrl+V with no
// key press seen) goes as the presses it is; losing the focus releases
// what is held.
func TestScreenViewKeys(t *testing.T) {
	v, sent := screenViewTest(t, fyne.NewSize(400, 300), 800, 400)
	v.TypedRune('x')
	v.KeyDown(&fyne.KeyEvent{Name: fyne.KeyReturn})
	v.TypedShortcut(&fyne.ShortcutPaste{})
	expectSent(t, sent, "Control off")

	v.setControl(true)
	key := func(k string, down bool) wire.InputEvent {
		return wire.InputEvent{Kind: wire.InputKey, Key: k, Down: down}
	}
	v.KeyDown(&fyne.KeyEvent{Name: fyne.KeyH})
	v.TypedRune('h')
	v.KeyUp(&fyne.KeyEvent{Name: fyne.KeyH})
	v.TypedRune('é')
	v.KeyDown(&fyne.KeyEvent{Name: fyne.KeyReturn})
	v.KeyUp(&fyne.KeyEvent{Name: fyne.KeyReturn})
	v.KeyDown(&fyne.KeyEvent{Name: fyne.KeyF5})
	v.KeyUp(&fyne.KeyEvent{Name: fyne.KeyF5})
	expectSent(t, sent, "typing",
		wire.InputEvent{Kind: wire.InputText, Text: "h"},
		wire.InputEvent{Kind: wire.InputText, Text: "é"},
		key(wire.KeyReturn, true), key(wire.KeyReturn, false), key("F5", true), key("F5", false))

	// Ctrl+C as the real driver reports it: presses, then the shortcut.
	v.KeyDown(&fyne.KeyEvent{Name: desktop.KeyControlRight})
	v.KeyDown(&fyne.KeyEvent{Name: fyne.KeyC})
	v.TypedShortcut(&fyne.ShortcutCopy{})
	v.KeyUp(&fyne.KeyEvent{Name: fyne.KeyC})
	v.KeyUp(&fyne.KeyEvent{Name: desktop.KeyControlRight})
	expectSent(t, sent, "Ctrl+C", key(wire.KeyControl, true), key("c", true), key("c", false), key(wire.KeyControl, false))

	// Shortcuts with no key press seen (the test driver, or a menu).
	v.TypedShortcut(&fyne.ShortcutPaste{})
	v.TypedShortcut(&fyne.ShortcutSelectAll{})
	v.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyT, Modifier: fyne.KeyModifierControl | fyne.KeyModifierShift})
	expectSent(t, sent, "shortcuts",
		key(wire.KeyControl, true), key("v", true), key("v", false), key(wire.KeyControl, false),
		key(wire.KeyControl, true), key("a", true), key("a", false), key(wire.KeyControl, false),
		key(wire.KeyControl, true), key(wire.KeyShift, true), key("t", true), key("t", false), key(wire.KeyShift, false), key(wire.KeyControl, false))

	v.KeyDown(&fyne.KeyEvent{Name: desktop.KeyAltLeft})
	v.KeyDown(&fyne.KeyEvent{Name: fyne.KeyTab})
	if !v.AcceptsTab() {
		t.Error("with Control on Tab moves the station's focus instead of reaching the PC")
	}
	*sent = nil
	v.FocusLost()
	if len(*sent) != 2 || (*sent)[0].Down || (*sent)[1].Down {
		t.Errorf("losing the focus with Alt+Tab held sent %+v, want both released", *sent)
	}
}

// The PC's screen info fills the monitor choice (the one captured
// selected) and names the secure desktop while it shows; the window with
// the Screen tab still fits 1280×720 and asks for at most 800×600.
func TestScreenTabInfo(t *testing.T) {
	a := test.NewTempApp(t)
	tab, page := newScreenTab(a, nil, &background{})
	tab.showInfo(wire.ScreenInfo{Monitors: []wire.Monitor{{Name: "DISPLAY1", Width: 1920, Height: 1080, Primary: true},
		{Name: "DISPLAY2", X: 1920, Width: 1280, Height: 1024}}, Monitor: 1, Width: 1280, Height: 1024, Desktop: "winlogon"})
	want := []string{allMonitors, "1: DISPLAY1 (1920×1080)", "2: DISPLAY2 (1280×1024)"}
	if !reflect.DeepEqual(tab.monitor.Options, want) || tab.monitor.Selected != want[2] || tab.monitorIndex() != 1 {
		t.Errorf("monitors %q, selected %q (index %d)", tab.monitor.Options, tab.monitor.Selected, tab.monitorIndex())
	}
	if !tab.desktop.Visible() || !strings.Contains(tab.desktop.Text, "sign-in screen or a UAC prompt") {
		t.Errorf("on the secure desktop the tab says %q (visible %v)", tab.desktop.Text, tab.desktop.Visible())
	}
	tab.showInfo(wire.ScreenInfo{Monitor: wire.AllMonitors, Desktop: "default"})
	if tab.desktop.Visible() || tab.monitorIndex() != wire.AllMonitors {
		t.Errorf("back on the default desktop: note visible %v, monitor %d", tab.desktop.Visible(), tab.monitorIndex())
	}
	tab.fps.SetSelected("5 fps")
	if tab.maxFPS() != 5 {
		t.Errorf("5 fps chosen, cap %d", tab.maxFPS())
	}

	w := test.NewTempWindow(t, page)
	test.Tap(tab.actual)
	if tab.view.fit {
		t.Error("1:1 left the view fitted to the window")
	}
	// Every control of the bar is on screen without scrolling, down to the
	// remote window's smallest page (760×560 inside an 800×600 window).
	controls := map[string]fyne.CanvasObject{"Start viewing": tab.start, "Stop": tab.stop, "Refresh": tab.refresh,
		"Control": tab.control, "Ctrl+Alt+Del": tab.sas, "1:1": tab.actual, "the monitor": tab.monitor, "the frame-rate cap": tab.fps}
	for _, size := range []fyne.Size{fitTestScreen, fitTestMax, fyne.NewSize(760, 560)} {
		w.Resize(size)
		if min := page.MinSize(); min.Width > fitTestMax.Width || min.Height > fitTestMax.Height {
			t.Errorf("the Screen tab asks for at least %v, more than %v", min, fitTestMax)
		}
		for name, o := range controls {
			if !fitTestOnScreen(w.Canvas(), o) {
				t.Errorf("at %v %s is not on screen", size, name)
			}
		}
	}
}
