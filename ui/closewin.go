package ui

import (
	"time"

	"fyne.io/fyne/v2"
)

// closeSettle is how long a window is hidden before it is closed.
//
// Fyne 2.7.1's GLFW driver panics when a pointer move reaches a window
// between Close (after which the window has no view) and the event loop
// destroying it, if the move changes the cursor: processMouseMoved calls
// SetInputMode on the missing view (fyne-io/fyne#5981). CI hit it on a
// SIGTERM right after start; SIGTERM while the pointer moved over the window
// crashed the station 2 times in 20. A hidden window gets no new pointer
// events, so those already queued are handled while it still has its view,
// and the close that follows meets none.
var closeSettle = 100 * time.Millisecond

// closeSafely closes w as w.Close does, hidden first (see closeSettle).
func closeSafely(w fyne.Window) { closeAfter(w, closeSettle) }

func closeAfter(w fyne.Window, settle time.Duration) {
	if settle <= 0 {
		w.Close()
		return
	}
	w.Hide()
	time.AfterFunc(settle, func() { fyne.Do(w.Close) })
}

// Quit ends the app as a.Quit does, with every window hidden first (see
// closeSettle). Call it on Fyne's goroutine.
func Quit(a fyne.App) { quitAfter(a, closeSettle) }

func quitAfter(a fyne.App, settle time.Duration) {
	if settle <= 0 {
		a.Quit()
		return
	}
	for _, w := range a.Driver().AllWindows() {
		w.Hide()
	}
	time.AfterFunc(settle, func() { fyne.Do(a.Quit) })
}

// closeHidden makes the window manager's close button close w hidden
// first, for windows that have no other close intercept.
func closeHidden(w fyne.Window) { w.SetCloseIntercept(func() { closeSafely(w) }) }
