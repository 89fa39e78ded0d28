//go:build linux

package x11desk_test

import (
	"errors"
	"image"
	"image/color"
	"os"
	"slices"
	"testing"
	"time"

	"adhocstation/agent/screen"
	"adhocstation/agent/x11desk"
	"adhocstation/agent/x11desk/x11test"
	"adhocstation/core/wire"
)

// waitLimit bounds every wait on the X server or the test program.
const waitLimit = 10 * time.Second

func display(t testing.TB, w, h int, extra ...string) *x11test.Xvfb {
	t.Helper()
	x, err := x11test.StartXvfb(w, h, waitLimit, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	return x
}

func program(t testing.TB, x *x11test.Xvfb) *x11test.Program {
	t.Helper()
	p, err := x11test.StartProgram(x.Display, color.RGBA{30, 30, 30, 255})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func desktop(t testing.TB, x *x11test.Xvfb) *x11desk.Desktop {
	t.Helper()
	d, err := x11desk.Open(x.Display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestCaptureIsExact(t *testing.T) {
	x := display(t, 640, 480)
	p := program(t, x)
	d := desktop(t, x)
	info, err := d.Info()
	if err != nil || len(info.Monitors) != 1 || info.Monitors[0].Width != 640 || info.SAS == "" {
		t.Fatalf("info %+v, %v", info, err)
	}
	pat := x11test.Pattern(image.Rect(100, 50, 420, 290))
	if err := p.Draw(pat); err != nil {
		t.Fatal(err)
	}
	// Through shared memory, then with GetImage as without MIT-SHM.
	for _, way := range []string{"MIT-SHM", "GetImage"} {
		if way == "GetImage" {
			d.WithoutSHM()
		}
		img, err := d.Capture(0, nil)
		if err != nil {
			t.Fatalf("%s: %v", way, err)
		}
		if img.Bounds() != image.Rect(0, 0, 640, 480) {
			t.Fatalf("%s: captured %v", way, img.Bounds())
		}
		for y := 50; y < 290; y++ {
			for x := 100; x < 420; x++ {
				if got, want := img.RGBAAt(x, y), pat.RGBAAt(x, y); got != want {
					t.Fatalf("%s: pixel %d,%d: captured %v, drawn %v", way, x, y, got, want)
				}
			}
		}
		if got := img.RGBAAt(5, 5); got != (color.RGBA{30, 30, 30, 255}) {
			t.Fatalf("%s: background captured as %v", way, got)
		}
	}
}

func TestMonitorsOfXinerama(t *testing.T) {
	x := display(t, 400, 300, "+xinerama", "-screen", "1", "320x200x24")
	d := desktop(t, x)
	info, err := d.Info()
	if err != nil {
		t.Fatal(err)
	}
	// Xvfb lays both screens at 0,0, so the bounding box is the larger.
	if len(info.Monitors) != 2 || info.Monitors[1].Width != 320 || info.Monitors[1].Height != 200 {
		t.Fatalf("monitors %+v", info.Monitors)
	}
	img, err := d.Capture(1, nil)
	if err != nil || img.Bounds().Size() != image.Pt(320, 200) {
		t.Fatalf("second monitor captured as %v, %v", img.Bounds(), err)
	}
	img, err = d.Capture(wire.AllMonitors, nil)
	if err != nil || img.Bounds().Size() != image.Pt(400, 300) {
		t.Fatalf("all monitors captured as %v, %v", img.Bounds(), err)
	}
}

func TestInjectClickKeysAndText(t *testing.T) {
	x := display(t, 640, 480)
	p := program(t, x)
	d := desktop(t, x)
	for _, ev := range []wire.InputEvent{
		{Kind: wire.InputMove, X: 10, Y: 10},
		{Kind: wire.InputButton, X: 123, Y: 45, Button: 1, Down: true},
		{Kind: wire.InputButton, X: 123, Y: 45, Button: 1},
		{Kind: wire.InputButton, X: 600, Y: 400, Button: 3, Down: true},
		{Kind: wire.InputButton, X: 600, Y: 400, Button: 3},
		{Kind: wire.InputText, Text: "Hello, wörld! ¿€ 42"},
		{Kind: wire.InputKey, Key: "x", Down: true},
		{Kind: wire.InputKey, Key: "x"},
		{Kind: wire.InputKey, Key: wire.KeyBackspace, Down: true},
		{Kind: wire.InputKey, Key: wire.KeyBackspace},
		{Kind: wire.InputKey, Key: wire.KeyReturn, Down: true},
		{Kind: wire.InputKey, Key: wire.KeyReturn},
	} {
		if err := d.Inject(0, ev); err != nil {
			t.Fatalf("%+v: %v", ev, err)
		}
	}
	want := []x11test.Click{{X: 123, Y: 45, Button: 1}, {X: 600, Y: 400, Button: 3}}
	err := p.WaitFor(waitLimit, func(clicks []x11test.Click, text string) bool {
		return slices.Equal(clicks, want) && text == "Hello, wörld! ¿€ 42\n"
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Inject(0, wire.InputEvent{Kind: wire.InputKey, Key: "NoSuchKey", Down: true}); err == nil {
		t.Fatal("an unknown key name was accepted")
	}
}

func TestClipboardBetweenPrograms(t *testing.T) {
	x := display(t, 320, 240)
	a, b := desktop(t, x), desktop(t, x)
	if text, err := b.Clipboard(); err != nil || text != "" {
		t.Fatalf("empty clipboard read as %q, %v", text, err)
	}
	if err := a.SetClipboard("copied on the PC: ü €"); err != nil {
		t.Fatal(err)
	}
	if text, err := b.Clipboard(); err != nil || text != "copied on the PC: ü €" {
		t.Fatalf("the other program read %q, %v", text, err)
	}
	// b takes it over: a no longer owns it and reads b's text.
	if err := b.SetClipboard("from the technician"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		text, err := a.Clipboard()
		if err == nil && text == "from the technician" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a still reads %q, %v", text, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSASRefused(t *testing.T) {
	x := display(t, 320, 240)
	d := desktop(t, x)
	if err := d.SendSAS(); !errors.Is(err, screen.ErrSASUnavailable) {
		t.Fatalf("SendSAS: %v", err)
	}
}

// BenchmarkCapture1080 is one capture of a 1920×1080 Xvfb screen, through
// MIT-SHM (with ADHOC_NO_SHM=1: GetImage).
//
//	go test -run '^$' -bench Capture1080 -benchtime 60x ./agent/x11desk/
func BenchmarkCapture1080(b *testing.B) {
	x := display(b, 1920, 1080)
	p := program(b, x)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(p.Draw(x11test.Pattern(image.Rect(0, 0, 1920, 1080))))
	d := desktop(b, x)
	if os.Getenv("ADHOC_NO_SHM") != "" {
		d.WithoutSHM()
	}
	img, err := d.Capture(0, nil)
	must(err)
	for b.Loop() {
		img, err = d.Capture(0, img)
		must(err)
	}
}
