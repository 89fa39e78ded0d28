package winsys

import (
	"testing"

	"adhocstation/core/wire"
)

func TestVirtualKey(t *testing.T) {
	for _, c := range []struct {
		name     string
		vk       uint16
		extended bool
		ok       bool
	}{
		{wire.KeyReturn, 0x0D, false, true},
		{wire.KeyLeft, 0x25, true, true},
		{wire.KeyDelete, 0x2E, true, true},
		{wire.KeyControl, 0xA2, false, true},
		{"F1", 0x70, false, true},
		{"F12", 0x7B, false, true},
		{"F24", 0x87, false, true},
		{"F25", 0, false, false},
		{"Fx", 0, false, false},
		{"a", 'A', false, true},
		{"Z", 'Z', false, true},
		{"7", '7', false, true},
		{"é", 0, false, false}, // typed as Unicode instead
		{"", 0, false, false},
		{"Nonsense", 0, false, false},
	} {
		vk, ext, ok := virtualKey(c.name)
		if vk != c.vk || ext != c.extended || ok != c.ok {
			t.Errorf("virtualKey(%q) = %#x, %v, %v; want %#x, %v, %v", c.name, vk, ext, ok, c.vk, c.extended, c.ok)
		}
	}
}
