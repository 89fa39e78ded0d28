package winsys

import (
	"errors"
	"fmt"
	stdimage "image"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/core/wire"
	"adhocstation/core/wire/frame"
)

// Capture is GDI: BitBlt from the screen's DC into a DIB section. DXGI
// Desktop Duplication is faster (the GPU copies, and it reports dirty
// rectangles), but it is several hundred lines of COM vtables without cgo,
// must be rebuilt on every desktop switch (Winlogon, UAC) and mode change,
// and is missing under Remote Desktop and on some virtual GPUs; BitBlt works
// on every desktop, in Wine, and costs a few milliseconds for 1920×1080,
// well under the frame budget. The codec finds the changed regions itself.

var (
	procGetDC               = user32.NewProc("GetDC")
	procReleaseDC           = user32.NewProc("ReleaseDC")
	procGetSystemMetrics    = user32.NewProc("GetSystemMetrics")
	procEnumDisplayMonitors = user32.NewProc("EnumDisplayMonitors")
	procGetMonitorInfoW     = user32.NewProc("GetMonitorInfoW")
	procGetCursorInfo       = user32.NewProc("GetCursorInfo")
	procGetIconInfo         = user32.NewProc("GetIconInfo")
	procDrawIconEx          = user32.NewProc("DrawIconEx")
	procCreateCompatibleDC  = gdi32.NewProc("CreateCompatibleDC")
	procCreateDIBSection    = gdi32.NewProc("CreateDIBSection")
	procSelectObject        = gdi32.NewProc("SelectObject")
	procDeleteObject        = gdi32.NewProc("DeleteObject")
	procDeleteDC            = gdi32.NewProc("DeleteDC")
	procBitBlt              = gdi32.NewProc("BitBlt")
	monitorCallback         = syscall.NewCallback(monitorEnumProc) // callbacks are a limited resource: one
	errCaptureFailed        = errors.New("the screen could not be copied")
	enumMonitors            []wire.Monitor
)

type rect struct{ Left, Top, Right, Bottom int32 }

type monitorInfoEx struct {
	Size    uint32
	Monitor rect
	Work    rect
	Flags   uint32
	Device  [32]uint16
}

// monitorEnumProc collects one monitor; EnumDisplayMonitors calls it on
// the calling thread, which is the desktop's only thread.
func monitorEnumProc(hmon, _, _, _ uintptr) uintptr {
	mi := monitorInfoEx{Size: uint32(unsafe.Sizeof(monitorInfoEx{}))}
	if r, _, _ := procGetMonitorInfoW.Call(hmon, uintptr(unsafe.Pointer(&mi))); r == 0 {
		return 1
	}
	enumMonitors = append(enumMonitors, wire.Monitor{
		Name: windows.UTF16ToString(mi.Device[:]), X: int(mi.Monitor.Left), Y: int(mi.Monitor.Top),
		Width: int(mi.Monitor.Right - mi.Monitor.Left), Height: int(mi.Monitor.Bottom - mi.Monitor.Top),
		Primary: mi.Flags&1 != 0, // MONITORINFOF_PRIMARY
	})
	return 1
}

// monitors lists the monitors in virtual-desktop coordinates, the primary
// first so that monitor 0 is the one the user looks at.
func monitors() ([]wire.Monitor, error) {
	enumMonitors = enumMonitors[:0]
	if r, _, e := procEnumDisplayMonitors.Call(0, 0, monitorCallback, 0); r == 0 {
		return nil, fmt.Errorf("listing the monitors: %w", e)
	}
	ms := append([]wire.Monitor(nil), enumMonitors...)
	for i, m := range ms {
		if m.Primary && i > 0 {
			ms[0], ms[i] = ms[i], ms[0]
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no monitor is connected, as far as Windows reports")
	}
	return ms, nil
}

// virtualScreen is the bounding box of every monitor.
func virtualScreen() stdimage.Rectangle {
	m := func(i uintptr) int { r, _, _ := procGetSystemMetrics.Call(i); return int(int32(r)) }
	x, y := m(76), m(77) // SM_XVIRTUALSCREEN, SM_YVIRTUALSCREEN
	return stdimage.Rect(x, y, x+m(78), y+m(79))
}

// area is what Capture copies for monitor (wire.AllMonitors or an index).
func area(monitor int) (stdimage.Rectangle, error) {
	if monitor == wire.AllMonitors {
		return virtualScreen(), nil
	}
	ms, err := monitors()
	if err != nil {
		return stdimage.Rectangle{}, err
	}
	if monitor < 0 || monitor >= len(ms) {
		return stdimage.Rectangle{}, fmt.Errorf("monitor %d does not exist (this PC has %d)", monitor, len(ms))
	}
	m := ms[monitor]
	return stdimage.Rect(m.X, m.Y, m.X+m.Width, m.Y+m.Height), nil
}

// capture holds the memory DC and DIB section, kept while the size stays.
type capture struct {
	dc, bmp, old uintptr
	bits         uintptr
	w, h         int
}

func (c *capture) reset() {
	if c.dc != 0 {
		procSelectObject.Call(c.dc, c.old)
		procDeleteObject.Call(c.bmp)
		procDeleteDC.Call(c.dc)
	}
	*c = capture{}
}

type bitmapInfoHeader struct {
	Size          uint32
	Width, Height int32
	Planes        uint16
	BitCount      uint16
	Compression   uint32
	SizeImage     uint32
	XPels, YPels  int32
	ClrUsed       uint32
	ClrImportant  uint32
}

func (c *capture) ensure(screen uintptr, w, h int) error {
	if c.dc != 0 && c.w == w && c.h == h {
		return nil
	}
	c.reset()
	dc, _, e := procCreateCompatibleDC.Call(screen)
	if dc == 0 {
		return fmt.Errorf("%w: %v", errCaptureFailed, e)
	}
	// Top-down 32-bit BGRX: rows in image order, 4 bytes a pixel.
	bi := bitmapInfoHeader{Size: uint32(unsafe.Sizeof(bitmapInfoHeader{})), Width: int32(w), Height: -int32(h), Planes: 1, BitCount: 32}
	var bits uintptr
	bmp, _, e := procCreateDIBSection.Call(screen, uintptr(unsafe.Pointer(&bi)), 0, uintptr(unsafe.Pointer(&bits)), 0, 0)
	if bmp == 0 || bits == 0 {
		procDeleteDC.Call(dc)
		return fmt.Errorf("%w: %v", errCaptureFailed, e)
	}
	old, _, _ := procSelectObject.Call(dc, bmp)
	*c = capture{dc: dc, bmp: bmp, old: old, bits: bits, w: w, h: h}
	return nil
}

// Capture copies the monitor (or all of them) with the mouse pointer.
func (d *Desktop) Capture(monitor int, dst *stdimage.RGBA) (*stdimage.RGBA, error) {
	err := d.do(func() error {
		r, err := area(monitor)
		if err != nil {
			return err
		}
		w, h := r.Dx(), r.Dy()
		screen, _, _ := procGetDC.Call(0)
		if screen == 0 {
			return errCaptureFailed
		}
		defer procReleaseDC.Call(0, screen)
		if err := d.cap.ensure(screen, w, h); err != nil {
			return err
		}
		const srcCopy, captureBlt = 0x00CC0020, 0x40000000 // CAPTUREBLT: layered windows too
		if ok, _, e := procBitBlt.Call(d.cap.dc, 0, 0, uintptr(w), uintptr(h), screen, uintptr(r.Min.X), uintptr(r.Min.Y),
			srcCopy|captureBlt); ok == 0 {
			// BitBlt fails while the desktop switches; the next capture
			// follows the new one.
			d.cap.reset()
			return fmt.Errorf("%w: %v", errCaptureFailed, e)
		}
		drawCursor(d.cap.dc, r.Min)
		if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h {
			dst = stdimage.NewRGBA(stdimage.Rect(0, 0, w, h))
		}
		frame.BGRXToRGBA(dst.Pix, unsafe.Slice((*byte)(winMem(d.cap.bits)), w*h*4))
		return nil
	})
	if err != nil {
		return dst, err
	}
	return dst, nil
}

type cursorInfo struct {
	Size   uint32
	Flags  uint32
	Cursor uintptr
	X, Y   int32
}

type iconInfo struct {
	Icon        int32
	HotX, HotY  uint32
	Mask, Color uintptr
}

// drawCursor draws the mouse pointer into the captured image: BitBlt does
// not include it, and the technician needs to see where it is.
func drawCursor(dc uintptr, origin stdimage.Point) {
	ci := cursorInfo{Size: uint32(unsafe.Sizeof(cursorInfo{}))}
	if r, _, _ := procGetCursorInfo.Call(uintptr(unsafe.Pointer(&ci))); r == 0 || ci.Flags&1 == 0 || ci.Cursor == 0 {
		return // CURSOR_SHOWING not set: hidden (touch, a game, typing)
	}
	var ii iconInfo
	if r, _, _ := procGetIconInfo.Call(ci.Cursor, uintptr(unsafe.Pointer(&ii))); r == 0 {
		return
	}
	// GetIconInfo hands over two bitmaps the caller must delete.
	if ii.Mask != 0 {
		defer procDeleteObject.Call(ii.Mask)
	}
	if ii.Color != 0 {
		defer procDeleteObject.Call(ii.Color)
	}
	x := int(ci.X) - int(ii.HotX) - origin.X
	y := int(ci.Y) - int(ii.HotY) - origin.Y
	const diNormal = 3
	procDrawIconEx.Call(dc, uintptr(x), uintptr(y), ci.Cursor, 0, 0, 0, 0, diNormal)
}
