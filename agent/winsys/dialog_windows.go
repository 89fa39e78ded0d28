package winsys

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
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
	wmInitDialog    = 0x0110
	wmCommand       = 0x0111
	emLimitText     = 0x00C5
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
	var module windows.Handle
	_ = windows.GetModuleHandleEx(0, nil, &module)
	if err := exported(procDialogBoxIndirectParamW, procEndDialog, procGetDlgItemTextW, procSendDlgItemMessageW); err != nil {
		return "", fmt.Errorf("the code dialog could not be shown (%v); run the app with --console", err)
	}
	res, _, err := procDialogBoxIndirectParamW.Call(uintptr(module), uintptr(unsafe.Pointer(&tmpl[0])), 0, codeDialog.proc, 0)
	if int(res) == -1 || res == 0 {
		return "", fmt.Errorf("the code dialog could not be shown (%v); run the app with --console", err)
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

// wstr converts text for a dialog; a NUL (never in our own sentences)
// would cut the text short, so it is dropped rather than trusted.
func wstr(s string) *uint16 {
	p, _ := windows.UTF16PtrFromString(strings.ReplaceAll(s, "\x00", ""))
	return p
}
