package remote

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/wire"
	"adhocstation/core/wire/frame"
)

// The remote screen: a stream attached to the remote session like a
// command's. The PC sends binary messages (frames, screen info, clipboard,
// stop); the station sends JSON control lines (acks, input, settings).

// Why a screen view ended.
var (
	ErrScreenStoppedByUser = refusal.New("screen_stopped", "The user stopped screen viewing from the Support Session icon. Ask them before starting it again.")
	ErrScreenGarbled       = refusal.New("screen_garbled", "The PC sent screen data this station cannot read, so viewing stopped. Start viewing again; if it keeps happening, the PC's Support Session app may not match this station.")
	ErrScreenStalled       = refusal.New("screen_stalled", "The PC stopped taking the station's mouse, keyboard and acknowledgements, so viewing stopped. Start viewing again; if it keeps happening, check the PC's network.")
)

// ScreenHandlers receive what a screen stream brings, all on the stream's
// reader goroutine, one at a time. Any may be nil.
type ScreenHandlers struct {
	// Frame gets the whole captured image after each frame and the regions
	// that changed. img is reused for the next frame once Frame returns, so
	// Frame copies what it keeps; the frame is acknowledged after it
	// returns, which paces the PC to what the viewer keeps up with.
	Frame func(img *image.RGBA, dirty []image.Rectangle)
	// Info gets the monitors and captured size, first and on every change.
	Info func(wire.ScreenInfo)
	// Clipboard gets the PC's clipboard text when it changes (Control on).
	Clipboard func(text string)
	// Stopped is called once when the stream ends other than by Close:
	// ErrScreenStoppedByUser, the PC's sentence (code "pc_refused"),
	// ErrScreenGarbled, ErrScreenStalled or ErrRemoteGone.
	Stopped func(err error)
}

// Screen is one screen stream of a remote session.
type Screen struct {
	conn   net.Conn
	h      ScreenHandlers
	out    chan []byte   // control lines, written in order by one writer
	done   chan struct{} // closed by Close or when the reader ends
	once   sync.Once
	closed atomic.Bool // Close was called: the end is not reported
	info   atomic.Pointer[wire.ScreenInfo]
	// The newest frame shown, acknowledged by the writer: acks are
	// cumulative, so one waiting ack stands for all before it and a PC
	// sending frames faster than it reads cannot fill the queue.
	ack     atomic.Uint32
	acked   chan struct{} // capacity 1: an ack is waiting
	stalled atomic.Bool   // ended because the PC stopped reading
	rec     Recorder
	// What the recording was told is on, so that its end records control
	// off and viewing off once, in that order, whichever of Close, the
	// reader's end or the remote session's Close comes first.
	recMu     sync.Mutex
	recEnded  bool
	controlOn bool
}

// maxMonitors bounds the monitors a PC may list: the Screen tab offers
// each in a choice.
const maxMonitors = 64

// screenQueue is how many control lines may wait for the writer. The
// callers are the window's: a full queue means the PC stopped reading, and
// the view ends (ErrScreenStalled) rather than the window waiting.
const screenQueue = 256

// screenWriteWait bounds one control line's write: a PC that takes
// nothing for this long has stopped reading, and the view ends.
const screenWriteWait = 10 * time.Second

// Screen opens a screen stream on the PC with open's settings and calls
// h as the PC sends. Refusals: ErrRemoteGone, ErrOldAppScreen, or the PC's sentence (code
// "pc_refused") when its screen cannot be reached.
func (r *RemoteSession) Screen(ctx context.Context, open wire.ScreenOpen, h ScreenHandlers) (*Screen, error) {
	conn, in, res, err := r.attach(ctx, wire.SignIn{Screen: &open}, 256<<10)
	if err != nil {
		if res.Message != "" {
			return nil, &refusal.Error{Code: "pc_refused", Message: res.Message}
		}
		return nil, err
	}
	s := &Screen{conn: conn, h: h, out: make(chan []byte, screenQueue), done: make(chan struct{}), acked: make(chan struct{}, 1), rec: r.recorder()}
	// The session's Close finds the view in running and records its end
	// before the recording is sealed; recMu keeps a view starting during
	// Close wholly before it or wholly out of the recording.
	r.recMu.Lock()
	if r.closed.Load() {
		s.recEnded = true
	} else {
		s.rec.Screen(true)
		r.running.Store(conn, s)
	}
	r.recMu.Unlock()
	go s.write()
	go func() {
		err := s.read(in)
		s.recordEnd()
		r.running.Delete(conn)
		s.end()
		if s.stalled.Load() {
			err = ErrScreenStalled
		}
		if !s.closed.Load() && s.h.Stopped != nil {
			s.h.Stopped(err)
		}
	}()
	return s, nil
}

// Info returns the latest screen info (zero before the first).
func (s *Screen) Info() wire.ScreenInfo {
	if p := s.info.Load(); p != nil {
		return *p
	}
	return wire.ScreenInfo{}
}

// Input sends a mouse or keyboard event (the PC honours it while Control
// is on).
func (s *Screen) Input(ev wire.InputEvent) { s.send(wire.ScreenControl{Input: &ev}) }

// SetControl switches input and clipboard on or off.
func (s *Screen) SetControl(on bool) {
	s.recMu.Lock()
	if !s.recEnded && s.controlOn != on {
		s.controlOn = on
		s.rec.Control(on)
	}
	s.recMu.Unlock()
	s.send(wire.ScreenControl{Control: &on})
}

// recordEnd records the view's end once: control off if it was on, then
// viewing off. Nothing about the view is recorded after it.
func (s *Screen) recordEnd() {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if s.recEnded {
		return
	}
	s.recEnded = true
	if s.controlOn {
		s.controlOn = false
		s.rec.Control(false)
	}
	s.rec.Screen(false)
}

// SetMaxFPS caps the frame rate (1..60).
func (s *Screen) SetMaxFPS(fps int) { s.send(wire.ScreenControl{MaxFPS: min(max(fps, 1), 60)}) }

// SetMonitor captures another monitor, or wire.AllMonitors.
func (s *Screen) SetMonitor(m int) { s.send(wire.ScreenControl{Monitor: &m}) }

// ErrClipboardTooLong refuses clipboard text longer than a control line.
var ErrClipboardTooLong = refusal.New("clipboard_too_long", "The clipboard holds too much text to send to the PC (at most about 1 MB). Copy less and try again.")

// SetClipboard gives the PC the technician's clipboard text; text over
// wire.MaxScreenControl is not sent (ErrClipboardTooLong).
func (s *Screen) SetClipboard(text string) error {
	c := wire.ScreenControl{Clipboard: &text}
	if b, _ := json.Marshal(c); len(b) >= wire.MaxScreenControl {
		return ErrClipboardTooLong
	}
	s.rec.Clipboard(text, true)
	s.send(c)
	return nil
}

// SendSAS asks the PC for Ctrl+Alt+Del.
func (s *Screen) SendSAS() {
	s.rec.SAS()
	s.send(wire.ScreenControl{SAS: true})
}

// Refresh asks for a full frame.
func (s *Screen) Refresh() { s.send(wire.ScreenControl{Refresh: true}) }

// Close ends the view; the PC stops capturing. Stopped is not called.
func (s *Screen) Close() error {
	s.closed.Store(true)
	s.end()
	s.recordEnd() // now, not when the reader notices: the session may be sealed by then
	return nil
}

func (s *Screen) end() {
	s.once.Do(func() {
		close(s.done)
		s.conn.Close()
	})
}

// send queues one control line without waiting; after the end it is
// dropped, and a full queue ends the view.
func (s *Screen) send(c wire.ScreenControl) {
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	select {
	case <-s.done:
	case s.out <- append(b, '\n'):
	default:
		s.stall()
	}
}

// stall ends a view whose PC stopped reading.
func (s *Screen) stall() {
	s.stalled.Store(true)
	s.end()
}

// write is the one writer of the stream, so lines never interleave and
// the Fyne goroutine never waits on the network.
func (s *Screen) write() {
	for {
		var b []byte
		select {
		case b = <-s.out:
		case <-s.acked:
			b, _ = json.Marshal(wire.ScreenControl{Ack: s.ack.Load()})
			b = append(b, '\n')
		case <-s.done:
			return
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(screenWriteWait))
		if _, err := s.conn.Write(b); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				s.stalled.Store(true)
			}
			s.end()
			return
		}
	}
}

// read handles the PC's messages until the stream ends and says why.
func (s *Screen) read(in *bufio.Reader) error {
	var (
		hdr [wire.ScreenHeader]byte
		buf []byte
		dec frame.Decoder
		img *image.RGBA
	)
	for {
		if _, err := io.ReadFull(in, hdr[:]); err != nil {
			if s.closed.Load() {
				return nil
			}
			return ErrRemoteGone
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > wire.MaxScreenMessage {
			return ErrScreenGarbled
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(in, buf); err != nil {
			if s.closed.Load() {
				return nil
			}
			return ErrRemoteGone
		}
		switch hdr[0] {
		case wire.ScreenFrame:
			var (
				fi  frame.Info
				err error
			)
			img, fi, err = dec.Apply(img, buf)
			if err != nil {
				return ErrScreenGarbled
			}
			s.recMu.Lock() // a frame read as the view closed stays out: viewing off is the end
			if !s.recEnded {
				s.rec.Frame(buf, img)
			}
			s.recMu.Unlock()
			if s.h.Frame != nil {
				s.h.Frame(img, fi.Regions)
			}
			s.ack.Store(fi.Seq)
			select {
			case s.acked <- struct{}{}:
			default: // an ack is waiting already; it will carry this one
			}
		case wire.ScreenInfoKind:
			var info wire.ScreenInfo
			if json.Unmarshal(buf, &info) != nil || info.Width < 0 || info.Height < 0 || len(info.Monitors) > maxMonitors {
				return ErrScreenGarbled
			}
			info.Clean()
			s.info.Store(&info)
			if s.h.Info != nil {
				s.h.Info(info)
			}
		case wire.ScreenClipboard:
			var c wire.ClipboardText
			if json.Unmarshal(buf, &c) != nil {
				return ErrScreenGarbled
			}
			s.rec.Clipboard(c.Text, false)
			if s.h.Clipboard != nil {
				s.h.Clipboard(c.Text)
			}
		case wire.ScreenStopped:
			var stop wire.ScreenStop
			if json.Unmarshal(buf, &stop) != nil {
				return ErrScreenGarbled
			}
			return stopReason(stop)
		default:
			return ErrScreenGarbled
		}
	}
}

// stopReason turns the PC's stop message into the sentence the view shows.
func stopReason(stop wire.ScreenStop) error {
	if stop.Reason == wire.ScreenStoppedByUser {
		return ErrScreenStoppedByUser
	}
	if stop.Message == "" {
		return ErrRemoteGone
	}
	return &refusal.Error{Code: "pc_refused", Message: wire.CleanShown(stop.Message)}
}
