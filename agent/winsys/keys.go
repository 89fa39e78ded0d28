package winsys

import (
	"strings"
	"unicode/utf8"

	"adhocstation/core/wire"
)

// Windows virtual-key codes for the wire's named keys. Kept free of Windows
// calls so the table is tested on Linux.
var virtualKeys = map[string]uint16{
	wire.KeyEscape:    0x1B,
	wire.KeyReturn:    0x0D,
	"KP_Enter":        0x0D,
	"Enter":           0x0D,
	wire.KeyTab:       0x09,
	wire.KeyBackspace: 0x08,
	wire.KeyInsert:    0x2D,
	wire.KeyDelete:    0x2E,
	wire.KeyRight:     0x27,
	wire.KeyLeft:      0x25,
	wire.KeyDown:      0x28,
	wire.KeyUp:        0x26,
	wire.KeyPageUp:    0x21,
	wire.KeyPageDown:  0x22,
	wire.KeyHome:      0x24,
	wire.KeyEnd:       0x23,
	wire.KeySpace:     0x20,
	wire.KeyShift:     0xA0, // VK_LSHIFT
	"RightShift":      0xA1,
	wire.KeyControl:   0xA2, // VK_LCONTROL
	"RightControl":    0xA3,
	wire.KeyAlt:       0xA4, // VK_LMENU
	"RightAlt":        0xA5,
	wire.KeySuper:     0x5B, // VK_LWIN
	"RightSuper":      0x5C,
	"Menu":            0x5D, // VK_APPS
	"Pause":           0x13,
	"CapsLock":        0x14,
	"Print":           0x2C,
	"NumLock":         0x90,
	"ScrollLock":      0x91,
}

// extendedKeys need KEYEVENTF_EXTENDEDKEY, or Windows takes them for their
// numeric-keypad twins (an arrow would type a digit with Num Lock on).
var extendedKeys = map[uint16]bool{
	0x2D: true, 0x2E: true, 0x21: true, 0x22: true, 0x23: true, 0x24: true,
	0x25: true, 0x26: true, 0x27: true, 0x28: true, 0xA3: true, 0xA5: true,
	0x5B: true, 0x5C: true, 0x5D: true, 0x2C: true, 0x90: true,
}

// virtualKey maps a wire key name to a virtual-key code: a named key, F1 …
// F24, or one letter or digit (other single characters are typed as
// Unicode by the caller). ok is false for anything else.
func virtualKey(name string) (vk uint16, extended, ok bool) {
	if vk, ok := virtualKeys[name]; ok {
		return vk, extendedKeys[vk], true
	}
	if len(name) >= 2 && len(name) <= 3 && name[0] == 'F' {
		n := 0
		for _, c := range name[1:] {
			if c < '0' || c > '9' {
				return 0, false, false
			}
			n = n*10 + int(c-'0')
		}
		if n >= 1 && n <= 24 {
			return uint16(0x70 + n - 1), false, true // VK_F1 …
		}
		return 0, false, false
	}
	if utf8.RuneCountInString(name) != 1 {
		return 0, false, false
	}
	c := strings.ToUpper(name)[0]
	switch {
	case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return uint16(c), false, true // VK_A … VK_Z and VK_0 … VK_9 are their ASCII codes
	}
	return 0, false, false
}
