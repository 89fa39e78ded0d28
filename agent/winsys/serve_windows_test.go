package winsys

import (
	"encoding/binary"
	"encoding/json"
	stdimage "image"
	"io"
	"net"
	"testing"
	"time"

	"adhocstation/agent/screen"
	"adhocstation/core/wire"
	"adhocstation/core/wire/frame"
)

// TestServeScreenOnWindows: ServeScreen on the Windows Desktop, read as the
// station reads it: the info first, then frames that decode to the green
// window, acked so more come; a click sent as a control line reaches the
// window.
func TestServeScreenOnWindows(t *testing.T) {
	const x, y, w, h = 200, 150, 240, 160
	testWindow(t, x, y, w, h)
	d, err := OpenDesktop()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	station, pc := net.Pipe()
	defer station.Close()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- screen.Serve(pc, d, wire.ScreenOpen{Monitor: 0, MaxFPS: 30, Control: true}, stop)
	}()

	send := func(c wire.ScreenControl) {
		b, _ := json.Marshal(c)
		if _, err := station.Write(append(b, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	var dec frame.Decoder
	var img *stdimage.RGBA
	isGreen := func() bool {
		if img == nil {
			return false
		}
		c := img.RGBAAt(x+w/2, y+20)
		return c.R < 50 && c.G > 140 && c.B < 50
	}
	deadline := time.Now().Add(10 * time.Second)
	_ = station.SetReadDeadline(deadline)
	frames := 0
	for !isGreen() {
		var hdr [wire.ScreenHeader]byte
		if _, err := io.ReadFull(station, hdr[:]); err != nil {
			t.Fatalf("after %d frames: %v", frames, err)
		}
		payload := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(station, payload); err != nil {
			t.Fatal(err)
		}
		switch hdr[0] {
		case wire.ScreenInfoKind:
			t.Logf("info: %s", payload)
		case wire.ScreenFrame:
			var info frame.Info
			if img, info, err = dec.Apply(img, payload); err != nil {
				t.Fatal(err)
			}
			frames++
			send(wire.ScreenControl{Ack: info.Seq})
		case wire.ScreenStopped:
			t.Fatalf("stopped: %s", payload)
		}
	}
	t.Logf("the green window arrived after %d frames", frames)

	cx, cy := x+30, y+40
	go func() { // the PC keeps sending; the test only needs the click
		_, _ = io.Copy(io.Discard, station)
	}()
	send(wire.ScreenControl{Input: &wire.InputEvent{Kind: wire.InputButton, X: cx, Y: cy, Button: 1, Down: true}})
	send(wire.ScreenControl{Input: &wire.InputEvent{Kind: wire.InputButton, X: cx, Y: cy, Button: 1}})
	eventually(t, "the click from the control line", func() bool {
		target.Lock()
		defer target.Unlock()
		for _, c := range target.clicks {
			if c == [2]int{30, 40} {
				return true
			}
		}
		return false
	})
	close(stop)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ServeScreen did not end after the stop")
	}
}
