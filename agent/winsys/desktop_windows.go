package winsys

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/agent/screen"
	"adhocstation/core/wire"
)

var (
	gdi32                         = windows.NewLazySystemDLL("gdi32.dll")
	procOpenInputDesktop          = user32.NewProc("OpenInputDesktop")
	procSetThreadDesktop          = user32.NewProc("SetThreadDesktop")
	procCloseDesktop              = user32.NewProc("CloseDesktop")
	procGetUserObjectInformationW = user32.NewProc("GetUserObjectInformationW")
	procSetProcessDpiAwarenessCtx = user32.NewProc("SetProcessDpiAwarenessContext")
	procSetProcessDPIAware        = user32.NewProc("SetProcessDPIAware")
	errDesktopClosed              = errors.New("the screen was closed")
	dpiOnce                       sync.Once
)

// Desktop is the Windows screen.Desktop: GDI capture, SendInput, the text
// clipboard and SendSAS. It runs in the screen helper (console session,
// SYSTEM's token) and does every call on one locked OS thread that follows
// the input desktop, because a thread's desktop decides what GetDC sees and
// where SendInput goes: Default normally, Winlogon while the sign-in
// screen, the lock screen or a UAC prompt is showing.
type Desktop struct {
	calls chan func()
	done  chan struct{}
	once  sync.Once

	logf func(format string, args ...any) // the helper's log: switches and failures

	// Owned by the locked thread.
	desk   windows.Handle // the thread's desktop, once switched
	name   string         // its name ("Default", "Winlogon")
	failed string         // the last failure logged, so a repeating one is logged once
	cap    capture
}

var _ screen.Desktop = (*Desktop)(nil)

// OpenDesktop starts the desktop's thread on the current input desktop.
func OpenDesktop() (*Desktop, error) { return OpenDesktopLogged(func(string, ...any) {}) }

// screenProcs are the exports capture, input, the clipboard and the banner
// call, checked once before a Desktop opens (see call): a Windows without
// one gets an error, not a screen helper that panics mid-view.
var screenProcs = []*windows.LazyProc{
	procBitBlt, procCloseClipboard, procCloseDesktop, procCombineRgn, procCreateCompatibleDC,
	procCreateDIBSection, procCreateRectRgn, procCreateSolidBrush, procCreateWindowExW,
	procDefWindowProcW, procDeleteDC, procDeleteObject, procDestroyWindow, procDispatchMessageW,
	procDrawIconEx, procEmptyClipboard, procEnumDisplayMonitors, procGetClipboardData,
	procGetCursorInfo, procGetDC, procGetIconInfo, procGetMessageW, procGetMonitorInfoW,
	procGetStockObject, procGetSystemMetrics, procGetThreadDesktop, procGetUserObjectInformationW,
	procGlobalAlloc, procGlobalFree, procGlobalLock, procGlobalUnlock, procOpenClipboard,
	procOpenDesktopW, procOpenInputDesktop, procPostThreadMessageW, procRegisterClassExW,
	procReleaseDC, procSelectObject, procSendInput, procSendMessageW, procSetClipboardData,
	procSetLayeredWindowAttributes, procSetThreadDesktop, procSetWindowDisplayAffinity,
	procSetWindowRgn, procSetWindowTextW, procShowWindow, procTranslateMessage, procVkKeyScanW,
}

// OpenDesktopLogged is OpenDesktop telling logf when it follows the input
// desktop elsewhere or cannot.
func OpenDesktopLogged(logf func(format string, args ...any)) (*Desktop, error) {
	if err := exported(screenProcs...); err != nil {
		return nil, err
	}
	dpiOnce.Do(dpiAware)
	d := &Desktop{calls: make(chan func()), done: make(chan struct{}), logf: logf}
	ready := make(chan error, 1)
	go d.loop(ready)
	if err := <-ready; err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// dpiAware makes capture and input see real pixels on scaled monitors; a
// process that is not DPI-aware gets a shrunken, virtualised screen.
func dpiAware() {
	const perMonitorV2 = ^uintptr(3) // DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2 (-4)
	if procSetProcessDpiAwarenessCtx.Find() == nil {
		if r, _, _ := procSetProcessDpiAwarenessCtx.Call(perMonitorV2); r != 0 {
			return
		}
	}
	_, _, _ = call(procSetProcessDPIAware) // Windows before 10 1703
}

func (d *Desktop) loop(ready chan<- error) {
	// Never unlocked: the thread's desktop was changed, so the thread ends
	// with this goroutine instead of going back to Go's pool.
	runtime.LockOSThread()
	ready <- d.follow()
	defer d.release()
	for {
		select {
		case f := <-d.calls:
			f()
		case <-d.done:
			return
		}
	}
}

// do runs f on the desktop's thread after following the input desktop.
func (d *Desktop) do(f func() error) error {
	errc := make(chan error, 1)
	select {
	case d.calls <- func() {
		if err := d.follow(); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}:
	case <-d.done:
		return errDesktopClosed
	}
	return <-errc
}

// follow switches the thread to the input desktop when it changed. A
// desktop it may not open (Winlogon for a helper that is not SYSTEM) keeps
// the thread where it was: the image then stops changing rather than fail.
func (d *Desktop) follow() error {
	const desktopAll = 0x01FF // DESKTOP_* rights: read, write, switch, journal playback
	h, _, e := procOpenInputDesktop.Call(0, 0, desktopAll|windows.GENERIC_ALL)
	if h == 0 {
		if d.desk == 0 && d.name == "" {
			return errors.Join(screen.ErrNoDesktop, e)
		}
		d.logFailure("the input desktop cannot be opened (the view stays on " + d.name + "): " + e.Error())
		return nil
	}
	name := desktopName(windows.Handle(h))
	if name == d.name && d.desk != 0 {
		procCloseDesktop.Call(h)
		return nil
	}
	if r, _, e := procSetThreadDesktop.Call(h); r == 0 {
		procCloseDesktop.Call(h)
		if d.name == "" {
			return errors.Join(screen.ErrNoDesktop, e)
		}
		d.logFailure("cannot switch to the " + name + " desktop (the view stays on " + d.name + "): " + e.Error())
		return nil
	}
	if d.desk != 0 {
		procCloseDesktop.Call(uintptr(d.desk))
		d.logf("the input desktop is now %s (was %s)", name, d.name)
	} else {
		d.logf("capturing the %s desktop", name)
	}
	d.failed = ""
	d.desk, d.name = windows.Handle(h), name
	d.cap.reset() // DCs belong to the desktop they were made on
	return nil
}

func (d *Desktop) logFailure(msg string) {
	if msg != d.failed {
		d.failed = msg
		d.logf("%s", msg)
	}
}

func desktopName(h windows.Handle) string {
	const uoiName = 2
	var buf [64]uint16
	var n uint32
	if r, _, _ := procGetUserObjectInformationW.Call(uintptr(h), uoiName, uintptr(unsafe.Pointer(&buf[0])),
		uintptr(len(buf)*2), uintptr(unsafe.Pointer(&n))); r == 0 {
		return "?"
	}
	return windows.UTF16ToString(buf[:])
}

func (d *Desktop) release() {
	d.cap.reset()
	if d.desk != 0 {
		procCloseDesktop.Call(uintptr(d.desk))
		d.desk = 0
	}
}

// Close ends the desktop's thread.
func (d *Desktop) Close() error {
	d.once.Do(func() { close(d.done) })
	return nil
}

// Info lists the monitors, the input desktop and whether Ctrl+Alt+Del can
// be sent.
func (d *Desktop) Info() (wire.ScreenInfo, error) {
	var info wire.ScreenInfo
	err := d.do(func() error {
		ms, err := monitors()
		if err != nil {
			return err
		}
		info = wire.ScreenInfo{Monitors: ms, Desktop: strings.ToLower(d.name), SAS: sasProblem()}
		return nil
	})
	return info, err
}
