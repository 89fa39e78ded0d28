//go:build !windows

package support_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
	"adhocstation/core/wire"
)

// TestChannelOnlineAndCut: the paired PC's live channel shows it online;
// a network that stops carrying packets (the connection stays open, so
// only the keepalive can tell) shows it offline, and once the network is
// back the service reconnects and it is online again.
func TestChannelOnlineAndCut(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	cable := r.via(newCutter(t, r.srv.Addr().String()))
	r.start()
	r.waitStatus(support.TrayWaiting)
	r.waitOnline(true)

	cable.cut()
	r.waitEvent(core.EventComputerOffline)
	r.waitStatus(support.TrayUnreachable)
	if s := r.session(); s.Computer.Online || r.st.ChannelUp(s.ID) {
		t.Fatalf("after the cut: online %v, channel up %v; want offline", s.Computer.Online, r.st.ChannelUp(s.ID))
	}

	cable.restore()
	r.waitEvent(core.EventComputerOnline)
	r.waitStatus(support.TrayWaiting)
	r.waitOnline(true)
	if !r.audited("account created", "") {
		t.Error("the account was not confirmed")
	}
}

// TestChannelStationRestart: the station is stopped (pairing service and
// core) and started again on the same data folder and port; the PC goes
// offline, then comes back online by itself.
func TestChannelStationRestart(t *testing.T) {
	r := waitingRig(t)
	r.waitOnline(true)

	r.restartStation()
	r.waitEvent(core.EventComputerOnline)
	r.waitStatus(support.TrayWaiting)
	r.waitOnline(true)
}

// restartStation stops the station (pairing service and core), waits for
// the PC to see it gone, and starts it again on the same data folder,
// clock and port.
func (r *rig) restartStation() {
	r.t.Helper()
	addr := r.srv.Addr().String()
	r.srv.Close()
	r.waitEvent(core.EventComputerOffline)
	r.waitStatus(support.TrayUnreachable)
	dir := r.st.DataDir()
	r.sub.Close()
	r.st.Close()

	r.st = coretest.OpenWith(r.t, dir, r.clock, nil)
	r.sub = r.st.Subscribe()
	r.t.Cleanup(r.sub.Close)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := pairing.Start(ctx, r.st, pairing.Options{ListenAddr: addr, AgentExe: agenttest.FakeProgram,
		ChannelKeepAlive: agenttest.FastChannel.KeepAlive, ChannelTimeout: agenttest.FastChannel.Timeout})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { cancel(); srv.Close() })
	r.srv = srv
}

// TestChannelTellsEndedSession: when the technician ends the session the
// station drops the channel, and the reconnecting PC is told the session
// is over and cleans up, without waiting for any timer of its own.
func TestChannelTellsEndedSession(t *testing.T) {
	r := waitingRig(t)
	key := r.agentKey()
	if err := r.st.End(context.Background(), r.prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	r.checkCleanedUp(r.finished("nil, cleaned up after the channel said the session ended"))
	if !r.audited("cleanup receipt", "your technician ended it") {
		t.Error("the receipt does not say the technician ended it")
	}
	// A channel asked for later is refused with the state, not opened.
	c, err := support.NewClient(r.srv.URL(), r.srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	ys, st, err := c.OpenChannel(context.Background(), key, agenttest.FastChannel)
	if err != nil || ys != nil || st.State != "ended" {
		t.Errorf("channel for an ended session: %v, %+v, %v; want none, state ended", ys, st, err)
	}
	if r.st.ChannelUp(r.prep.Session.ID) {
		t.Error("the station still counts a channel for the ended session")
	}
}

// TestChannelTellsExpiredSession: the station's deadline engine expires the
// session while the PC's own clock has not got there yet; the channel
// brings the news and the PC cleans up.
func TestChannelTellsExpiredSession(t *testing.T) {
	r := waitingRig(t)
	r.clock.Advance(24*time.Hour + time.Minute)
	if err := r.st.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.checkCleanedUp(r.finished("nil, cleaned up after the channel said the session expired"))
	if !r.audited("cleanup receipt", "24 hours are over") {
		t.Error("the receipt does not say the 24 hours are over")
	}
}

// TestChannelRefusesUnknownKey: a key the station does not know gets the
// refusal every agent call gets, and no channel.
func TestChannelRefusesUnknownKey(t *testing.T) {
	st, _ := coretest.Open(t)
	srv := agenttest.ServeStation(t, st)
	c, err := support.NewClient(srv.URL(), srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	ys, _, err := c.OpenChannel(context.Background(), strings.Repeat("k", 43), agenttest.FastChannel)
	var w *wire.Error
	if ys != nil || !asWire(err, &w) || w.Code != wire.CodeUnknownToken {
		t.Fatalf("unknown key: %v, %v; want the unknown_token refusal", ys, err)
	}
}

func asWire(err error, w **wire.Error) bool {
	e, ok := err.(*wire.Error)
	*w = e
	return ok
}

// via makes the downloaded app reach the station through addr.
func (r *rig) via(c *cutter) *cutter {
	program, err := wire.AppendDetails(agenttest.FakeProgram, wire.Details{StationURL: "https://" + c.addr(), Pins: r.srv.Pins(),
		Token: r.prep.Session.Token, Technician: wire.Technician{Name: r.profile.Name, Email: r.profile.Email}})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(r.rec.exe, program, 0o600); err != nil {
		r.t.Fatal(err)
	}
	return c
}

// waitOnline waits for the station to show the PC with (or without) a
// live channel.
func (r *rig) waitOnline(want bool) {
	r.t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		s := r.session()
		if s.Computer != nil && s.Computer.Online == want && r.st.ChannelUp(s.ID) == want {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("waited %v for the PC to be online=%v", coretest.WaitLimit, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// agentKey reads the agent key from the app's session record.
func (r *rig) agentKey() string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.rec.stateDir, "session.json"))
	if err != nil {
		r.t.Fatal(err)
	}
	var st struct {
		AgentKey string `json:"agent_key"`
	}
	if err := json.Unmarshal(b, &st); err != nil || st.AgentKey == "" {
		r.t.Fatalf("no agent key in the record: %v", err)
	}
	return st.AgentKey
}

// cutter is a TCP relay on 127.0.0.1 that can stop carrying bytes without
// closing anything, as a pulled cable or a sleeping router does; while cut
// it also refuses new connections.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	open   chan struct{} // closed while bytes flow
	conns  []net.Conn
	dialed int // connections relayed so far
}

func newCutter(t testing.TB, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: target, open: make(chan struct{})}
	close(c.open)
	t.Cleanup(func() {
		ln.Close()
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, conn := range c.conns {
			conn.Close()
		}
	})
	go c.serve()
	return c
}

func (c *cutter) addr() string { return c.ln.Addr().String() }

// relayed counts the connections relayed so far.
func (c *cutter) relayed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dialed
}

func (c *cutter) flowing() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open = make(chan struct{})
}

// unplug cuts the cable and drops every connection, as a network that
// goes away under a PC does once its connections are reset.
func (c *cutter) unplug() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open = make(chan struct{})
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func (c *cutter) restore() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.open)
}

func (c *cutter) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		select {
		case <-c.flowing():
		default:
			in.Close() // the network is down
			continue
		}
		out, err := net.Dial("tcp", c.target)
		if err != nil {
			in.Close()
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, in, out)
		c.dialed++
		c.mu.Unlock()
		go c.pipe(in, out)
		go c.pipe(out, in)
	}
}

// pipe copies src to dst, holding each read while the cable is cut.
func (c *cutter) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-c.flowing()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				src.Close()
			}
			return
		}
	}
}
