//go:build linux

package x11test

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"log"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Click is a mouse button press the program received, in its window's
// coordinates (the window covers the screen from 0,0).
type Click struct {
	X, Y   int
	Button int
}

// Program is a window covering the whole display that draws what a test
// asks and records the input it receives.
type Program struct {
	conn   *xgb.Conn
	win    xproto.Window
	gc     xproto.Gcontext
	width  int
	height int

	mu      sync.Mutex
	clicks  []Click
	text    []rune
	changed chan struct{} // closed and replaced on every input
	keymap  []xproto.Keysym
	per     int
	minCode xproto.Keycode
	err     error
}

func init() { xgb.Logger = log.New(io.Discard, "", 0) }

// StartProgram opens the program's window on display, filled with
// background, and takes the keyboard focus.
func StartProgram(display string, background color.RGBA) (*Program, error) {
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, err
	}
	scr := xproto.Setup(conn).DefaultScreen(conn)
	p := &Program{conn: conn, width: int(scr.WidthInPixels), height: int(scr.HeightInPixels),
		changed: make(chan struct{})}
	if p.win, err = xproto.NewWindowId(conn); err != nil {
		conn.Close()
		return nil, err
	}
	err = xproto.CreateWindowChecked(conn, scr.RootDepth, p.win, scr.Root, 0, 0, uint16(p.width), uint16(p.height), 0,
		xproto.WindowClassInputOutput, scr.RootVisual,
		xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{pixel(background), 1, xproto.EventMaskButtonPress | xproto.EventMaskKeyPress | xproto.EventMaskExposure}).Check()
	if err == nil {
		p.gc, err = xproto.NewGcontextId(conn)
	}
	if err == nil {
		err = xproto.CreateGCChecked(conn, p.gc, xproto.Drawable(p.win), 0, nil).Check()
	}
	if err == nil {
		err = xproto.MapWindowChecked(conn, p.win).Check()
	}
	if err == nil {
		err = p.loadKeymap()
	}
	if err == nil {
		err = xproto.SetInputFocusChecked(conn, xproto.InputFocusPointerRoot, p.win, xproto.TimeCurrentTime).Check()
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("the test program's window could not be opened: %w", err)
	}
	go p.events()
	return p, p.Fill(image.Rect(0, 0, p.width, p.height), background)
}

func pixel(c color.RGBA) uint32 { return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B) }

// Close closes the window.
func (p *Program) Close() { p.conn.Close() }

// Bounds is the window's (and the screen's) rectangle.
func (p *Program) Bounds() image.Rectangle { return image.Rect(0, 0, p.width, p.height) }

// Fill paints r in one colour and waits until the server has done it.
func (p *Program) Fill(r image.Rectangle, c color.RGBA) error {
	xproto.ChangeGC(p.conn, p.gc, xproto.GcForeground, []uint32{pixel(c)})
	return xproto.PolyFillRectangleChecked(p.conn, xproto.Drawable(p.win), p.gc,
		[]xproto.Rectangle{{X: int16(r.Min.X), Y: int16(r.Min.Y), Width: uint16(r.Dx()), Height: uint16(r.Dy())}}).Check()
}

// Draw puts img's pixels at its bounds' position and waits until the
// server has them. Requests are cut in strips under the core protocol's
// 256 KB request limit.
func (p *Program) Draw(img *image.RGBA) error {
	b := img.Bounds()
	rows := max(1, (256<<10-64)/(b.Dx()*4))
	data := make([]byte, 0, rows*b.Dx()*4)
	var cookie xproto.PutImageCookie
	for y := b.Min.Y; y < b.Max.Y; y += rows {
		h := min(rows, b.Max.Y-y)
		data = data[:0]
		for yy := y; yy < y+h; yy++ {
			row := img.Pix[img.PixOffset(b.Min.X, yy):]
			for x := 0; x < b.Dx()*4; x += 4 {
				data = append(data, row[x+2], row[x+1], row[x], 0)
			}
		}
		cookie = xproto.PutImageChecked(p.conn, xproto.ImageFormatZPixmap, xproto.Drawable(p.win), p.gc,
			uint16(b.Dx()), uint16(h), int16(b.Min.X), int16(y), 0, 24, data)
		if y+h < b.Max.Y {
			xproto.GetInputFocus(p.conn) // keep the request queue flowing without a round trip each
		}
	}
	return cookie.Check()
}

// Pattern is the known picture tests draw and compare: eight flat colour
// bars on the top half (text-like, sent losslessly) and a smooth gradient
// on the bottom half (photo-like, JPEG).
func Pattern(r image.Rectangle) *image.RGBA {
	bars := []color.RGBA{{255, 255, 255, 255}, {255, 255, 0, 255}, {0, 255, 255, 255}, {0, 255, 0, 255},
		{255, 0, 255, 255}, {255, 0, 0, 255}, {0, 0, 255, 255}, {0, 0, 0, 255}}
	img := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dx, dy := x-r.Min.X, y-r.Min.Y
			if dy < r.Dy()/2 {
				img.SetRGBA(x, y, bars[dx*len(bars)/r.Dx()])
			} else {
				img.SetRGBA(x, y, color.RGBA{uint8(dx * 255 / r.Dx()), uint8(dy * 255 / r.Dy()), uint8(128 + (dx+dy)%64), 255})
			}
		}
	}
	return img
}

func (p *Program) loadKeymap() error {
	setup := xproto.Setup(p.conn)
	r, err := xproto.GetKeyboardMapping(p.conn, setup.MinKeycode, byte(int(setup.MaxKeycode)-int(setup.MinKeycode)+1)).Reply()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.keymap, p.per, p.minCode = r.Keysyms, int(r.KeysymsPerKeycode), setup.MinKeycode
	p.mu.Unlock()
	return nil
}

func (p *Program) events() {
	for {
		ev, err := p.conn.WaitForEvent()
		if ev == nil && err == nil {
			return
		}
		switch e := ev.(type) {
		case xproto.ButtonPressEvent:
			if e.Detail >= 1 && e.Detail <= 3 {
				p.record(func() { p.clicks = append(p.clicks, Click{X: int(e.EventX), Y: int(e.EventY), Button: int(e.Detail)}) })
			}
		case xproto.KeyPressEvent:
			p.record(func() { p.key(e.Detail, e.State) })
		case xproto.MappingNotifyEvent:
			if err := p.loadKeymap(); err != nil {
				p.record(func() { p.err = err })
			}
		}
	}
}

func (p *Program) record(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	close(p.changed)
	p.changed = make(chan struct{})
}

// key adds what a key press types: its keysym at the Shift level the
// state says, as X's keysym-to-Unicode rule gives it.
func (p *Program) key(code xproto.Keycode, state uint16) {
	i := (int(code) - int(p.minCode)) * p.per
	if i < 0 || i+1 >= len(p.keymap) {
		return
	}
	ks := p.keymap[i]
	if state&xproto.ModMaskShift != 0 && p.keymap[i+1] != 0 {
		ks = p.keymap[i+1]
	}
	switch {
	case ks == 0xff0d:
		p.text = append(p.text, '\n')
	case ks == 0xff09:
		p.text = append(p.text, '\t')
	case ks == 0xff08:
		if len(p.text) > 0 {
			p.text = p.text[:len(p.text)-1]
		}
	case ks >= 0x20 && ks <= 0x7e || ks >= 0xa0 && ks <= 0xff:
		p.text = append(p.text, rune(ks))
	case ks&0xff000000 == 0x01000000:
		p.text = append(p.text, rune(ks&0xffffff))
	}
}

// Clicks returns the clicks received so far.
func (p *Program) Clicks() []Click {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Click(nil), p.clicks...)
}

// Text returns what was typed so far.
func (p *Program) Text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.text)
}

// WaitFor waits until ok holds for the program's clicks and text, or
// fails after deadline saying what it saw.
func (p *Program) WaitFor(deadline time.Duration, ok func(clicks []Click, text string) bool) error {
	timeout := time.After(deadline)
	for {
		p.mu.Lock()
		clicks, text, ch, err := append([]Click(nil), p.clicks...), string(p.text), p.changed, p.err
		p.mu.Unlock()
		if err != nil {
			return err
		}
		if ok(clicks, text) {
			return nil
		}
		select {
		case <-ch:
		case <-timeout:
			return fmt.Errorf("the test program saw clicks %v and text %q after %v", clicks, text, deadline)
		}
	}
}
