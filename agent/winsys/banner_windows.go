package winsys

import (
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	procRegisterClassExW           = user32.NewProc("RegisterClassExW")
	procCreateWindowExW            = user32.NewProc("CreateWindowExW")
	procDestroyWindow              = user32.NewProc("DestroyWindow")
	procDefWindowProcW             = user32.NewProc("DefWindowProcW")
	procPostThreadMessageW         = user32.NewProc("PostThreadMessageW")
	procSetWindowTextW             = user32.NewProc("SetWindowTextW")
	procSetWindowRgn               = user32.NewProc("SetWindowRgn")
	procSetLayeredWindowAttributes = user32.NewProc("SetLayeredWindowAttributes")
	procSetWindowDisplayAffinity   = user32.NewProc("SetWindowDisplayAffinity")
	procSendMessageW               = user32.NewProc("SendMessageW")
	procCreateSolidBrush           = gdi32.NewProc("CreateSolidBrush")
	procCreateRectRgn              = gdi32.NewProc("CreateRectRgn")
	procCombineRgn                 = gdi32.NewProc("CombineRgn")
	procGetStockObject             = gdi32.NewProc("GetStockObject")
	procOpenDesktopW               = user32.NewProc("OpenDesktopW")
	procGetThreadDesktop           = user32.NewProc("GetThreadDesktop")
)

const (
	wsExToolWindow  = 0x00000080
	wsExTransparent = 0x00000020
	wsExLayered     = 0x00080000
	wsExNoActivate  = 0x08000000
	wmClose         = 0x0010
	wmSetFont       = 0x0030
	wmApp           = 0x8000
	borderWidth     = 6
	idStop          = 200
)

// Banner tells the user, while the screen is viewed, who is viewing it: a
// red click-through border around every monitor and a small topmost bar
// "<Technician> is viewing this screen" with Stop. Both are kept out of
// the capture (SetWindowDisplayAffinity, Windows 10 2004 and later) so the
// technician sees the desktop, not the notice; on older Windows they show
// in the capture as well.
//
// The windows are made on each desktop of bannerDesktops, one thread each
// (a thread's windows live on its desktop): the user's Default desktop,
// and Winlogon, which shows while the sign-in or lock screen or a UAC
// prompt is up, so the user is told there too. The helper is SYSTEM, which
// may make windows on Winlogon; where it cannot (Wine) only Default has
// them.
type Banner struct {
	mu      sync.Mutex
	viewers map[int]viewer
	next    int
	shown   *bannerWindows // while anyone is viewing; nil otherwise
}

// bannerWindows is one showing of the notice: a window thread per desktop.
type bannerWindows struct {
	ready   sync.WaitGroup // each thread made its windows, or could not
	threads []uint32       // the window threads' ids
}

// bannerDesktops are the desktops the notice is shown on: "" is the
// helper's own (Default).
var bannerDesktops = []string{"", "Winlogon"}

type viewer struct {
	name string
	stop chan struct{}
}

// banner is the one Banner of the process: the window procedure is a
// single callback and reaches it through this variable.
var banner = &Banner{viewers: map[int]viewer{}}

// NewBanner returns the process's banner.
func NewBanner() *Banner { return banner }

// Show shows the notice for technician until hide is called; stop closes
// when the user presses Stop.
func (b *Banner) Show(technician string) (<-chan struct{}, func()) {
	b.mu.Lock()
	id := b.next
	b.next++
	v := viewer{name: technician, stop: make(chan struct{})}
	b.viewers[id] = v
	w := b.shown
	if w == nil {
		w = &bannerWindows{}
		b.shown = w
		w.ready.Add(len(bannerDesktops))
		for _, desk := range bannerDesktops {
			go b.run(w, desk)
		}
	}
	b.mu.Unlock()
	w.ready.Wait()
	b.update()
	var once sync.Once
	return v.stop, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.viewers, id)
			b.mu.Unlock()
			b.update()
		})
	}
}

// update asks the window threads to redraw the text, or to close when
// nobody is viewing any more (then the next Show makes new windows).
func (b *Banner) update() {
	b.mu.Lock()
	var threads []uint32
	if b.shown != nil {
		threads = append(threads, b.shown.threads...)
	}
	if len(b.viewers) == 0 {
		b.shown = nil
	}
	b.mu.Unlock()
	for _, t := range threads {
		procPostThreadMessageW.Call(uintptr(t), wmApp, 0, 0)
	}
}

// stopAll is the Stop button: every current view is stopped.
func (b *Banner) stopAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, v := range b.viewers {
		close(v.stop)
		delete(b.viewers, id)
	}
}

func (b *Banner) text() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.viewers) == 0 {
		return "", false
	}
	seen := map[string]bool{}
	var names []string
	for _, v := range b.viewers {
		if !seen[v.name] {
			seen[v.name] = true
			names = append(names, v.name)
		}
	}
	verb := " is"
	if len(names) > 1 {
		verb = " are"
	}
	return strings.Join(names, " and ") + verb + " viewing this screen", true
}

var bannerProc = windows.NewCallback(bannerWndProc)

func bannerWndProc(hwnd, msg, wparam, lparam uintptr) uintptr {
	switch msg {
	case wmCommand:
		if wparam&0xffff == idStop {
			banner.stopAll()
			banner.update()
			return 0
		}
	case wmClose:
		return 0 // only the helper closes it
	}
	r, _, _ := procDefWindowProcW.Call(hwnd, msg, wparam, lparam)
	return r
}

type wndClassEx struct {
	Size       uint32
	Style      uint32
	WndProc    uintptr
	ClsExtra   int32
	WndExtra   int32
	Instance   windows.Handle
	Icon       windows.Handle
	Cursor     windows.Handle
	Background uintptr
	MenuName   *uint16
	ClassName  *uint16
	IconSm     windows.Handle
}

type winMsg struct {
	Hwnd    uintptr
	Message uint32
	WParam  uintptr
	LParam  uintptr
	Time    uint32
	X, Y    int32
	_       uint32
}

// run owns the windows on one locked thread (windows belong to the thread
// that made them) on desktop desk ("" the thread's own) until nobody is
// viewing.
func (b *Banner) run(w *bannerWindows, desk string) {
	runtime.LockOSThread()
	if desk != "" {
		back, ok := switchThreadDesktop(desk)
		if !ok {
			runtime.UnlockOSThread()
			w.ready.Done()
			return
		}
		// After the windows are gone the thread goes back to its own
		// desktop, so the handle can be closed and the thread reused.
		defer back()
	} else {
		defer runtime.UnlockOSThread()
	}
	var module windows.Handle
	_ = windows.GetModuleHandleEx(0, nil, &module)
	red, _, _ := procCreateSolidBrush.Call(0x0000D0) // COLORREF is 0x00BBGGRR
	light, _, _ := procCreateSolidBrush.Call(0xE0F0FF)
	registerClass(module, "AdHocSupportBorder", red)
	registerClass(module, "AdHocSupportBanner", light)

	v := virtualScreen()
	border := createWindow(wsExLayered|wsExTransparent|wsExTopmost|wsExToolWindow|wsExNoActivate, "AdHocSupportBorder", "",
		wsPopup, v.Min.X, v.Min.Y, v.Dx(), v.Dy(), 0, 0, module)
	// Only a frame around each monitor is left of the window; being
	// layered and transparent, clicks go through it to what is below.
	if ms, err := monitors(); err == nil {
		rgn, _, _ := procCreateRectRgn.Call(0, 0, 0, 0)
		for _, m := range ms {
			x, y := m.X-v.Min.X, m.Y-v.Min.Y
			outer, _, _ := procCreateRectRgn.Call(uintptr(x), uintptr(y), uintptr(x+m.Width), uintptr(y+m.Height))
			inner, _, _ := procCreateRectRgn.Call(uintptr(x+borderWidth), uintptr(y+borderWidth), uintptr(x+m.Width-borderWidth), uintptr(y+m.Height-borderWidth))
			const rgnOr, rgnDiff = 2, 4
			procCombineRgn.Call(outer, outer, inner, rgnDiff)
			procCombineRgn.Call(rgn, rgn, outer, rgnOr)
			procDeleteObject.Call(outer)
			procDeleteObject.Call(inner)
		}
		procSetWindowRgn.Call(border, rgn, 1) // the window owns rgn now
	}
	const lwaAlpha = 2
	procSetLayeredWindowAttributes.Call(border, 0, 230, lwaAlpha)

	// The bar: top middle of the primary monitor, below the border.
	pw, ph := 460, 40
	px, py := 0, 0
	if ms, err := monitors(); err == nil && len(ms) > 0 {
		px, py = ms[0].X+(ms[0].Width-pw)/2, ms[0].Y+borderWidth
	}
	bar := createWindow(wsExTopmost|wsExToolWindow|wsExNoActivate, "AdHocSupportBanner", "Ad Hoc Support Session",
		wsPopup|wsBorder, px, py, pw, ph, 0, 0, module)
	label := createWindow(0, "STATIC", "", wsChild|wsVisible, 10, 11, pw-110, 20, bar, 0, module)
	stop := createWindow(0, "BUTTON", "Stop", wsChild|wsVisible|wsTabStop, pw-90, 6, 80, 26, bar, idStop, module)
	font, _, _ := procGetStockObject.Call(17) // DEFAULT_GUI_FONT
	procSendMessageW.Call(label, wmSetFont, font, 0)
	procSendMessageW.Call(stop, wmSetFont, font, 0)
	const wdaExcludeFromCapture = 0x11
	for _, w := range []uintptr{border, bar} {
		procSetWindowDisplayAffinity.Call(w, wdaExcludeFromCapture)
		procShowWindow.Call(w, swShowNoActivate)
	}

	b.mu.Lock()
	w.threads = append(w.threads, windows.GetCurrentThreadId())
	b.mu.Unlock()
	w.ready.Done()
	defer func() {
		procDestroyWindow.Call(bar)
		procDestroyWindow.Call(border)
		procDeleteObject.Call(red)
		procDeleteObject.Call(light)
	}()
	var m winMsg
	for {
		// update changes the state before it posts, and each post wakes
		// this loop, so no change is missed.
		b.mu.Lock()
		current := b.shown == w
		b.mu.Unlock()
		if !current {
			return // nobody is viewing: a later Show makes new windows
		}
		if text, ok := b.text(); ok {
			procSetWindowTextW.Call(label, uintptr(unsafe.Pointer(wstr(text))))
		}
		if r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0); int32(r) <= 0 {
			return
		}
		if m.Hwnd == 0 && m.Message == wmApp {
			continue // update: the loop's top redraws or closes
		}
		procTranslateMessage.Call(uintptr(unsafe.Pointer(&m)))
		procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
	}
}

// switchThreadDesktop moves the calling thread (locked, without windows)
// to the desktop named name of its window station; back moves it to its
// own desktop again and unlocks it.
func switchThreadDesktop(name string) (back func(), ok bool) {
	const desktopCreateWindow, desktopCreateMenu, desktopReadObjects, desktopWriteObjects = 0x2, 0x4, 0x1, 0x80
	own, _, _ := procGetThreadDesktop.Call(uintptr(windows.GetCurrentThreadId()))
	h, _, _ := procOpenDesktopW.Call(uintptr(unsafe.Pointer(wptr(name))), 0, 0,
		desktopCreateWindow|desktopCreateMenu|desktopReadObjects|desktopWriteObjects)
	if h == 0 {
		return nil, false
	}
	if r, _, _ := procSetThreadDesktop.Call(h); r == 0 {
		procCloseDesktop.Call(h)
		return nil, false
	}
	return func() {
		if r, _, _ := procSetThreadDesktop.Call(own); r != 0 {
			procCloseDesktop.Call(h)
			runtime.UnlockOSThread()
		} // else the thread keeps the desktop and ends with its goroutine
	}, true
}

func registerClass(module windows.Handle, name string, brush uintptr) {
	wc := wndClassEx{Size: uint32(unsafe.Sizeof(wndClassEx{})), WndProc: bannerProc, Instance: module,
		Background: brush, ClassName: wptr(name)}
	procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))) // fails harmlessly when already registered
}

// createWindow makes a window; id is a child control's identifier (the
// hMenu argument of a child).
func createWindow(exStyle uint32, class, title string, style uint32, x, y, w, h int, parent, id uintptr, module windows.Handle) uintptr {
	hwnd, _, _ := procCreateWindowExW.Call(uintptr(exStyle), uintptr(unsafe.Pointer(wptr(class))), uintptr(unsafe.Pointer(wstr(title))),
		uintptr(style), uintptr(x), uintptr(y), uintptr(w), uintptr(h), parent, id, uintptr(module), 0)
	return hwnd
}
