package winsys

import (
	"fmt"
	"unicode/utf16"
	"unsafe"

	"adhocstation/core/wire"
)

var (
	procSendInput  = user32.NewProc("SendInput")
	procVkKeyScanW = user32.NewProc("VkKeyScanW")
)

// INPUT for SendInput: a 4-byte type, then a union as large as MOUSEINPUT
// (32 bytes on 64-bit Windows); keyInput pads KEYBDINPUT to the same size.
type mouseInput struct {
	Type      uint32
	_         uint32
	DX, DY    int32
	MouseData uint32
	Flags     uint32
	Time      uint32
	Extra     uintptr
}

type keyInput struct {
	Type  uint32
	_     uint32
	Vk    uint16
	Scan  uint16
	Flags uint32
	Time  uint32
	Extra uintptr
	_     [8]byte
}

const (
	inputMouse    = 0
	inputKeyboard = 1

	mouseMove        = 0x0001
	mouseLeftDown    = 0x0002
	mouseLeftUp      = 0x0004
	mouseRightDown   = 0x0008
	mouseRightUp     = 0x0010
	mouseMiddleDown  = 0x0020
	mouseMiddleUp    = 0x0040
	mouseWheel       = 0x0800
	mouseHWheel      = 0x1000
	mouseVirtualDesk = 0x4000
	mouseAbsolute    = 0x8000

	keyExtended = 0x0001
	keyUp       = 0x0002
	keyUnicode  = 0x0004
)

func sendInputs[T mouseInput | keyInput](in []T) error {
	if len(in) == 0 {
		return nil
	}
	n, _, e := procSendInput.Call(uintptr(len(in)), uintptr(unsafe.Pointer(&in[0])), unsafe.Sizeof(in[0]))
	if int(n) != len(in) {
		// UIPI blocks input into a more privileged window; the helper runs
		// as SYSTEM, so this is rare (a desktop switch in between).
		return fmt.Errorf("the input was refused by Windows: %v", e)
	}
	return nil
}

// Inject replays one event from the technician. Coordinates are in the
// last captured image; they become absolute over the whole virtual desktop
// (MOUSEEVENTF_VIRTUALDESK), 0…65535 on each axis.
func (d *Desktop) Inject(monitor int, ev wire.InputEvent) error {
	return d.do(func() error {
		switch ev.Kind {
		case wire.InputMove, wire.InputButton:
			move, err := d.absolute(monitor, ev.X, ev.Y)
			if err != nil {
				return err
			}
			in := []mouseInput{move}
			if ev.Kind == wire.InputButton {
				f := buttonFlags(ev.Button, ev.Down)
				if f == 0 {
					return fmt.Errorf("mouse button %d does not exist", ev.Button)
				}
				in = append(in, mouseInput{Type: inputMouse, Flags: f})
			}
			return sendInputs(in)
		case wire.InputWheel:
			var in []mouseInput
			if ev.DY != 0 {
				in = append(in, mouseInput{Type: inputMouse, Flags: mouseWheel, MouseData: uint32(int32(ev.DY))})
			}
			if ev.DX != 0 {
				in = append(in, mouseInput{Type: inputMouse, Flags: mouseHWheel, MouseData: uint32(int32(ev.DX))})
			}
			return sendInputs(in)
		case wire.InputKey:
			return sendInputs(keyEvents(ev.Key, ev.Down))
		case wire.InputText:
			return sendInputs(textEvents(ev.Text))
		}
		return fmt.Errorf("unknown input kind %q", ev.Kind)
	})
}

// absolute is a move to (x, y) of the captured image.
func (d *Desktop) absolute(monitor, x, y int) (mouseInput, error) {
	r, err := area(monitor)
	if err != nil {
		return mouseInput{}, err
	}
	v := virtualScreen()
	px, py := r.Min.X+x, r.Min.Y+y
	// Windows maps a normalised n back to pixel n*size/65536, rounded
	// down; aiming at the pixel's middle lands on it exactly.
	scale := func(p, lo, size int) int32 {
		if size <= 0 {
			return 0
		}
		return int32(min(max(((p-lo)*65536+32768)/size, 0), 65535))
	}
	return mouseInput{Type: inputMouse, DX: scale(px, v.Min.X, v.Dx()), DY: scale(py, v.Min.Y, v.Dy()),
		Flags: mouseMove | mouseAbsolute | mouseVirtualDesk}, nil
}

func buttonFlags(button int, down bool) uint32 {
	var f [2]uint32
	switch button {
	case 1:
		f = [2]uint32{mouseLeftUp, mouseLeftDown}
	case 2:
		f = [2]uint32{mouseMiddleUp, mouseMiddleDown}
	case 3:
		f = [2]uint32{mouseRightUp, mouseRightDown}
	default:
		return 0
	}
	if down {
		return f[1]
	}
	return f[0]
}

// keyEvents presses or releases a named key, a letter or a digit by its
// virtual key (so Ctrl+C is Ctrl+C on any layout), punctuation by the key
// of this PC's layout that types it; a character no key types is typed as
// Unicode, which needs no layout at all.
func keyEvents(name string, down bool) []keyInput {
	var flags uint32
	if !down {
		flags = keyUp
	}
	if vk, ext, ok := virtualKey(name); ok {
		if ext {
			flags |= keyExtended
		}
		return []keyInput{{Type: inputKeyboard, Vk: vk, Flags: flags}}
	}
	// Punctuation comes as a key mostly with Ctrl or Alt held (Ctrl+=):
	// the key that types it on this PC's layout, without its Shift state
	// (the technician's Shift arrives as a key of its own).
	if r := []rune(name); len(r) == 1 && r[0] < 0x10000 {
		if v, _, _ := procVkKeyScanW.Call(uintptr(r[0])); v&0xFF != 0xFF {
			return []keyInput{{Type: inputKeyboard, Vk: uint16(v & 0xFF), Flags: flags}}
		}
	}
	var in []keyInput
	for _, u := range utf16.Encode([]rune(name)) {
		in = append(in, keyInput{Type: inputKeyboard, Scan: u, Flags: flags | keyUnicode})
	}
	return in
}

// textEvents types text as Unicode key presses, each pressed and released.
func textEvents(text string) []keyInput {
	var in []keyInput
	for _, u := range utf16.Encode([]rune(text)) {
		in = append(in, keyInput{Type: inputKeyboard, Scan: u, Flags: keyUnicode},
			keyInput{Type: inputKeyboard, Scan: u, Flags: keyUnicode | keyUp})
	}
	return in
}
