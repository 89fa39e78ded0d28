package screen

import (
	"io"

	"adhocstation/core/wire"
)

// Local serves screen streams in this process on a Desktop opened for
// each: Linux, tests, and the Windows screen helper itself.
type Local struct {
	Open func() (Desktop, error)
}

// Serve runs the package's Serve on a new Desktop.
func (l Local) Serve(technician string, open wire.ScreenOpen, stream io.ReadWriter, stop <-chan struct{}) error {
	d, err := l.Open()
	if err != nil {
		stopScreen(stream, "The PC's screen cannot be reached: "+err.Error()+".")
		return err
	}
	defer d.Close()
	return Serve(stream, d, open, stop)
}

// stopScreen sends the one message a screen stream ends with when it
// cannot even start.
func stopScreen(w io.Writer, message string) {
	s := &screen{w: w}
	_ = s.send(wire.ScreenStopped, wire.ScreenStop{Reason: wire.ScreenStoppedError, Message: message})
}
