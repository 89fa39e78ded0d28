package pairing

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// TestLoad is `make load` (issue 18): the station with 1,000 PCs on live
// channels, a wrong-code flood from ever new addresses, and 5 remote
// sessions each viewing the screen and downloading and uploading at once,
// while PCs pair. It reports the legitimate pairings' latency, the
// Computers list's refresh time and every stream's progress. It runs only
// on request:
//
//	ADHOC_LOAD=1 go test -count=1 -run '^TestLoad$' -v ./core/pairing/
//
// It measures twice: with only the channels open, then with everything.
// Knobs: ADHOC_PCS (1000), ADHOC_LOAD_PAIRINGS (30 a measurement, one
// every 150 ms: its length), ADHOC_LOAD_REMOTES (5), ADHOC_LOAD_MBS (each
// transfer's pace in MB/s, 10 — a 100 Mbit/s network; 0: as fast as
// loopback goes), ADHOC_LOAD_FLOOD (32 flooding workers; 0: no flood),
// ADHOC_LOAD_NICE=0 (run the flood at the station's priority, not nice
// 19). The attackers are other machines, whose TLS handshakes would not
// take the station's CPU; on this machine they take what it leaves. The
// PCs run at the station's priority, since every stream's progress
// depends on them as much as on the station.
//
// Three processes: this one is the station (core, the pairing service,
// the technician's remote sessions) and times what the technician and a
// pairing PC wait for; the PCs (TestLoadPCs) and the flood (TestFloodProcess)
// are this binary run again, so they do not share the station's scheduler.
func TestLoad(t *testing.T) {
	if os.Getenv("ADHOC_LOAD") == "" {
		t.Skip("a load test: set ADHOC_LOAD=1 (see make load)")
	}
	nPCs := envInt("ADHOC_PCS", 1000)
	nPairings := envInt("ADHOC_LOAD_PAIRINGS", 30)
	mbs := envInt("ADHOC_LOAD_MBS", 10)
	remotes := envInt("ADHOC_LOAD_REMOTES", 5)
	floodWorkers := envInt("ADHOC_LOAD_FLOOD", 32)
	const targets = 3
	if nPCs < remotes || nPairings < 1 || nPairings > 400 { // 2 phases' sessions need seats (at most 1,000)
		t.Fatalf("ADHOC_PCS must be at least ADHOC_LOAD_REMOTES (%d), ADHOC_LOAD_PAIRINGS 1 to 400", remotes)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()

	// Sessions prepared through core: the flood's targets, then the PCs
	// that pair during the load (each from its own address: a PC pairs
	// once, and an address may try 10 times a minute).
	var prepared []core.Prepared
	t0 := time.Now()
	st, srv, ids, keys := startLoadStation(t, ctx, nPCs, func(st *core.Station) {
		set, err := st.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		set.Seats = 1000
		if err := st.SaveSettings(ctx, set); err != nil {
			t.Fatal(err)
		}
		for i := range targets + 2*nPairings {
			_, prep := coretest.MustPrepare(t, st, "Pairing "+strconv.Itoa(i), fmt.Sprintf("pairing%d@example.com", i))
			prepared = append(prepared, prep)
		}
	})

	pcs := startPCs(t, srv, keys)
	t.Logf("%d PCs' live channels opened in %.1f s (8 at a time)", nPCs, pcs.report.Seconds)
	if n := listed(t, st); n < nPCs {
		t.Fatalf("the list shows %d sessions, want at least %d", n, nPCs)
	}
	memStart := memNow()
	// The same measurement with only the channels open, on the same
	// (shared) machine a moment before: what the load adds.
	loadQuiet := loadavg()
	quiet := measurePairing(t, st, srv, ids, prepared[targets:targets+nPairings], 0)

	// The 5 remote sessions: sign in, then a screen view, a download loop
	// and an upload loop on each.
	pcDir, stDir := t.TempDir(), t.TempDir()
	const fileSize = 8 << 20
	big := make([]byte, fileSize)
	rand.Read(big)
	if err := os.WriteFile(filepath.Join(pcDir, "big.bin"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stDir, "up.bin"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	var streams []*streamStat
	var loops sync.WaitGroup
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	for i := range remotes {
		rs, err := st.Connect(ctx, ids[i], loadPassword)
		if err != nil {
			t.Fatalf("connect to PC %d: %v", i+1, err)
		}
		t.Cleanup(func() { rs.Close() })
		frames := &streamStat{name: fmt.Sprintf("PC %d screen", i+1), unit: "frames"}
		scr, err := rs.Screen(ctx, wire.ScreenOpen{Monitor: 0, MaxFPS: wire.DefaultMaxFPS},
			remote.ScreenHandlers{Frame: func(*image.RGBA, []image.Rectangle) { frames.add(1) }})
		if err != nil {
			t.Fatalf("screen on PC %d: %v", i+1, err)
		}
		t.Cleanup(func() { scr.Close() })
		down := &streamStat{name: fmt.Sprintf("PC %d download", i+1), unit: "MB", scale: 1 << 20, pace: mbs}
		up := &streamStat{name: fmt.Sprintf("PC %d upload", i+1), unit: "MB", scale: 1 << 20, pace: mbs}
		upFolder := filepath.Join(pcDir, "up"+strconv.Itoa(i))
		if err := os.Mkdir(upFolder, 0o700); err != nil {
			t.Fatal(err)
		}
		local := filepath.Join(stDir, fmt.Sprintf("down%d.bin", i))
		streams = append(streams, frames, down, up)
		loops.Add(2)
		go transferLoop(streamCtx, &loops, down, func(p remote.Progress) error {
			return rs.Download(streamCtx, filepath.Join(pcDir, "big.bin"), local, p)
		})
		go transferLoop(streamCtx, &loops, up, func(p remote.Progress) error {
			return rs.Upload(streamCtx, filepath.Join(stDir, "up.bin"), upFolder, "up.bin", true, p)
		})
	}

	// The flood: a new connection from a new 127.x.y.z for every wrong
	// code, as fast as the station answers, until stdin closes.
	var tokens []string
	for _, p := range prepared[:targets] {
		tokens = append(tokens, p.Session.Token)
	}
	flood := startFlood(t, floodConfig{URL: srv.URL(), Pins: srv.Pins(), Tokens: tokens, N: 0, Workers: floodWorkers, Fresh: true})

	// The measurement: the legitimate pairings one after another, the
	// Computers list refreshed every 100 ms beside them.
	windowStart := time.Now()
	for _, s := range streams {
		s.start(windowStart)
	}
	loaded := measurePairing(t, st, srv, ids, prepared[targets+nPairings:], 100)
	windowEnd := time.Now()
	for _, s := range streams {
		s.stop(windowEnd)
	}
	loadEnd := loadavg()
	online := 0
	for _, id := range ids {
		if st.ChannelUp(id) {
			online++
		}
	}
	memEnd := memNow()

	res := flood.stop(t)
	stopStreams()
	loops.Wait()

	// The report.
	window := windowEnd.Sub(windowStart)
	t.Logf("before the loaded measurement (seeding, preparing %d sessions, opening the channels, the quiet measurement): %.1f s; the loaded one took %.1f s", targets+2*nPairings,
		windowStart.Sub(t0).Seconds(), window.Seconds())
	answered := res.TooMany + res.Refused + res.Other
	t.Logf("flood: %d wrong codes answered in %.1f s (%.0f/s, %d workers, a new 127.x.y.z connection each): %d refused, %d rate-limited (429), %d other",
		answered, res.Seconds, float64(answered)/max(res.Seconds, 0.001), floodWorkers, res.Refused, res.TooMany, res.Other)
	t.Logf("machine load average (1 min): %s during the quiet phase, %s at the end of the loaded one", loadQuiet, loadEnd)
	quiet.report(t, "channels only")
	loaded.report(t, "under load")
	t.Logf("sessions listed: %d; PCs with a live channel at the end of the load: %d of %d", listed(t, st), online, nPCs)
	pace := "as fast as loopback goes"
	if mbs > 0 {
		pace = fmt.Sprintf("each paced to %d MB/s", mbs)
	}
	t.Logf("streams (%d remote sessions; transfers %s; screen capped at %d fps):", remotes, pace, wire.DefaultMaxFPS)
	byKind := map[string][]float64{}
	for _, s := range streams {
		rate := s.rate(window)
		kind := s.unit
		byKind[kind] = append(byKind[kind], rate)
		t.Logf("  %-16s %8.1f %s/s, longest gap without progress %s", s.name, rate, s.unit, s.gap.Round(time.Millisecond))
		if s.err != nil {
			t.Errorf("%s failed: %v", s.name, s.err)
		}
		if s.done == 0 {
			t.Errorf("%s made no progress during the load: it starved", s.name)
		}
	}
	for kind, rates := range byKind {
		t.Logf("  per stream, %s/s: min %.1f, max %.1f", kind, slices.Min(rates), slices.Max(rates))
	}
	t.Logf("station process: RSS %.1f MB with the channels open, %.1f MB under the load (Go heap %.1f → %.1f MB); goroutines %d → %d",
		memStart.rss, memEnd.rss, memStart.heap, memEnd.heap, memStart.goroutines, memEnd.goroutines)
	if _, p99, _ := quantiles(loaded.pair); p99 >= 100*time.Millisecond {
		t.Errorf("legitimate pairing p99 %s misses the 100 ms target", p99)
	}
	if _, p99, _ := quantiles(loaded.list); p99 >= 5*time.Millisecond {
		t.Errorf("list refresh p99 %s misses the 5 ms target", p99)
	}
}

// floodProcess is TestFloodProcess running as a child, or nothing.
type floodProcess struct {
	cmd   *exec.Cmd
	stdin io.Closer
	out   *bufio.Scanner
	guard *time.Timer
}

// startFlood starts the flood of cfg (none for 0 workers) and waits until
// it is ready.
func startFlood(t *testing.T, cfg floodConfig) *floodProcess {
	if cfg.Workers == 0 {
		return &floodProcess{}
	}
	raw, _ := json.Marshal(cfg)
	cmd := childCommand(os.Getenv("ADHOC_LOAD_NICE") != "0", "-test.run=^TestFloodProcess$", "-test.count=1", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), "PAIRING_FLOOD="+string(raw))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &floodProcess{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout),
		guard: time.AfterFunc(10*time.Minute, func() { cmd.Process.Kill() })}
	t.Cleanup(func() { f.stop(t) })
	if !f.out.Scan() || f.out.Text() != "ready" {
		t.Fatalf("the flood process did not start: %q", f.out.Text())
	}
	return f
}

// stop ends the flood (its workers stop once stdin closes) and returns
// what it counted.
func (f *floodProcess) stop(t *testing.T) floodResult {
	var res floodResult
	if f.cmd == nil || f.stdin == nil {
		return res
	}
	f.stdin.Close()
	f.stdin = nil
	defer f.guard.Stop()
	for f.out.Scan() {
		if json.Unmarshal(f.out.Bytes(), &res) == nil && res.Seconds > 0 {
			break
		}
	}
	if err := f.cmd.Wait(); err != nil {
		t.Errorf("flood process: %v", err)
	}
	return res
}

// phase is one measurement's samples.
type phase struct {
	pair, list, row, late []time.Duration
	cpu, wall             time.Duration // this process's CPU time (user + system) over the phase's wall time
}

// measurePairing pairs each of prepared in turn, one every 150 ms, each
// from its own address (a PC pairs once; an address may try 10 times a
// minute), while refreshing the Computers list's data every 100 ms.
// first numbers the addresses.
func measurePairing(t *testing.T, st *core.Station, srv *Server, ids []int64, prepared []core.Prepared, first int) phase {
	var ph phase
	cpu0, wall0 := cpuTime(), time.Now()
	listDone, listStop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(listDone)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-listStop:
				return
			case <-tick.C:
			}
			a := time.Now()
			if _, err := st.Sessions(t.Context(), core.SessionFilter{}); err != nil {
				t.Errorf("list: %v", err)
				return
			}
			b := time.Now()
			if _, err := st.Session(t.Context(), ids[i%len(ids)]); err != nil {
				t.Errorf("one row: %v", err)
				return
			}
			ph.list, ph.row = append(ph.list, b.Sub(a)), append(ph.row, time.Since(b))
		}
	}()
	// How late a 1 ms timer fires in this process: the time the station's
	// goroutines wait for a CPU, which every figure above includes.
	lateDone := make(chan struct{})
	go func() {
		defer close(lateDone)
		for {
			select {
			case <-listStop:
				return
			default:
			}
			a := time.Now()
			time.Sleep(time.Millisecond)
			ph.late = append(ph.late, time.Since(a)-time.Millisecond)
		}
	}()
	for i, p := range prepared {
		n := first + i
		client := oneShotClient(srv.Pins(), &net.TCPAddr{IP: net.IPv4(127, 0, byte(9+n/250), byte(1+n%250))})
		body, _ := json.Marshal(pairBody(p.Session.Token, p.Code))
		a := time.Now()
		r := doWith(t, client, "POST", srv.URL()+"/api/v1/pair", "application/json", body)
		ph.pair = append(ph.pair, time.Since(a))
		if r.status != 200 {
			t.Errorf("legitimate pairing %d: %d %s", n+1, r.status, r.body)
		}
		client.CloseIdleConnections()
		time.Sleep(150 * time.Millisecond) // the pace of arriving PCs, not a wait for the station
	}
	close(listStop)
	<-listDone
	<-lateDone
	ph.cpu, ph.wall = cpuTime()-cpu0, time.Since(wall0)
	return ph
}

func (ph phase) report(t *testing.T, name string) {
	p50, p99, worst := quantiles(ph.pair)
	t.Logf("%s: legitimate pairing (%d; TLS handshake + pair + commit): median %s, p99 %s, max %s (target p99 < 100 ms)",
		name, len(ph.pair), p50, p99, worst)
	l50, l99, lmax := quantiles(ph.list)
	t.Logf("%s: Computers list from core's cache, every session (%d refreshes): median %s, p99 %s, max %s (target < 5 ms)",
		name, len(ph.list), l50, l99, lmax)
	r50, r99, rmax := quantiles(ph.row)
	t.Logf("%s: one row re-read (what a core event costs the page): median %s, p99 %s, max %s", name, r50, r99, rmax)
	s50, s99, smax := quantiles(ph.late)
	t.Logf("%s: a 1 ms timer in the station's process fired late by median %s, p99 %s, max %s (waiting for a CPU)", name, s50, s99, smax)
	t.Logf("%s: the station's process used %.2f s of CPU in %.1f s (%.0f %% of one core)", name, ph.cpu.Seconds(), ph.wall.Seconds(),
		100*ph.cpu.Seconds()/ph.wall.Seconds())
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadavg is the machine's 1-minute load average.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

func listed(t testing.TB, st *core.Station) int {
	list, err := st.Sessions(t.Context(), core.SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// quantiles returns the median, p99 and max of d, rounded for reading.
func quantiles(d []time.Duration) (p50, p99, worst time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	r := func(x time.Duration) time.Duration { return x.Round(10 * time.Microsecond) }
	return r(d[len(d)/2]), r(d[(len(d)*99)/100]), r(d[len(d)-1])
}

// transferLoop repeats one transfer until ctx ends, counting its bytes.
func transferLoop(ctx context.Context, wg *sync.WaitGroup, s *streamStat, run func(remote.Progress) error) {
	defer wg.Done()
	for ctx.Err() == nil {
		var prev int64
		err := run(func(done, _ int64) {
			s.add(done - prev)
			prev = done
		})
		if err != nil && ctx.Err() == nil && !errors.Is(err, remote.ErrTransferCancelled) {
			s.fail(err)
			return
		}
	}
}

// streamStat follows one stream's progress: its amount, and the longest
// time within the measurement without any.
type streamStat struct {
	name, unit string
	scale      float64 // units per counted amount (bytes → MB); 0 means 1
	pace       int     // MB/s to hold the stream to (its progress calls wait); 0: none

	mu          sync.Mutex
	total, base int64
	done        int64 // within the measurement
	last, from  time.Time
	gap         time.Duration
	measuring   bool
	paced       time.Time // when the paced amount started
	pacedBytes  int64
	err         error
}

func (s *streamStat) add(n int64) {
	now := time.Now()
	s.mu.Lock()
	s.total += n
	if s.measuring {
		s.gap = max(s.gap, now.Sub(s.last))
		s.last = now
	}
	var wait time.Duration
	if s.pace > 0 && n > 0 {
		if s.paced.IsZero() || now.Sub(s.paced) > 5*time.Second {
			s.paced, s.pacedBytes = now, 0
		}
		s.pacedBytes += n
		due := s.paced.Add(time.Duration(float64(s.pacedBytes) / float64(s.pace<<20) * float64(time.Second)))
		wait = due.Sub(now)
	}
	s.mu.Unlock()
	if wait > 0 {
		time.Sleep(wait) // the pace of a real network: the transfer waits in its progress call
	}
}

func (s *streamStat) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *streamStat) start(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base, s.last, s.from, s.measuring = s.total, now, now, true
}

func (s *streamStat) stop(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gap = max(s.gap, now.Sub(s.last))
	s.done, s.measuring = s.total-s.base, false
}

// rate is the stream's amount per second over the measurement.
func (s *streamStat) rate(window time.Duration) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	scale := s.scale
	if scale == 0 {
		scale = 1
	}
	return float64(s.done) / scale / window.Seconds()
}
