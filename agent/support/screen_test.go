//go:build linux

package support_test

import (
	"errors"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/x11desk"
	"adhocstation/agent/x11desk/x11test"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// TestScreenPatternInputAndClipboard: a pattern the test program draws on
// Xvfb arrives through ServeScreen over the live channel and decodes to
// the same pixels (flat areas exactly, the gradient within JPEG's
// tolerance); a click and typed text sent as control lines reach the
// program at the right place; the clipboard goes both ways; Ctrl+Alt+Del
// is refused with X11's sentence.
func TestScreenPatternInputAndClipboard(t *testing.T) {
	screenPatternInputAndClipboard(t, newScreenPC(t, 800, 600))
}

// TestScreenRelayedPatternInputAndClipboard is the same through the
// Windows arrangement: the service relays the stream to the screen helper
// parked on the pipe, which runs ServeScreen next to the desktop and shows
// the user who is viewing.
func TestScreenRelayedPatternInputAndClipboard(t *testing.T) {
	pc := newScreenPCWith(t, 800, 600, true)
	screenPatternInputAndClipboard(t, pc)
	if got := coretest.Receive(t, pc.banner, "the helper's banner"); got != "Tess Tech" {
		t.Fatalf("the banner names %q", got)
	}
}

func screenPatternInputAndClipboard(t *testing.T, pc *screenPC) {
	area := image.Rect(64, 64, 576, 448)
	pat := x11test.Pattern(area)
	must(t, pc.prog.Draw(pat))

	v := pc.open(wire.ScreenOpen{Monitor: 0, MaxFPS: 30, Control: true})
	if got := coretest.Receive(t, pc.tray.Views, "the tray to say who is viewing"); got != "Tess Tech viewing: true" {
		t.Fatalf("the tray was told %q", got)
	}
	v.until("the first frame", func() bool { return v.frames > 0 })
	if v.info.Width != 800 || v.info.Height != 600 || len(v.info.Monitors) != 1 || v.info.SAS == "" {
		t.Fatalf("screen info %+v", v.info)
	}
	// The bars' tiles (above the tile row the gradient starts in) are
	// flat: lossless, exact. The whole pattern within JPEG's tolerance.
	if worst, _ := agenttest.ChannelDiff(v.img, pat, image.Rect(64, 64, 576, 192)); worst != 0 {
		t.Fatalf("the flat bars arrived off by up to %d", worst)
	}
	worst, mean := agenttest.ChannelDiff(v.img, pat, area)
	t.Logf("pattern: largest channel difference %d, mean %.2f", worst, mean)
	if mean > 4 || worst > 64 {
		t.Fatalf("the pattern arrived off by %.2f on average, up to %d", mean, worst)
	}

	// A change on the PC arrives as a changed region.
	red := color.RGBA{220, 20, 20, 255}
	must(t, pc.prog.Fill(image.Rect(600, 500, 700, 550), red))
	v.until("the red rectangle", func() bool { return v.img.RGBAAt(650, 525) == red })

	// Input from the view reaches the program at the right coordinates.
	v.input(wire.InputEvent{Kind: wire.InputMove, X: 300, Y: 200},
		wire.InputEvent{Kind: wire.InputButton, X: 321, Y: 234, Button: 1, Down: true},
		wire.InputEvent{Kind: wire.InputButton, X: 321, Y: 234, Button: 1},
		wire.InputEvent{Kind: wire.InputText, Text: "typed from the view, ü"},
		wire.InputEvent{Kind: wire.InputKey, Key: wire.KeyReturn, Down: true},
		wire.InputEvent{Kind: wire.InputKey, Key: wire.KeyReturn})
	err := pc.prog.WaitFor(coretest.WaitLimit, func(clicks []x11test.Click, text string) bool {
		return slices.Equal(clicks, []x11test.Click{{X: 321, Y: 234, Button: 1}}) && text == "typed from the view, ü\n"
	})
	must(t, err)

	// The technician's clipboard becomes the PC's: another X program reads it.
	v.send(wire.ScreenControl{Clipboard: ptr("from the technician")})
	other, err := x11desk.Open(pc.x.Display)
	must(t, err)
	defer other.Close()
	deadline := time.Now().Add(coretest.WaitLimit)
	for text, _ := other.Clipboard(); text != "from the technician"; text, _ = other.Clipboard() {
		if time.Now().After(deadline) {
			t.Fatalf("the PC's clipboard is %q", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And a copy on the PC reaches the technician.
	must(t, other.SetClipboard("copied on the PC"))
	v.until("the PC's clipboard", func() bool { return slices.Contains(v.clip, "copied on the PC") })

	v.send(wire.ScreenControl{SAS: true})
	v.until("the refusal of Ctrl+Alt+Del", func() bool { return strings.Contains(v.info.SAS, x11desk.SASRefusal) })
}

// TestScreenInputNeedsControl: with Control off the PC ignores input;
// switched on, the next click arrives.
func TestScreenInputNeedsControl(t *testing.T) {
	pc := newScreenPC(t, 320, 240)
	v := pc.open(wire.ScreenOpen{})
	v.until("the first frame", func() bool { return v.frames > 0 })
	v.input(wire.InputEvent{Kind: wire.InputButton, X: 10, Y: 10, Button: 1, Down: true},
		wire.InputEvent{Kind: wire.InputButton, X: 10, Y: 10, Button: 1})
	v.send(wire.ScreenControl{Control: ptr(true)})
	v.input(wire.InputEvent{Kind: wire.InputButton, X: 200, Y: 100, Button: 3, Down: true},
		wire.InputEvent{Kind: wire.InputButton, X: 200, Y: 100, Button: 3})
	must(t, pc.prog.WaitFor(coretest.WaitLimit, func(clicks []x11test.Click, _ string) bool { return len(clicks) > 0 }))
	if clicks := pc.prog.Clicks(); !slices.Equal(clicks, []x11test.Click{{X: 200, Y: 100, Button: 3}}) {
		t.Fatalf("clicks %v: the one sent without Control arrived", clicks)
	}
}

// TestScreenAckWindow: a station that acks nothing gets ScreenWindow
// frames while the screen keeps changing, then one more per ack.
func TestScreenAckWindow(t *testing.T) {
	pc := newScreenPC(t, 320, 240)
	v := pc.open(wire.ScreenOpen{MaxFPS: 60})
	v.noAck = true
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the screen changes all the time
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if pc.prog.Fill(image.Rect(0, 0, 64, 64), color.RGBA{uint8(i), uint8(i * 7), 0, 255}) != nil {
				return
			}
		}
	}()
	v.until("a full window of frames", func() bool { return v.frames == wire.ScreenWindow })
	// Nothing more comes while nothing is acked (a bounded look: it can
	// only miss a broken window, never fail a working one).
	if kind, err := v.next(time.Now().Add(500 * time.Millisecond)); err == nil {
		t.Fatalf("a message %q past the window of %d unacked frames", kind, wire.ScreenWindow)
	} else if ne := net.Error(nil); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal(err)
	}
	v.send(wire.ScreenControl{Ack: 1})
	v.until("one more frame after the ack", func() bool { return v.frames == wire.ScreenWindow+1 })
}

// TestScreenStoppedFromTray: the user chooses Stop viewing in the tray
// helper (over the real pipe); the station gets ScreenStopped from the
// user and the stream ends; the tray says the viewing stopped.
func TestScreenStoppedFromTray(t *testing.T) {
	for name, relayed := range map[string]bool{"local": false, "relayed": true} {
		t.Run(name, func(t *testing.T) { screenStoppedFromTray(t, newScreenPCWith(t, 320, 240, relayed)) })
	}
}

func screenStoppedFromTray(t *testing.T, pc *screenPC) {
	v := pc.open(wire.ScreenOpen{Control: true})
	v.until("the first frame", func() bool { return v.frames > 0 })
	if got := coretest.Receive(t, pc.tray.Views, "the tray to say who is viewing"); got != "Tess Tech viewing: true" {
		t.Fatalf("the tray was told %q", got)
	}
	pc.tray.StopViewing()
	v.until("ScreenStopped", func() bool { return v.stop != nil })
	if v.stop.Reason != wire.ScreenStoppedByUser || v.stop.Message == "" {
		t.Fatalf("stopped with %+v", v.stop)
	}
	// The PC closes the stream: an end, not the deadline (a stream left
	// open would only be caught by the deadline, 10 s later).
	if _, err := v.next(time.Now().Add(coretest.WaitLimit)); !errors.Is(err, io.EOF) {
		t.Fatalf("after ScreenStopped the stream did not end: %v", err)
	}
	if got := coretest.Receive(t, pc.tray.Views, "the tray to say the viewing stopped"); got != "Tess Tech viewing: false" {
		t.Fatalf("the tray was told %q", got)
	}
}

// TestScreenMonitorSwitch: the technician picks the second monitor; the
// PC says so in a new ScreenInfo and sends a full frame of its size.
func TestScreenMonitorSwitch(t *testing.T) {
	pc := newScreenPC(t, 400, 300, "+xinerama", "-screen", "1", "320x200x24")
	v := pc.open(wire.ScreenOpen{Monitor: 0})
	v.until("the first frame", func() bool { return v.frames > 0 && v.img != nil })
	if len(v.info.Monitors) != 2 || v.img.Bounds().Dx() != 400 {
		t.Fatalf("info %+v, image %v", v.info, v.img.Bounds())
	}
	v.send(wire.ScreenControl{Monitor: ptr(1)})
	v.until("the second monitor", func() bool { return v.info.Monitor == 1 && v.img.Bounds().Dx() == 320 })
	if v.info.Width != 320 || v.info.Height != 200 {
		t.Fatalf("info %+v", v.info)
	}
}

// TestScreenDesktopGone: the X server goes away mid-view; the station
// gets ScreenStopped with the reason in a sentence, and the stream ends.
func TestScreenDesktopGone(t *testing.T) {
	pc := newScreenPC(t, 320, 240)
	v := pc.open(wire.ScreenOpen{})
	v.until("the first frame", func() bool { return v.frames > 0 })
	pc.x.Close()
	v.until("ScreenStopped", func() bool { return v.stop != nil })
	if v.stop.Reason != wire.ScreenStoppedError || !strings.HasPrefix(v.stop.Message, "The PC's screen could not be captured") {
		t.Fatalf("stopped with %+v", v.stop)
	}
	t.Logf("the technician reads: %s", v.stop.Message)
	if _, err := v.next(time.Now().Add(coretest.WaitLimit)); !errors.Is(err, io.EOF) {
		t.Fatalf("after ScreenStopped the stream did not end: %v", err)
	}
}

// TestScreenStopWhileStationStalls: the station reads nothing, so the PC
// is stuck writing a large frame; the user's stop still ends the view
// (its stream is closed under it) and the tray is told.
func TestScreenStopWhileStationStalls(t *testing.T) {
	pc := newScreenPC(t, 1920, 1080)
	noise := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	rnd := rand.New(rand.NewPCG(5, 5))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rnd.IntN(256))
	}
	// The first frame (JPEG of noise, megabytes) is far larger than the
	// test's read buffer plus yamux's 256 KB window.
	must(t, pc.prog.Draw(noise))
	v := pc.open(wire.ScreenOpen{})
	if got := coretest.Receive(t, pc.tray.Views, "the tray to say who is viewing"); got != "Tess Tech viewing: true" {
		t.Fatalf("the tray was told %q", got)
	}
	// Once 600 KB arrived the PC is writing the frame; nothing more is
	// read, so it gets stuck there.
	_ = v.s.SetReadDeadline(time.Now().Add(coretest.WaitLimit))
	if _, err := v.r.Peek(600 << 10); err != nil {
		t.Fatalf("the frame did not start: %v", err)
	}
	pc.tray.StopViewing()
	if got := coretest.Receive(t, pc.tray.Views, "the view to end"); got != "Tess Tech viewing: false" {
		t.Fatalf("the tray was told %q", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestScreenLongClipboard: a technician's clipboard of 100 KB (a script
// to paste on the PC) becomes the PC's, and the view goes on; a control
// line was read in a 4 KiB buffer, so it ended the view without a word.
func TestScreenLongClipboard(t *testing.T) {
	pc := newScreenPC(t, 320, 240)
	v := pc.open(wire.ScreenOpen{Control: true})
	v.until("the first frame", func() bool { return v.frames > 0 })
	long := strings.Repeat("Get-Process | Sort-Object CPU\n", 100_000/30)
	v.send(wire.ScreenControl{Clipboard: &long})
	other, err := x11desk.Open(pc.x.Display)
	must(t, err)
	defer other.Close()
	deadline := time.Now().Add(coretest.WaitLimit)
	for text, _ := other.Clipboard(); text != long; text, _ = other.Clipboard() {
		if time.Now().After(deadline) {
			t.Fatalf("the PC's clipboard holds %d bytes, want %d", len(text), len(long))
		}
		time.Sleep(20 * time.Millisecond)
	}
	must(t, other.SetClipboard("still viewing"))
	v.until("the PC's next clipboard", func() bool { return slices.Contains(v.clip, "still viewing") })
}
