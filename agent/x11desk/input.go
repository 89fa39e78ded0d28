//go:build linux

package x11desk

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"

	"adhocstation/core/wire"
)

// Keysyms of the wire's key names (X11's keysymdef.h).
var namedKeys = map[string]xproto.Keysym{
	wire.KeyEscape: 0xff1b, wire.KeyReturn: 0xff0d, wire.KeyTab: 0xff09, wire.KeyBackspace: 0xff08,
	wire.KeyInsert: 0xff63, wire.KeyDelete: 0xffff, wire.KeyRight: 0xff53, wire.KeyLeft: 0xff51,
	wire.KeyDown: 0xff54, wire.KeyUp: 0xff52, wire.KeyPageUp: 0xff55, wire.KeyPageDown: 0xff56,
	wire.KeyHome: 0xff50, wire.KeyEnd: 0xff57, wire.KeySpace: 0x20,
	wire.KeyShift: 0xffe1, wire.KeyControl: 0xffe3, wire.KeyAlt: 0xffe9, wire.KeySuper: 0xffeb,
	"RightShift": 0xffe2, "RightControl": 0xffe4, "RightAlt": 0xffea, "RightSuper": 0xffec,
	"KP_Enter": 0xff8d, "Enter": 0xff8d, "Menu": 0xff67, "Pause": 0xff13, "Print": 0xff61,
	"CapsLock": 0xffe5, "NumLock": 0xff7f, "ScrollLock": 0xff14,
}

const shiftKeysym xproto.Keysym = 0xffe1

// keysymOf maps a wire key name, or one printable character, to a keysym.
func keysymOf(key string) (xproto.Keysym, bool) {
	if ks, ok := namedKeys[key]; ok {
		return ks, true
	}
	var n int
	if _, err := fmt.Sscanf(key, "F%d", &n); err == nil && n >= 1 && n <= 24 && key == fmt.Sprintf("F%d", n) {
		return xproto.Keysym(0xffbe + n - 1), true
	}
	if r, size := utf8.DecodeRuneInString(key); size == len(key) && r != utf8.RuneError && r >= 0x20 {
		return runeKeysym(r), true
	}
	return 0, false
}

// runeKeysym is X11's keysym for a character: Latin-1 as is, the rest
// as 0x01000000 + the code point.
func runeKeysym(r rune) xproto.Keysym {
	if r >= 0x20 && r <= 0x7e || r >= 0xa0 && r <= 0xff {
		return xproto.Keysym(r)
	}
	return xproto.Keysym(0x01000000 + r)
}

type keyAt struct {
	code  xproto.Keycode
	shift bool // the keysym is the keycode's second (shifted) one
}

// keyboard is the display's keycode ↔ keysym table, plus spare keycodes
// (no keysym) that characters the layout lacks are mapped onto in turn.
// A spare keeps its keysym until it is reused, so the program receiving
// the key still finds it when it reads the event.
type keyboard struct {
	mu      sync.Mutex
	conn    *xgb.Conn
	min     xproto.Keycode
	per     int
	syms    []xproto.Keysym
	index   map[xproto.Keysym]keyAt
	spares  []xproto.Keycode
	next    int
	stale   bool
	ownSyms map[xproto.Keycode]bool // spares this desktop mapped
}

func (k *keyboard) load(conn *xgb.Conn) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.conn = conn
	return k.loadLocked()
}

func (k *keyboard) loadLocked() error {
	setup := xproto.Setup(k.conn)
	k.min = setup.MinKeycode
	count := int(setup.MaxKeycode) - int(setup.MinKeycode) + 1
	r, err := xproto.GetKeyboardMapping(k.conn, setup.MinKeycode, byte(count)).Reply()
	if err != nil {
		return fmt.Errorf("the X display's keyboard mapping could not be read: %w", err)
	}
	k.per, k.syms = int(r.KeysymsPerKeycode), r.Keysyms
	k.index = map[xproto.Keysym]keyAt{}
	k.spares = k.spares[:0]
	for i := range count {
		code := xproto.Keycode(int(k.min) + i)
		row := k.syms[i*k.per : (i+1)*k.per]
		empty := true
		for j, ks := range row {
			if ks != 0 {
				empty = false
			}
			if ks != 0 && j < 2 {
				if _, seen := k.index[ks]; !seen {
					k.index[ks] = keyAt{code: code, shift: j == 1}
				}
			}
		}
		if empty || k.ownSyms[code] {
			k.spares = append(k.spares, code)
		}
	}
	k.stale = false
	return nil
}

func (k *keyboard) invalidate() {
	k.mu.Lock()
	k.stale = true
	k.mu.Unlock()
}

// find returns where ks is, mapping it onto a spare keycode if needed.
func (k *keyboard) find(ks xproto.Keysym) (keyAt, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stale {
		if err := k.loadLocked(); err != nil {
			return keyAt{}, err
		}
	}
	if at, ok := k.index[ks]; ok {
		return at, nil
	}
	if len(k.spares) == 0 {
		return keyAt{}, fmt.Errorf("the X keyboard has no free key for keysym %#x", ks)
	}
	code := k.spares[k.next%len(k.spares)]
	k.next++
	row := make([]xproto.Keysym, k.per)
	row[0], row[1] = ks, ks
	if err := xproto.ChangeKeyboardMappingChecked(k.conn, 1, code, byte(k.per), row).Check(); err != nil {
		return keyAt{}, fmt.Errorf("the X keyboard mapping could not be changed: %w", err)
	}
	if k.ownSyms == nil {
		k.ownSyms = map[xproto.Keycode]bool{}
	}
	k.ownSyms[code] = true
	for old, at := range k.index {
		if at.code == code {
			delete(k.index, old)
		}
	}
	copy(k.syms[(int(code)-int(k.min))*k.per:], row)
	k.index[ks] = keyAt{code: code}
	return keyAt{code: code}, nil
}

// Inject replays one technician's event through XTEST.
func (d *Desktop) Inject(monitor int, ev wire.InputEvent) error {
	switch ev.Kind {
	case wire.InputMove:
		return d.move(monitor, ev.X, ev.Y)
	case wire.InputButton:
		if ev.Button < 1 || ev.Button > 3 {
			return fmt.Errorf("mouse button %d is not one of 1, 2, 3", ev.Button)
		}
		if err := d.move(monitor, ev.X, ev.Y); err != nil {
			return err
		}
		return d.fake(press(ev.Down, xproto.ButtonPress, xproto.ButtonRelease), byte(ev.Button))
	case wire.InputWheel:
		return d.wheel(ev.DX, ev.DY)
	case wire.InputKey:
		ks, ok := keysymOf(ev.Key)
		if !ok {
			return fmt.Errorf("the key %q is not known", ev.Key)
		}
		at, err := d.keys.find(ks)
		if err != nil {
			return err
		}
		return d.fake(press(ev.Down, xproto.KeyPress, xproto.KeyRelease), byte(at.code))
	case wire.InputText:
		return d.typeText(ev.Text)
	}
	return fmt.Errorf("the input kind %q is not known", ev.Kind)
}

func press(down bool, pressed, released byte) byte {
	if down {
		return pressed
	}
	return released
}

func (d *Desktop) fake(kind, detail byte) error {
	return xtest.FakeInputChecked(d.conn, kind, detail, 0, d.root, 0, 0, 0).Check()
}

func (d *Desktop) move(monitor, x, y int) error {
	r, err := d.area(monitor)
	if err != nil {
		return err
	}
	x, y = min(max(x, 0), r.Dx()-1)+r.Min.X, min(max(y, 0), r.Dy()-1)+r.Min.Y
	return xtest.FakeInputChecked(d.conn, xproto.MotionNotify, 0, 0, d.root, int16(x), int16(y), 0).Check()
}

// wheel clicks X's wheel buttons (4 up, 5 down, 6 left, 7 right) once
// per notch of 120; a smaller movement still clicks once.
func (d *Desktop) wheel(dx, dy int) error {
	click := func(amount int, neg, pos byte) error {
		button := pos
		if amount < 0 {
			button, amount = neg, -amount
		}
		for range min(max(amount/120, 1), 50) {
			if err := d.fake(xproto.ButtonPress, button); err != nil {
				return err
			}
			if err := d.fake(xproto.ButtonRelease, button); err != nil {
				return err
			}
		}
		return nil
	}
	if dy != 0 {
		if err := click(dy, 5, 4); err != nil {
			return err
		}
	}
	if dx != 0 {
		return click(dx, 6, 7)
	}
	return nil
}

// typeText presses and releases the key of each character, with Shift
// where the layout has it on the shifted level.
func (d *Desktop) typeText(text string) error {
	shift, err := d.keys.find(shiftKeysym)
	if err != nil {
		return err
	}
	for _, r := range strings.ReplaceAll(text, "\r\n", "\n") {
		ks := runeKeysym(r)
		switch r {
		case '\n':
			ks = namedKeys[wire.KeyReturn]
		case '\t':
			ks = namedKeys[wire.KeyTab]
		}
		at, err := d.keys.find(ks)
		if err != nil {
			return err
		}
		if at.shift {
			if err := d.fake(xproto.KeyPress, byte(shift.code)); err != nil {
				return err
			}
		}
		if err := d.fake(xproto.KeyPress, byte(at.code)); err != nil {
			return err
		}
		if err := d.fake(xproto.KeyRelease, byte(at.code)); err != nil {
			return err
		}
		if at.shift {
			if err := d.fake(xproto.KeyRelease, byte(shift.code)); err != nil {
				return err
			}
		}
	}
	return nil
}
