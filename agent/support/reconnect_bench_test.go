//go:build !windows

package support_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core"
)

// BenchmarkNetworkRestoredOnline: the PC's network goes away (its
// connections dropped, new ones refused) for outage, then comes back. It
// times the network's return until the station publishes the PC online,
// the event the Computers page redraws the row from (ui's
// BenchmarkOnlineRowUpdated times that redraw), with the production
// channel timing (channel.go: at once after a drop, then ~1 s for 15
// tries, then doubling to 30 s; jittered).
// It reports the median and the slowest return.
func BenchmarkNetworkRestoredOnline(b *testing.B) {
	for _, outage := range []time.Duration{0, 3 * time.Second, 10 * time.Second} {
		b.Run(fmt.Sprintf("outage=%v", outage), func(b *testing.B) {
			r := newRig(b, windowsPC, nil, rightCode)
			r.channel = support.ChannelTiming{} // the defaults, as on a real PC
			cable := r.via(newCutter(b, r.srv.Addr().String()))
			r.start()
			r.waitStatus(support.TrayWaiting)
			r.waitOnline(true)
			var took []time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				cable.unplug()
				r.waitEvent(core.EventComputerOffline)
				time.Sleep(outage) // the outage itself is the scenario, not a wait on the code
				b.StartTimer()
				start := time.Now()
				cable.restore()
				r.waitEvent(core.EventComputerOnline)
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "ms-max")
		})
	}
}
