package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"image"
	"net"
	"testing"
	"time"

	"adhocstation/core/wire"
	"adhocstation/core/wire/frame"
)

// deafPC answers a stream's sign-in with OK, sends sent, and then never
// reads again: the station's writes to it block, as on a PC whose agent
// stopped reading its stream. The stream closes with the test.
type deafPC struct {
	t    *testing.T
	sent []byte
}

func (d deafPC) Open() (net.Conn, error) {
	st, pc := net.Pipe()
	d.t.Cleanup(func() { pc.Close() })
	go func() {
		if _, err := bufio.NewReader(pc).ReadSlice('\n'); err != nil {
			return
		}
		b, _ := json.Marshal(wire.SignInResult{OK: true})
		if _, err := pc.Write(append(b, '\n')); err != nil {
			return
		}
		_, _ = pc.Write(d.sent)
	}()
	return st, nil
}

// waitErr waits for the view's end, with a guard that fails the test.
func waitErr(t *testing.T, stopped <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-stopped:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: the view never ended", what)
	}
	return nil
}

// A PC that sends frames and never reads must not block the station's
// reader on the acks it owes: they are cumulative, so one waiting ack
// stands for all. Before, every frame queued an ack in a 256-line queue
// whose writer waited on the PC forever.
func TestScreenAcksDoNotPileUpOnAPCThatDoesNotRead(t *testing.T) {
	const frames = 2000
	enc := frame.NewEncoder()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var sent []byte
	for i := range frames {
		enc.Refresh() // each a full frame, read on its own
		p, err := enc.Encode(img)
		if err != nil || p == nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		sent = append(sent, screenMessage(wire.ScreenFrame, p)...) // copied: Encode reuses p
	}
	stop, _ := json.Marshal(wire.ScreenStop{Reason: wire.ScreenStoppedByUser})
	sent = append(sent, screenMessage(wire.ScreenStopped, stop)...)
	r := &RemoteSession{open: deafPC{t: t, sent: sent}}
	shown := 0
	stopped := make(chan error, 1)
	s, err := r.Screen(t.Context(), wire.ScreenOpen{}, ScreenHandlers{
		Frame:   func(*image.RGBA, []image.Rectangle) { shown++ },
		Stopped: func(err error) { stopped <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	switch err := waitErr(t, stopped, "frames from a PC that does not read"); {
	case errors.Is(err, ErrScreenStalled):
		// the write deadline ended it first (a very loaded machine): also sound
	case !errors.Is(err, ErrScreenStoppedByUser) || shown != frames:
		t.Fatalf("ended with %v after %d of %d frames", err, shown, frames)
	}
}

// The window's calls on a view (Fyne's goroutine) return at once when the
// PC stops reading, and the view ends with a sentence saying so; before,
// the 257th waited forever and froze every window.
func TestScreenCallsReturnWhenThePCStopsReading(t *testing.T) {
	r := &RemoteSession{open: deafPC{t: t}}
	stopped := make(chan error, 1)
	s, err := r.Screen(t.Context(), wire.ScreenOpen{}, ScreenHandlers{Stopped: func(err error) { stopped <- err }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		s.SetControl(true)
		for i := range 1000 {
			s.Input(wire.InputEvent{Kind: wire.InputMove, X: i, Y: i})
			s.Refresh()
		}
		s.SendSAS()
		_ = s.SetClipboard("text")
		s.SetMonitor(0)
		s.SetMaxFPS(30)
	}()
	select {
	case <-returned:
	case <-time.After(30 * time.Second):
		t.Fatal("the window's calls on the view block while the PC does not read")
	}
	if err := waitErr(t, stopped, "a PC that does not read"); !errors.Is(err, ErrScreenStalled) {
		t.Fatalf("the view ended with %v, want ErrScreenStalled", err)
	}
}

// The chat's Send runs on the window's worker: to a PC that stopped
// reading it fails after its write deadline (ErrRemoteGone) instead of
// holding the worker forever.
func TestChatSendReturnsWhenThePCStopsReading(t *testing.T) {
	r := &RemoteSession{open: deafPC{t: t}, Technician: "Ana"}
	c, err := r.Chat(t.Context(), func(wire.ChatMessage) {})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := make(chan error, 1)
	go func() {
		_, err := c.Send("hello")
		sent <- err
	}()
	select {
	case err := <-sent:
		if !errors.Is(err, ErrRemoteGone) {
			t.Fatalf("Send to a PC that does not read: %v, want ErrRemoteGone", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Send to a PC that does not read never returned")
	}
}

// Stopping a command on a PC that stopped reading: Run returns
// ErrCommandStopped within its stop wait; before, the stop line's write
// waited forever and the read deadline after it was never set.
func TestCommandStopReturnsWhenThePCStopsReading(t *testing.T) {
	r := &RemoteSession{open: deafPC{t: t}}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		ran <- r.Run(ctx, wire.ShellCmd, "ping -t localhost", func([]byte) {})
	}()
	<-started
	cancel()
	select {
	case err := <-ran:
		if !errors.Is(err, ErrCommandStopped) && !errors.Is(err, ErrRemoteGone) {
			t.Fatalf("Run after its stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("stopping a command on a PC that does not read never returned")
	}
}

// refusingPC refuses every stream with its sentence.
type refusingPC struct{ message string }

func (p refusingPC) Open() (net.Conn, error) {
	st, pc := net.Pipe()
	go func() {
		defer pc.Close()
		if _, err := bufio.NewReader(pc).ReadSlice('\n'); err != nil {
			return
		}
		b, _ := json.Marshal(wire.SignInResult{Code: "x", Message: p.message})
		_, _ = pc.Write(append(b, '\n'))
	}()
	return st, nil
}

// The PC's sentence in a refused sign-in is audited and shown: it is
// cleaned as it is read.
func TestSignInRefusalSentenceIsCleaned(t *testing.T) {
	r := &RemoteSession{open: refusingPC{message: "No screen\x1b[2J\nremote sign-in: \u202Efake"}, streams: []string{wire.StreamScreen}}
	_, err := r.Screen(t.Context(), wire.ScreenOpen{}, ScreenHandlers{})
	if err == nil || err.Error() != "No screen[2Jremote sign-in: fake" {
		t.Fatalf("refusal %q", err)
	}
}
