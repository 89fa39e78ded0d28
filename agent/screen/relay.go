package screen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"adhocstation/core/wire"
)

// Role is the screen helper in the console session (Windows): it
// runs with the service's SYSTEM token so it can follow the input desktop
// to the sign-in screen and UAC prompts. It keeps one connection parked at
// the service; the service hands each screen stream to a parked one.
const Role = "screen"

// screenStart is the service's first line on a parked screen connection;
// the helper answers with one screenReady line, then the connection
// carries the screen stream's bytes both ways.
type screenStart struct {
	Technician string          `json:"technician"`
	Open       wire.ScreenOpen `json:"open"`
}

type screenReady struct {
	OK    bool   `json:"ok,omitempty"`
	Error string `json:"error,omitempty"` // why the desktop could not be opened
}

// Relay is the service's Host where the desktop is in another
// process (Windows: the screen helper): each stream is relayed over one
// parked helper connection. It knows only net.Conn, so Linux tests run it
// over a Unix socket.
type Relay struct {
	// Wait bounds how long Serve waits for a helper to be parked (the
	// helper starts, or restarts after a console session change).
	Wait time.Duration
	// SendSAS sends Ctrl+Alt+Del from the service's own process (Windows:
	// sas.dll's SendSAS as a service), or says why it cannot; a station's
	// "sas" line is carried out here and never reaches the helper. Nil
	// refuses.
	SendSAS func() error

	mu     sync.Mutex
	idle   []*parked
	busy   map[*parked]bool
	ready  chan struct{} // closed and replaced when a connection is parked
	closed bool
}

type parked struct {
	conn net.Conn
	r    io.Reader
	done chan struct{}
}

// NewRelay returns a relay that waits up to 10 s for a helper.
func NewRelay() *Relay {
	return &Relay{Wait: 10 * time.Second, ready: make(chan struct{}), busy: map[*parked]bool{}}
}

// Park hands the relay a helper's connection (r reads it, with what the
// hub had already buffered) and returns once a stream used it and ended,
// or the relay closed.
func (s *Relay) Park(c net.Conn, r io.Reader) {
	p := &parked{conn: c, r: r, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.idle = append(s.idle, p)
	close(s.ready)
	s.ready = make(chan struct{})
	s.mu.Unlock()
	<-p.done
}

// Close refuses further streams, releases the parked connections and
// ends the streams being relayed.
func (s *Relay) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, p := range s.idle {
		p.conn.Close()
		close(p.done)
	}
	s.idle = nil
	for p := range s.busy {
		p.conn.Close()
	}
}

// take returns the oldest parked connection that answers, waiting up to
// Wait; a helper that died while parked leaves a dead one that fails the
// handshake and is skipped.
func (s *Relay) take(start screenStart) (*parked, *bufio.Reader, error) {
	deadline := time.Now().Add(s.Wait)
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, nil, ErrNoDesktop
		}
		var p *parked
		if len(s.idle) > 0 {
			p, s.idle = s.idle[0], s.idle[1:]
			s.busy[p] = true
		}
		ready := s.ready
		s.mu.Unlock()
		if p != nil {
			br, err := handshake(p, start, deadline)
			if err == nil {
				return p, br, nil
			}
			s.release(p)
			if !errors.Is(err, errDeadParked) {
				return nil, nil, err
			}
			continue
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, nil, fmt.Errorf("%w: the screen helper is not running in the console session (nobody may be signed in, or it is starting)", ErrNoDesktop)
		}
		t := time.NewTimer(wait)
		select {
		case <-ready:
		case <-t.C:
		}
		t.Stop()
	}
}

// release closes a connection taken from the park and lets its Park return.
func (s *Relay) release(p *parked) {
	p.conn.Close()
	s.mu.Lock()
	delete(s.busy, p)
	s.mu.Unlock()
	close(p.done)
}

// handshake hands start to a parked helper and reads its answer. A dead
// connection (the helper ended while parked) is errDeadParked, to be
// skipped; a helper's refusal is its sentence.
func handshake(p *parked, start screenStart, deadline time.Time) (*bufio.Reader, error) {
	_ = p.conn.SetDeadline(deadline.Add(5 * time.Second)) // opening the desktop may take a moment
	defer p.conn.SetDeadline(time.Time{})
	if err := json.NewEncoder(p.conn).Encode(start); err != nil {
		return nil, errDeadParked
	}
	br := bufio.NewReader(p.r)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, errDeadParked
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // the newline after the hello, left in the hub's buffer
		}
		var ready screenReady
		if json.Unmarshal(line, &ready) != nil {
			return nil, errDeadParked
		}
		if !ready.OK {
			return nil, fmt.Errorf("%w: %s", ErrNoDesktop, ready.Error)
		}
		return br, nil
	}
}

var errDeadParked = errors.New("the parked screen helper connection is gone")

// Serve relays one screen stream to a helper. The station's control lines
// go through as they are, but for Ctrl+Alt+Del, which the service sends
// itself (sasGate); the helper's messages are copied whole, so that
// when the user stops the viewing (stop closes) or the helper goes away the
// relay can add its own ScreenStopped between two of them.
func (s *Relay) Serve(technician string, open wire.ScreenOpen, stream io.ReadWriter, stop <-chan struct{}) error {
	p, br, err := s.take(screenStart{Technician: technician, Open: open})
	if err != nil {
		stopScreen(stream, "The PC's screen cannot be reached: "+strings.TrimPrefix(err.Error(), ErrNoDesktop.Error()+": ")+".")
		return err
	}
	defer s.release(p)
	var wmu sync.Mutex
	ended := false // no more messages may go to the station
	sas := &sasGate{send: s.SendSAS, control: open.Control}
	go func() {
		sas.controls(p.conn, stream, func(err error) {
			wmu.Lock()
			defer wmu.Unlock()
			if info := sas.result(err); info != nil && !ended {
				_ = (&screen{w: stream}).send(wire.ScreenInfoKind, info)
			}
		})
		p.conn.Close() // the station closed the stream: the helper's loop ends
	}()
	finish := func(stopMsg *wire.ScreenStop) {
		wmu.Lock()
		defer wmu.Unlock()
		if !ended && stopMsg != nil {
			_ = (&screen{w: stream}).send(wire.ScreenStopped, stopMsg)
		}
		ended = true
	}
	relayed := make(chan struct{})
	defer close(relayed)
	go func() {
		select {
		case <-stop:
			finish(&wire.ScreenStop{Reason: wire.ScreenStoppedByUser, Message: "The user stopped the screen viewing."})
			p.conn.Close()
		case <-relayed:
		}
	}()
	var hdr [wire.ScreenHeader]byte
	var buf []byte // one message at a time: reused
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			finish(&wire.ScreenStop{Reason: wire.ScreenStoppedError,
				Message: "The screen helper on the PC stopped (the user may have signed out or switched users). Open the Screen view again."})
			return nil
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > wire.MaxScreenMessage {
			finish(&wire.ScreenStop{Reason: wire.ScreenStoppedError, Message: "The screen helper on the PC sent a message too large to pass on."})
			return fmt.Errorf("the screen helper sent a message of %d bytes", n)
		}
		if need := wire.ScreenHeader + int(n); cap(buf) < need {
			buf = make([]byte, need)
		}
		msg := buf[:wire.ScreenHeader+int(n)]
		copy(msg, hdr[:])
		if _, err := io.ReadFull(br, msg[wire.ScreenHeader:]); err != nil {
			finish(&wire.ScreenStop{Reason: wire.ScreenStoppedError,
				Message: "The screen helper on the PC stopped in the middle of a frame. Open the Screen view again."})
			return nil
		}
		wmu.Lock()
		if ended {
			wmu.Unlock()
			return nil
		}
		_, err := stream.Write(sas.helperMessage(hdr[0], msg))
		if hdr[0] == wire.ScreenStopped {
			ended = true // the helper said why itself
		}
		wmu.Unlock()
		if err != nil || hdr[0] == wire.ScreenStopped {
			return nil
		}
	}
}
