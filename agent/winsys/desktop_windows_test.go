package winsys

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/core/wire"
)

// These tests need a Windows desktop: they run under Wine on Xvfb
// (make wine-screen, .ci/wine-screen.sh), and on a real PC with
// AdHocSupport-winsys.test.exe -test.v. A window of a known colour is
// captured, clicked and typed into through the Desktop.

var target struct {
	sync.Mutex
	clicks [][2]int
	proc   uintptr
	once   sync.Once
}

func targetProc(hwnd, msg, wparam, lparam uintptr) uintptr {
	const wmLButtonDown = 0x0201
	if msg == wmLButtonDown {
		target.Lock()
		target.clicks = append(target.clicks, [2]int{int(int16(lparam & 0xffff)), int(int16(lparam >> 16 & 0xffff))})
		target.Unlock()
	}
	r, _, _ := procDefWindowProcW.Call(hwnd, msg, wparam, lparam)
	return r
}

// testWindow shows a green window at (x, y) with an edit box on its own
// locked thread and pumps its messages until the test ends; it returns the
// edit box's handle.
func testWindow(t *testing.T, x, y, w, h int) (edit uintptr) {
	t.Helper()
	target.once.Do(func() { target.proc = windows.NewCallback(targetProc) })
	ready := make(chan uintptr)
	quit := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var module windows.Handle
		_ = windows.GetModuleHandleEx(0, nil, &module)
		green, _, _ := procCreateSolidBrush.Call(0x00B000) // COLORREF 0x00BBGGRR
		wc := wndClassEx{Size: uint32(unsafe.Sizeof(wndClassEx{})), WndProc: target.proc, Instance: module,
			Background: green, ClassName: wptr("AdHocSupportTestTarget")}
		procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc)))
		hwnd := createWindow(wsExTopmost, "AdHocSupportTestTarget", "target", wsPopup|wsVisible, x, y, w, h, 0, 0, module)
		e := createWindow(0, "EDIT", "", wsChild|wsVisible|wsBorder, 10, h-40, w-20, 30, hwnd, 300, module)
		procSetForegroundWindow.Call(hwnd)
		procSetFocus.Call(e)
		ready <- e
		var m winMsg
		for {
			select {
			case <-quit:
				procDestroyWindow.Call(hwnd)
				return
			default:
			}
			for {
				r, _, _ := procPeekMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0, 1 /* PM_REMOVE */)
				if r == 0 {
					break
				}
				procTranslateMessage.Call(uintptr(unsafe.Pointer(&m)))
				procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { close(quit) })
	return <-ready
}

var (
	procSetFocus       = user32.NewProc("SetFocus")
	procPeekMessageW   = user32.NewProc("PeekMessageW")
	procGetWindowTextW = user32.NewProc("GetWindowTextW")
)

// eventually retries ok for up to 10 s (a window maps, input is delivered
// asynchronously).
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDesktopCaptureInputClipboard(t *testing.T) {
	d, err := OpenDesktop()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	info, err := d.Info()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("info: %+v", info)
	if len(info.Monitors) == 0 || info.Monitors[0].Width == 0 || info.Desktop == "" {
		t.Fatalf("info %+v: want a monitor and the desktop's name", info)
	}
	if info.SAS == "" || !strings.Contains(info.SAS, "SoftwareSASGeneration") {
		t.Logf("SAS: %q (the policy is set on this PC)", info.SAS)
	}

	const x, y, w, h = 100, 80, 300, 200
	edit := testWindow(t, x, y, w, h)
	m := info.Monitors[0]
	green := func() bool {
		img, err := d.Capture(0, nil)
		if err != nil || img.Rect.Dx() != m.Width || img.Rect.Dy() != m.Height {
			return false
		}
		c := img.RGBAAt(x-m.X+w/2, y-m.Y+20)
		return c.R < 40 && c.G > 150 && c.B < 40 && c.A == 255
	}
	eventually(t, "the green window in the capture", green)
	all, err := d.Capture(wire.AllMonitors, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := virtualScreen(); all.Rect.Dx() != v.Dx() || all.Rect.Dy() != v.Dy() {
		t.Fatalf("all monitors captured as %v, virtual screen %v", all.Rect, v)
	}

	// A click at the window's (50, 60), in the monitor image's coordinates.
	cx, cy := x-m.X+50, y-m.Y+60
	for _, ev := range []wire.InputEvent{{Kind: wire.InputMove, X: cx, Y: cy},
		{Kind: wire.InputButton, X: cx, Y: cy, Button: 1, Down: true}, {Kind: wire.InputButton, X: cx, Y: cy, Button: 1}} {
		if err := d.Inject(0, ev); err != nil {
			t.Fatalf("inject %+v: %v", ev, err)
		}
	}
	eventually(t, "the click at (50, 60)", func() bool {
		target.Lock()
		defer target.Unlock()
		for _, c := range target.clicks {
			if c == [2]int{50, 60} {
				return true
			}
		}
		return false
	})

	// Text typed as Unicode, and a named key, into the focused edit box.
	procSetFocus.Call(edit)
	if err := d.Inject(0, wire.InputEvent{Kind: wire.InputText, Text: "typed ü"}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"x", "-"} { // a letter by its virtual key, punctuation by the layout's key
		for _, down := range []bool{true, false} {
			if err := d.Inject(0, wire.InputEvent{Kind: wire.InputKey, Key: key, Down: down}); err != nil {
				t.Fatal(err)
			}
		}
	}
	eventually(t, "the typed text in the edit box", func() bool {
		var buf [64]uint16
		procGetWindowTextW.Call(edit, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		return windows.UTF16ToString(buf[:]) == "typed üx-"
	})

	if err := d.SetClipboard("clipboard from the technician ✓"); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Clipboard(); err != nil || got != "clipboard from the technician ✓" {
		t.Fatalf("clipboard %q, %v", got, err)
	}
}

// BenchmarkCapture is one GDI capture of monitor 0 with the conversion.
func BenchmarkCapture(b *testing.B) {
	d, err := OpenDesktop()
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	img, err := d.Capture(0, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if img, err = d.Capture(0, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(img.Rect.Dx()*img.Rect.Dy()), "pixels")
}
