package winsys

import (
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"fyne.io/systray"

	"adhocstation/agent/support"
)

// wmActivityUpdate is WM_APP+2: the list changed, or the window is to be
// shown.
const wmActivityUpdate = 0x8000 + 2

// ActivityWindow is the user's live list of the technician's actions ("What
// your technician is doing"): a modeless dialog with the list in a
// read-only edit control, on a thread of its own with its own message
// loop, created on first use. Closing it only hides it; the list goes on
// filling. There is one per tray helper process.
type ActivityWindow struct {
	once    sync.Once
	created chan struct{}

	mu   sync.Mutex
	hwnd uintptr
	text string // the newest text, not yet shown
	show bool
}

var (
	activityWin   *ActivityWindow
	activityProc  uintptr
	activitySetup sync.Once
)

// NewActivityWindow returns the process's activity window (not shown yet).
func NewActivityWindow() *ActivityWindow {
	activitySetup.Do(func() {
		activityWin = &ActivityWindow{created: make(chan struct{})}
		activityProc = windows.NewCallback(activityDialogProc)
	})
	return activityWin
}

// update gives the window the list's newest text; open brings it to the
// front as well.
func (w *ActivityWindow) update(text string, open bool) {
	w.once.Do(func() { go w.loop() })
	<-w.created
	w.mu.Lock()
	if text != "" {
		w.text = text
	}
	w.show = w.show || open
	hwnd := w.hwnd
	w.mu.Unlock()
	if hwnd != 0 {
		procPostMessageW.Call(hwnd, wmActivityUpdate, 0, 0)
	} else if open && text != "" { // no window could be made: the list is still shown
		go messageBox(activityTitle, text, mbOK|mbIconInfo|mbSetForeground)
	}
}

// loop creates the dialog and runs its thread's message loop.
func (w *ActivityWindow) loop() {
	runDialog(activityTemplate(), activityProc, &w.mu, &w.hwnd, w.created)
}

func activityDialogProc(hwnd, msg, wparam, lparam uintptr) uintptr {
	w := activityWin
	switch msg {
	case wmInitDialog:
		procSendDlgItemMessageW.Call(hwnd, idActivityText, emLimitText, 0, 0) // no limit on what is shown
		return 1
	case wmActivityUpdate:
		w.apply(hwnd)
		return 1
	case wmCommand:
		if wparam&0xffff == idCancel { // Close, Esc or the close box: hidden, the list kept
			procShowWindow.Call(hwnd, swHide)
			return 1
		}
	}
	return 0
}

// apply shows the newest text, scrolled to its end (the newest action),
// and the window when asked.
func (w *ActivityWindow) apply(hwnd uintptr) {
	w.mu.Lock()
	text, show := w.text, w.show
	w.text, w.show = "", false
	w.mu.Unlock()
	if text != "" {
		procSetDlgItemTextW.Call(hwnd, idActivityText, uintptr(unsafe.Pointer(wstr(text))))
		n, _, _ := procSendDlgItemMessageW.Call(hwnd, idActivityText, wmGetTextLength, 0, 0)
		procSendDlgItemMessageW.Call(hwnd, idActivityText, emSetSel, n, n)
		procSendDlgItemMessageW.Call(hwnd, idActivityText, emScrollCaret, 0, 0)
	}
	if show {
		if iconic, _, _ := procIsIconic.Call(hwnd); iconic != 0 {
			procShowWindow.Call(hwnd, swRestore)
		} else {
			procShowWindow.Call(hwnd, swShow)
		}
		procSetForegroundWindow.Call(hwnd)
	}
}

// trayActivity is the tray's part in the list: the menu's "What your
// technician is doing…", which opens the window, and a line under it with
// the newest action; the window fills as actions come.
type trayActivity struct {
	list   support.ActivityList
	open   *systray.MenuItem
	latest *systray.MenuItem
	win    *ActivityWindow
}

// addActivityItems adds the menu's items (onReady).
func (t *Tray) addActivityItems() {
	open := systray.AddMenuItem(support.ActivityTitle+"…", "Lists everything your technician does on this PC, as it happens")
	latest := systray.AddMenuItem("", "")
	latest.Disable()
	latest.Hide()
	t.mu.Lock()
	t.activity.open, t.activity.latest = open, latest
	if t.activity.win == nil {
		t.activity.win = NewActivityWindow()
	}
	win := t.activity.win
	t.mu.Unlock()
	t.applyActivity(false)
	go func() {
		for range open.ClickedCh {
			t.mu.Lock()
			text := activityText(&t.activity.list, time.Local)
			t.mu.Unlock()
			win.update(text, true)
		}
	}()
}

// ActivityUpdated takes in the service's update and shows it in the menu
// and the window.
func (t *Tray) ActivityUpdated(u support.ActivityUpdate) {
	t.mu.Lock()
	t.activity.list.Apply(u)
	if t.activity.win == nil {
		t.activity.win = NewActivityWindow()
	}
	t.mu.Unlock()
	t.applyActivity(true)
}

// applyActivity shows the newest action in the menu and, when the list
// changed, the list in the window (made on first use, shown only when
// the user opens it).
func (t *Tray) applyActivity(changed bool) {
	t.mu.Lock()
	latest, win := t.activity.latest, t.activity.win
	line := activityMenuLine(&t.activity.list, time.Local)
	text := activityText(&t.activity.list, time.Local)
	t.mu.Unlock()
	if changed && win != nil {
		win.update(text, false)
	}
	if latest == nil {
		return // onReady shows the state once the menu exists
	}
	if line == "" {
		latest.Hide()
		return
	}
	latest.SetTitle("Latest: " + line)
	latest.Show()
}

var _ support.ActivityViewer = (*Tray)(nil)
