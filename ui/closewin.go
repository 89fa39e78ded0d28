package ui

import (
	"sync"
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
	time.AfterFunc(settle, func() { doUI(w.Close) })
}

// Quit ends the app as a.Quit does, with every window hidden first (see
// closeSettle). Call it on Fyne's goroutine.
func Quit(a fyne.App) { quitAfter(a, closeSettle) }

func quitAfter(a fyne.App, settle time.Duration) {
	if settle <= 0 {
		a.Quit()
		return
	}
	endUI(a)
	for _, w := range a.Driver().AllWindows() {
		w.Hide()
	}
	time.AfterFunc(settle, func() { fyne.Do(a.Quit) })
}

// endedApp is the app whose station window shut down or which was told
// to quit. Fyne 2.7.1 runs a fyne.Do that comes after its loop ended on the
// caller's goroutine, after GLFW was terminated, so a late result or tick
// touching a widget panicked with GLFW's NotInitialized (1 close in 210 of
// .ci/close-race.sh). doUI drops such work instead. It names the app, not
// a flag, because tests run many apps, one after the other, in a process.
var endedApp struct {
	sync.Mutex
	app fyne.App
}

// endUI marks a's screens as closing: doUI runs nothing more for it.
func endUI(a fyne.App) {
	endedApp.Lock()
	endedApp.app = a
	endedApp.Unlock()
}

func uiHasEnded() bool {
	a := fyne.CurrentApp()
	endedApp.Lock()
	defer endedApp.Unlock()
	return a != nil && endedApp.app == a
}

// doUI is fyne.Do for work that only updates the screen: nothing runs
// once the station's window is closing.
func doUI(f func()) {
	fyne.Do(func() {
		if uiHasEnded() {
			return
		}
		f()
	})
}

// closeHidden makes the window manager's close button close w hidden
// first, for windows that have no other close intercept.
func closeHidden(w fyne.Window) { w.SetCloseIntercept(func() { closeSafely(w) }) }
