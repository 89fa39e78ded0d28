package winsys

import (
	_ "embed"
	"sync"
	"time"
	"unsafe"

	"fyne.io/systray"
	"golang.org/x/sys/windows"

	"adhocstation/agent/support"
)

// trayIcon is assets/icon.png as a 16/32 px .ico (Windows' tray wants ICO):
// convert assets/icon.png -depth 8 -define icon:auto-resize=32,16 agent/winsys/tray.ico
//
//go:embed tray.ico
var trayIcon []byte

// Tray is the notification-area icon, shown from the moment the session is
// active. fyne.io/systray is pure Go on Windows (x/sys/windows, no cgo).
type Tray struct {
	// OnChat, if set before Run, is called when the user chooses "Chat
	// with your technician".
	OnChat func()

	start     chan struct{}
	startOnce sync.Once
	ready     chan struct{}
	end       chan struct{}

	mu      sync.Mutex
	last    support.Status
	running bool
	quit    bool
	state   *systray.MenuItem
	left    *systray.MenuItem
	views   trayViews
	// activity is the list of the technician's actions (activity_windows.go).
	activity trayActivity
}

// NewTray returns a tray that appears on the first ShowStatus.
func NewTray() *Tray {
	return &Tray{start: make(chan struct{}), ready: make(chan struct{}), end: make(chan struct{}, 1)}
}

// Run runs the tray's message loop on the calling goroutine (main, whose
// thread systray locks) once the session starts, until Quit; it returns
// at once if done closes first.
func (t *Tray) Run(done <-chan struct{}) {
	select {
	case <-done:
		return
	case <-t.start:
	}
	t.mu.Lock()
	if t.quit {
		t.mu.Unlock()
		return
	}
	t.running = true
	t.mu.Unlock()
	// systray gives up for good if the taskbar is not there when it adds
	// its icon (at sign-in the tray helper may start before Explorer), so
	// it starts only once the taskbar exists. Explorer restarts later are
	// handled by systray itself: this process is not elevated, so it
	// receives TaskbarCreated.
	if !waitForTaskbar(done) {
		return
	}
	systray.Run(t.onReady, nil)
}

// Quit removes the icon and ends Run.
func (t *Tray) Quit() {
	t.mu.Lock()
	t.quit = true
	running := t.running
	t.mu.Unlock()
	if running {
		// systray.Quit before its window exists would be lost; a tray that
		// never got its window (no taskbar yet) is not waited for forever.
		select {
		case <-t.ready:
			systray.Quit()
		case <-time.After(5 * time.Second):
		}
	}
}

func (t *Tray) onReady() {
	systray.SetIcon(trayIcon)
	systray.SetTitle("Ad Hoc Support Session")
	t.state = systray.AddMenuItem("", "")
	t.state.Disable()
	t.left = systray.AddMenuItem("", "")
	t.left.Disable()
	if t.OnChat != nil {
		chatItem := systray.AddMenuItem("Chat with your technician", "Opens the chat window")
		go func() {
			for range chatItem.ClickedCh {
				t.OnChat()
			}
		}()
	}
	t.addViewItem()
	t.addActivityItems()
	systray.AddSeparator()
	endItem := systray.AddMenuItem("End support session and remove app", "Removes the support account and this app now")
	close(t.ready)
	t.mu.Lock()
	s := t.last
	t.mu.Unlock()
	t.apply(s)
	go func() {
		for range endItem.ClickedCh {
			if messageBox("Ad Hoc Support Session", "End the support session now? Your technician will be disconnected, the "+
				support.AccountName+" account will be removed, and this app will delete itself.",
				mbYesNo|mbIconWarning|mbDefButton2|mbSetForeground|mbTopmost) != idYes {
				continue
			}
			select {
			case t.end <- struct{}{}:
			default:
			}
			return
		}
	}()
}

// ShowStatus shows s, starting the tray the first time.
func (t *Tray) ShowStatus(s support.Status) {
	t.mu.Lock()
	t.last = s
	t.mu.Unlock()
	t.startOnce.Do(func() { close(t.start) })
	select {
	case <-t.ready:
		t.apply(s)
	default: // onReady applies the latest status
	}
}

func (t *Tray) apply(s support.Status) {
	t.state.SetTitle(string(s.State) + " — " + s.Technician.Name)
	t.left.SetTitle(support.TimeLeft(s.TimeLeft) + " (until " + s.ExpiresAt.Local().Format("Mon 15:04") + ")")
	systray.SetTooltip("Ad Hoc Support Session: " + string(s.State) + ", " + support.TimeLeft(s.TimeLeft))
}

// EndRequested delivers the user's confirmed choice to end the session.
func (t *Tray) EndRequested() <-chan struct{} { return t.end }

var procFindWindowW = windows.NewLazySystemDLL("user32.dll").NewProc("FindWindowW")

// waitForTaskbar waits until the taskbar window (Shell_TrayWnd) exists, or
// done is closed (false).
func waitForTaskbar(done <-chan struct{}) bool {
	class := wptr("Shell_TrayWnd")
	for {
		// Without FindWindowW there is nothing to wait with: go on.
		if h, _, err := call(procFindWindowW, uintptr(unsafe.Pointer(class)), 0); err != nil || h != 0 {
			return true
		}
		select {
		case <-done:
			return false
		case <-time.After(time.Second):
		}
	}
}
