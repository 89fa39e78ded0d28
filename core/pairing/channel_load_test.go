package pairing

import (
	"github.com/hashicorp/yamux"

	"os"
	"strconv"
	"testing"
	"time"
)

// TestChannelLoad opens ADHOC_CHANNELS live channels (1,000 by default) to
// the station, one for each of as many paired PCs, and reports the memory
// the station holds for them. It runs only on request:
//
//	ADHOC_LOAD=1 go test -count=1 -run TestChannelLoad -v ./core/pairing/
//
// The PCs (the real agent client and channel code) run in a child process,
// so this process's memory is the station's alone; the sessions are
// written straight into the file, so no argon2id hash (64 MiB each) is made
// and freed around the measurement, and memNow returns freed pages to the
// system before each reading.
func TestChannelLoad(t *testing.T) {
	if os.Getenv("ADHOC_LOAD") == "" {
		t.Skip("a load test: set ADHOC_LOAD=1 (ADHOC_CHANNELS=n for another count)")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("ADHOC_CHANNELS")); err == nil && v > 0 {
		n = v
	}
	st, srv, ids, keys := startLoadStation(t, t.Context(), n, nil)
	// Warm what the first channel would otherwise allocate (the TLS and
	// HTTP server's pools, the list of sessions) with one channel.
	warm := startPCs(t, srv, keys[:1])
	warm.stop()
	before := memNow()
	pcs := startPCs(t, srv, keys)
	// Every channel answers a ping from the station's side, so all are
	// live, not just counted.
	var chans []*yamux.Session
	srv.live.mu.Lock()
	for _, set := range srv.live.m {
		chans = append(chans, set...)
	}
	srv.live.mu.Unlock()
	if len(chans) != n {
		t.Fatalf("the station holds %d channels, want %d", len(chans), n)
	}
	pingStart := time.Now()
	for i, ys := range chans {
		if _, err := ys.Ping(); err != nil {
			t.Fatalf("ping on channel %d: %v", i+1, err)
		}
	}
	pinged := time.Since(pingStart)
	after := memNow()
	for _, id := range ids {
		if !st.ChannelUp(id) {
			t.Fatalf("the station does not count session %d's channel", id)
		}
	}
	t.Logf("%d channels opened by the PCs' process in %.2f s (8 at a time); one ping on each from the station in %v",
		n, pcs.report.Seconds, pinged.Round(time.Millisecond))
	t.Logf("station process RSS: %.1f MB before, %.1f MB after (+%.1f MB, %.1f KB a channel)",
		before.rss, after.rss, after.rss-before.rss, (after.rss-before.rss)*1024/float64(n))
	t.Logf("station Go heap in use +%.1f MB (%.1f KB a channel), goroutine stacks +%.1f MB, goroutines %d → %d",
		after.heap-before.heap, (after.heap-before.heap)*1024/float64(n), after.stack-before.stack, before.goroutines, after.goroutines)
	t.Logf("the PCs' process (all %d PCs): RSS %.1f MB", n, pcs.report.RSSMB)
}
