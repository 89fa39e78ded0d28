package support

import (
	"bufio"
	"encoding/json"
	"net"
	"time"

	"adhocstation/agent/screen"
	"adhocstation/core/wire"
)

// Viewer is the part of a UI that tells the user their screen is viewed
// and lets them stop it. It is separate from UI so the UIs that have no
// tray (setup, console) need not implement it; the Hub does, passing both
// ways to the tray helpers.
type Viewer interface {
	// Viewing tells the user who started (on) or stopped viewing.
	Viewing(who string, on bool)
	// StopViewingRequested returns a channel that is closed when the user
	// asks to stop every view of their screen; ask again for the next one.
	StopViewingRequested() <-chan struct{}
}

// stopGrace is how long a view may take to send ScreenStopped after the
// user's stop before its stream is closed under it.
const stopGrace = 2 * time.Second

// screens is the screen.Host the App uses: Screens, or screen.Local on
// OpenDesktop, or nil when this PC cannot show its screen.
func (a *App) screens() screen.Host {
	switch {
	case a.Screens != nil:
		return a.Screens
	case a.OpenDesktop != nil:
		return screen.Local{Open: a.OpenDesktop}
	}
	return nil
}

// serveScreen serves a screen stream attached to a remote session. The
// user's tray says who is viewing, and its "Stop viewing" ends the view.
func (a *App) serveScreen(conn net.Conn, r *bufio.Reader, in wire.SignIn, technician string) {
	enc := json.NewEncoder(conn)
	host := a.screens()
	if host == nil {
		_ = enc.Encode(wire.SignInResult{Code: wire.CodeInternal, Message: "this PC cannot show its screen"})
		return
	}
	_ = conn.SetDeadline(time.Time{})
	if enc.Encode(wire.SignInResult{OK: true}) != nil {
		return
	}
	who := in.Technician
	if who == "" {
		who = technician
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	viewer, _ := a.UI.(Viewer)
	if viewer != nil {
		requested := viewer.StopViewingRequested()
		go func() {
			select {
			case <-requested:
				a.Log.Printf("the user stopped %s viewing the screen", who)
				close(stop)
				// A view stuck writing to a station that stopped reading
				// still ends: the user's stop must hold.
				select {
				case <-done:
				case <-time.After(stopGrace):
					conn.Close()
				}
			case <-done:
			}
		}()
		viewer.Viewing(who, true)
		defer viewer.Viewing(who, false)
	}
	a.Log.Printf("%s started viewing the screen", who)
	view := a.watchScreen(who, *in.Screen, r, conn) // the activity list reads along
	err := host.Serve(who, *in.Screen, view, stop)
	view.ended(stop)
	if err != nil {
		a.Log.Printf("the screen view of %s ended: %v", who, err)
	} else {
		a.Log.Printf("%s stopped viewing the screen", who)
	}
}
