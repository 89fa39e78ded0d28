package winsys

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/core/wire"
)

var (
	procFindWindowExW = user32.NewProc("FindWindowExW")
	procGetWindowRect = user32.NewProc("GetWindowRect")
)

func findWindow(parent uintptr, class string) uintptr {
	h, _, _ := procFindWindowExW.Call(parent, 0, uintptr(unsafe.Pointer(wptr(class))), 0)
	return h
}

func windowText(h uintptr) string {
	var buf [128]uint16
	procGetWindowTextW.Call(h, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	return windows.UTF16ToString(buf[:])
}

// TestBannerNamesTechnicianAndStops: while a view runs the bar names the
// technician (both, for two); a click on its Stop (injected like the
// technician's, as a user's would be) stops every view; once hidden, the
// windows are gone.
func TestBannerNamesTechnicianAndStops(t *testing.T) {
	testWindow(t, 0, 200, 200, 150) // under the border's left edge
	b := NewBanner()
	stop1, hide1 := b.Show("Tess Tech")
	var bar, label uintptr
	eventually(t, "the bar naming the technician", func() bool {
		bar = findWindow(0, "AdHocSupportBanner")
		label = findWindow(bar, "STATIC")
		return bar != 0 && windowText(label) == "Tess Tech is viewing this screen"
	})
	if findWindow(0, "AdHocSupportBorder") == 0 {
		t.Fatal("no border window")
	}
	d, err := OpenDesktop()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The border lets clicks through to the window below it.
	for _, ev := range []wire.InputEvent{{Kind: wire.InputButton, X: 2, Y: 250, Button: 1, Down: true},
		{Kind: wire.InputButton, X: 2, Y: 250, Button: 1}} {
		if err := d.Inject(0, ev); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "a click on the border to reach the window below", func() bool {
		target.Lock()
		defer target.Unlock()
		for _, c := range target.clicks {
			if c == [2]int{2, 50} {
				return true
			}
		}
		return false
	})

	stop2, hide2 := b.Show("Sam Support")
	eventually(t, "the bar naming both", func() bool {
		s := windowText(label)
		return s == "Tess Tech and Sam Support are viewing this screen" || s == "Sam Support and Tess Tech are viewing this screen"
	})

	button := findWindow(bar, "BUTTON")
	var r rect
	procGetWindowRect.Call(button, uintptr(unsafe.Pointer(&r)))
	v := virtualScreen()
	cx, cy := int(r.Left+r.Right)/2-v.Min.X, int(r.Top+r.Bottom)/2-v.Min.Y
	for _, ev := range []wire.InputEvent{{Kind: wire.InputButton, X: cx, Y: cy, Button: 1, Down: true},
		{Kind: wire.InputButton, X: cx, Y: cy, Button: 1}} {
		if err := d.Inject(wire.AllMonitors, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, stop := range []<-chan struct{}{stop1, stop2} {
		eventually(t, "Stop to stop the view", func() bool {
			select {
			case <-stop:
				return true
			default:
				return false
			}
		})
	}
	hide1()
	hide2()
	eventually(t, "the banner's windows to go", func() bool {
		return findWindow(0, "AdHocSupportBanner") == 0 && findWindow(0, "AdHocSupportBorder") == 0
	})
}

var (
	procCreateDesktopW     = user32.NewProc("CreateDesktopW")
	procEnumDesktopWindows = user32.NewProc("EnumDesktopWindows")
	procGetClassNameW      = user32.NewProc("GetClassNameW")
)

// desktopClasses lists the class names of desktop h's top-level windows.
func desktopClasses(h uintptr) map[string]bool {
	found := map[string]bool{}
	cb := windows.NewCallback(func(hwnd, _ uintptr) uintptr {
		var buf [64]uint16
		procGetClassNameW.Call(hwnd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		found[windows.UTF16ToString(buf[:])] = true
		return 1
	})
	procEnumDesktopWindows.Call(h, cb, 0)
	return found
}

// TestBannerOnSecondDesktop: the notice is also made on the second desktop
// (Winlogon on Windows; a desktop the test makes here, since Wine has no
// Winlogon) and goes from there when the view ends.
func TestBannerOnSecondDesktop(t *testing.T) {
	const name = "AdHocSupportTest"
	const desktopAll = 0x01FF
	h, _, e := procCreateDesktopW.Call(uintptr(unsafe.Pointer(wptr(name))), 0, 0, 0, desktopAll, 0)
	if h == 0 {
		t.Skipf("cannot make a desktop here: %v", e)
	}
	defer procCloseDesktop.Call(h)
	saved := bannerDesktops
	bannerDesktops = []string{"", name}
	defer func() { bannerDesktops = saved }()
	_, hide := NewBanner().Show("Tess Tech")
	eventually(t, "the border and bar on the second desktop", func() bool {
		c := desktopClasses(h)
		return c["AdHocSupportBanner"] && c["AdHocSupportBorder"]
	})
	if findWindow(0, "AdHocSupportBanner") == 0 {
		t.Fatal("no bar on the test's own desktop")
	}
	hide()
	eventually(t, "the windows on both desktops to go", func() bool {
		c := desktopClasses(h)
		return !c["AdHocSupportBanner"] && !c["AdHocSupportBorder"] && findWindow(0, "AdHocSupportBanner") == 0
	})
}
