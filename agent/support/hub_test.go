//go:build !windows

package support_test

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/hublink"
	"adhocstation/core/pairing"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
	"adhocstation/hub/hubtest"
)

// hubRig is the rig of e2e_test.go with the station joined to a hub by an
// enrolment code and the app's download naming the hub. The download's
// direct address is made unreachable, so everything the app does goes
// through the hub.
type hubRig struct {
	*rig
	hub    *hubtest.Hub
	tb     testing.TB
	states chan pairing.HubState
	// stopStation ends the station's pairing service's context.
	stopStation context.CancelFunc
}

func newHubRig(t testing.TB) *hubRig { return newHubRigVia(t, nil) }

// newHubRigVia is newHubRig with every call to the hub (the station's
// enrolment and link, the browser's page and download, the app's relays)
// going through proxy, when it is not nil.
func newHubRigVia(t testing.TB, proxy *hubtest.Proxy) *hubRig { return newHubRigTeam(t, proxy, "") }

// newHubRigTeam is newHubRigVia with the station enrolled in team teamID
// at the hub ("": none).
func newHubRigTeam(t testing.TB, proxy *hubtest.Proxy, teamID string) *hubRig {
	st, clock := coretest.Open(t)
	h := hubtest.Start(t, clock.Now) // the hub judges expiry by the station's test clock
	if proxy != nil {
		h.Client = proxy.Client(h)
	}
	code := h.Code()
	if teamID != "" {
		code = h.TeamCode(teamID)
	}
	joined, err := st.JoinHub(context.Background(), h.Client, h.URL, code)
	if err != nil {
		t.Fatal(err)
	}
	profile, prep := coretest.MustPrepare(t, st, "Ana Tech", "ana@example.com")
	if want := h.URL + "/st/" + joined.StationID + "/join/" + prep.Session.Token; prep.Link != want {
		t.Fatalf("the invitation's link is %s; want %s", prep.Link, want)
	}
	hr := &hubRig{tb: t, hub: h, states: make(chan pairing.HubState, 64)}
	srv := hr.startStation(t, st)
	// The join page and the download come from the hub, with its
	// certificate; the station serves them over its link.
	page := hubGet(t, h, prep.Link)
	if !strings.Contains(page, prep.Session.Token+"/download") || strings.Contains(page, srv.Fingerprint()) {
		t.Fatalf("the join page through the hub:\n%s", page)
	}
	program := []byte(hubGet(t, h, prep.Link+"/download"))
	d, err := wire.ReadDetails(program[max(0, len(program)-wire.TrailerReadSize):])
	if err != nil || d.Hub != h.URL || d.RelayToken == "" || d.StationURL == srv.URL() {
		t.Fatalf("the download's details %+v (%v) do not name the hub %s with a token", d, err, h.URL)
	}
	hr.rig = &rig{t: t, st: st, srv: srv, clock: clock, agent: newFakeClock(coretest.Start), prep: prep, profile: profile,
		rec: newRecorder(t.TempDir(), program, windowsPC, rightCode(prep.Code)...), sub: st.Subscribe(), done: make(chan error, 1),
		pipe: filepath.Join(t.TempDir(), "AdHocSupport.pipe"), who: agenttest.PeerCred, whoAdmin: true, channel: agenttest.FastChannel,
		hubClient: h.Client}
	t.Cleanup(hr.sub.Close)
	return hr
}

// hubGet is a browser's GET through the hub, trusting the hub's certificate.
func hubGet(t testing.TB, h *hubtest.Hub, url string) string {
	t.Helper()
	resp, err := h.Client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s through the hub: %d %v\n%.500s", url, resp.StatusCode, err, b)
	}
	return string(b)
}

// startStation starts the pairing service for st, its hub link reporting
// to states, and waits for the link to be up.
func (hr *hubRig) startStation(t testing.TB, st *core.Station) *pairing.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := pairing.Start(ctx, st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: agenttest.FakeProgram,
		ChannelKeepAlive: agenttest.FastChannel.KeepAlive, ChannelTimeout: agenttest.FastChannel.Timeout,
		HubClient: hr.hub.Client, OnHubState: func(s pairing.HubState) { hr.states <- s }})
	if err != nil {
		t.Fatal(err)
	}
	hr.stopStation = cancel
	t.Cleanup(func() { cancel(); srv.Close() })
	hr.waitHub(true)
	return srv
}

// waitHub waits for the station's hub link to be up (or down).
func (hr *hubRig) waitHub(up bool) pairing.HubState {
	for {
		s := coretest.Receive(hr.tb, hr.states, "the station's link to the hub to change")
		if s.Connected == up {
			return s
		}
	}
}

// TestHubEndToEnd: a station joined to a hub by its enrolment code; the
// real app, with only the hub reachable, pairs, confirms and holds its
// channel through the hub; the technician connects, runs a command, sends
// a file both ways and views the screen, all through the hub.
func TestHubEndToEnd(t *testing.T) {
	hr := newHubRig(t)
	hr.desktop = func() (screen.Desktop, error) { return stillDesktop{}, nil }
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)
	if !hr.audited("account created", "") {
		t.Error("the PC's confirmation did not reach the station through the hub")
	}
	if !hr.audited("session active", "from 127.0.0.1") {
		t.Error("the pairing's audit row does not name the app's address as the hub saw it")
	}
	if !hr.audited("session active", "through the hub "+core.HubHost(hr.hub.URL)) {
		t.Error("the pairing's audit row does not say the PC paired through the hub")
	}
	if s, err := hr.st.Session(context.Background(), hr.prep.Session.ID); err != nil || s.ViaHub != hr.hub.URL {
		t.Errorf("the session says it paired via %q, not the hub %s (%v)", s.ViaHub, hr.hub.URL, err)
	}
	if !hr.hub.Srv.Online(hr.mustHub().StationID) {
		t.Error("the hub does not count the station online")
	}

	ctx := context.Background()
	rs, err := hr.st.Connect(ctx, hr.prep.Session.ID, coretest.Password)
	if err != nil {
		t.Fatalf("connect through the hub: %v", err)
	}
	defer rs.Close()
	out := newOutput()
	if err := rs.Run(ctx, wire.ShellCmd, "echo through the hub", out.add); err != nil {
		t.Fatalf("command: %v", err)
	}
	out.waitFor(t, "through the hub")

	local, pc := t.TempDir(), t.TempDir()
	src, want := randomFile(t, local, "tool.zip", 4<<20)
	if err := rs.Upload(ctx, src, pc, "tool.zip", false, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	back := filepath.Join(local, "back.zip")
	if err := rs.Download(ctx, filepath.Join(pc, "tool.zip"), back, nil); err != nil {
		t.Fatalf("download: %v", err)
	}
	if fileSum(t, filepath.Join(pc, "tool.zip")) != want || fileSum(t, back) != want {
		t.Fatal("a file changed on its way through the hub")
	}

	frames := make(chan image.Rectangle, 4)
	scr, err := rs.Screen(ctx, wire.ScreenOpen{MaxFPS: 5}, remote.ScreenHandlers{
		Frame: func(img *image.RGBA, _ []image.Rectangle) {
			select {
			case frames <- img.Rect:
			default:
			}
		}})
	if err != nil {
		t.Fatalf("screen: %v", err)
	}
	defer scr.Close()
	if got := coretest.Receive(t, frames, "a frame of the PC's screen through the hub"); got.Dx() != 320 || got.Dy() != 200 {
		t.Fatalf("frame of %v; want the PC's 320×200", got)
	}
	if log := hr.log.String(); strings.Contains(log, coretest.Password) {
		t.Error("the PC's log holds the password")
	}
}

// TestHubRestartBackOnline: the hub is restarted; the station's link and
// the PC's channel come back by themselves. The time is logged (target
// < 5 s, issue 19), not asserted.
func TestHubRestartBackOnline(t *testing.T) {
	hr := newHubRig(t)
	hr.channel.MinBackoff, hr.channel.MaxBackoff = 0, 0 // the app's own backoff (1 s while it is fresh)
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)

	hr.hub.Stop()
	hr.waitHub(false)
	hr.waitEvent(core.EventComputerOffline)
	start := hr.hub.Restart()
	st := hr.waitHub(true)
	stationBack := time.Since(start)
	hr.waitEvent(core.EventComputerOnline)
	pcBack := time.Since(start)
	hr.waitStatus(support.TrayWaiting)
	t.Logf("hub restarted: station back online after %v, PC back online after %v (target < 5 s)",
		stationBack.Round(time.Millisecond), pcBack.Round(time.Millisecond))
	if !st.Configured || st.URL != hr.hub.URL {
		t.Errorf("hub state %+v", st)
	}
}

// TestHubStationStoppedPCRetries: the station stops; the join page says
// the technician's station is offline, the hub answers the PC the same and
// the PC keeps trying until the station is back.
func TestHubStationStoppedPCRetries(t *testing.T) {
	hr := newHubRig(t)
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)

	hr.stopStation()
	hr.srv.Close()
	hr.waitStatus(support.TrayUnreachable)
	deadline := time.Now().Add(coretest.WaitLimit)
	for !strings.Contains(hr.log.String(), "station is offline") {
		if time.Now().After(deadline) {
			t.Fatalf("the PC never heard from the hub that the station is offline:\n%s", hr.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := hr.hub.Client.Get(hr.prep.Link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(page), "station is offline") {
		t.Errorf("the join page with the station stopped: %d\n%.400s", resp.StatusCode, page)
	}
	hr.srv = hr.startStation(t, hr.st)
	hr.waitEvent(core.EventComputerOnline)
	hr.waitStatus(support.TrayWaiting)
}

// TestHubRefusesEndedSession: with the station down, the session's end
// passes by the hub's clock (the app's own clock stands still): the hub
// refuses the PC's relay (410 session_ended) and the app ends the session
// and removes the account as at its own expiry. The clock moves to just
// past the session's end, before the download token's exp (the invitation's
// expiry + 24 h): only the pair answer's exact token is refused then.
func TestHubRefusesEndedSession(t *testing.T) {
	hr := newHubRig(t)
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)

	hr.stopStation()
	hr.srv.Close()
	hr.waitStatus(support.TrayUnreachable)
	hr.clock.Advance(core.SessionLength + time.Minute)
	err := hr.finished("nil, after the hub refused the ended session")
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	_, _, _, accounts, _ := hr.rec.snapshot()
	if len(accounts) != 0 {
		t.Errorf("accounts %v left after the hub ended the session", accounts)
	}
	if log := hr.log.String(); !strings.Contains(log, "ending the session: its 24 hours are over") {
		t.Errorf("the PC's log does not say the session's time is over:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(hr.rec.stateDir, "session.json")); err == nil {
		t.Error("the session record is still there")
	}
}

func (hr *hubRig) mustHub() core.HubConfig {
	c, ok, err := hr.st.Hub(context.Background())
	if err != nil || !ok {
		hr.t.Fatalf("hub config: %v %v", ok, err)
	}
	return c
}

// hubConnected is connected (command_test.go) through the hub.
func hubConnected(b *testing.B) *remote.RemoteSession {
	hr := newHubRig(b)
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)
	rs, err := hr.st.Connect(context.Background(), hr.prep.Session.ID, coretest.Password)
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	b.Cleanup(func() { rs.Close() })
	return rs
}

// BenchmarkHubCommandRoundTrip is BenchmarkCommandRoundTrip directly and
// through a hub in the same run (app, hub and station in this process).
func BenchmarkHubCommandRoundTrip(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		_, rs := connected(b)
		commandRoundTrips(b, rs)
	})
	b.Run("hub", func(b *testing.B) { commandRoundTrips(b, hubConnected(b)) })
}

func commandRoundTrips(b *testing.B, rs *remote.RemoteSession) {
	ctx := context.Background()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		got := false
		if err := rs.Run(ctx, wire.ShellCmd, "echo hi", func([]byte) { got = true }); err != nil || !got {
			b.Fatalf("run: %v (output %v)", err, got)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkHubUpload uploads 32 MB to the PC directly and through a hub in
// the same run; "alternate" interleaves the two upload by upload.
func BenchmarkHubUpload(b *testing.B) {
	const size = 32 << 20
	upload := func(b *testing.B, rs *remote.RemoteSession) {
		src, _ := randomFile(b, b.TempDir(), "blob.bin", size)
		pc := b.TempDir()
		b.SetBytes(size)
		cpu := cpuTime()
		for b.Loop() {
			if err := rs.Upload(context.Background(), src, pc, "blob.bin", true, nil); err != nil {
				b.Fatalf("upload: %v", err)
			}
		}
		// The process's CPU (app, hub and station are all in it) per
		// upload: steadier than MB/s on a machine others load.
		b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
	b.Run("direct", func(b *testing.B) {
		_, rs := connected(b)
		upload(b, rs)
	})
	b.Run("hub", func(b *testing.B) { upload(b, hubConnected(b)) })
	b.Run("alternate", func(b *testing.B) {
		src, _ := randomFile(b, b.TempDir(), "blob.bin", size)
		pc := b.TempDir()
		alternate(b, size, func(rs *remote.RemoteSession) error {
			return rs.Upload(context.Background(), src, pc, "blob.bin", true, nil)
		})
	})
}

// alternate runs transfer of size bytes directly and through a hub in
// turn, one each per iteration, so a burst of load from other processes
// on the shared machine falls on both alike; its figure is the hub's
// share of direct's speed over the same minutes.
func alternate(b *testing.B, size int64, transfer func(*remote.RemoteSession) error) {
	_, direct := connected(b)
	hub := hubConnected(b)
	var took, cpu [2]time.Duration
	for b.Loop() {
		for i, rs := range []*remote.RemoteSession{direct, hub} {
			start, cpu0 := time.Now(), cpuTime()
			if err := transfer(rs); err != nil {
				b.Fatalf("transfer: %v", err)
			}
			took[i] += time.Since(start)
			cpu[i] += cpuTime() - cpu0
		}
	}
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(took[0]), "direct-MB/s")
	b.ReportMetric(mbps(took[1]), "hub-MB/s")
	b.ReportMetric(100*took[0].Seconds()/took[1].Seconds(), "hub-%")
	b.ReportMetric(float64(cpu[0].Milliseconds())/float64(b.N), "direct-cpu-ms")
	b.ReportMetric(float64(cpu[1].Milliseconds())/float64(b.N), "hub-cpu-ms")
}

// BenchmarkHubDownload is BenchmarkHubUpload/alternate the other way: 32
// MB from the PC to the station, directly and through the hub in turn.
func BenchmarkHubDownload(b *testing.B) {
	const size = 32 << 20
	b.Run("alternate", func(b *testing.B) {
		src, _ := randomFile(b, b.TempDir(), "blob.bin", size)
		to := filepath.Join(b.TempDir(), "blob.bin")
		alternate(b, size, func(rs *remote.RemoteSession) error {
			return rs.Download(context.Background(), src, to, nil)
		})
	})
}

// TestHubResumeAfterKill: the app's record keeps the hub and the pair
// answer's relay token (exp = the session's exact end, not the download's
// latest one); a killed app resumes through the hub, and when the
// technician ends the session it cleans up and its receipt reaches the
// station through the hub.
func TestHubResumeAfterKill(t *testing.T) {
	hr := newHubRig(t)
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.rig.cancel() // the app is killed
	if err := hr.finished("context.Canceled"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	b, err := os.ReadFile(filepath.Join(hr.rec.stateDir, "session.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Hub        string `json:"hub"`
		RelayToken string `json:"relay_token"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.Hub != hr.hub.URL {
		t.Fatalf("the record names hub %q (%v); want %s", rec.Hub, err, hr.hub.URL)
	}
	tok, err := hublink.ReadToken(rec.RelayToken)
	if err != nil {
		t.Fatalf("the record's relay token: %v", err)
	}
	if end := hr.session().ExpiresAt; tok.Exp != end.Unix() {
		t.Fatalf("the recorded token ends %v; want the session's end %v", time.Unix(tok.Exp, 0).UTC(), end)
	}

	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)
	if err := hr.st.End(context.Background(), hr.prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	hr.checkCleanedUp(hr.finished("nil, cleaned up through the hub"))
}

// TestHubRefusesExpiredDownload: a download whose relay token is past its
// exp (the invitation's expiry + 24 h) is refused by the hub before the
// station sees it; the app says the invitation is no longer valid and
// changes nothing, instead of asking for the code again.
func TestHubRefusesExpiredDownload(t *testing.T) {
	hr := newHubRig(t)
	hr.clock.Advance(hr.prep.Session.InviteExpiresAt.Sub(hr.clock.Now()) + core.SessionLength)
	hr.start()
	if err := hr.finished("support.ErrRefused"); !errors.Is(err, support.ErrRefused) {
		t.Fatalf("Run = %v, want ErrRefused", err)
	}
	calls, _, told, accounts, _ := hr.rec.snapshot()
	if !strings.Contains(told[len(told)-1].Text, "no longer valid") || len(accounts) != 0 ||
		strings.Join(calls, ",") != "facts,consent,ask code" {
		t.Errorf("told %+v, accounts %v, calls %v", told, accounts, calls)
	}
}

// TestHubThroughConnectProxy: the whole flow with the station and the PC
// each behind an HTTP CONNECT proxy: enrolment, the station's link, the
// join page and the download, pairing, the live channel and a command.
func TestHubThroughConnectProxy(t *testing.T) {
	proxy := hubtest.StartProxy(t)
	hr := newHubRigVia(t, proxy)
	before := proxy.Tunnels()
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)
	rs, err := hr.st.Connect(context.Background(), hr.prep.Session.ID, coretest.Password)
	if err != nil {
		t.Fatalf("connect through the proxy and the hub: %v", err)
	}
	defer rs.Close()
	out := newOutput()
	if err := rs.Run(context.Background(), wire.ShellCmd, "echo behind a proxy", out.add); err != nil {
		t.Fatalf("command: %v", err)
	}
	out.waitFor(t, "behind a proxy")
	// Enrolment, the link and the browser's two requests came before; the
	// app's relays (pair, confirm, channel) after.
	if before < 3 || proxy.Tunnels() <= before {
		t.Fatalf("tunnels: %d before the app ran, %d after; want the station's and the app's", before, proxy.Tunnels())
	}
}

// TestHubLeaveEndsSessions: the real app paired and online through the
// hub. Leaving the hub is refused while its session is open, naming the
// PC; leaving with the sessions ended ends it, the app learns the end at
// its next channel through the hub, removes the account and itself, and
// its receipt reaches the station before the hub is left.
func TestHubLeaveEndsSessions(t *testing.T) {
	hr := newHubRig(t)
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)
	ctx := context.Background()
	if err := hr.st.LeaveHub(ctx); !errors.Is(err, core.ErrHubSessionsOpen) || !strings.Contains(err.Error(), windowsPC.Hostname) {
		t.Fatalf("leaving the hub with its PC in session: %v", err)
	}
	if _, ok, _ := hr.st.Hub(ctx); !ok {
		t.Fatal("the refused leave left the hub")
	}
	type result struct {
		end core.HubEnding
		err error
	}
	left := make(chan result, 1)
	go func() {
		end, err := hr.st.LeaveHubEndingSessions(ctx, core.HubEndWait)
		left <- result{end, err}
	}()
	hr.checkCleanedUp(hr.finished("nil, cleaned up after the end through the hub"))
	res := coretest.Receive(t, left, "the hub to be left")
	if res.err != nil || len(res.end.Told) != 1 || res.end.Told[0].ID != hr.prep.Session.ID || len(res.end.NotTold) != 0 {
		t.Fatalf("leaving with the sessions ended: %v, told %d, not told %d", res.err, len(res.end.Told), len(res.end.NotTold))
	}
	if _, ok, _ := hr.st.Hub(ctx); ok {
		t.Error("still joined to the hub")
	}
	if !hr.audited("cleanup receipt", "your technician ended it") {
		t.Error("the receipt does not say the technician ended the session")
	}
}
