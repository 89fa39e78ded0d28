package winsys

import "unicode/utf16"

// Window styles and control IDs of the code dialog (winuser.h). This file
// has no Windows calls, so the template is tested on Linux too.
const (
	wsPopup         = 0x80000000
	wsChild         = 0x40000000
	wsVisible       = 0x10000000
	wsCaption       = 0x00C00000
	wsSysMenu       = 0x00080000
	wsBorder        = 0x00800000
	wsTabStop       = 0x00010000
	dsSetFont       = 0x40
	dsModalFrame    = 0x80
	dsSetForeground = 0x200
	dsCenter        = 0x800
	wsExTopmost     = 0x8
	esAutoHScroll   = 0x80
	bsDefPushButton = 0x1
	idOK            = 1
	idCancel        = 2
	idCodeEdit      = 100
)

// dlgItem is one control of a dialog template.
type dlgItem struct {
	style      uint32
	x, y, w, h int16
	id         uint16
	class      uint16 // 0x80 button, 0x81 edit, 0x82 static
	text       string
}

// codeTemplate builds the code dialog's template: a prompt, the problem
// line (if any), the code field and OK/Cancel. Sizes are in dialog units.
func codeTemplate(prompt, problem string) []uint16 {
	items := []dlgItem{
		{wsChild | wsVisible, 10, 10, 240, 28, 0xffff, 0x82, prompt},
		{wsChild | wsVisible, 10, 40, 240, 36, 0xffff, 0x82, problem},
		{wsChild | wsVisible | wsBorder | wsTabStop | esAutoHScroll, 10, 80, 240, 14, idCodeEdit, 0x81, ""},
		{wsChild | wsVisible | wsTabStop | bsDefPushButton, 144, 102, 50, 14, idOK, 0x80, "OK"},
		{wsChild | wsVisible | wsTabStop, 200, 102, 50, 14, idCancel, 0x80, "Cancel"},
	}
	return dialogTemplate(wsPopup|wsCaption|wsSysMenu|dsModalFrame|dsSetFont|dsCenter|dsSetForeground, wsExTopmost,
		"Ad Hoc Support Session — security code", 260, 124, items)
}

// dialogTemplate builds a DLGTEMPLATE in memory (no resource file needed)
// with Segoe UI 9 pt.
func dialogTemplate(style, exStyle uint32, title string, cx, cy int16, items []dlgItem) []uint16 {
	var b []uint16
	dword := func(v uint32) { b = append(b, uint16(v), uint16(v>>16)) }
	str := func(s string) { b = append(append(b, utf16.Encode([]rune(s))...), 0) }
	dword(style | dsSetFont)
	dword(exStyle)
	b = append(b, uint16(len(items)), 0, 0, uint16(cx), uint16(cy)) // count, x, y, cx, cy
	b = append(b, 0, 0)                                             // no menu, default class
	str(title)
	b = append(b, 9) // point size
	str("Segoe UI")
	for _, it := range items {
		if len(b)%2 == 1 { // each item starts on a DWORD boundary
			b = append(b, 0)
		}
		dword(it.style)
		dword(0)
		b = append(b, uint16(it.x), uint16(it.y), uint16(it.w), uint16(it.h), it.id, 0xffff, it.class)
		str(it.text)
		b = append(b, 0) // no creation data
	}
	return b
}
