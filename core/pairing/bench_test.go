package pairing

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// benchEnv is a station and pairing service for benchmarks.
func benchEnv(b *testing.B, seats int) (*core.Station, *coretest.Clock, *Server) {
	b.Helper()
	st, clock := coretest.Open(b)
	if seats > 0 {
		set, _ := st.Settings(b.Context())
		set.Seats = seats
		if err := st.SaveSettings(b.Context(), set); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := Start(b.Context(), st, Options{ListenAddr: "127.0.0.1:0", AgentExe: fakeExe})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return st, clock, srv
}

// oneShotClient dials a fresh connection per request from local, as a
// Support Session app does when it pairs once.
func oneShotClient(pins []string, local net.Addr) *http.Client {
	c := pinnedClient(pins, local)
	c.Transport.(*http.Transport).DisableKeepAlives = true
	return c
}

// BenchmarkPairing times one pairing as the app sees it and the UI learns
// it: a new TLS 1.3 connection, POST /api/v1/pair with the right code, the
// SQLite commit, the answer read, and the paired event received by a
// subscriber. Preparing each session (argon2id) is outside the timing.
func BenchmarkPairing(b *testing.B) {
	st, clock, srv := benchEnv(b, 0)
	p, err := st.CreateProfile(b.Context(), "Ana", "ana@example.com")
	if err != nil {
		b.Fatal(err)
	}
	sub := st.Subscribe()
	defer sub.Close()
	client := oneShotClient(srv.Pins(), nil)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		clock.Advance(time.Minute) // a fresh per-address window: the limiter is not under test here
		prep, err := st.Prepare(b.Context(), core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com",
			Password: coretest.Password, Confirm: coretest.Password})
		if err != nil {
			b.Fatal(err)
		}
		body, _ := json.Marshal(pairBody(prep.Session.Token, prep.Code))
		drain(sub)
		b.StartTimer()
		t0 := time.Now()
		if r := doWith(b, client, "POST", srv.URL()+"/api/v1/pair", "application/json", body); r.status != http.StatusOK {
			b.Fatalf("pair: %d %s", r.status, r.body)
		}
		waitEvent(b, sub, core.EventPaired)
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		if err := st.End(b.Context(), prep.Session.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportLatency(b, "", lat)
}

func drain(sub *core.Subscription) {
	for {
		select {
		case <-sub.C:
		default:
			return
		}
	}
}

func reportLatency(b *testing.B, prefix string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), prefix+"median-ms")
	b.ReportMetric(ms(lat[(len(lat)*99)/100]), prefix+"p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), prefix+"max-ms")
}

// BenchmarkRejectedCodes floods the pair call with wrong security codes
// while a legitimate PC pairs from its own address, and reports the
// answered refusals per second and the legitimate pairings' latency.
//
// The limiter counts per source address (10 tries a minute), so how the
// flood is spread matters, and both shapes are measured:
//   - addresses=64: 64 attacking addresses on keep-alive connections.
//     After its 10 tries each address is answered 429 from memory, which
//     is what keeps a flood from one network cheap.
//   - addresses=fresh: every request from a new address (a new
//     connection each), so every one passes the limiter, is checked
//     against SQLite and audited: the worst case, an attacker with
//     unlimited addresses.
//
// Loopback lets us bind any 127.x.y.z as the source address.
func BenchmarkRejectedCodes(b *testing.B) {
	b.Run("addresses=64", func(b *testing.B) { benchFlood(b, 64, false) })
	b.Run("addresses=fresh", func(b *testing.B) { benchFlood(b, 32, true) })
}

func benchFlood(b *testing.B, workers int, fresh bool) {
	const targets, legit = 3, 5
	st, _, srv := benchEnv(b, targets+legit)
	var tokens, legitTokens, legitCodes []string
	for i := range targets + legit {
		_, prep := coretest.MustPrepare(b, st, "Tech "+strconv.Itoa(i), fmt.Sprintf("tech%d@example.com", i))
		if i < targets {
			tokens = append(tokens, prep.Session.Token)
		} else {
			legitTokens, legitCodes = append(legitTokens, prep.Session.Token), append(legitCodes, prep.Code)
		}
	}
	pins := srv.Pins()
	clients := make([]*http.Client, workers)
	for w := range clients {
		clients[w] = pinnedClient(pins, &net.TCPAddr{IP: net.IPv4(127, 1, byte(w/250), byte(1+w%250))})
		if !fresh {
			// Steady state of a flood: each address has spent its 10 tries of
			// this minute (each a SQLite write) before the timing starts.
			for i := range 10 {
				body, _ := json.Marshal(pairBody(tokens[i%targets], "000 000 00"+strconv.Itoa(i)))
				doWith(b, clients[w], "POST", srv.URL()+"/api/v1/pair", "application/json", body)
			}
		}
	}
	var sent, tooMany, refused, other atomic.Int64
	var nextAddr atomic.Uint32
	stop := make(chan struct{})
	legitDone := make(chan struct{})
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := clients[w]
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if sent.Add(1) > int64(b.N) {
					// Keep the pressure on until the legitimate PC is done.
					select {
					case <-legitDone:
						return
					default:
					}
				}
				if fresh {
					n := nextAddr.Add(1)
					client = oneShotClient(pins, &net.TCPAddr{IP: net.IPv4(127, 2+byte(n>>16), byte(n>>8), byte(n))})
				}
				body, _ := json.Marshal(pairBody(tokens[i%targets], "000 000 00"+strconv.Itoa(i%10)))
				r := doWith(b, client, "POST", srv.URL()+"/api/v1/pair", "application/json", body)
				switch {
				case r.status == http.StatusTooManyRequests:
					tooMany.Add(1)
				case r.status == http.StatusForbidden:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	// The legitimate PC pairs while the flood runs.
	var lat []time.Duration
	go func() {
		defer close(legitDone)
		for i := range legitTokens {
			client := oneShotClient(pins, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)})
			body, _ := json.Marshal(pairBody(legitTokens[i], legitCodes[i]))
			t0 := time.Now()
			r := doWith(b, client, "POST", srv.URL()+"/api/v1/pair", "application/json", body)
			lat = append(lat, time.Since(t0))
			if r.status != http.StatusOK {
				b.Errorf("legitimate pairing during the flood: %d %s", r.status, r.body)
			}
			time.Sleep(50 * time.Millisecond) // spread over the flood
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-legitDone
	b.StopTimer()
	answered := tooMany.Load() + refused.Load() + other.Load()
	b.ReportMetric(float64(answered)/elapsed.Seconds(), "answered/s")
	b.ReportMetric(100*float64(tooMany.Load())/float64(max(1, answered)), "%429")
	b.ReportMetric(float64(other.Load()), "unexpected")
	reportLatency(b, "legit-", lat)
	if other.Load() > 0 {
		b.Errorf("%d answers were neither 403 nor 429", other.Load())
	}
}
