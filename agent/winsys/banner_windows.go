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
type Banner struct {
	mu      sync.Mutex
	viewers map[int]viewer
	next    int
	thread  uint32 // the window thread's id, 0 while no windows exist
	started chan struct{}
}

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
	if b.started == nil {
		b.started = make(chan struct{})
		go b.run(b.started)
	}
	started := b.started
	b.mu.Unlock()
	<-started
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

// update asks the window thread to redraw the text, or to close when
// nobody is viewing any more.
func (b *Banner) update() {
	b.mu.Lock()
	t := b.thread
	b.mu.Unlock()
	if t != 0 {
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
// that made them) until nobody is viewing.
func (b *Banner) run(started chan struct{}) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
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
	b.thread = windows.GetCurrentThreadId()
	b.mu.Unlock()
	close(started)
	defer func() {
		procDestroyWindow.Call(bar)
		procDestroyWindow.Call(border)
		procDeleteObject.Call(red)
		procDeleteObject.Call(light)
	}()
	var m winMsg
	for {
		if text, ok := b.text(); ok {
			procSetWindowTextW.Call(label, uintptr(unsafe.Pointer(wstr(text))))
		} else {
			b.mu.Lock()
			// A Show between text() and here sees thread 0 and started
			// nil only after this, so it starts a new thread.
			if len(b.viewers) == 0 {
				b.thread, b.started = 0, nil
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
			continue
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
