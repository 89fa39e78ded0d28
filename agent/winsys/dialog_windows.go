package winsys

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"unicode/utf16"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/agent/support"
)

var (
	user32                      = windows.NewLazySystemDLL("user32.dll")
	procDialogBoxIndirectParamW = user32.NewProc("DialogBoxIndirectParamW")
	procEndDialog               = user32.NewProc("EndDialog")
	procGetDlgItemTextW         = user32.NewProc("GetDlgItemTextW")
	procSendDlgItemMessageW     = user32.NewProc("SendDlgItemMessageW")
)

// Window and dialog constants (winuser.h).
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
	wmInitDialog    = 0x0110
	wmCommand       = 0x0111
	emLimitText     = 0x00C5
	idOK            = 1
	idCancel        = 2
	idCodeEdit      = 100
	mbOK            = 0x0
	mbYesNo         = 0x4
	mbIconError     = 0x10
	mbIconWarning   = 0x30
	mbIconInfo      = 0x40
	mbDefButton2    = 0x100
	mbSetForeground = 0x10000
	mbTopmost       = 0x40000
	idYes           = 6
)

// Dialogs shows the app's questions and notices as Win32 dialogs.
type Dialogs struct{}

// Consent asks Yes/No with "No" as the default button, so a stray Enter
// does not agree.
func (Dialogs) Consent(ctx context.Context, c support.Consent) (bool, error) {
	r := messageBox("Ad Hoc Support Session — "+c.Technician.Name+" asks for access", c.Text,
		mbYesNo|mbIconWarning|mbDefButton2|mbSetForeground|mbTopmost)
	return r == idYes, nil
}

// Tell shows a notice; only final notices hold the flow until read.
func (Dialogs) Tell(m support.Message) {
	style := uint32(mbOK | mbIconInfo | mbSetForeground | mbTopmost)
	if m.Error {
		style = mbOK | mbIconError | mbSetForeground | mbTopmost
	}
	if m.Final {
		messageBox(m.Title, m.Text, style)
		return
	}
	go messageBox(m.Title, m.Text, style)
}

func messageBox(title, text string, style uint32) int32 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, _ := windows.MessageBox(0, wstr(text), wstr(title), style)
	return r
}

// codeDialog holds the one code dialog that can be open; the dialog
// procedure is a single callback (Windows callbacks are a limited resource).
var codeDialog struct {
	mu   sync.Mutex
	code string
	proc uintptr
	once sync.Once
}

// AskCode shows a small dialog with one text field for the security code.
func (Dialogs) AskCode(ctx context.Context, r support.CodeRequest) (string, error) {
	codeDialog.once.Do(func() { codeDialog.proc = windows.NewCallback(codeDialogProc) })
	codeDialog.mu.Lock()
	defer codeDialog.mu.Unlock()
	codeDialog.code = ""
	prompt := r.Technician.Name + " (" + r.Technician.Email + ") will read a 9-digit security code out to you. Type it here:"
	problem := r.Problem
	tmpl := codeTemplate(prompt, problem)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	res, _, err := procDialogBoxIndirectParamW.Call(0, uintptr(unsafe.Pointer(&tmpl[0])), 0, codeDialog.proc, 0)
	if int(res) == -1 || res == 0 {
		return "", err
	}
	if res != idOK || strings.TrimSpace(codeDialog.code) == "" {
		return "", support.ErrCancelled
	}
	return strings.TrimSpace(codeDialog.code), nil
}

func codeDialogProc(hwnd, msg, wparam, lparam uintptr) uintptr {
	switch msg {
	case wmInitDialog:
		procSendDlgItemMessageW.Call(hwnd, idCodeEdit, emLimitText, 20, 0)
		return 1 // focus goes to the first tab stop: the code field
	case wmCommand:
		switch wparam & 0xffff {
		case idOK:
			buf := make([]uint16, 32)
			procGetDlgItemTextW.Call(hwnd, idCodeEdit, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
			codeDialog.code = windows.UTF16ToString(buf)
			procEndDialog.Call(hwnd, idOK)
			return 1
		case idCancel:
			procEndDialog.Call(hwnd, idCancel)
			return 1
		}
	}
	return 0
}

// codeTemplate builds a DLGTEMPLATE in memory (no resource file needed):
// a prompt, the problem line (if any), the code field and OK/Cancel.
// Sizes are in dialog units.
func codeTemplate(prompt, problem string) []uint16 {
	type item struct {
		style      uint32
		x, y, w, h int16
		id         uint16
		class      uint16 // 0x80 button, 0x81 edit, 0x82 static
		text       string
	}
	items := []item{
		{wsChild | wsVisible, 10, 10, 240, 28, 0xffff, 0x82, prompt},
		{wsChild | wsVisible, 10, 40, 240, 36, 0xffff, 0x82, problem},
		{wsChild | wsVisible | wsBorder | wsTabStop | esAutoHScroll, 10, 80, 240, 14, idCodeEdit, 0x81, ""},
		{wsChild | wsVisible | wsTabStop | bsDefPushButton, 144, 102, 50, 14, idOK, 0x80, "OK"},
		{wsChild | wsVisible | wsTabStop, 200, 102, 50, 14, idCancel, 0x80, "Cancel"},
	}
	var b []uint16
	dword := func(v uint32) { b = append(b, uint16(v), uint16(v>>16)) }
	str := func(s string) { b = append(append(b, utf16.Encode([]rune(s))...), 0) }
	dword(wsPopup | wsCaption | wsSysMenu | dsModalFrame | dsSetFont | dsCenter | dsSetForeground)
	dword(wsExTopmost)
	b = append(b, uint16(len(items)), 0, 0, 260, 124) // count, x, y, cx, cy
	b = append(b, 0, 0)                               // no menu, default class
	str("Ad Hoc Support Session — security code")
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
