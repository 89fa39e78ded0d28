//go:build linux

package ui

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

// rssKB is this process's resident memory.
func rssKB(tb testing.TB) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkCommandOutput50MB: 50 MB of output at full speed through the
// real command path (the station's remote session, the live channel, the
// real agent code running sh -c on this machine) into the Command tab on
// Fyne's test driver. Meanwhile a tab switch (Command ↔ System, laid out)
// is asked for every 50 ms the way the window's goroutine would run it,
// behind any redraw: its time is reported, with the process's peak RSS
// growth (station and agent together), the redraws, and one drawing of the
// window with the tab full afterwards. "lines" is yes's two-byte lines, "one-line" 50 MB of base64
// with no newline.
func BenchmarkCommandOutput50MB(b *testing.B) {
	for _, tc := range []struct{ name, line string }{
		{"lines", "yes | head -c 50000000"},
		{"one-line", "head -c 37500000 /dev/zero | base64 -w0"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				benchCommandOutput(b, tc.line)
			}
		})
	}
}

func benchCommandOutput(b *testing.B, line string) {
	b.StopTimer()
	b.Setenv("TMPDIR", b.TempDir())
	_, _, r, watch := remoteTestOpen(b)
	c := r.command
	r.tabs.SelectIndex(1)
	redraws := 0 // under the background's lock
	told := r.work.applied
	r.work.applied = func(job string) {
		if job == jobCommandOutput {
			redraws++
		}
		told(job)
	}
	debug.FreeOSMemory() // the setup's garbage (password hashing) must not hide growth
	before := rssKB(b)
	peak := before
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore, heapPeak := ms.HeapInuse, ms.HeapInuse
	var switches []time.Duration
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			start := time.Now()
			r.work.apply("switch", func() { r.tabs.SelectIndex(i % 2) })
			switches = append(switches, time.Since(start))
			peak = max(peak, rssKB(b))
			runtime.ReadMemStats(&ms)
			heapPeak = max(heapPeak, ms.HeapInuse)
		}
	}()
	c.entry.SetText(line)
	start := time.Now()
	b.StartTimer()
	test.Tap(c.run)
	// 50 MB takes longer than watch.wait's limit on a loaded machine.
	for job := ""; job != jobCommand; {
		select {
		case job = <-watch.applied:
		case <-time.After(5 * time.Minute):
			b.Fatal("the command did not end within 5 minutes")
		}
	}
	b.StopTimer()
	took := time.Since(start)
	close(stop)
	<-done
	peak = max(peak, rssKB(b))
	runtime.GC() // what stays once the garbage is collected
	runtime.ReadMemStats(&ms)
	retained := int64(ms.HeapInuse) - int64(heapBefore)
	// One drawing of the window with the tab full (the software painter:
	// the GL driver caches text that this shapes again every time).
	var drawn time.Duration
	r.work.apply("draw", func() {
		r.tabs.SelectIndex(1)
		t0 := time.Now()
		r.win.Canvas().Capture()
		drawn = time.Since(t0)
	})
	r.win.Close()
	if len(switches) == 0 {
		b.Fatal("no tab switch was timed")
	}
	slices.Sort(switches)
	q := func(p float64) float64 {
		return float64(switches[int(p*float64(len(switches)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(50/took.Seconds(), "MB/s")
	b.ReportMetric(q(0.5), "switch-p50-ms")
	b.ReportMetric(q(0.95), "switch-p95-ms")
	b.ReportMetric(q(1), "switch-max-ms")
	b.ReportMetric(float64(peak-before)/1024, "rss-growth-MB")
	b.ReportMetric(float64(heapPeak-heapBefore)/(1<<20), "heap-growth-MB")
	b.ReportMetric(float64(retained)/(1<<20), "heap-retained-MB")
	b.ReportMetric(float64(drawn.Microseconds())/1000, "draw-full-tab-ms")
	r.work.apply("count", func() { b.ReportMetric(float64(redraws), "redraws") })
}
