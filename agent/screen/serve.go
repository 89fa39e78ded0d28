package screen

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"reflect"
	"time"
	"unicode"

	"adhocstation/core/wire"
	screenframe "adhocstation/core/wire/frame"
)

// How Serve paces itself.
const (
	clipboardEvery = 500 * time.Millisecond // the PC's clipboard is polled ~2/s while Control is on
	infoEvery      = time.Second            // monitors are checked for changes
	qualityEvery   = 500 * time.Millisecond // JPEG quality moves at most this often
	// A screen that has not changed for idleAfter, with no input, is
	// looked at only every idleEvery: capturing a still 1080p screen 30
	// times a second costs a third of a core for nothing.
	idleAfter = time.Second
	idleEvery = 100 * time.Millisecond
	// inputSettle is how long after the technician's input an idle screen
	// is looked at: long enough for a program to paint its answer.
	inputSettle = 5 * time.Millisecond
	minQuality  = 25
	maxQuality  = 80
)

// Serve serves one screen stream on d until rw closes (nil), d fails
// (the error, after a ScreenStopped the station shows) or stop is closed
// (the user stopped the viewing: ScreenStopped with ScreenStoppedByUser).
// rw's reads must continue where the sign-in line ended. It calls d from
// one goroutine only, so a Desktop need not lock against itself.
func Serve(rw io.ReadWriter, d Desktop, open wire.ScreenOpen, stop <-chan struct{}) error {
	s := &screen{w: rw, d: d, monitor: open.Monitor, control: open.Control,
		enc: screenframe.NewEncoder(), sent: map[uint32]time.Time{}}
	s.setFPS(open.MaxFPS)
	ctrl := make(chan wire.ScreenControl)
	readDone, quit := make(chan struct{}), make(chan struct{})
	defer close(quit)
	go readControls(rw, ctrl, readDone, quit)

	if err := s.sendInfo(true); err != nil {
		return s.fail("The PC could not list its monitors", err)
	}
	if s.control {
		s.clip, _ = d.Clipboard()
	}
	next := time.NewTimer(0)
	defer next.Stop()
	clipTick := time.NewTicker(clipboardEvery)
	defer clipTick.Stop()
	infoTick := time.NewTicker(infoEvery)
	defer infoTick.Stop()
	waiting := false // a capture is due but the ack window is full
	nextAt, lastCapture := time.Now(), time.Time{}
	for {
		select {
		case <-stop:
			return s.send(wire.ScreenStopped, wire.ScreenStop{Reason: wire.ScreenStoppedByUser,
				Message: "The user stopped the screen view from the tray."})
		case <-readDone:
			return nil
		case c := <-ctrl:
			if err := s.apply(c); err != nil {
				return err
			}
			if waiting && s.windowOpen() {
				waiting = false
				next.Reset(0)
			}
			if c.Input != nil && s.control {
				// The technician acts: look again soon (once the program
				// had a moment to paint its answer), at full rate, also
				// when an idle wait was scheduled; never above the cap.
				s.active = time.Now()
				due := lastCapture.Add(s.interval)
				if settle := s.active.Add(inputSettle); settle.After(due) {
					due = settle
				}
				if nextAt.After(due) {
					nextAt = due
					next.Reset(time.Until(due))
				}
			}
		case <-next.C:
			if !s.windowOpen() {
				waiting = true
				continue
			}
			started := time.Now()
			lastCapture = started
			if err := s.frame(); err != nil {
				return err
			}
			wait := max(s.pace()-time.Since(started), 0)
			nextAt = time.Now().Add(wait)
			next.Reset(wait)
		case <-clipTick.C:
			if err := s.pollClipboard(); err != nil {
				return err
			}
		case <-infoTick.C:
			if err := s.sendInfo(false); err != nil {
				return s.fail("The PC could not list its monitors", err)
			}
		}
	}
}

type screen struct {
	w        io.Writer
	d        Desktop
	enc      *screenframe.Encoder
	img      *image.RGBA
	monitor  int
	control  bool
	interval time.Duration
	info     wire.ScreenInfo
	sas      string // the last SendSAS refusal, shown in ScreenInfo
	clip     string // the clipboard text both sides have
	buf      []byte

	acked    uint32
	sent     map[uint32]time.Time // unacked frames and when they left
	rtt      time.Duration        // smoothed time from a frame's send to its ack
	tuned    time.Time            // when the quality last moved
	lastSize image.Point
	active   time.Time // the last change on screen or input
}

// pace is the time between captures: the frame-rate cap, or idleEvery
// when nothing happened for idleAfter.
func (s *screen) pace() time.Duration {
	if time.Since(s.active) > idleAfter {
		return max(s.interval, idleEvery)
	}
	return s.interval
}

func (s *screen) setFPS(fps int) {
	if fps <= 0 {
		fps = wire.DefaultMaxFPS
	}
	fps = min(fps, 60)
	s.interval = time.Second / time.Duration(fps)
}

func (s *screen) windowOpen() bool { return len(s.sent) < wire.ScreenWindow }

// readControls passes the station's lines on until the stream closes.
func readControls(r io.Reader, ctrl chan<- wire.ScreenControl, done chan<- struct{}, quit <-chan struct{}) {
	defer close(done)
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, wire.MaxStreamLine)
	}
	for {
		line, err := wire.ReadLine(br, wire.MaxScreenControl)
		if err != nil {
			return
		}
		var c wire.ScreenControl
		if json.Unmarshal(line, &c) != nil {
			continue // a line this version does not know
		}
		select {
		case ctrl <- c:
		case <-quit:
			return
		}
	}
}

// apply carries out one control line.
func (s *screen) apply(c wire.ScreenControl) error {
	if c.Ack != 0 {
		s.ack(c.Ack)
	}
	if c.Control != nil {
		s.control = *c.Control
		if s.control {
			s.clip, _ = s.d.Clipboard() // a baseline: only later changes are sent
		}
	}
	if c.MaxFPS != 0 {
		s.setFPS(c.MaxFPS)
	}
	if c.Monitor != nil && *c.Monitor != s.monitor {
		s.monitor = *c.Monitor
		s.enc.Refresh()
		if err := s.sendInfo(true); err != nil {
			return s.fail("The PC could not list its monitors", err)
		}
	}
	if c.Refresh {
		s.enc.Refresh()
	}
	if !s.control {
		return nil // input, clipboard and Ctrl+Alt+Del need Control
	}
	if c.Input != nil {
		// A key this desktop cannot type is dropped, not fatal.
		_ = s.d.Inject(s.monitor, *c.Input)
	}
	if c.Clipboard != nil && *c.Clipboard != s.clip {
		if err := s.d.SetClipboard(*c.Clipboard); err == nil {
			s.clip = *c.Clipboard
		}
	}
	if c.SAS {
		sas := ""
		if err := s.d.SendSAS(); err != nil {
			sas = sentence(err)
		}
		if sas != s.sas {
			s.sas = sas
			return s.sendInfo(true)
		}
	}
	return nil
}

// ack frees the window up to seq and tunes JPEG quality by how long the
// acks took: a link that keeps frames in flight longer than two frame
// intervals gets smaller frames.
func (s *screen) ack(seq uint32) {
	now := time.Now()
	for n, at := range s.sent {
		if n <= seq {
			rtt := now.Sub(at)
			if s.rtt == 0 {
				s.rtt = rtt
			} else {
				s.rtt = (7*s.rtt + rtt) / 8
			}
			delete(s.sent, n)
		}
	}
	s.acked = max(s.acked, seq)
	if now.Sub(s.tuned) < qualityEvery {
		return
	}
	switch q := s.enc.Quality; {
	case s.rtt > 2*s.interval+50*time.Millisecond && q > minQuality:
		s.enc.Quality = max(q-10, minQuality)
	case s.rtt < s.interval && q < maxQuality:
		s.enc.Quality = min(q+5, maxQuality)
	default:
		return
	}
	s.tuned = now
}

// frame captures and sends what changed.
func (s *screen) frame() error {
	img, err := s.d.Capture(s.monitor, s.img)
	if err != nil {
		return s.fail("The PC's screen could not be captured", err)
	}
	s.img = img
	if size := img.Bounds().Size(); size != s.lastSize {
		s.lastSize = size
		if err := s.sendInfo(false); err != nil {
			return s.fail("The PC could not list its monitors", err)
		}
	}
	payload, err := s.enc.Encode(img)
	if err != nil {
		return s.fail("The PC's screen could not be encoded", err)
	}
	if payload == nil {
		return nil
	}
	s.active = time.Now()
	s.sent[s.enc.Seq()] = s.active
	return s.write(wire.ScreenFrame, payload)
}

// sendInfo sends ScreenInfo when it changed (or always when force).
func (s *screen) sendInfo(force bool) error {
	info, err := s.d.Info()
	if err != nil {
		return err
	}
	info.Monitor = s.monitor
	if s.sas != "" {
		info.SAS = s.sas
	}
	if s.monitor >= len(info.Monitors) || s.monitor < wire.AllMonitors {
		s.monitor = wire.AllMonitors // the monitor went away
		info.Monitor = s.monitor
		force = true
	}
	if s.monitor >= 0 {
		m := info.Monitors[s.monitor]
		info.Width, info.Height = m.Width, m.Height
	} else {
		var box image.Rectangle
		for _, m := range info.Monitors {
			box = box.Union(image.Rect(m.X, m.Y, m.X+m.Width, m.Y+m.Height))
		}
		info.Width, info.Height = box.Dx(), box.Dy()
	}
	if !force && reflect.DeepEqual(info, s.info) {
		return nil
	}
	if !reflect.DeepEqual(info.Monitors, s.info.Monitors) {
		s.enc.Refresh()
	}
	s.info = info
	return s.send(wire.ScreenInfoKind, info)
}

func (s *screen) pollClipboard() error {
	if !s.control {
		return nil
	}
	text, err := s.d.Clipboard()
	if err != nil || text == s.clip {
		return nil // an unreadable clipboard (another program holds it) is tried again
	}
	s.clip = text
	return s.send(wire.ScreenClipboard, wire.ClipboardText{Text: text})
}

// fail tells the station why the view ends and returns the error.
func (s *screen) fail(what string, err error) error {
	_ = s.send(wire.ScreenStopped, wire.ScreenStop{Reason: wire.ScreenStoppedError,
		Message: what + ": " + err.Error() + ". Open the screen again to retry."})
	return fmt.Errorf("%s: %w", what, err)
}

func (s *screen) send(kind byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.write(kind, b)
}

// write sends one binary message in one Write, so a message is never
// interleaved on the stream.
func (s *screen) write(kind byte, payload []byte) error {
	if len(payload) > wire.MaxScreenMessage {
		return errors.New("a screen message is larger than the stream allows")
	}
	s.buf = append(s.buf[:0], kind, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(s.buf[1:], uint32(len(payload)))
	s.buf = append(s.buf, payload...)
	_, err := s.w.Write(s.buf)
	return err
}

// sentence makes an error read as a sentence for the technician.
func sentence(err error) string {
	msg := []rune(err.Error())
	if len(msg) == 0 {
		return ""
	}
	msg[0] = unicode.ToUpper(msg[0])
	return string(msg) + "."
}
