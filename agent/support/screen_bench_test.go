//go:build linux

package support_test

import (
	"encoding/binary"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"adhocstation/agent/x11desk/x11test"
	"adhocstation/core/wire"
)

// The remote screen at 1920×1080 on Xvfb, over the live channel on
// loopback: the agent's ServeScreen against a station end that acks each
// frame on arrival without decoding it (decoding is the station's CPU,
// measured in core/wire/frame's BenchmarkDecodeFull1080). What changes
// the screen is drawn by a child process, so this process's CPU time
// (getrusage) is the agent's plus the reading end's.
//
//	go test -run '^$' -bench BenchmarkScreen1080 -benchtime 1x ./agent/support/

const screenBenchRun = 5 * time.Second

func BenchmarkScreen1080(b *testing.B) {
	for _, mode := range []struct {
		name string
		fps  int
	}{{"static", 30}, {"small", 60}, {"full", 60}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				screenBench(b, mode.name, mode.fps, false)
			}
		})
	}
}

// BenchmarkScreen1080Relayed is the same through the Windows arrangement:
// the service relays the stream over the pipe (a Unix socket here) to the
// screen helper, which runs ServeScreen; both are in this process, so cpu%
// is the service's, the helper's and the reading end's together.
func BenchmarkScreen1080Relayed(b *testing.B) {
	for _, mode := range []struct {
		name string
		fps  int
	}{{"small", 60}, {"full", 60}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				screenBench(b, mode.name, mode.fps, true)
			}
		})
	}
}

func screenBench(b *testing.B, mode string, fps int, relayed bool) {
	pc := newScreenPCWith(b, 1920, 1080, relayed)
	must(b, pc.prog.Draw(x11test.Pattern(image.Rect(0, 0, 1920, 1080))))
	v := pc.open(wire.ScreenOpen{MaxFPS: fps})
	v.noDecode = true
	v.until("the first frame", func() bool { return v.frames > 0 })
	// A still screen is measured once the JPEG tiles were refined
	// (frame.DefaultRefineAfter): no frame for a second.
	settle := time.Now().Add(30 * time.Second)
	for {
		if _, err := v.next(time.Now().Add(time.Second)); err != nil {
			break
		}
		if time.Now().After(settle) {
			b.Fatal("the still screen kept sending frames for 30 s")
		}
	}
	var drawer *exec.Cmd
	var drawStart time.Time
	if mode != "static" {
		drawer = exec.Command(os.Args[0], "-test.run=^TestScreenDrawer$")
		drawer.Env = append(os.Environ(), "ADHOC_SCREEN_DRAWER="+mode+","+pc.x.Display)
		drawer.Stderr = os.Stderr
		must(b, drawer.Start())
		drawStart = time.Now()
		defer func() {
			if drawer.ProcessState == nil {
				_ = drawer.Process.Kill()
				_ = drawer.Wait()
			}
		}()
		// Measure once the drawer's frames flow.
		first := v.frames
		v.until("the drawer's frames", func() bool { return v.frames > first+5 })
	}
	xvfb0, err := pc.x.CPUTime()
	must(b, err)
	frames0, bytes0, cpu0, start := v.frames, v.bytes, cpuTime(), time.Now()
	end := start.Add(screenBenchRun)
	for time.Now().Before(end) {
		if _, err := v.next(end); err != nil && time.Now().Before(end) {
			b.Fatal(err)
		}
	}
	wall := time.Since(start).Seconds()
	frames, bytes := v.frames-frames0, v.bytes-bytes0
	b.ReportMetric(float64(bytes)/wall, "bytes/s")
	b.ReportMetric(float64(frames)/wall, "frames/s")
	if frames > 0 {
		b.ReportMetric(float64(bytes)/float64(frames), "bytes/frame")
	}
	b.ReportMetric(100*(cpuTime()-cpu0).Seconds()/wall, "cpu%")
	// Where the rest of the two cores went: the X server, and the
	// drawer over its whole life (a little longer than the run).
	xvfb, err := pc.x.CPUTime()
	must(b, err)
	b.ReportMetric(100*(xvfb-xvfb0).Seconds()/wall, "xvfb-cpu%")
	if drawer != nil {
		_ = drawer.Process.Kill()
		_ = drawer.Wait()
		used := drawer.ProcessState.UserTime() + drawer.ProcessState.SystemTime()
		b.ReportMetric(100*used.Seconds()/time.Since(drawStart).Seconds(), "drawer-cpu%")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestScreenDrawer is the benchmark's child process: it changes the
// screen 60 times a second until killed — a 200×50 area of text-like
// strokes ("small"), or the whole screen, a moving noisy gradient
// ("full").
func TestScreenDrawer(t *testing.T) {
	spec := os.Getenv("ADHOC_SCREEN_DRAWER")
	if spec == "" {
		t.Skip("only run by BenchmarkScreen1080")
	}
	mode, display, _ := strings.Cut(spec, ",")
	p, err := x11test.StartProgram(display, color.RGBA{240, 240, 240, 255})
	must(t, err)
	area := image.Rect(860, 500, 1060, 550)
	if mode == "full" {
		area = image.Rect(0, 0, 1920, 1080)
	}
	var pics []*image.RGBA
	for i := range 8 {
		pics = append(pics, drawerPicture(mode, area, i))
	}
	tick := time.NewTicker(time.Second / 60)
	for i := 0; ; i++ {
		must(t, p.Draw(pics[i%len(pics)]))
		<-tick.C
	}
}

func drawerPicture(mode string, r image.Rectangle, i int) *image.RGBA {
	rnd := rand.New(rand.NewPCG(uint64(i), 3))
	img := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBA{240, 240, 240, 255}
			if mode == "full" {
				n := uint8(rnd.IntN(12))
				c = color.RGBA{uint8((x+i*40)/8) + n, uint8(y/5) + n, uint8((x+y)/12) + n, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	if mode == "small" {
		shades := []color.RGBA{{20, 20, 20, 255}, {110, 110, 110, 255}, {180, 180, 180, 255}}
		for y := r.Min.Y + 4; y+12 < r.Max.Y; y += 18 {
			for x := r.Min.X + 4; x+7 < r.Max.X; x += 8 {
				for range 14 {
					img.SetRGBA(x+rnd.IntN(7), y+rnd.IntN(12), shades[rnd.IntN(3)])
				}
			}
		}
	}
	return img
}

// seqOf reads a frame payload's sequence number without decoding it.
func seqOf(payload []byte) uint32 {
	if len(payload) < 6 {
		return 0
	}
	return binary.BigEndian.Uint32(payload[2:])
}
