//go:build linux

// Package x11desk is the remote screen's Desktop on an X11 display, in
// pure Go over the X protocol (xgb): GetImage for capture, XTEST for
// input, Xinerama for monitors, the CLIPBOARD selection for text. It is
// how the whole screen pipeline runs against Xvfb in tests and CI.
package x11desk

import (
	"errors"
	"fmt"
	"image"
	"io"
	"log"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xinerama"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"

	"adhocstation/agent/screen"
	"adhocstation/core/wire"
	"adhocstation/core/wire/frame"
)

// SASRefusal is why an X11 desktop cannot send Ctrl+Alt+Del.
const SASRefusal = "X11 has no secure attention sequence"

// ErrSAS is SendSAS's answer: screen.ErrSASUnavailable with the reason.
var ErrSAS = fmt.Errorf("%w: %s", screen.ErrSASUnavailable, SASRefusal)

func init() {
	// xgb logs protocol noise to stderr; the agent logs what matters.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// Desktop is one connection to an X display.
type Desktop struct {
	conn     *xgb.Conn
	root     xproto.Window
	width    int
	height   int
	xinerama bool

	keys keyboard
	clip clipboard

	capMu sync.Mutex
	shm   shmCapture

	mu     sync.Mutex
	closed bool
}

var _ screen.Desktop = (*Desktop)(nil)

// Open connects to display (":99"; "" means $DISPLAY) and checks that it
// can capture (24-bit colour in 32-bit pixels) and inject (XTEST).
func Open(display string) (*Desktop, error) {
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the X display %q: %w", display, err)
	}
	d := &Desktop{conn: conn}
	setup := xproto.Setup(conn)
	scr := setup.DefaultScreen(conn)
	d.root = scr.Root
	d.width, d.height = int(scr.WidthInPixels), int(scr.HeightInPixels)
	if scr.RootDepth != 24 || !has32bpp(setup, 24) || setup.ImageByteOrder != xproto.ImageOrderLSBFirst {
		conn.Close()
		return nil, fmt.Errorf("the X display's pixel format (depth %d) is not supported: start it with 24-bit colour", scr.RootDepth)
	}
	if err := xtest.Init(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("the X display has no XTEST extension, so input cannot be sent: %w", err)
	}
	if xinerama.Init(conn) == nil {
		if r, err := xinerama.IsActive(conn).Reply(); err == nil && r.State != 0 {
			d.xinerama = true
		}
	}
	if err := d.keys.load(conn); err != nil {
		conn.Close()
		return nil, err
	}
	if err := d.clip.start(conn, d.root, scr.RootVisual); err != nil {
		conn.Close()
		return nil, err
	}
	go d.events()
	return d, nil
}

func has32bpp(setup *xproto.SetupInfo, depth byte) bool {
	for _, f := range setup.PixmapFormats {
		if f.Depth == depth {
			return f.BitsPerPixel == 32
		}
	}
	return false
}

// events serves the connection's events (selection requests and answers,
// keyboard mapping changes) until it closes.
func (d *Desktop) events() {
	for {
		ev, err := d.conn.WaitForEvent()
		if ev == nil && err == nil {
			d.clip.closed()
			return
		}
		switch e := ev.(type) {
		case xproto.SelectionRequestEvent:
			d.clip.answer(e)
		case xproto.SelectionNotifyEvent:
			d.clip.notified(e)
		case xproto.SelectionClearEvent:
			d.clip.lost()
		case xproto.MappingNotifyEvent:
			d.keys.invalidate()
		}
	}
}

// Info lists the monitors: Xinerama's screens, or the root window.
func (d *Desktop) Info() (wire.ScreenInfo, error) {
	info := wire.ScreenInfo{Desktop: "default", SAS: SASRefusal}
	if d.xinerama {
		r, err := xinerama.QueryScreens(d.conn).Reply()
		if err != nil {
			return info, fmt.Errorf("the X display did not list its monitors: %w", err)
		}
		for i, s := range r.ScreenInfo {
			info.Monitors = append(info.Monitors, wire.Monitor{Name: fmt.Sprintf("Screen %d", i+1),
				X: int(s.XOrg), Y: int(s.YOrg), Width: int(s.Width), Height: int(s.Height), Primary: i == 0})
		}
	}
	if len(info.Monitors) == 0 {
		info.Monitors = []wire.Monitor{{Name: "Screen 1", Width: d.width, Height: d.height, Primary: true}}
	}
	return info, nil
}

// area is the monitor's rectangle on the root window.
func (d *Desktop) area(monitor int) (image.Rectangle, error) {
	info, err := d.Info()
	if err != nil {
		return image.Rectangle{}, err
	}
	if monitor >= 0 && monitor < len(info.Monitors) {
		m := info.Monitors[monitor]
		return image.Rect(m.X, m.Y, m.X+m.Width, m.Y+m.Height), nil
	}
	var box image.Rectangle
	for _, m := range info.Monitors {
		box = box.Union(image.Rect(m.X, m.Y, m.X+m.Width, m.Y+m.Height))
	}
	return box, nil
}

// captureRows bounds one GetImage reply (~4 MB at 1920 wide) so a large
// screen is fetched in strips.
const captureRows = 512

// Capture reads the monitor's pixels, through shared memory (MIT-SHM)
// where the server offers it, else with GetImage in strips.
func (d *Desktop) Capture(monitor int, dst *image.RGBA) (*image.RGBA, error) {
	r, err := d.area(monitor)
	if err != nil {
		return dst, err
	}
	if dst == nil || dst.Bounds() != image.Rect(0, 0, r.Dx(), r.Dy()) {
		dst = image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	}
	d.capMu.Lock()
	defer d.capMu.Unlock()
	if d.shm.usable(d.conn) {
		if src, err := d.shm.capture(d.conn, d.root, r); err == nil {
			frame.BGRXToRGBA(dst.Pix, src)
			return dst, nil
		}
		// A server that refuses shared memory (remote, or out of
		// segments) is read the plain way from now on.
		d.shm.disable(d.conn)
	}
	for y := 0; y < r.Dy(); y += captureRows {
		h := min(captureRows, r.Dy()-y)
		reply, err := xproto.GetImage(d.conn, xproto.ImageFormatZPixmap, xproto.Drawable(d.root),
			int16(r.Min.X), int16(r.Min.Y+y), uint16(r.Dx()), uint16(h), 0xffffffff).Reply()
		if err != nil {
			return dst, fmt.Errorf("the X display's pixels could not be read: %w", err)
		}
		if len(reply.Data) < r.Dx()*h*4 {
			return dst, errors.New("the X display sent fewer pixels than asked")
		}
		frame.BGRXToRGBA(dst.Pix[dst.PixOffset(0, y):dst.PixOffset(0, y+h)], reply.Data)
	}
	return dst, nil
}

// SendSAS: X11 has nothing like Ctrl+Alt+Del's secure attention sequence.
func (d *Desktop) SendSAS() error { return ErrSAS }

// Close releases the clipboard and the connection.
func (d *Desktop) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	d.capMu.Lock()
	d.shm.disable(d.conn)
	d.capMu.Unlock()
	d.conn.Close()
	return nil
}
