package winsys

import (
	"testing"
	"unicode/utf16"
)

// The in-memory dialog template must follow DLGTEMPLATE's layout exactly,
// or Windows refuses to show the dialog: this walks it like Windows does.
func TestCodeTemplateLayout(t *testing.T) {
	b := codeTemplate("Ana (ana@example.com) will read a code", "That code is not right — 4 tries left.")
	dword := func(i int) uint32 { return uint32(b[i]) | uint32(b[i+1])<<16 }
	str := func(i int) (string, int) {
		j := i
		for b[j] != 0 {
			j++
		}
		return string(utf16.Decode(b[i:j])), j + 1
	}
	if style := dword(0); style&dsSetFont == 0 || style&wsPopup == 0 {
		t.Fatalf("dialog style %#x", style)
	}
	count := int(b[4])
	if count != 5 || b[9] != 0 || b[10] != 0 {
		t.Fatalf("items %d, menu %d, class %d", count, b[9], b[10])
	}
	title, i := str(11)
	if title == "" || b[i] != 9 {
		t.Fatalf("title %q, point size %d", title, b[i])
	}
	font, i := str(i + 1)
	if font != "Segoe UI" {
		t.Fatalf("font %q", font)
	}
	ids := map[uint16]string{}
	for n := 0; n < count; n++ {
		if i%2 == 1 {
			i++ // items start on a DWORD boundary (2 uint16s)
		}
		if i%2 != 0 {
			t.Fatalf("item %d at uint16 %d is not DWORD aligned", n, i)
		}
		if dword(i)&(wsChild|wsVisible) != wsChild|wsVisible {
			t.Errorf("item %d style %#x", n, dword(i))
		}
		// style, extended style (2 DWORDs), x, y, cx, cy, id, 0xffff, class atom
		id, class := b[i+8], b[i+10]
		if b[i+9] != 0xffff || class < 0x80 || class > 0x82 {
			t.Fatalf("item %d class %#x %#x", n, b[i+13], class)
		}
		var text string
		text, i = str(i + 11)
		ids[id] = text
		if b[i] != 0 {
			t.Fatalf("item %d has creation data", n)
		}
		i++
	}
	if i != len(b) {
		t.Errorf("%d uint16s left over", len(b)-i)
	}
	if ids[idOK] != "OK" || ids[idCancel] != "Cancel" {
		t.Errorf("buttons %v", ids)
	}
	if _, ok := ids[idCodeEdit]; !ok {
		t.Error("no code field")
	}
}
