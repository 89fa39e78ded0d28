package pairing

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adhocstation/core/coretest"
)

// BenchmarkRejectedCodes floods the pair call with wrong security codes
// while a legitimate PC pairs from its own address, and reports the
// answered refusals per second and the legitimate pairings' latency.
//
// The flood runs in a separate process (this test binary again, see
// TestFloodProcess) so that, as with real attackers, its clients do not
// share the station's Go scheduler; on this machine it shares the CPUs.
//
// The limiter counts per source address (10 tries a minute), so how the
// flood is spread matters, and both shapes are measured:
//   - addresses=64: 64 attacking addresses on keep-alive connections, in
//     the steady state of a flood: each address has spent its 10 tries of
//     the minute (each a SQLite write) before the timing starts, so it is
//     answered 429 from memory.
//   - addresses=fresh: every request from a new address on a new
//     connection, so every one passes the limiter, is checked against
//     SQLite and audited: the worst case, an attacker with unlimited
//     addresses.
//
// Loopback lets us bind any 127.x.y.z as the source address.
//   - addresses=fresh/links=unknown: the same with made-up links, the
//     shape of issue 8's flood from rotating addresses.
//   - .../rate=400: the same at a fixed 400 requests/s, so versions that
//     answer at different speeds are compared under the same flood (the
//     other shapes send as fast as they are answered).
//
// Each shape also reports the rows it added to the audit and rate_limits
// tables (`audit-rows`, `limit-rows`): a flood must not fill the disk.
func BenchmarkRejectedCodes(b *testing.B) {
	b.Run("addresses=64", func(b *testing.B) { benchFlood(b, floodConfig{Workers: 64}) })
	b.Run("addresses=fresh", func(b *testing.B) { benchFlood(b, floodConfig{Workers: 32, Fresh: true}) })
	b.Run("addresses=fresh/links=unknown", func(b *testing.B) {
		benchFlood(b, floodConfig{Workers: 32, Fresh: true, Unknown: true})
	})
	b.Run("addresses=fresh/links=unknown/rate=400", func(b *testing.B) {
		benchFlood(b, floodConfig{Workers: 32, Fresh: true, Unknown: true, Rate: 400})
	})
}

// floodConfig is handed to the flood process in $PAIRING_FLOOD.
type floodConfig struct {
	URL     string
	Pins    []string
	Tokens  []string
	N       int
	Workers int
	Fresh   bool
	Unknown bool // made-up links instead of the target sessions'
	Rate    int  // requests a second from all workers together; 0: as fast as answered
}

type floodResult struct {
	TooMany, Refused, Other int64
	Seconds                 float64
}

func benchFlood(b *testing.B, cfg floodConfig) {
	const targets, legit = 3, 5
	st, _, srv := benchEnv(b, targets+legit)
	var legitTokens, legitCodes []string
	for i := range targets + legit {
		_, prep := coretest.MustPrepare(b, st, "Tech "+strconv.Itoa(i), fmt.Sprintf("tech%d@example.com", i))
		if i < targets {
			cfg.Tokens = append(cfg.Tokens, prep.Session.Token)
		} else {
			legitTokens, legitCodes = append(legitTokens, prep.Session.Token), append(legitCodes, prep.Code)
		}
	}
	if cfg.Unknown {
		cfg.Tokens = []string{"made-up-link-0000000000", "made-up-link-1111111111", "made-up-link-2222222222"}
	}
	cfg.URL, cfg.Pins, cfg.N = srv.URL(), srv.Pins(), b.N
	audit0, limits0 := coretest.Rows(b, st, "audit"), coretest.Rows(b, st, "rate_limits")
	runtime.GC() // the sessions' argon2id garbage (64 MiB each) is not the flood's cost
	raw, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFloodProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PAIRING_FLOOD="+string(raw))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out := bufio.NewScanner(stdout)
	if !out.Scan() || out.Text() != "ready" {
		b.Fatalf("the flood process did not start: %q", out.Text())
	}
	b.ResetTimer()
	// The legitimate PC pairs while the flood runs.
	time.Sleep(100 * time.Millisecond)
	var lat []time.Duration
	for i := range legitTokens {
		client := oneShotClient(srv.Pins(), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)})
		body, _ := json.Marshal(pairBody(legitTokens[i], legitCodes[i]))
		t0 := time.Now()
		r := doWith(b, client, "POST", srv.URL()+"/api/v1/pair", "application/json", body)
		lat = append(lat, time.Since(t0))
		if r.status != 200 {
			b.Errorf("legitimate pairing during the flood: %d %s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stdin.Close() // the flood may stop once it sent b.N requests
	var res floodResult
	for out.Scan() {
		if json.Unmarshal(out.Bytes(), &res) == nil && res.Seconds > 0 {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("flood process: %v", err)
	}
	b.StopTimer()
	// Each legitimate pairing wrote one audit row; together, one window.
	b.ReportMetric(float64(coretest.Rows(b, st, "audit")-audit0-len(legitTokens)), "audit-rows")
	b.ReportMetric(float64(coretest.Rows(b, st, "rate_limits")-limits0-1), "limit-rows")
	answered := res.TooMany + res.Refused + res.Other
	b.ReportMetric(float64(answered)/res.Seconds, "answered/s")
	b.ReportMetric(100*float64(res.TooMany)/float64(max(1, answered)), "%429")
	b.ReportMetric(float64(res.Other), "unexpected")
	b.Logf("legitimate pairings under the flood, in order: %v", lat)
	reportLatency(b, "legit-", lat)
	if res.Other > 0 {
		b.Errorf("%d answers were neither 403, 404 nor 429", res.Other)
	}
}

// TestFloodProcess is BenchmarkRejectedCodes's attacker; it does nothing
// in a normal test run.
func TestFloodProcess(t *testing.T) {
	raw := os.Getenv("PAIRING_FLOOD")
	if raw == "" {
		t.Skip("the flood process of BenchmarkRejectedCodes")
	}
	var cfg floodConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	body := func(i int) []byte {
		b, _ := json.Marshal(pairBody(cfg.Tokens[i%len(cfg.Tokens)], "000 000 00"+strconv.Itoa(i%10)))
		return b
	}
	clients := make([]*http.Client, cfg.Workers)
	for w := range clients {
		clients[w] = pinnedClient(cfg.Pins, &net.TCPAddr{IP: net.IPv4(127, 1, byte(w/250), byte(1+w%250))})
		if !cfg.Fresh {
			for i := range 10 { // spend this address's tries of the minute
				doWith(t, clients[w], "POST", cfg.URL+"/api/v1/pair", "application/json", body(i))
			}
		}
	}
	stop := make(chan struct{})
	go func() { // the benchmark closes stdin when its legitimate pairings are done
		bufio.NewReader(os.Stdin).ReadString(0)
		close(stop)
	}()
	fmt.Println("ready")
	var sent, tooMany, refused, other atomic.Int64
	var nextAddr atomic.Uint32
	var pace <-chan time.Time
	if cfg.Rate > 0 {
		tick := time.NewTicker(time.Second / time.Duration(cfg.Rate))
		defer tick.Stop()
		pace = tick.C
	}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := clients[w]
			for i := 0; ; i++ {
				if sent.Add(1) > int64(cfg.N) {
					select {
					case <-stop:
						return
					default:
					}
				}
				if pace != nil {
					<-pace
				}
				if cfg.Fresh {
					n := nextAddr.Add(1)
					client = oneShotClient(cfg.Pins, &net.TCPAddr{IP: net.IPv4(127, 2+byte(n>>16), byte(n>>8), byte(n))})
				}
				switch doWith(t, client, "POST", cfg.URL+"/api/v1/pair", "application/json", body(i)).status {
				case http.StatusTooManyRequests:
					tooMany.Add(1)
				case http.StatusForbidden, http.StatusNotFound:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res, _ := json.Marshal(floodResult{TooMany: tooMany.Load(), Refused: refused.Load(), Other: other.Load(),
		Seconds: time.Since(start).Seconds()})
	fmt.Println(string(res))
}
