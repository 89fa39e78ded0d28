package record

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"adhocstation/core/wire/frame"
)

// The recording's figures for docs/PERFORMANCE.md, at 1920×1080 with the
// real screen encoder: size per hour for a still desktop, office work
// (typing into a window) and full-screen video; the CPU the recording adds
// to viewing; seek latency on a one-hour recording.

// scenario is a kind of screen activity: fps frames a second of which
// step changes the desk.
type scenario struct {
	name string
	fps  int
	secs int // simulated, extrapolated to an hour
	step func(d *desk, i int)
}

var scenarios = []scenario{
	{"still", 10, 600, func(*desk, int) {}},
	// Typing at 5 characters a second, captured at 10 a second: every
	// other capture has one new character.
	{"office", 10, 300, func(d *desk, i int) {
		if i%2 == 0 {
			d.typeChar()
		}
	}},
	// Video over the whole screen at the ~20 frames/s the stream reaches
	// for full changes at 1080p (BenchmarkScreen1080/full).
	{"video", 20, 10, func(d *desk, i int) { d.video(i) }},
}

// runScenario plays sc through the encoder and the station's decoder,
// recording when rec is set, and returns the time the recording took (on
// the screen's reader and on the recorder's writer, wall time: an upper
// bound of its CPU) and the bytes of the stream (the frames as sent).
func runScenario(b *testing.B, sc scenario, c *clock, rec *Recorder) (time.Duration, int64) {
	d := newDesk(1920, 1080)
	s := &station{enc: frame.NewEncoder(), rec: rec}
	var stream int64
	for i := range sc.fps * sc.secs {
		c.Add(time.Second / time.Duration(sc.fps))
		sc.step(d, i)
		stream += int64(s.send(b, d))
	}
	if rec == nil {
		return 0, stream
	}
	rec.Close()
	<-rec.Done()
	return s.inRec + time.Duration(rec.busy.Load()), stream
}

func BenchmarkRecordingPerHour(b *testing.B) {
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			for range b.N {
				c := newClock()
				seal := newSealer(b)
				rec, path, done := startRecording(b, seal, c, Options{})
				cost, stream := runScenario(b, sc, c, rec)
				sum := <-done
				hour := float64(time.Hour / (time.Duration(sc.secs) * time.Second))
				b.ReportMetric(float64(sum.Size)*hour/1e6, "MB/hour")
				b.ReportMetric(float64(stream)*hour/1e6, "stream-MB/hour")
				b.ReportMetric(100*float64(cost)/float64(time.Duration(sc.secs)*time.Second), "%core")
				f, err := Open(path, seal)
				if err == nil {
					b.ReportMetric(float64(len(f.Index.Keys)), "keyframes")
					f.Close()
				}
				os.Remove(path)
			}
		})
	}
}

// hourOnce makes one recording of an hour of office work, shared by the
// seek benchmarks (it takes about a minute).
var (
	hourOnce sync.Once
	hourPath string
	hourSeal gcmSealer
)

func hourRecording(b *testing.B) (string, Sealer) {
	hourOnce.Do(func() {
		hourSeal = newSealer(b)
		dir, err := os.MkdirTemp("", "recording-bench")
		if err != nil {
			b.Fatal(err)
		}
		hourPath = filepath.Join(dir, "hour"+Ext)
		c := newClock()
		w, err := Create(hourPath, hourSeal, Meta{SessionID: 1})
		if err != nil {
			b.Fatal(err)
		}
		rec := Start(w, hourPath, Options{Now: c.Now})
		sc := scenarios[1]
		sc.secs = 3600
		runScenario(b, sc, c, rec)
	})
	return hourPath, hourSeal
}

// BenchmarkRecordingSeek1h seeks to random points of an hour-long office
// recording, each from the nearest keyframe (a fresh Player), and reports
// the latency's median, 99th percentile and maximum.
func BenchmarkRecordingSeek1h(b *testing.B) {
	path, seal := hourRecording(b)
	f, err := Open(path, seal)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := os.Stat(path)
	rnd := rand.New(rand.NewPCG(3, 4))
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		at := time.Duration(rnd.Int64N(int64(f.Index.Duration)))
		p := NewPlayer(f)
		t0 := time.Now()
		if _, err := p.Seek(at); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(st.Size())/1e6, "file-MB")
	b.ReportMetric(float64(len(f.Index.Keys)), "keyframes")
}

// BenchmarkRecordingSeekVideo is the same on full-screen video, the worst
// case for decoding from a keyframe.
func BenchmarkRecordingSeekVideo(b *testing.B) {
	seal, c := newSealer(b), newClock()
	path := filepath.Join(b.TempDir(), "video"+Ext)
	w, err := Create(path, seal, Meta{SessionID: 1})
	if err != nil {
		b.Fatal(err)
	}
	rec := Start(w, path, Options{Now: c.Now})
	sc := scenarios[2]
	sc.secs = 30
	runScenario(b, sc, c, rec)
	f, err := Open(path, seal)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rnd := rand.New(rand.NewPCG(5, 6))
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		at := time.Duration(rnd.Int64N(int64(f.Index.Duration)))
		p := NewPlayer(f)
		t0 := time.Now()
		if _, err := p.Seek(at); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
