package team_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"adhocstation/core/team"
)

// BenchmarkSeatClaim: what a team adds to a prepare — the profile's and a
// seat's compare-and-set creates on one embedded hub on loopback — and the
// release at the session's end.
func BenchmarkSeatClaim(b *testing.B) {
	srv := hub(b, 5)
	st := join(b, srv, []string{srv.ClientURL()}, "desk", 30*time.Second)
	ctx := context.Background()
	var claim, release time.Duration
	b.ResetTimer()
	for i := range b.N {
		s := fmt.Sprintf("s%d", i)
		t0 := time.Now()
		if err := st.Prepare(ctx, s, team.ProfileKey(s+"@example.org"), "T"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := st.Release(ctx, s); err != nil {
			b.Fatal(err)
		}
		claim += t1.Sub(t0)
		release += time.Since(t1)
	}
	b.ReportMetric(float64(claim.Microseconds())/float64(b.N), "claim-µs/op")
	b.ReportMetric(float64(release.Microseconds())/float64(b.N), "release-µs/op")
}

// BenchmarkListUpdate: a session's change published at one station, until
// the two other stations' watches show it (the target: < 1 s).
func BenchmarkListUpdate(b *testing.B) {
	srv := hub(b, 5)
	url := []string{srv.ClientURL()}
	a := join(b, srv, url, "a", 30*time.Second)
	seen := make(chan string, 16)
	watchAt := func(id string) {
		m := join(b, srv, url, id, 30*time.Second)
		last := ""
		go func() {
			for range m.changed {
				for _, e := range m.List() {
					if e.Station == "a" && e.Session == "s" && e.State != last {
						last = e.State
						seen <- e.State
					}
				}
			}
		}()
	}
	watchAt("b")
	watchAt("c")
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		state := fmt.Sprintf("state %d", i)
		t0 := time.Now()
		if err := a.Publish(ctx, team.Entry{Session: "s", PreparedBy: "Anna", State: state}); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < 2; {
			if <-seen == state {
				got++
			}
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}

// BenchmarkThreeStations1000Sessions: 3 stations prepare 1,000 sessions at
// once (8 at a time each) through one embedded hub with 1,000 seats and
// publish each in the list; every station must then list all 1,000 and see
// 1,000 seats held, and one more prepare must get the seat refusal.
func BenchmarkThreeStations1000Sessions(b *testing.B) {
	for range b.N {
		b.StopTimer()
		srv := hub(b, 1000)
		url := []string{srv.ClientURL()}
		var sts []*member
		for i := range 3 {
			sts = append(sts, join(b, srv, url, fmt.Sprintf("st%d", i), 30*time.Second))
		}
		ctx := context.Background()
		work := make(chan int)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		b.StartTimer()
		t0 := time.Now()
		for w := range 24 {
			st := sts[w%3]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					s := fmt.Sprintf("s%d", i)
					err := st.Prepare(ctx, s, team.ProfileKey(s+"@example.org"), "T")
					if err == nil {
						err = st.Publish(ctx, team.Entry{Session: s, PreparedBy: "T", State: "waiting"})
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			}()
		}
		for i := range 1000 {
			work <- i
		}
		close(work)
		wg.Wait()
		prepared := time.Since(t0)
		if len(errs) > 0 {
			b.Fatalf("%d prepares failed, first: %v", len(errs), errs[0])
		}
		for _, st := range sts {
			st.waitView(b, "1,000 sessions and seats", func() bool {
				_, held := st.Seats()
				return len(st.List()) == 1000 && held == 1000
			})
		}
		all := time.Since(t0)
		b.StopTimer()
		if err := sts[0].Prepare(ctx, "extra", team.ProfileKey("extra@example.org"), "T"); !errors.Is(err, team.ErrNoSeat) {
			b.Fatalf("prepare 1,001: %v, want the seat refusal", err)
		}
		seated := 0
		for _, st := range sts {
			s, u := st.Holding()
			seated += s
			if u != 0 {
				b.Fatalf("%d sessions without a seat", u)
			}
		}
		if seated != 1000 {
			b.Fatalf("%d seated, want 1000", seated)
		}
		b.ReportMetric(prepared.Seconds()*1000, "prepare-all-ms")
		b.ReportMetric(all.Seconds()*1000, "all-listed-ms")
		for _, st := range sts {
			st.Close()
		}
		srv.Shutdown()
		b.StartTimer()
	}
}

// BenchmarkSeatClaimCluster: the same claim and release on a 3-node
// cluster with the bucket replicated 3 times (each write waits for a
// quorum of 2), the station connected to one node.
func BenchmarkSeatClaimCluster(b *testing.B) {
	nodes := cluster(b, 5)
	st := join(b, nodes[0], []string{nodes[0].ClientURL()}, "desk", 30*time.Second)
	ctx := context.Background()
	var claim, release time.Duration
	b.ResetTimer()
	for i := range b.N {
		s := fmt.Sprintf("s%d", i)
		t0 := time.Now()
		if err := st.Prepare(ctx, s, team.ProfileKey(s+"@example.org"), "T"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := st.Release(ctx, s); err != nil {
			b.Fatal(err)
		}
		claim += t1.Sub(t0)
		release += time.Since(t1)
	}
	b.ReportMetric(float64(claim.Microseconds())/float64(b.N), "claim-µs/op")
	b.ReportMetric(float64(release.Microseconds())/float64(b.N), "release-µs/op")
}
