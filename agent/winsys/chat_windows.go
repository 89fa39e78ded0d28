package winsys

import (
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/core/wire"
)

var (
	procCreateDialogIndirectParamW = user32.NewProc("CreateDialogIndirectParamW")
	procIsDialogMessageW           = user32.NewProc("IsDialogMessageW")
	procGetMessageW                = user32.NewProc("GetMessageW")
	procTranslateMessage           = user32.NewProc("TranslateMessage")
	procDispatchMessageW           = user32.NewProc("DispatchMessageW")
	procPostMessageW               = user32.NewProc("PostMessageW")
	procShowWindow                 = user32.NewProc("ShowWindow")
	procSetForegroundWindow        = user32.NewProc("SetForegroundWindow")
	procGetForegroundWindow        = user32.NewProc("GetForegroundWindow")
	procIsWindowVisible            = user32.NewProc("IsWindowVisible")
	procIsIconic                   = user32.NewProc("IsIconic")
	procFlashWindowEx              = user32.NewProc("FlashWindowEx")
	procSetDlgItemTextW            = user32.NewProc("SetDlgItemTextW")
)

// Messages and flags of the chat window (winuser.h).
const (
	wmChatUpdate     = 0x8000 + 1 // WM_APP+1: pending lines or a show request
	wmGetTextLength  = 0x000E
	emSetSel         = 0x00B1
	emReplaceSel     = 0x00C2
	emScrollCaret    = 0x00B7
	swHide           = 0
	swShowNoActivate = 4
	swShow           = 5
	swRestore        = 9
	flashwAll        = 3
	flashwTimerNoFG  = 12
)

// How a change shows the window.
const (
	chatQuiet = iota // a line added to a window as it is
	chatFlash        // a technician's message: shown without taking the keyboard, flashed
	chatFront        // the user chose "Chat with your technician": in front
)

// ChatWindow is the user's chat with the technician: a modeless dialog
// (read-only transcript, a one-line entry, Send; Enter sends) on a thread
// of its own with its own message loop, created on first use. Closing it
// only hides it. There is one per tray helper process.
type ChatWindow struct {
	sent    chan string
	once    sync.Once
	created chan struct{}

	mu      sync.Mutex
	hwnd    uintptr
	pending []string
	show    int
}

var (
	chatWin   *ChatWindow // the window the dialog procedure serves
	chatProc  uintptr
	chatSetup sync.Once
)

// NewChatWindow returns the process's chat window (not shown yet).
func NewChatWindow() *ChatWindow {
	chatSetup.Do(func() {
		chatWin = &ChatWindow{sent: make(chan string, 16), created: make(chan struct{})}
		chatProc = windows.NewCallback(chatDialogProc)
	})
	return chatWin
}

// ShowChat adds the technician's message (or a notice) and shows the
// window without taking the keyboard from what the user is typing
// elsewhere; its taskbar button flashes until the user looks.
func (w *ChatWindow) ShowChat(m wire.ChatMessage) { w.post(chatLines(m, false), chatFlash) }

// Open brings the window to the front (the tray menu's item).
func (w *ChatWindow) Open() { w.post("", chatFront) }

// ChatSent delivers each message the user sends.
func (w *ChatWindow) ChatSent() <-chan string { return w.sent }

func (w *ChatWindow) post(text string, show int) {
	w.once.Do(func() { go w.loop() })
	<-w.created
	w.mu.Lock()
	if text != "" {
		w.pending = append(w.pending, text)
	}
	w.show = max(w.show, show)
	hwnd := w.hwnd
	w.mu.Unlock()
	if hwnd != 0 {
		procPostMessageW.Call(hwnd, wmChatUpdate, 0, 0)
		return
	}
	if text != "" { // no window could be made: the message is not lost
		go messageBox(chatTitle, strings.ReplaceAll(text, "\r\n    ", "\r\n"), mbOK|mbIconInfo|mbSetForeground)
	}
}

// chatProcs are the exports the chat window calls (see call).
var chatProcs = []*windows.LazyProc{
	procCreateDialogIndirectParamW, procDispatchMessageW, procFlashWindowEx, procGetDlgItemTextW,
	procGetForegroundWindow, procGetMessageW, procIsDialogMessageW, procIsIconic, procIsWindowVisible,
	procPostMessageW, procSendDlgItemMessageW, procSetDlgItemTextW, procSetForegroundWindow,
	procShowWindow, procTranslateMessage,
}

// loop creates the dialog and runs its thread's message loop; the window
// belongs to this thread for its whole life.
func (w *ChatWindow) loop() {
	runDialog(chatTemplate(), chatProc, &w.mu, &w.hwnd, w.created)
}

// runDialog creates the modeless dialog tmpl with proc on this thread,
// stores its handle in *hwnd (under mu) and closes created, then runs the
// thread's message loop for the window's whole life. With no window (the
// exports are missing or creation failed) *hwnd stays 0 and the caller
// shows its text in message boxes instead. The chat and activity windows
// share it.
func runDialog(tmpl []uint16, proc uintptr, mu *sync.Mutex, hwnd *uintptr, created chan struct{}) {
	if exported(chatProcs...) != nil {
		close(created)
		return
	}
	runtime.LockOSThread()
	var module windows.Handle
	_ = windows.GetModuleHandleEx(0, nil, &module)
	h, _, _ := procCreateDialogIndirectParamW.Call(uintptr(module), uintptr(unsafe.Pointer(&tmpl[0])), 0, proc, 0)
	runtime.KeepAlive(tmpl)
	mu.Lock()
	*hwnd = h
	mu.Unlock()
	close(created)
	if h == 0 {
		return
	}
	dialogLoop(h)
}

// dialogLoop runs the thread's message loop for the modeless dialog hwnd
// until WM_QUIT: Tab, Enter (the default button) and Esc work as in any
// dialog.
func dialogLoop(hwnd uintptr) {
	var m struct {
		hwnd    uintptr
		message uint32
		wParam  uintptr
		lParam  uintptr
		time    uint32
		x, y    int32
		private uint32
	}
	for {
		r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		if int32(r) <= 0 {
			return
		}
		if done, _, _ := procIsDialogMessageW.Call(hwnd, uintptr(unsafe.Pointer(&m))); done != 0 {
			continue
		}
		procTranslateMessage.Call(uintptr(unsafe.Pointer(&m)))
		procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
	}
}

func chatDialogProc(hwnd, msg, wparam, lparam uintptr) uintptr {
	w := chatWin
	switch msg {
	case wmInitDialog:
		procSendDlgItemMessageW.Call(hwnd, idChatEntry, emLimitText, wire.MaxChatText, 0)
		procSendDlgItemMessageW.Call(hwnd, idChatTranscript, emLimitText, 0, 0) // no limit on what is shown
		return 1
	case wmChatUpdate:
		w.apply(hwnd)
		return 1
	case wmCommand:
		switch wparam & 0xffff {
		case idOK:
			w.sendEntry(hwnd)
			return 1
		case idCancel: // Esc or the close box: hidden, the transcript kept
			procShowWindow.Call(hwnd, swHide)
			return 1
		}
	}
	return 0
}

// apply adds the pending lines and shows the window as asked.
func (w *ChatWindow) apply(hwnd uintptr) {
	w.mu.Lock()
	lines, show := w.pending, w.show
	w.pending, w.show = nil, chatQuiet
	w.mu.Unlock()
	for _, text := range lines {
		appendTranscript(hwnd, text)
	}
	visible, _, _ := procIsWindowVisible.Call(hwnd)
	iconic, _, _ := procIsIconic.Call(hwnd)
	switch show {
	case chatFront:
		if iconic != 0 {
			procShowWindow.Call(hwnd, swRestore)
		} else {
			procShowWindow.Call(hwnd, swShow)
		}
		procSetForegroundWindow.Call(hwnd)
	case chatFlash:
		if visible == 0 {
			procShowWindow.Call(hwnd, swShowNoActivate)
		}
		if fg, _, _ := procGetForegroundWindow.Call(); fg != hwnd {
			info := struct {
				size    uint32
				hwnd    uintptr
				flags   uint32
				count   uint32
				timeout uint32
			}{hwnd: hwnd, flags: flashwAll | flashwTimerNoFG}
			info.size = uint32(unsafe.Sizeof(info))
			procFlashWindowEx.Call(uintptr(unsafe.Pointer(&info)))
		}
	}
}

// sendEntry passes on what the user typed and shows it in the transcript.
func (w *ChatWindow) sendEntry(hwnd uintptr) {
	buf := make([]uint16, wire.MaxChatText+2)
	procGetDlgItemTextW.Call(hwnd, idChatEntry, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	text := windows.UTF16ToString(buf)
	if strings.TrimSpace(text) == "" {
		return
	}
	select {
	case w.sent <- text:
		appendTranscript(hwnd, chatLines(wire.ChatMessage{Text: text, At: time.Now()}, true))
		procSetDlgItemTextW.Call(hwnd, idChatEntry, uintptr(unsafe.Pointer(wstr(""))))
	default: // the service is not reading: keep the text for another try
		appendTranscript(hwnd, chatLines(wire.ChatMessage{Notice: "Your message could not be passed on yet. Press Send again in a moment."}, false))
	}
}

// appendTranscript adds text at the end of the transcript and scrolls to it.
func appendTranscript(hwnd uintptr, text string) {
	n, _, _ := procSendDlgItemMessageW.Call(hwnd, idChatTranscript, wmGetTextLength, 0, 0)
	procSendDlgItemMessageW.Call(hwnd, idChatTranscript, emSetSel, n, n)
	procSendDlgItemMessageW.Call(hwnd, idChatTranscript, emReplaceSel, 0, uintptr(unsafe.Pointer(wstr(text))))
	procSendDlgItemMessageW.Call(hwnd, idChatTranscript, emScrollCaret, 0, 0)
}
