package winsys

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	procOpenClipboard    = user32.NewProc("OpenClipboard")
	procCloseClipboard   = user32.NewProc("CloseClipboard")
	procEmptyClipboard   = user32.NewProc("EmptyClipboard")
	procGetClipboardData = user32.NewProc("GetClipboardData")
	procSetClipboardData = user32.NewProc("SetClipboardData")
	procGlobalAlloc      = kernel32.NewProc("GlobalAlloc")
	procGlobalFree       = kernel32.NewProc("GlobalFree")
	procGlobalLock       = kernel32.NewProc("GlobalLock")
	procGlobalUnlock     = kernel32.NewProc("GlobalUnlock")
)

const cfUnicodeText = 13

// openClipboard retries for a moment: another program (a clipboard
// manager, the program that just copied) may hold it briefly.
func openClipboard() error {
	var err error
	for range 10 {
		r, _, e := procOpenClipboard.Call(0)
		if r != 0 {
			return nil
		}
		err = e
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the clipboard is busy: %v", err)
}

// Clipboard returns the clipboard's text ("" when it holds none).
func (d *Desktop) Clipboard() (string, error) {
	var text string
	err := d.do(func() error {
		if err := openClipboard(); err != nil {
			return err
		}
		defer procCloseClipboard.Call()
		h, _, _ := procGetClipboardData.Call(cfUnicodeText)
		if h == 0 {
			return nil // no text on the clipboard
		}
		p, _, e := procGlobalLock.Call(h)
		if p == 0 {
			return fmt.Errorf("reading the clipboard: %v", e)
		}
		defer procGlobalUnlock.Call(h)
		text = windows.UTF16PtrToString((*uint16)(winMem(p)))
		return nil
	})
	return text, err
}

// SetClipboard replaces the clipboard's contents with text.
func (d *Desktop) SetClipboard(text string) error {
	u, err := windows.UTF16FromString(text)
	if err != nil {
		return fmt.Errorf("the clipboard text contains a NUL character: %w", err)
	}
	return d.do(func() error {
		if err := openClipboard(); err != nil {
			return err
		}
		defer procCloseClipboard.Call()
		procEmptyClipboard.Call()
		const gmemMoveable = 0x0002
		h, _, e := procGlobalAlloc.Call(gmemMoveable, uintptr(len(u)*2))
		if h == 0 {
			return fmt.Errorf("setting the clipboard: %v", e)
		}
		p, _, e := procGlobalLock.Call(h)
		if p == 0 {
			procGlobalFree.Call(h)
			return fmt.Errorf("setting the clipboard: %v", e)
		}
		copy(unsafe.Slice((*uint16)(winMem(p)), len(u)), u)
		procGlobalUnlock.Call(h)
		if r, _, e := procSetClipboardData.Call(cfUnicodeText, h); r == 0 {
			procGlobalFree.Call(h) // the clipboard owns it only on success
			return fmt.Errorf("setting the clipboard: %v", e)
		}
		return nil
	})
}

// winMem turns an address Windows returned (global memory, a DIB section)
// into a pointer. That memory is not Go's, so the collector never moves or
// frees it; the copy through a variable only keeps vet from taking it for
// a Go pointer kept as an integer.
func winMem(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
