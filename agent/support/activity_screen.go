package support

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"sync"

	"adhocstation/core/wire"
)

// screenWatch notes what a screen stream does for the activity list. It
// sits between the station and whatever serves the view (screen.Serve in
// this process, or the Relay to the screen helper), so both see the same
// bytes: the station's control lines going in (control on and off, the
// technician's clipboard, Ctrl+Alt+Del) and the headers of the PC's
// messages going out (the PC's clipboard). It only reads along: a line
// it cannot make out is passed on untouched, as the server decides.
type screenWatch struct {
	a   *App
	who string
	r   io.Reader
	w   io.Writer

	// The station's side is read by one goroutine; the PC's is written by
	// one (Serve) or two (the Relay), so it has a lock.
	control bool   // the station's last Control switch, as Serve keeps it
	line    []byte // the control line read so far
	skip    bool   // the line is past MaxScreenControl: dropped to its end
	mu      sync.Mutex
	hdr     [wire.ScreenHeader]byte
	have    int    // header bytes seen of the PC's current message
	payload uint32 // payload bytes of it still to pass
}

// watchScreen notes the view's start and returns the stream to serve it on.
func (a *App) watchScreen(who string, open wire.ScreenOpen, r io.Reader, w io.Writer) *screenWatch {
	a.note(wire.ActivityScreenOn, noteScreen(who, true, false))
	if open.Control {
		a.note(wire.ActivityControlOn, noteControl(who, true))
	}
	return &screenWatch{a: a, who: who, r: r, w: w, control: open.Control}
}

// ended notes the view's end; stop is closed when the user stopped it.
func (s *screenWatch) ended(stop <-chan struct{}) {
	byUser := false
	select {
	case <-stop:
		byUser = true
	default:
	}
	s.a.note(wire.ActivityScreenOff, noteScreen(s.who, false, byUser))
}

func (s *screenWatch) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.scanIn(p[:n])
	return n, err
}

func (s *screenWatch) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.scanOut(p[:n])
	return n, err
}

// scanIn splits what the station sent into lines.
func (s *screenWatch) scanIn(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		part := p
		if i >= 0 {
			part = p[:i]
		}
		if !s.skip {
			if len(s.line)+len(part) > wire.MaxScreenControl {
				s.skip, s.line = true, nil
			} else {
				s.line = append(s.line, part...)
			}
		}
		if i < 0 {
			return
		}
		if !s.skip {
			s.controlLine(s.line)
		}
		s.line, s.skip = s.line[:0], false
		p = p[i+1:]
	}
}

// Quick checks before a line is decoded: most lines are acks and input.
var (
	keyControl   = []byte(`"control"`)
	keyClipboard = []byte(`"clipboard"`)
	keySAS       = []byte(`"sas"`)
)

// controlLine notes what one control line does, by the rules Serve
// applies: the clipboard and Ctrl+Alt+Del need Control on.
func (s *screenWatch) controlLine(line []byte) {
	if !bytes.Contains(line, keyControl) && !bytes.Contains(line, keyClipboard) && !bytes.Contains(line, keySAS) {
		return
	}
	var c wire.ScreenControl
	if json.Unmarshal(line, &c) != nil {
		return
	}
	if c.Control != nil && *c.Control != s.control {
		s.control = *c.Control
		kind := wire.ActivityControlOff
		if s.control {
			kind = wire.ActivityControlOn
		}
		s.a.note(kind, noteControl(s.who, s.control))
	}
	if !s.control {
		return
	}
	if c.Clipboard != nil {
		s.a.note(wire.ActivityClipIn, noteClipIn(s.who, *c.Clipboard))
	}
	if c.SAS {
		s.a.note(wire.ActivitySAS, noteSAS(s.who))
	}
}

// scanOut follows the PC's binary messages by their headers.
func (s *screenWatch) scanOut(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		if s.payload > 0 {
			k := uint32(min(len(p), int(min(s.payload, 1<<30))))
			s.payload -= k
			p = p[k:]
			continue
		}
		k := copy(s.hdr[s.have:], p)
		s.have += k
		p = p[k:]
		if s.have < wire.ScreenHeader {
			return
		}
		s.have = 0
		s.payload = binary.BigEndian.Uint32(s.hdr[1:])
		if s.hdr[0] == wire.ScreenClipboard {
			s.a.note(wire.ActivityClipOut, noteClipOut(s.who))
		}
	}
}
