// Package screen is what the PC serves on a screen stream: the Desktop
// (capture and input) it is served from, Serve's capture loop, and, for
// Windows, where the desktop is in another process, the service's Relay
// and the screen helper's side of the pipe (Helper). Of this module it
// imports only core/wire and agent/applog, so the session flow
// (agent/support) and the desktops (agent/winsys, agent/x11desk) both
// import it.
package screen

import (
	"errors"
	"image"
	"io"

	"adhocstation/core/wire"
)

// Desktop is where the user's screen is: capture and input. A Windows
// service runs in session 0 and sees only black, so on Windows the service
// reaches the desktop through the screen helper it starts in the active
// console session (winsys); in tests it is an X11 display (Xvfb).
type Desktop interface {
	// Info lists the monitors and says which input desktop is showing
	// (winlogon for the sign-in screen and UAC prompts) and whether
	// Ctrl+Alt+Del can be sent.
	Info() (wire.ScreenInfo, error)
	// Capture copies the monitor's pixels (or the bounding box of all of
	// them for wire.AllMonitors) into dst, reallocating it when the size
	// changed, and returns it.
	Capture(monitor int, dst *image.RGBA) (*image.RGBA, error)
	// Inject replays a technician's input event on the monitor's image
	// coordinates.
	Inject(monitor int, ev wire.InputEvent) error
	// Clipboard returns the text clipboard; SetClipboard replaces it.
	Clipboard() (string, error)
	SetClipboard(text string) error
	// SendSAS sends Ctrl+Alt+Del, or returns ErrSASUnavailable with the
	// reason (on Windows the SoftwareSASGeneration policy).
	SendSAS() error
	Close() error
}

// ErrNoDesktop comes from OpenDesktop when nobody's screen can be reached
// (no console session, the helper could not start).
var ErrNoDesktop = errors.New("the PC's screen cannot be reached")

// ErrSASUnavailable comes from SendSAS when Windows does not allow it.
var ErrSASUnavailable = errors.New("this PC does not allow sending Ctrl+Alt+Del")

// Host serves the screen streams of a remote session. In tests and
// on Linux the stream is served in this process (Serve with a
// Desktop); on Windows the service hands each stream to the screen helper
// in the console session, which runs Serve there, next to the
// desktop, and draws the banner that names the technician.
//
// Serve (serve.go) is the one loop both use:
//
//	func Serve(rw io.ReadWriter, d Desktop, open wire.ScreenOpen, stop <-chan struct{}) error
//
// It captures d at most open.MaxFPS times a second, sends the regions that
// changed (core/wire/frame), applies the station's control lines, and
// returns when rw closes, d fails, or stop is closed (the user stopped the
// viewing from the tray: it sends wire.ScreenStopped first).
type Host interface {
	// Serve runs one screen stream for technician until it ends.
	Serve(technician string, open wire.ScreenOpen, stream io.ReadWriter, stop <-chan struct{}) error
}
