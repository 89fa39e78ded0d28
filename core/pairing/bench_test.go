package pairing

import (
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"slices"
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
		// Preparing hashed the password with argon2id (64 MiB); collect that
		// now, as in use preparing and pairing are minutes apart.
		runtime.GC()
		b.StartTimer()
		t0 := time.Now()
		if r := doWith(b, client, "POST", srv.URL()+"/api/v1/pair", "application/json", body); r.status != http.StatusOK {
			b.Fatalf("pair: %d %s", r.status, r.body)
		}
		coretest.WaitEvent(b, sub, core.EventPaired, 0)
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

// BenchmarkPairingCoreOnly is core.Pair alone (the SQLite commit with its
// audit row), without HTTPS or the event: the part of BenchmarkPairing
// that the pairing service does not control.
func BenchmarkPairingCoreOnly(b *testing.B) {
	st, clock, _ := benchEnv(b, 0)
	p, err := st.CreateProfile(b.Context(), "Ana", "ana@example.com")
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		clock.Advance(time.Minute)
		prep, err := st.Prepare(b.Context(), core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com",
			Password: coretest.Password, Confirm: coretest.Password})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		b.StartTimer()
		t0 := time.Now()
		if _, err := st.Pair(b.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code,
			RemoteAddr: "127.0.0.1:50000", Facts: coretest.WindowsPC}); err != nil {
			b.Fatal(err)
		}
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
