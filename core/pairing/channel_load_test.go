package pairing

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
)

// TestChannelLoad opens ADHOC_CHANNELS live channels (1,000 when set to
// "1") on loopback with the real agent client, all in this process, and
// reports the memory they hold. It runs only on request:
//
//	ADHOC_LOAD=1 go test -run TestChannelLoad -v ./core/pairing/
//
// The channels share one paired session's agent key: preparing 1,000
// sessions would cost a minute of argon2id and 1,000 profiles, and a
// channel costs the station the same whichever session it serves (one
// counter per session). The per-key limit is stepped past on the clock.
func TestChannelLoad(t *testing.T) {
	if os.Getenv("ADHOC_LOAD") == "" {
		t.Skip("a load test: set ADHOC_LOAD=1 (ADHOC_CHANNELS=n for another count)")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("ADHOC_CHANNELS")); err == nil && v > 0 {
		n = v
	}
	st, clock := coretest.Open(t)
	srv, err := Start(t.Context(), st, Options{ListenAddr: "127.0.0.1:0", AgentExe: fakeExe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	_, prep := coretest.MustPrepare(t, st, "Ana", "ana@example.com")
	paired, err := st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "127.0.0.1:1", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatal(err)
	}
	c, err := support.NewClient(srv.URL(), srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	before := memNow()
	start := time.Now()
	chans := make([]*yamux.Session, 0, n)
	t.Cleanup(func() {
		for _, ys := range chans {
			ys.Close()
		}
	})
	for i := range n {
		if i%25 == 0 {
			clock.Advance(time.Minute) // the per-key limit is not under test
		}
		ys, _, err := c.OpenChannel(t.Context(), paired.AgentKey, support.ChannelTiming{})
		if err != nil {
			t.Fatalf("channel %d: %v", i+1, err)
		}
		chans = append(chans, ys)
	}
	opened := time.Since(start)
	// Every channel answers a ping, so all are live, not just counted.
	pingStart := time.Now()
	for i, ys := range chans {
		if _, err := ys.Ping(); err != nil {
			t.Fatalf("ping on channel %d: %v", i+1, err)
		}
	}
	pinged := time.Since(pingStart)
	after := memNow()
	t.Logf("%d channels opened in %v (%.1f ms each); one ping on each in %v", n, opened.Round(time.Millisecond),
		float64(opened.Microseconds())/1000/float64(n), pinged.Round(time.Millisecond))
	t.Logf("process RSS (both ends, in one process): %.1f MB before, %.1f MB after (+%.1f MB, %.1f KB a channel)",
		before.rss, after.rss, after.rss-before.rss, (after.rss-before.rss)*1024/float64(n))
	t.Logf("Go heap in use +%.1f MB, goroutine stacks +%.1f MB, goroutines %d → %d",
		after.heap-before.heap, after.stack-before.stack, before.goroutines, after.goroutines)
	if !st.ChannelUp(prep.Session.ID) {
		t.Error("the station does not count the channels")
	}
}

type mem struct {
	rss, heap, stack float64 // MB
	goroutines       int
}

func memNow() mem {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := mem{heap: float64(ms.HeapInuse) / (1 << 20), stack: float64(ms.StackInuse) / (1 << 20), goroutines: runtime.NumGoroutine()}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				var kb float64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				m.rss = kb / 1024
			}
		}
	}
	return m
}
