package remote

import (
	"image"
	"sync/atomic"

	"adhocstation/core/wire"
)

// Recorder keeps the session's recording (core/record). The remote session
// calls it as things happen, on whichever goroutine they happen: no method
// may block on the disk, or the session would wait for it.
type Recorder interface {
	// Frame gets a screen frame's payload as received and the image after
	// applying it; both are reused once Frame returns.
	Frame(payload []byte, img *image.RGBA)
	Screen(on bool)  // screen viewing started or ended
	Control(on bool) // the technician's mouse and keyboard switched on or off
	// Clipboard gets clipboard text sent to the PC (toPC) or from it.
	Clipboard(text string, toPC bool)
	SAS() // Ctrl+Alt+Del sent
	Command(id int64, shell, line string)
	Output(id int64, text []byte)
	CommandEnd(id int64, err error)
	// Chat gets every message shown in the chat, sent says whether the
	// technician wrote it.
	Chat(m wire.ChatMessage, sent bool)
	Transfer(t Transfer)
	// Close ends the recording once the remote session closed; sealing
	// it happens after Close returns.
	Close()
}

// Transfer is a finished (or failed) file transfer, as recorded: names,
// size and checksum, never the contents.
type Transfer struct {
	Upload bool
	Remote string // the path on the PC
	Local  string // the path on the station
	Size   int64
	SHA256 string // hex; empty when the transfer failed
	Err    error
}

// SetRecorder makes rec record this session; call it before the window
// opens streams. Close closes rec.
func (r *RemoteSession) SetRecorder(rec Recorder) { r.rec.Store(&rec) }

// Recorder is the session's recorder, or nil when it is not recorded.
func (r *RemoteSession) Recorder() Recorder {
	if p := r.rec.Load(); p != nil {
		return *p
	}
	return nil
}

// recorder never returns nil, so callers need no check.
func (r *RemoteSession) recorder() Recorder {
	if rec := r.Recorder(); rec != nil {
		return rec
	}
	return noRecorder{}
}

var commandIDs atomic.Int64

type noRecorder struct{}

func (noRecorder) Frame([]byte, *image.RGBA)     {}
func (noRecorder) Screen(bool)                   {}
func (noRecorder) Control(bool)                  {}
func (noRecorder) Clipboard(string, bool)        {}
func (noRecorder) SAS()                          {}
func (noRecorder) Command(int64, string, string) {}
func (noRecorder) Output(int64, []byte)          {}
func (noRecorder) CommandEnd(int64, error)       {}
func (noRecorder) Chat(wire.ChatMessage, bool)   {}
func (noRecorder) Transfer(Transfer)             {}
func (noRecorder) Close()                        {}
