package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// BenchmarkOnlineRowUpdated times a PC's live channel opening (and
// closing) in core, as the pairing service registers it, until the
// Computers page's row shows "online" ("offline"): the event published,
// delivered by the whole window's subscription on the Fyne goroutine
// (test driver) and drawn into the row, with 300 sessions in the
// database and 4 listed under Active. It reports the median and the
// slowest of each direction.
func BenchmarkOnlineRowUpdated(b *testing.B) {
	dir := b.TempDir()
	pagesBenchSeed(b, dir, 300)
	st := coretest.OpenWith(b, dir, coretest.NewClock(time.Now()), nil)
	w := newStationWindow(test.NewTempApp(b), st, Options{}, 0)
	b.Cleanup(w.win.Close)
	work := watchWork(&w.work)
	_, prep := coretest.MustPrepare(b, st, "Tom", "tom@example.com")
	paired := pairPC(b, st, prep)
	work.wait(b, eventJob(core.EventPaired))
	// Pairing shows the PC online; a first channel's end shows it offline.
	_, release, err := st.OpenChannel(b.Context(), paired.AgentKey, nil)
	if err != nil {
		b.Fatal(err)
	}
	release()
	work.wait(b, eventJob(core.EventComputerOffline))
	w.tabs.SelectIndex(1)
	s := w.screens[1].(*computersScreen)
	state := func() string {
		r, ok := pagesTestRows(s)[prep.Session.ID]
		if !ok {
			b.Fatalf("session %d is not on the Computers page", prep.Session.ID)
		}
		return pagesTestCells(r)[colState]
	}
	var online, offline []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		_, release, err := st.OpenChannel(b.Context(), paired.AgentKey, nil)
		if err != nil {
			b.Fatal(err)
		}
		work.wait(b, eventJob(core.EventComputerOnline))
		online = append(online, time.Since(start))
		if got := state(); got != "online" {
			b.Fatalf("the row says %q after the channel opened", got)
		}
		start = time.Now()
		release()
		work.wait(b, eventJob(core.EventComputerOffline))
		offline = append(offline, time.Since(start))
		if got := state(); got != "offline" {
			b.Fatalf("the row says %q after the channel closed", got)
		}
	}
	for name, d := range map[string][]time.Duration{"online": online, "offline": offline} {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "ms-"+name+"-median")
		b.ReportMetric(float64(d[len(d)-1].Microseconds())/1000, "ms-"+name+"-max")
	}
}
